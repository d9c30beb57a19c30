# Seeds this replica: database $1 from the primary's dump on stdin (with the GTID position and the
# CHANGE MASTER TO the primary at $2 that follow it), then waits at most 30 s for both
# replication threads to run. A replica already replicating from $2 is left alone. On any
# failure, replication is reset: the replica is left not seeded (the next apply seeds it again),
# and what failed is said.
status() { mysql -E -e 'SHOW SLAVE STATUS' 2>&1; }
field() { printf '%s\n' "$st" | sed -n "s/^ *$1: //p" | head -n 1; }
fail() {
  mysql -e 'STOP SLAVE; RESET SLAVE ALL' >/dev/null 2>&1 || true
  printf 'replica not seeded: %s\n' "$1" >&2
  exit 1
}
st=$(status)
if [ "$(field Master_Host)" = "$2" ] && [ "$(field Slave_IO_Running)" = Yes ] && [ "$(field Slave_SQL_Running)" = Yes ]; then
  cat >/dev/null
  echo "already replicating from $2: left alone"
  exit 0
fi
if ! out=$(mysql -e 'STOP SLAVE; RESET SLAVE ALL; RESET MASTER' 2>&1); then
  cat >/dev/null
  fail "resetting it before the seed failed: $out"
fi
if ! out=$(mysql -e "CREATE DATABASE IF NOT EXISTS \`$1\`" 2>&1); then
  cat >/dev/null
  fail "creating database $1 failed: $out"
fi
if ! out=$(mysql --batch "$1" 2>&1); then
  fail "loading the primary's dump failed: $out"
fi
end=$(($(date +%s) + 30))
while :; do
  st=$(status)
  io=$(field Slave_IO_Running) sql=$(field Slave_SQL_Running)
  if [ "$io" = Yes ] && [ "$sql" = Yes ]; then break; fi
  if [ "$(date +%s)" -ge "$end" ]; then
    fail "replication did not run within 30 s (IO thread: ${io:-none}, SQL thread: ${sql:-none}) $(field Last_IO_Error) $(field Last_SQL_Error)"
  fi
  sleep 0.5
done
rm -f "$STATE_DIR/promoted" "$STATE_DIR/fenced"
echo "seeded; replicating from $2 at $(mysql -N -B -e 'SELECT @@gtid_slave_pos')"
