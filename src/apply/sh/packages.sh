# Installs the packages named in the arguments. Waits on the package locks (another apt run,
# apt-daily at boot) rather than fail: DPkg::Lock::Timeout covers dpkg's lock; `update` is
# retried while its lists lock is held.
export DEBIAN_FRONTEND=noninteractive
apt() { apt-get -q -o DPkg::Lock::Timeout=600 "$@"; }
log=$(mktemp)
i=0
until apt update >"$log" 2>&1; do
  i=$((i + 1))
  if grep -q 'Could not get lock' "$log" && [ "$i" -lt 120 ]; then sleep 5; continue; fi
  echo 'apt-get update failed:'
  tail -n 15 "$log"
  rm -f "$log"
  exit "$EXIT_PACKAGES"
done
if ! apt install -y --no-install-recommends "$@" >"$log" 2>&1; then
  echo 'apt-get install failed:'
  tail -n 20 "$log"
  rm -f "$log"
  exit "$EXIT_PACKAGES"
fi
rm -f "$log"
