# The old primary's first fence step: read_only on, so that it takes no more writes; prints what
# read_only was before (`was 0|1`) and the GTID position of everything it wrote (`gtid POS`), for
# the replica to wait for. Exits 3 when its server does not answer.
if ! was=$(mysql -N -B -e 'SELECT @@read_only' 2>/dev/null); then
  echo "its server did not answer"
  exit 3
fi
mysql -e 'SET GLOBAL read_only = 1'
printf 'was\t%s\n' "$was"
printf 'gtid\t%s\n' "$(mysql -N -B -e 'SELECT @@gtid_binlog_pos')"
