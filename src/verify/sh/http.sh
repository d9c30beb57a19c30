# The HTTP status of GET $1 with `Host: $2` (000 when nothing answered). An https URL names an
# address, not the site: the handshake must succeed, the chain is the TLS check's to judge.
curl -k -sS -m 5 -o /dev/null -w '%{http_code}\n' -H "Host: $2" "$1" 2>/dev/null || true
