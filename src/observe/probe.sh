# The state probe: what a host has of what the topology manages, in one round trip.
# $1 packages, $2 users, $3 files, $4 systemd units (each a newline-separated list),
# $5 the release root ('' when none), $6 the database ('' when none), $7 its user, $8 the
# firewall's nftables table, $9 `1` when the host should have it, $10 the replication user ('' when
# the database is not replicated), $11 the VIP keepalived moves ('' when none), $12 the file
# keepalived's notify script keeps its VRRP state in.
# Prints one tab-separated fact per line; see observe::parse.
set -f
IFS=$NL
pkgs=$1 users=$2 files=$3 units=$4 root=$5 db=$6 dbuser=$7 table=$8 wanted=$9 repluser=${10} vip=${11} vrrpstate=${12}
if [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  . /etc/os-release
  printf 'os\t%s %s\n' "${ID:-}" "${VERSION_ID:-}"
fi
if [ -d /run/systemd/system ]; then printf 'systemd\tyes\n'; fi
if [ -n "$pkgs" ]; then
  # shellcheck disable=SC2016,SC2086
  dpkg-query -W -f='pkg\t${Package}\t${db:Status-Status}\n' $pkgs 2>/dev/null || true
fi
for u in $users; do
  if getent passwd "$u" >/dev/null; then printf 'user\t%s\n' "$u"; fi
done
if [ -n "$files" ]; then
  # One stat for all files (of the path itself: a link is not followed); one sha256sum for the
  # regular files among them. Missing files print nothing.
  # shellcheck disable=SC2086
  stat -c "stat${TAB}%n${TAB}%a${TAB}%U${TAB}%G${TAB}%F" -- $files 2>/dev/null || true
  regular=''
  for f in $files; do
    if [ -f "$f" ] && [ ! -L "$f" ]; then regular="$regular$f$NL"; fi
  done
  if [ -n "$regular" ]; then
    # shellcheck disable=SC2086
    sha256sum -- $regular 2>/dev/null | sed "s/^/sha${TAB}/" || true
  fi
fi
if [ -n "$units" ]; then
  # One systemctl for all units: one block per unit, in argument order, blank-line separated.
  # shellcheck disable=SC2086
  systemctl show -p UnitFileState,ActiveState,ActiveEnterTimestampMonotonic,MainPID -- $units 2>/dev/null | sed "s/^/svc${TAB}/" || true
fi
# The SSH connection this probe came by, as sshd set it: sudo does not pass SSH_CONNECTION on,
# so it is read from the nearest process up the tree that has it.
p=$$
while [ "${p:-0}" -gt 1 ]; do
  c=$(tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | sed -n 's/^SSH_CONNECTION=//p' || true)
  if [ -n "$c" ]; then
    printf 'ssh\t%s\n' "$c"
    break
  fi
  p=$(awk '$1 == "PPid:" { print $2 }' "/proc/$p/status" 2>/dev/null || true)
done
if [ -f "$PENDING" ]; then sed "s/^/pending${TAB}/" "$PENDING" || true; fi
if [ -n "$root" ]; then
  l=$(readlink "$root/current" 2>/dev/null || true)
  printf 'release\t%s\n' "${l##*/}"
fi
if [ -n "$db" ]; then
  if command -v mysql >/dev/null 2>&1 && mysql -N -B -r -e 'SELECT 1' >/dev/null 2>&1; then
    printf 'dbrunning\n'
    mysql -N -B -r -e "SELECT CONCAT('dbexists\t', SCHEMA_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='$db'; SELECT CONCAT_WS('\t', 'dbuser', Host, HEX(authentication_string)) FROM mysql.user WHERE User='$dbuser'"
    # An account host is whatever the server holds (a netmask, a quote...): it is escaped for
    # SQL, and printed by printf, never put into a sed expression.
    for h in $(mysql -N -B -r -e "SELECT Host FROM mysql.user WHERE User='$dbuser'"); do
      hq=$(printf '%s' "$h" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")
      mysql -N -B -r -e "SHOW GRANTS FOR '$dbuser'@'$hq'" | while IFS= read -r g; do
        printf 'grant\t%s\t%s\n' "$h" "$g"
      done
    done
    if [ -n "$repluser" ]; then
      # Replication: this server's variables, its replica status (vertical: `Key: value`), and
      # the replication account's hosts.
      mysql -N -B -r -e "SELECT CONCAT_WS('\t', 'repl', 'vars', @@read_only, @@server_id, @@gtid_binlog_pos, @@gtid_slave_pos); SELECT CONCAT_WS('\t', 'repluser', Host, HEX(authentication_string)) FROM mysql.user WHERE User='$repluser'"
      mysql -E -e 'SHOW SLAVE STATUS' | sed -n "s/^ *\(Master_Host\|Master_Port\|Slave_IO_Running\|Slave_SQL_Running\|Seconds_Behind_Master\|Last_IO_Error\|Last_SQL_Error\|Using_Gtid\): \{0,1\}/repl${TAB}slave${TAB}\1${TAB}/p"
    fi
  fi
  if [ -n "$repluser" ]; then
    if [ -f "$STATE_DIR/promoted" ]; then printf 'repl\tpromoted\t%s\n' "$(head -n 1 "$STATE_DIR/promoted")"; fi
    if [ -f "$STATE_DIR/fenced" ]; then printf 'repl\tfenced\t%s\n' "$(head -n 1 "$STATE_DIR/fenced")"; fi
  fi
  if [ -f "$STATE_DIR/schema-$db.sha256" ]; then
    printf 'schema\t%s\n' "$(cat "$STATE_DIR/schema-$db.sha256")"
  fi
fi
if [ "$wanted" != 1 ]; then
  # A table this tool loaded on a host that should no longer have it (`enabled: false`).
  if command -v nft >/dev/null 2>&1 && nft list table inet "$table" >/dev/null 2>&1; then
    printf 'fwtable\tloaded\n'
  fi
else
  # Whether the firewall is loaded, and what listens (which verify holds to what it admits).
  if e=$(nft list table inet "$table" 2>&1 >/dev/null); then
    printf 'fwtable\tloaded\n'
  else
    printf 'fwtable\tmissing\t%s\n' "$(printf '%s' "$e" | head -n 1)"
  fi
  if command -v ss >/dev/null 2>&1; then
    ss -H -tulnp 2>&1 | sed "s/^/listen${TAB}/" || true
  else
    printf 'nolisten\tss is not installed (package iproute2)\n'
  fi
fi
if [ -n "$vip" ]; then
  # Whether this host holds the VIP now, and keepalived's VRRP state: the one its notify script
  # last wrote, while keepalived runs (STOPPED when it does not). A keepalived started before it
  # had the notify script: the state it entered in this run's journal.
  if [ -n "$(ip -o addr show to "$vip" 2>/dev/null)" ]; then
    printf 'vip\theld\n'
  else
    printf 'vip\tnot-held\n'
  fi
  if systemctl is-active --quiet keepalived.service 2>/dev/null; then
    s=$(cat "$vrrpstate" 2>/dev/null || true)
    if [ -z "$s" ]; then
      run=$(systemctl show -p InvocationID --value keepalived.service 2>/dev/null || true)
      if [ -n "$run" ]; then
        s=$(journalctl -q _SYSTEMD_INVOCATION_ID="$run" -o cat 2>/dev/null | sed -n 's/.*Entering \([A-Z]*\) STATE.*/\1/p' | tail -n 1 || true)
      fi
    fi
    printf 'vrrp\t%s\n' "${s:-UNKNOWN}"
  else
    printf 'vrrp\tSTOPPED\n'
  fi
fi
