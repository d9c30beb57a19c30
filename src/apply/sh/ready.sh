# Puts server $3 of backend $2 back into load balancing through HAProxy's admin socket $1 and
# waits (at most $4 seconds) until HAProxy has it UP again (its checks passing). Prints
# `now<TAB>STATUS`; exits EXIT_HEALTH when it is not UP in time.
sock=$1 be=$2 srv=$3 limit=$4
if [ -z "$(server_field "$sock" "$be" "$srv" status)" ]; then
  printf 'now\tabsent\n'
  exit 0
fi
haproxy_cmd "$sock" "set server $be/$srv state ready" >/dev/null
rm -f "$STATE_DIR/out-$(printf '%s/%s' "$be" "$srv" | sha256sum | cut -c1-16)"
end=$(($(date +%s) + limit))
while :; do
  status=$(server_field "$sock" "$be" "$srv" status)
  if [ "$status" = UP ]; then
    printf 'now\tUP\n'
    exit 0
  fi
  if [ "$(date +%s)" -ge "$end" ]; then
    printf 'now\t%s\n' "${status:-unknown}"
    exit "$EXIT_HEALTH"
  fi
  sleep 0.2
done
