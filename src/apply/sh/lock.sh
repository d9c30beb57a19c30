# Takes the host's apply lock. stdin: who takes it. Prints `locked`, or `held<TAB>WHO` and exits
# EXIT_LOCK_HELD when another run holds it.
mkdir -p "$STATE_DIR"
chmod 700 "$STATE_DIR"
if mkdir "$STATE_DIR/lock" 2>/dev/null; then
  cat > "$STATE_DIR/lock/holder"
  printf 'locked\n'
elif [ -d "$STATE_DIR/lock" ]; then
  printf 'held\t'
  cat "$STATE_DIR/lock/holder" 2>/dev/null || printf 'unknown'
  echo
  exit "$EXIT_LOCK_HELD"
else
  echo "cannot create $STATE_DIR/lock"
  exit 1
fi
