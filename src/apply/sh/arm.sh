# Arms a host-side timer: unless the run disarms it (or keeps renewing its lock) within $2, systemd
# runs the script given on stdin (a restore) as unit $1 — so a host whose operator vanished
# mid-change puts itself back by itself. $3 `journal` starts an empty change journal for the
# watchdog first.
if [ "$3" = journal ]; then
  mkdir -p "$STATE_DIR"
  : > "$STATE_DIR/journal"
fi
arm_timer "$1" "$2"
