# Releases the host's apply lock if it is the one with id $1; prints `unlocked` when it was.
lock=$STATE_DIR/lock
if [ -d "$lock" ] && grep -qxF "id=$1" "$lock/holder" 2>/dev/null; then
  rm -rf "$lock"
  printf 'unlocked\n'
fi
