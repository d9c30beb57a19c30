# Takes server $3 of backend $2 out of load balancing through HAProxy's admin socket $1 before
# its host changes: `drain` (no new sessions; its checks go on), wait until its sessions and
# queue reach 0 (at most $4 seconds: a server that keeps getting traffic does not hold the run
# up), then `maint`. Prints `was<TAB>STATUS` (UP, DOWN 1/2, MAINT...; a server already in MAINT
# is left so, unless a run of this tool put it there and died: then it counts as UP), and
# `left<TAB>N` when sessions were left as the wait ran out. Prints `absent`
# when the socket does not exist yet (HAProxy not installed: no traffic to drain).
sock=$1 be=$2 srv=$3 limit=$4
if [ ! -S "$sock" ]; then
  echo absent
  exit 0
fi
status=$(server_field "$sock" "$be" "$srv" status)
if [ -z "$status" ]; then
  echo "HAProxy has no server $srv in backend $be"
  exit 1
fi
# Servers this tool takes out are marked on this host, so that one a run left out (it died
# before putting it back) is told apart from one an operator put in maintenance.
marker=$STATE_DIR/out-$(printf '%s/%s' "$be" "$srv" | sha256sum | cut -c1-16)
case $status in
  MAINT*)
    if [ -f "$marker" ]; then
      printf 'was\tUP\nleft-by-a-run\n'
    else
      printf 'was\t%s\n' "$status"
    fi
    exit 0 ;;
esac
printf 'was\t%s\n' "$status"
out=$(haproxy_cmd "$sock" "set server $be/$srv state drain")
if [ -n "$(printf '%s' "$out" | tr -d '[:space:]')" ]; then
  echo "HAProxy refused to drain $be/$srv: $out"
  exit 1
fi
end=$(($(date +%s) + limit))
while :; do
  cur=$(server_field "$sock" "$be" "$srv" scur)
  queued=$(server_field "$sock" "$be" "$srv" qcur)
  if [ "${cur:-0}" -eq 0 ] && [ "${queued:-0}" -eq 0 ]; then break; fi
  if [ "$(date +%s)" -ge "$end" ]; then
    printf 'left\t%s\n' "$cur"
    break
  fi
  sleep 0.1
done
mkdir -p "$STATE_DIR"
: > "$marker"
haproxy_cmd "$sock" "set server $be/$srv state maint" >/dev/null
