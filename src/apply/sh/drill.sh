# A drill (FOOBAR_INFRA_DRILL=cut-ssh): a second after this returns, the firewall just loaded (table
# $1) drops every packet to the SSH ports $2 (newline-separated), established sessions too — a
# ruleset that cuts the operator off, for the reconnect check and the host's watchdog to catch.
# Detached, so that this script's own answer still gets through.
for port in $2; do
  # shellcheck disable=SC2016 # the inner shell expands them
  setsid sh -c 'sleep 1; nft insert rule inet "$0" input tcp dport "$1" drop' "$1" "$port" \
    </dev/null >/dev/null 2>&1 &
done
