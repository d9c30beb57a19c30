# A TCP connection from this host to $1:$2. Prints `connected`, then, when $3 is 1, `first`, a
# tab and what the server says first (within 2 s; printable characters only, one line); or
# `error`, a tab and why the connection failed; or `timeout` when nothing answered within 3 s.
rc=0
# shellcheck disable=SC2016
out=$(timeout 3 bash -c '
exec 3<>"/dev/tcp/$1/$2" || exit 1
echo connected
if [ "$3" = 1 ]; then
  printf "first\t"
  timeout 2 dd bs=1024 count=1 2>/dev/null <&3 | tr -c "[:print:]" "." || true
  echo
fi' _ "$1" "$2" "$3" 2>&1) || rc=$?
case $out in
  connected*) printf '%s\n' "$out" ;;
  *)
    if [ "$rc" -eq 124 ]; then
      echo timeout
    else
      printf 'error\t%s\n' "$(printf '%s' "$out" | tr '\n' ' ')"
    fi
    ;;
esac
