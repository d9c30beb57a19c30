# Disarms the timer $1 (the run confirms the host); $2 `journal` also ends the change journal,
# and fails if the journal is gone: the watchdog already put the change back.
systemctl stop "$1.timer" >/dev/null 2>&1 || true
if [ "$2" = journal ] && [ ! -f "$STATE_DIR/journal" ]; then
  echo "the host's watchdog already put this run's change back (the run was not heard of in time)"
  exit 1
fi
systemctl reset-failed "$1.timer" "$1.service" >/dev/null 2>&1 || true
rm -f "$STATE_DIR/$1.sh"
if [ "$2" = journal ]; then rm -f "$STATE_DIR/journal"; fi
