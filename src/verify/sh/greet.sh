# What the database server at $1:$2 says to this host first: its greeting, or the refusal of a
# host it does not know. Printable characters only, one line.
# shellcheck disable=SC2016
timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && dd bs=1024 count=1 2>/dev/null <&3' _ "$1" "$2" 2>&1 | tr -c '[:print:]' '.' || true
echo
