# Puts back what a run swapped in. $1 the app root, $2 the release to point `current` back at
# ('' for none), $3 `1` to have systemd re-read unit files, $4 the number of files N, then N pairs
# KIND PATH (KIND `backup`: restore the backup; `new`: remove the file), then UNIT ACTION pairs.
# Each restore stops the script on failure, so a rollback is never claimed half-done. Every
# service is brought back even if another fails; those that fail are named (EXIT_ROLLBACK).
root=$1 from=$2 daemon_reload=$3 n=$4
shift 4
while [ "$n" -gt 0 ]; do
  if [ "$1" = backup ]; then
    cp -pP --remove-destination "$BACKUP_DIR$2" "$2$STAGED"
    mv -fT "$2$STAGED" "$2"
  else
    rm -f "$2"
  fi
  shift 2
  n=$((n - 1))
done
if [ -n "$from" ]; then
  test -d "$root/releases/$from"
  ln -sfn "releases/$from" "$root/.current.new"
  mv -T "$root/.current.new" "$root/current"
  touch "$root/releases/$from"
fi
if [ "$daemon_reload" = 1 ]; then systemctl daemon-reload; fi
failed=''
while [ $# -ge 2 ]; do
  (service_step "$1" "$2") >/dev/null 2>&1 || failed="$failed $1"
  shift 2
done
# Last, the firewall as it was before the run (the journal says), whatever the actions loaded.
(firewall_put_back) >/dev/null 2>&1 || failed="$failed $FIREWALL_UNIT"
if [ -n "$failed" ]; then
  echo "the files are back, but these services did not come back:$failed"
  exit "$EXIT_ROLLBACK"
fi
rm -f "$PENDING"
