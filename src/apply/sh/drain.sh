# Takes server $3 of backend $2 out of load balancing through HAProxy's admin socket $1 before
# its host changes: arms timer $5 (the script on stdin puts the server back unless the run does
# first, or keeps renewing its lock, within $6), then `drain` (no new sessions; its checks go on),
# waits until its sessions and queue reach 0 (at most $4 seconds: a server that keeps getting
# traffic does not hold the run up), then `maint`.
# Prints `was<TAB>STATUS` (its status before: UP, DOWN 1/2, DRAIN...), and `left<TAB>N` when
# sessions were left as the wait ran out. A server an operator put in MAINT is left as it is
# (`was<TAB>MAINT`); one a run of this tool put there and died counts as UP (`left-by-a-run`).
# Prints `only` (and leaves it in) when no other server of the backend is UP. Prints `absent`
# when there is nothing to drain: no HAProxy or socat yet, or no such server in
# its configuration yet (the load balancer's phase comes later in the run).
sock=$1 be=$2 srv=$3 limit=$4 unit=$5 after=$6
if [ ! -S "$sock" ] || ! command -v socat >/dev/null 2>&1; then
  echo absent
  exit 0
fi
status=$(server_field "$sock" "$be" "$srv" status)
if [ -z "$status" ]; then
  echo absent
  exit 0
fi
# Servers this tool takes out are marked on this host, so that one a run left out (it died
# before putting it back) is told apart from one an operator put in maintenance.
marker=$STATE_DIR/out-$(printf '%s/%s' "$be" "$srv" | sha256sum | cut -c1-16)
case $status in
  MAINT*)
    if [ ! -f "$marker" ]; then
      printf 'was\t%s\n' "$status"
      exit 0
    fi
    printf 'was\tUP\nleft-by-a-run\n' ;;
  *) printf 'was\t%s\n' "$status" ;;
esac
# The last server in service is not taken out: that would empty the backend (the change goes on
# with it serving, as without a load balancer).
case $status in
  UP*)
    if [ "$(others_up "$sock" "$be" "$srv")" -eq 0 ]; then
      echo only
      exit 0
    fi ;;
esac
mkdir -p "$STATE_DIR"
: > "$marker"
arm_timer "$unit" "$after"
case $status in MAINT*) exit 0 ;; esac
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
haproxy_cmd "$sock" "set server $be/$srv state maint" >/dev/null
