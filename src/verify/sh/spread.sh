# $3 requests to $1 with `Host: $2`, each on a fresh connection: prints `req<TAB>STATUS<TAB>SERVER`
# (the X-Served-By header), then HAProxy's `show stat` from the admin socket $4. $5, for HTTPS:
# `NAME:PORT:ADDRESS` to reach the name at (the certificate's trust is checked elsewhere).
i=0
while [ "$i" -lt "$3" ]; do
  if [ -n "$5" ]; then
    head=$(curl -sS -k -m 5 -o /dev/null -D - --resolve "$5" "$1" 2>/dev/null | tr -d '\r' || true)
  else
    head=$(curl -sS -m 5 -o /dev/null -D - -H "Host: $2" "$1" 2>/dev/null | tr -d '\r' || true)
  fi
  status=$(printf '%s\n' "$head" | sed -n '1s/^HTTP[^ ]* \([0-9]*\).*/\1/p')
  by=$(printf '%s\n' "$head" | sed -n 's/^[Xx]-[Ss]erved-[Bb]y: *//p' | head -n 1)
  printf 'req\t%s\t%s\n' "${status:-000}" "$by"
  i=$((i + 1))
done
printf 'show stat\n' | socat -t 2 stdio "UNIX-CONNECT:$4"
