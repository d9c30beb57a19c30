# Functions the apply scripts share. Exit codes (EXIT_*) come before this, from apply::protocol.

# service_do UNIT ACTION: one service action. `start` restarts a unit the package already
# started; `reload` starts a unit that is not running.
service_do() {
  case $2 in
    enable) systemctl enable -q "$1" ;;
    start)
      if systemctl is-active -q "$1"; then systemctl restart "$1"; else systemctl start "$1"; fi ;;
    reload)
      if ! systemctl is-active -q "$1"; then
        systemctl start "$1"
      elif [ "$1" = nginx ] || [ "$1" = nginx.service ]; then
        nginx_reload "$1"
      else
        systemctl reload "$1"
      fi ;;
    restart) systemctl restart "$1" ;;
    *) echo "unknown service action: $2" >&2; return 2 ;;
  esac
}

# Nginx's reload returns before the new workers serve: wait until the old ones are gone (at most
# 10 s), so that what follows (the health check) sees the new configuration.
nginx_reload() {
  old=$(pgrep -P "$(cat /run/nginx.pid 2>/dev/null || echo 0)" || true)
  systemctl reload "$1" || return 1
  i=0
  while [ "$i" -lt 100 ]; do
    alive=0
    for p in $old; do
      if kill -0 "$p" 2>/dev/null; then alive=1; fi
    done
    if [ "$alive" = 0 ]; then break; fi
    i=$((i + 1))
    sleep 0.1
  done
}

# service_step UNIT ACTION: the action, or `failed<TAB>UNIT`, the unit's status and EXIT_SERVICE.
service_step() {
  if ! service_do "$1" "$2"; then
    printf 'failed\t%s\n' "$1"
    systemctl status --no-pager -n 15 "$1" 2>&1 | tail -n 20
    exit "$EXIT_SERVICE"
  fi
}

# owe LINES: records `UNIT ACTION` lines (newline-separated) as owed, before the change that owes
# them, so that an interrupted run leaves them for the next plan.
owe() {
  mkdir -p "$STATE_DIR"
  if [ -n "$1" ]; then printf '%s\n' "$1" >> "$PENDING"; fi
}

# settle_pending UNITS: does what the pending record owes for units not in UNITS (another run may
# have added entries after this run's plan was made), then clears it: nothing owed is dropped.
settle_pending() {
  done_units=" $(printf '%s' "$1" | tr '\n' ' ') "
  if [ -f "$PENDING" ]; then
    while read -r svc action; do
      case "$done_units" in *" $svc "*) continue ;; esac
      case "$action" in
        reload) systemctl reload "$svc" || systemctl restart "$svc" ;;
        *) systemctl restart "$svc" ;;
      esac
    done < "$PENDING"
  fi
  rm -f "$PENDING"
}
