# The HTTP status of GET $1 with `Host: $2` (000 when nothing answered). An https URL names an
# address, or with $3 (`NAME:PORT:ADDRESS`) the site's name reached at that address: the
# handshake must succeed, the chain is the TLS check's to judge.
if [ -n "${3:-}" ]; then
  curl -k -sS -m 5 -o /dev/null -w '%{http_code}\n' --resolve "$3" "$1" 2>/dev/null || true
else
  curl -k -sS -m 5 -o /dev/null -w '%{http_code}\n' -H "Host: $2" "$1" 2>/dev/null || true
fi
