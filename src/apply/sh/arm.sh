# Arms a host-side timer: unless the run disarms it within $2 seconds, systemd runs the script
# given on stdin (a restore, or putting a server back into service) as unit $1 — so a host whose
# operator vanished mid-change puts itself back by itself. $3 `journal` starts an empty change
# journal for the watchdog.
mkdir -p "$STATE_DIR"
chmod 700 "$STATE_DIR"
systemctl stop "$1.timer" "$1.service" >/dev/null 2>&1 || true
systemctl reset-failed "$1.timer" "$1.service" >/dev/null 2>&1 || true
cat > "$STATE_DIR/$1.sh"
if [ "$3" = journal ]; then : > "$STATE_DIR/journal"; fi
systemd-run --quiet --unit="$1" --on-active="$2" --timer-property=AccuracySec=100ms /bin/sh "$STATE_DIR/$1.sh"
