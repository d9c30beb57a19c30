# Takes the host's apply lock for a whole run. stdin: the holder record (`id=`, `who=`, `what=`,
# `since=` lines). $1 the release root ('' for none), then the managed file paths.
# Prints `locked`; or `held<TAB>IDLE` (seconds since the holder last renewed it) followed by the
# holder record, and exits EXIT_LOCK_HELD. Once locked, removes what runs that were cut off left
# behind: partly unpacked releases, staged files, the Nginx check copy.
lock=$STATE_DIR/lock
mkdir -p "$STATE_DIR"
chmod 700 "$STATE_DIR"
if mkdir "$lock" 2>/dev/null; then
  cat > "$lock/holder"
  touch "$lock/alive"
  root=$1
  shift
  if [ -n "$root" ] && [ -d "$root/releases" ]; then
    find "$root/releases" -mindepth 1 -maxdepth 1 -name '.incoming.*' -exec rm -rf {} +
    rm -f "$root/.current.new"
  fi
  for f in "$@"; do rm -f -- "$f$STAGED"; done
  rm -f "$NGINX_CHECK"
  # A change a dead run never confirmed (its watchdog pending, or lost with a reboot) is put
  # back now, before this run observes the host.
  if [ -f "$STATE_DIR/journal" ] && [ -f "$STATE_DIR/foobar-infra-watchdog.sh" ]; then
    systemctl stop foobar-infra-watchdog.timer >/dev/null 2>&1 || true
    if ! systemctl is-active -q foobar-infra-watchdog.service; then
      sh "$STATE_DIR/foobar-infra-watchdog.sh" >&2 || true
    fi
  fi
  printf 'locked\n'
elif [ -d "$lock" ]; then
  cat > /dev/null
  seen=$(stat -c %Y "$lock/alive" 2>/dev/null || stat -c %Y "$lock")
  printf 'held\t%s\n' "$(($(date +%s) - seen))"
  cat "$lock/holder" 2>/dev/null || true
  exit "$EXIT_LOCK_HELD"
else
  echo "cannot create $lock"
  exit 1
fi
