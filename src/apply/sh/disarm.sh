# Disarms the timer $1 (the run confirms the host); $2 `journal` also ends the change journal.
systemctl stop "$1.timer" >/dev/null 2>&1 || true
systemctl reset-failed "$1.timer" "$1.service" >/dev/null 2>&1 || true
rm -f "$STATE_DIR/$1.sh"
if [ "$2" = journal ]; then rm -f "$STATE_DIR/journal"; fi
