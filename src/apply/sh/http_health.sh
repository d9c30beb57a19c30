# Polls $4://$5:$1$2 ($4 `http` or `https`, $5 the address: 127.0.0.1 by default, or a backup
# load balancer's own address) with `Host: $3` for at most 20 s. Healthy
# means three answers of 200 in a row, half a second apart: a reload that has not taken effect yet (old processes still
# answering) does not pass for the new configuration. Otherwise prints the last answer and exits
# EXIT_HEALTH.
port=$1 path=$2 header="Host: $3" scheme=$4 address=${5:-127.0.0.1}
case $address in *:*) address="[$address]" ;; esac
# Over HTTPS the handshake must succeed; the certificate's trust is checked by validate and verify
# (this probe names 127.0.0.1, which no certificate of the site covers).
insecure=""
if [ "$scheme" = https ]; then insecure=1; fi
end=$(($(date +%s) + 20))
ok=0
while [ "$(date +%s)" -lt "$end" ]; do
  if curl ${insecure:+"-k"} -fsS -m 2 -o /dev/null -H "$header" "$scheme://$address:$port$path" 2>/dev/null; then
    ok=$((ok + 1))
  else
    ok=0
  fi
  if [ "$ok" -ge 3 ]; then exit 0; fi
  sleep 0.5
done
curl ${insecure:+"-k"} -sS -m 2 -o /dev/null -w 'last answer: HTTP %{http_code}\n' -H "$header" "$scheme://$address:$port$path" 2>&1 || true
exit "$EXIT_HEALTH"
