# The HTTP status of GET $1 with `Host: $2` (000 when nothing answered).
curl -sS -m 5 -o /dev/null -w '%{http_code}\n' -H "Host: $2" "$1" 2>/dev/null || true
