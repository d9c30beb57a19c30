# Makes this replica the primary: waits at most $1 s for the relay log to be applied (what it
# received of the old primary's writes), then stops and forgets replication, turns read_only off,
# and marks it promoted ($2 says by whom, for plan). Prints `gtid POSITION` at the end.
field() { printf '%s\n' "$st" | sed -n "s/^ *$1: //p" | head -n 1; }
end=$(($(date +%s) + $1))
while :; do
  st=$(mysql -E -e 'SHOW SLAVE STATUS')
  if [ -z "$st" ]; then
    echo "not configured as a replica" >&2
    exit 1
  fi
  # Everything received is executed: the SQL thread is at the IO thread's position.
  if [ "$(field Relay_Master_Log_File)" = "$(field Master_Log_File)" ] &&
    [ "$(field Exec_Master_Log_Pos)" = "$(field Read_Master_Log_Pos)" ]; then
    echo "relay log applied"
    break
  fi
  if [ "$(field Slave_SQL_Running)" != Yes ]; then
    echo "its SQL thread is stopped with events left to apply: $(field Last_SQL_Error)" >&2
    exit 1
  fi
  if [ "$(date +%s)" -ge "$end" ]; then
    echo "the relay log was not applied within $1 s" >&2
    exit 1
  fi
  sleep 0.2
done
mysql -e 'STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0'
mkdir -p "$STATE_DIR"
printf '%s\n' "$2" > "$STATE_DIR/promoted"
# It holds writes of its own now: a later seed over it must be refused.
rm -f "$STATE_DIR/fenced" "$STATE_DIR/replica-seed"
printf 'gtid\t%s\n' "$(mysql -N -B -e 'SELECT @@gtid_binlog_pos')"
