# The host-side watchdog, run by systemd when the run that changed this host did not confirm it in
# time (the operator's machine or connection died mid-change): puts back, newest first, what the
# change journal says the run swapped in (files from their backups, the release `current` pointed
# at), has systemd re-read units, then does what the pending record owes, so the host serves as
# it did before that run.
j=$STATE_DIR/journal
if [ ! -f "$j" ]; then exit 0; fi
echo "foobar-infra: the run that changed this host never confirmed it: putting back what it changed"
# Each entry best-effort: one that cannot be put back does not keep the others from it.
tac "$j" | while read -r kind how path; do
  case $kind in
    file)
      if [ "$how" = backup ]; then
        if cp -pP --remove-destination "$BACKUP_DIR$path" "$path$STAGED" && mv -fT "$path$STAGED" "$path"; then
          echo "restored $path"
        else
          echo "could not restore $path"
        fi
      else
        rm -f -- "$path" || echo "could not remove $path"
      fi ;;
    release)
      # `how` is the app root, `path` the release it pointed at before (none on a first one).
      if [ -n "$path" ] && [ -d "$how/releases/$path" ]; then
        if ln -sfn "releases/$path" "$how/.current.new" && mv -T "$how/.current.new" "$how/current"; then
          echo "restored $how/current to $path"
        else
          echo "could not restore $how/current"
        fi
      fi ;;
  esac
done
if grep -q ' /etc/systemd/system/' "$j"; then systemctl daemon-reload; fi
# The services the run's changes made reload or restart do so again, on what is back.
grep '^owe ' "$j" | sort -u | while read -r _ unit action; do
  service_do "$unit" "$action" || echo "foobar-infra: $unit did not $action"
done
# What else an earlier run still owed is done too (the pending record is cleared after).
settle_pending "$(grep '^owe ' "$j" | awk '{ print $2 }')"
# Last, the firewall as it was: whatever the actions above loaded.
firewall_put_back || echo "foobar-infra: the firewall could not be put back"
rm -f "$j"
echo "foobar-infra: restored"
