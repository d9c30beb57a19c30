# Seeds this replica ($3): database $1 from the primary's dump on stdin (with the GTID position
# and the CHANGE MASTER TO the primary at $2 that follow it), then waits at most 30 s for both
# replication threads to run. A host already replicating from $2 is left alone, whatever its
# threads say (just restarted, its IO thread is still connecting): never reset. A host whose
# database holds rows of its own (no seed of ours began there) is refused: it may be a live
# primary named wrongly. On any failure, replication is reset: the replica is left not seeded
# (the next apply seeds it again), and what failed is said.
status() { mysql -E -e 'SHOW SLAVE STATUS' 2>&1; }
field() { printf '%s\n' "$st" | sed -n "s/^ *$1: //p" | head -n 1; }
fail() {
  mysql -e 'STOP SLAVE; RESET SLAVE ALL' >/dev/null 2>&1 || true
  printf 'replica not seeded: %s\n' "$1" >&2
  exit 1
}
IFS=$NL
mark="$STATE_DIR/replica-seed"
st=$(status)
if [ "$(field Master_Host)" = "$2" ]; then
  cat >/dev/null
  end=$(($(date +%s) + 30))
  while [ "$(field Slave_IO_Running)" != Yes ] || [ "$(field Slave_SQL_Running)" != Yes ]; do
    if [ "$(date +%s)" -ge "$end" ]; then
      echo "already a replica of $2: left alone (IO thread: $(field Slave_IO_Running), SQL thread: $(field Slave_SQL_Running) after 30 s; verify says why)"
      exit 0
    fi
    sleep 0.5
    st=$(status)
  done
  echo "already replicating from $2: left alone"
  exit 0
fi
if [ ! -f "$mark" ]; then
  # Tables of the database that hold at least one row (names escaped for SQL identifiers).
  full=''
  for t in $(mysql -N -B -e "SELECT REPLACE(TABLE_NAME, '\`', '\`\`') FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$1' AND TABLE_TYPE = 'BASE TABLE'"); do
    if [ "$(mysql -N -B -e "SELECT EXISTS (SELECT 1 FROM \`$1\`.\`$t\` LIMIT 1)")" = 1 ]; then
      full="$full${full:+, }$t"
    fi
  done
  if [ -n "$full" ]; then
    cat >/dev/null
    printf 'refused to seed: database %s here holds rows of its own (tables %s) and no seed of this tool began here; seeding would replace them with a copy of the primary at %s. If this host is the live primary, set database.primary: %s in the topology. If its data is to be thrown away, drop the database here first.\n' "$1" "$full" "$2" "$3" >&2
    exit 1
  fi
fi
mkdir -p "$STATE_DIR"
printf 'seed from %s began at %s\n' "$2" "$(date +%s)" > "$mark"
if ! out=$(mysql -e 'STOP SLAVE; RESET SLAVE ALL; RESET MASTER' 2>&1); then
  cat >/dev/null
  fail "resetting it before the seed failed: $out"
fi
# Not in the binary log: a transaction of the replica's own would be an errant GTID.
if ! out=$(mysql -e "SET SESSION sql_log_bin = 0; CREATE DATABASE IF NOT EXISTS \`$1\`" 2>&1); then
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
