# Ships a release. $1 the app root (/srv/APP), $2 the release's content hash, $3 the service
# actions the switch owes (`UNIT ACTION` lines). stdin: the release tar.
# Unpacks it once per hash, records what is owed, points `current` at it with one rename, and
# keeps the two releases before it (and the one it replaced, which a rollback returns to).
root=$1 rel=$2
mkdir -p "$root/releases"
if [ ! -d "$root/releases/$rel" ]; then
  tmp=$(mktemp -d "$root/releases/.incoming.XXXXXX")
  tar -x -C "$tmp" --same-owner --same-permissions
  chmod 755 "$tmp"
  mv -T "$tmp" "$root/releases/$rel"
else
  cat >/dev/null
fi
owe "$3"
prev=$(readlink "$root/current" 2>/dev/null || true)
prev=${prev##*/}
journal "release $root $prev"
ln -sfn "releases/$rel" "$root/.current.new"
mv -T "$root/.current.new" "$root/current"
touch "$root/releases/$rel"
# Release names are content hashes: ls is safe here.
# shellcheck disable=SC2010,SC2012
ls -1t "$root/releases" | grep -v -x -e "$rel" -e "${prev:-$rel}" | tail -n +3 | while read -r old; do
  rm -rf "${root:?}/releases/$old"
done
