# Functions the apply scripts share. Exit codes (EXIT_*) come before this, from apply::protocol.

# service_do UNIT ACTION: one service action. `start` restarts a unit the package already
# started; `reload` starts a unit that is not running. The firewall's unit follows its ruleset
# file: with the file gone (a first firewall put back), its table goes.
service_do() {
  if [ "$1" = "$FIREWALL_UNIT" ] && [ ! -e "$FIREWALL_RULES" ]; then
    firewall_unload
    return 0
  fi
  case $2 in
    enable) systemctl enable -q "$1" ;;
    start)
      if systemctl is-active -q "$1"; then systemctl restart "$1"; else systemctl start "$1"; fi ;;
    reload)
      if ! systemctl is-active -q "$1"; then
        systemctl start "$1"
      elif [ "$1" = nginx ] || [ "$1" = nginx.service ]; then
        nginx_reload "$1"
      elif [ "$1" = mariadb.service ] || [ "$1" = mysql.service ]; then
        db_read_only
      else
        haproxy_save_state "$1"
        systemctl reload "$1"
      fi ;;
    restart)
      haproxy_save_state "$1"
      systemctl restart "$1" ;;
    *) echo "unknown service action: $2" >&2; return 2 ;;
  esac
}

# db_read_only: the database's read_only set live to what its configuration says (a change of
# read_only alone is planned as this reload, not a restart).
db_read_only() {
  ro=0
  if grep -qsx 'read_only = ON' /etc/mysql/*.conf.d/60-foobar-infra.cnf; then ro=1; fi
  mysql -e "SET GLOBAL read_only = $ro"
}

# firewall_unload: the host admits again what it did before this tool's first firewall: the
# table goes (the host's other tables were never touched) and its unit stops.
firewall_unload() {
  systemctl stop "$FIREWALL_UNIT" >/dev/null 2>&1 || true
  if command -v nft >/dev/null 2>&1 && nft list table inet "$FIREWALL_TABLE" >/dev/null 2>&1; then
    nft delete table inet "$FIREWALL_TABLE"
  fi
}

# firewall_note UNITS: before the planned actions run, records in the change journal whether the
# firewall's table was loaded, when one of UNITS (newline-separated) is the firewall's unit.
firewall_note() {
  case "$NL$1$NL" in *"$NL$FIREWALL_UNIT$NL"*) ;; *) return 0 ;; esac
  if command -v nft >/dev/null 2>&1 && nft list table inet "$FIREWALL_TABLE" >/dev/null 2>&1; then
    journal "firewall was-loaded"
  else
    journal "firewall was-unloaded"
  fi
}

# firewall_put_back: once a change's files are back (by the run's rollback or the watchdog), the
# firewall is as it was before the run, as the change journal tells: the previous ruleset loaded
# again, or no table at all when the host had none.
firewall_put_back() {
  j=$STATE_DIR/journal
  if [ ! -f "$j" ]; then return 0; fi
  if grep -qxF "file backup $FIREWALL_RULES" "$j"; then
    service_do "$FIREWALL_UNIT" reload
  elif grep -qxF "file new $FIREWALL_RULES" "$j" || grep -qx 'firewall was-unloaded' "$j"; then
    firewall_unload
  elif grep -qx 'firewall was-loaded' "$j"; then
    service_do "$FIREWALL_UNIT" reload
  fi
}

# Before HAProxy reloads or restarts: its servers' runtime states (drained, in maintenance) go to
# the server-state-file its configuration loads, so that they survive. Other units: nothing.
haproxy_save_state() {
  case $1 in haproxy | haproxy.service) ;; *) return 0 ;; esac
  sock=$(awk '$1 == "stats" && $2 == "socket" { print $3; exit }' /etc/haproxy/haproxy.cfg 2>/dev/null || true)
  if [ -n "$sock" ] && [ -S "$sock" ] && command -v socat >/dev/null 2>&1; then
    if printf 'show servers state\n' | socat -t 2 stdio "UNIX-CONNECT:$sock" > /var/lib/haproxy/server-state.new; then
      mv -f /var/lib/haproxy/server-state.new /var/lib/haproxy/server-state
    fi
  fi
  return 0
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
  if [ -n "$1" ]; then
    printf '%s\n' "$1" >> "$PENDING"
    printf '%s\n' "$1" | while read -r unit action; do journal "owe $unit $action"; done
  fi
}

# settle_pending UNITS: does what the pending record owes for units not in UNITS (another run may
# have added entries after this run's plan was made), then clears it: nothing owed is dropped.
settle_pending() {
  done_units=" $(printf '%s' "$1" | tr '\n' ' ') "
  if [ -f "$PENDING" ]; then
    while read -r svc action; do
      case "$done_units" in *" $svc "*) continue ;; esac
      case "$action" in
        reload) service_do "$svc" reload || service_do "$svc" restart ;;
        *) service_do "$svc" restart ;;
      esac
    done < "$PENDING"
  fi
  rm -f "$PENDING"
}

# haproxy_cmd SOCKET COMMAND: one command on HAProxy's admin socket; prints its answer.
haproxy_cmd() {
  printf '%s\n' "$2" | socat -t 2 stdio "UNIX-CONNECT:$1"
}

# server_field SOCKET BACKEND SERVER COLUMN: the server's value in `show stat`, read by column
# name (positions move between versions).
server_field() {
  haproxy_cmd "$1" "show stat" | awk -F, -v be="$2" -v srv="$3" -v col="$4" '
    NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
    c && $1 == be && $2 == srv { print $c; exit }'
}

# journal LINE: records a change about to be made, for the host-side watchdog (armed by the run:
# it puts back what the journal lists if the run never confirms the host).
journal() {
  if [ -f "$STATE_DIR/journal" ]; then printf '%s\n' "$1" >> "$STATE_DIR/journal"; fi
}

# arm_timer UNIT SECONDS: unless stopped within SECONDS (e.g. `60s`), systemd runs the script given
# on stdin as UNIT. Recorded in the run's lock, whose renewals keep it from firing while the run
# lives (heartbeat.sh).
arm_timer() {
  mkdir -p "$STATE_DIR"
  chmod 700 "$STATE_DIR"
  systemctl stop "$1.timer" "$1.service" >/dev/null 2>&1 || true
  systemctl reset-failed "$1.timer" "$1.service" >/dev/null 2>&1 || true
  cat > "$STATE_DIR/$1.sh"
  systemd-run --quiet --unit="$1" --on-active="$2" --timer-property=AccuracySec=100ms /bin/sh "$STATE_DIR/$1.sh"
  if [ -d "$STATE_DIR/lock" ]; then printf '%s\n' "$1" >> "$STATE_DIR/lock/timers"; fi
}

# others_up SOCKET BACKEND SERVER: how many other servers of the backend HAProxy has UP.
others_up() {
  haproxy_cmd "$1" "show stat" | awk -F, -v be="$2" -v srv="$3" '
    NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) { if ($i == "svname") s = i; if ($i == "status") c = i }; next }
    $1 == be && $s != srv && $s != "FRONTEND" && $s != "BACKEND" && $c ~ /^UP/ { n++ }
    END { print n + 0 }'
}
