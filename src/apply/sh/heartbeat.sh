# Renews the host's apply lock if it is the one with id $1: a lock nobody renews is stale. While
# the run lives, the timers it armed here (listed in its lock: the watchdog of a host mid-change,
# a load balancer's timer that would put a drained server back) start their countdown again, as
# long as they have not fired: they only fire once the run is gone.
lock=$STATE_DIR/lock
if grep -qxF "id=$1" "$lock/holder" 2>/dev/null; then
  touch "$lock/alive"
  if [ -f "$lock/timers" ]; then
    sort -u "$lock/timers" | while read -r unit; do
      if [ "$(systemctl show -p SubState --value "$unit.timer" 2>/dev/null)" = waiting ]; then
        systemctl restart "$unit.timer" || true
      fi
    done
  fi
fi
