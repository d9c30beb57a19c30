# Polls http://127.0.0.1:$1$2 with `Host: $3` for at most 20 s. Healthy means three answers of 200
# in a row, half a second apart: a reload that has not taken effect yet (old processes still
# answering) does not pass for the new configuration. Otherwise prints the last answer and exits
# EXIT_HEALTH.
port=$1 path=$2 header="Host: $3"
end=$(($(date +%s) + 20))
ok=0
while [ "$(date +%s)" -lt "$end" ]; do
  if curl -fsS -m 2 -o /dev/null -H "$header" "http://127.0.0.1:$port$path" 2>/dev/null; then
    ok=$((ok + 1))
  else
    ok=0
  fi
  if [ "$ok" -ge 3 ]; then exit 0; fi
  sleep 0.5
done
curl -sS -m 2 -o /dev/null -w 'last answer: HTTP %{http_code}\n' -H "$header" "http://127.0.0.1:$port$path" 2>&1 || true
exit "$EXIT_HEALTH"
