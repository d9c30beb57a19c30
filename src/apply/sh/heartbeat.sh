# Renews the host's apply lock if it is the one with id $1: a lock nobody renews is stale. While
# the run lives, its timers here (the watchdog of a host mid-change, a load balancer's timer that
# would put a drained server back) start their countdown again: they only fire once the run is
# gone.
lock=$STATE_DIR/lock
if grep -qxF "id=$1" "$lock/holder" 2>/dev/null; then
  touch "$lock/alive"
  systemctl list-units --plain --no-legend --state=active 'foobar-infra-*.timer' 2>/dev/null |
    while read -r timer _; do systemctl restart "$timer" || true; done
fi
