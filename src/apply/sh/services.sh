# The planned service actions. $1 `1` to have systemd re-read unit files first, $2 the units
# planned (newline-separated), then UNIT ACTION pairs in order. Then does what the pending record
# still owes for other units, and clears it.
daemon_reload=$1 planned=$2
shift 2
if [ "$daemon_reload" = 1 ]; then systemctl daemon-reload; fi
firewall_note "$planned"
while [ $# -ge 2 ]; do
  service_step "$1" "$2"
  shift 2
done
settle_pending "$planned"
