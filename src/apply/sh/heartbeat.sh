# Renews the host's apply lock if it is the one with id $1: a lock nobody renews is stale.
lock=$STATE_DIR/lock
if grep -qxF "id=$1" "$lock/holder" 2>/dev/null; then touch "$lock/alive"; fi
