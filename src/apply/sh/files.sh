# Swaps files in, all or none. $1 `1` when Nginx files change (nginx -t runs on the check copy of
# nginx.conf that includes the staged files), $2 the service actions the swap owes (`UNIT ACTION`
# lines), then six arguments a file: KIND (content|create|attrs) PATH OWNER GROUP MODE CHECKER.
# A `create` file is written only if nothing is at its path when the swap comes (its service
# owns it once it exists: a dynamic zone that named rewrites); otherwise it is left as it is and
# reported as `kept<TAB>PATH`.
# stdin: a tar of the staged files (PATH.foobar-new) and the Nginx check copy.
# Stages each file next to its target (tar sets owner and mode on the files it creates itself:
# nothing is chowned or chmodded by path, through a link someone put there), checks each with its
# service's own checker, and only when all pass records what is owed, backs up and renames them
# into place. A symbolic link at a managed path is replaced, never followed: the backup keeps the
# link itself, and the rename replaces the link, not what it points at.
# Prints `invalid<TAB>PATH<TAB>CHECKER` and the checker's output when one fails (nothing is
# swapped, exit EXIT_INVALID), `swapped<TAB>PATH<TAB>backup|new` after each rename, and
# `attrs<TAB>PATH` for a file whose owner and mode only were set.
nginx_check=$1 owed=$2
shift 2

# each_file FUNCTION FILE-ARGUMENTS...: calls FUNCTION with each file's six arguments.
each_file() {
  fn=$1
  shift
  while [ $# -ge 6 ]; do
    "$fn" "$1" "$2" "$3" "$4" "$5" "$6"
    shift 6
  done
}

staged=''
# has_content KIND: whether the file's content is staged (content or create).
has_content() { [ "$1" = content ] || [ "$1" = create ]; }
list_staged() { if has_content "$1"; then staged="$staged$2$STAGED$NL"; fi; }
each_file list_staged "$@"
cleanup() {
  set -f
  IFS=$NL
  # shellcheck disable=SC2086
  rm -f -- $staged
  if [ "$nginx_check" = 1 ]; then rm -f "$NGINX_CHECK"; fi
  if [ -n "$named_root" ]; then rm -rf "$named_root"; fi
  if [ -n "$haproxy_root" ]; then rm -rf "$haproxy_root"; fi
}
named_root='' haproxy_root=''

trap cleanup EXIT
trap 'exit 1' HUP INT TERM

has_content=0
make_dir() {
  if has_content "$1"; then
    has_content=1
    mkdir -p "$(dirname "$2")"
    rm -f -- "$2$STAGED"
  fi
}
each_file make_dir "$@"
if [ "$has_content" = 1 ]; then
  rm -f -- "$NGINX_CHECK"
  tar -x -C / --same-owner --same-permissions --no-overwrite-dir
fi

# run_check PATH CHECKER COMMAND...: the command, or the failure report and EXIT_INVALID.
run_check() {
  path=$1 checker=$2
  shift 2
  if ! out=$("$@" 2>&1); then
    printf 'invalid\t%s\t%s\n' "$path" "$checker"
    printf '%s\n' "$out"
    exit "$EXIT_INVALID"
  fi
}
# A unit is checked under its own name (systemd reads the type from it), in a private folder.
systemd_check() {
  d=$(mktemp -d)
  cp "$1" "$d/$2"
  if systemd-analyze verify --man=no --recursive-errors=no "$d/$2"; then
    rm -rf "$d"
  else
    rm -rf "$d"
    return 1
  fi
}
# keepalived 2.2.7's config test ends itself and its process group with SIGTERM when a script
# user is set (acassen/keepalived#2617, fixed in 2.2.8): it runs in a session of its own, and
# what it prints is the verdict (it prints nothing for a good file).
keepalived_check() {
  out=$(setsid -w keepalived --config-test --use-file="$1" 2>&1) && rc=0 || rc=$?
  if [ -n "$out" ] || { [ "$rc" != 0 ] && [ "$rc" != 143 ]; }; then
    printf '%s\n' "$out" | sed "s#$1#${1%"$STAGED"}#g"
    return 1
  fi
}
mysql_check() {
  if command -v mariadbd >/dev/null 2>&1; then
    mariadbd --defaults-file="$1" --help --verbose >/dev/null
  else
    mysqld --defaults-file="$1" --validate-config
  fi
}
named_conf=0 haproxy=0
check() {
  if ! has_content "$1"; then return 0; fi
  s=$2$STAGED
  case $6 in
    none) ;;
    haproxy) haproxy=1 ;;
    mysql) run_check "$2" mariadbd mysql_check "$s" ;;
    named-conf) named_conf=1 ;;
    systemd) run_check "$2" 'systemd-analyze verify' systemd_check "$s" "${2##*/}" ;;
    nft) run_check "$2" 'nft -c' nft -c -f "$s" ;;
    keepalived) run_check "$2" 'keepalived --config-test' keepalived_check "$s" ;;
    named-zone)
      zone=${2##*/}
      run_check "$2" named-checkzone named-checkzone -q "${zone#db.}" "$s" ;;
    *) echo "unknown checker: $6"; exit 1 ;;
  esac
}
each_file check "$@"
if [ "$nginx_check" = 1 ]; then
  run_check /etc/nginx/nginx.conf nginx nginx -t -q -c "$NGINX_CHECK"
fi
# BIND's files include one another: the whole configuration is checked as named will read it,
# in a copy of /etc/bind with the staged files in place (named-checkconf -t reads under a root).
stage_named() {
  if has_content "$1" && [ "$6" = named-conf ]; then
    mkdir -p "$named_root$(dirname "$2")"
    cp -p "$2$STAGED" "$named_root$2"
  fi
}
if [ "$named_conf" = 1 ]; then
  named_root=$(mktemp -d)
  # The folders named's options name must exist under the root too.
  mkdir -p "$named_root/etc" "$named_root/var/cache/bind" "$named_root/var/lib/bind" "$named_root/run/named"
  cp -a /etc/bind "$named_root/etc/"
  each_file stage_named "$@"
  run_check /etc/bind/named.conf named-checkconf named-checkconf -t "$named_root" /etc/bind/named.conf
fi

# HAProxy loads its certificates (and the key beside each) from `crt-base`: the configuration is
# checked as HAProxy will read it, in a private copy of /etc/haproxy with the staged files in place
# and crt-base moved into the copy, so a new certificate is checked with its new key (or the
# staged configuration with the live certificates) and never a staged file against a stale one.
HAPROXY_MAIN=/etc/haproxy/haproxy.cfg
stage_haproxy() {
  if has_content "$1" && [ "$6" = haproxy ]; then
    mkdir -p "$haproxy_root$(dirname "$2")"
    cp -p "$2$STAGED" "$haproxy_root$2"
  fi
}
# Checker output names the host's paths, not the copy's.
haproxy_check() {
  sed -i "s#^\([[:space:]]*crt-base[[:space:]][[:space:]]*\)/#\1$haproxy_root/#" "$haproxy_root$HAPROXY_MAIN"
  if ! out=$(haproxy -c -f "$haproxy_root$HAPROXY_MAIN" 2>&1); then
    printf '%s\n' "$out" | sed "s#$haproxy_root##g"
    return 1
  fi
}
if [ "$haproxy" = 1 ]; then
  haproxy_root=$(mktemp -d /run/foobar-haproxy.XXXXXX)
  mkdir -p "$haproxy_root/etc"
  if [ -d /etc/haproxy ]; then cp -a /etc/haproxy "$haproxy_root/etc/"; fi
  each_file stage_haproxy "$@"
  run_check "$HAPROXY_MAIN" 'haproxy -c' haproxy_check
fi

owe "$owed"
# Backed up before, reported after: a `swapped` line means the rename happened.
swap() {
  if ! has_content "$1"; then return 0; fi
  if [ "$1" = create ] && { [ -e "$2" ] || [ -L "$2" ]; }; then
    printf 'kept\t%s\n' "$2"
    return 0
  fi
  # A new zone file starts a new history: an old journal beside it would not match it.
  if [ "$1" = create ]; then rm -f -- "$2.jnl"; fi
  if [ -e "$2" ] || [ -L "$2" ]; then
    mkdir -p "$BACKUP_DIR$(dirname "$2")"
    cp -pP --remove-destination "$2" "$BACKUP_DIR$2"
    b=backup
  else
    b=new
  fi
  journal "file $b $2"
  mv -fT "$2$STAGED" "$2"
  printf 'swapped\t%s\t%s\n' "$2" "$b"
}
each_file swap "$@"
set_attrs() {
  if [ "$1" = attrs ]; then
    if [ -L "$2" ] || [ ! -f "$2" ]; then
      echo "$2 is no longer a plain file: plan again"
      exit 1
    fi
    chown -h "$3:$4" "$2"
    chmod "$5" "$2"
    printf 'attrs\t%s\n' "$2"
  fi
}
each_file set_attrs "$@"
