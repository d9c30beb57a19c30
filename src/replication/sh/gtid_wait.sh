# On the replica: waits at most $2 s for it to have applied the old primary's GTID position $1.
# Exits 4 when it has not by then (MASTER_GTID_WAIT says -1).
r=$(mysql -N -B -e "SELECT MASTER_GTID_WAIT('$1', $2)")
if [ "$r" != 0 ]; then
  echo "the replica did not reach the old primary's position $1 within $2 s (MASTER_GTID_WAIT: $r)" >&2
  exit 4
fi
echo "the replica has everything the old primary wrote (up to $1)"
