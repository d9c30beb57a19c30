# Creates the system users named in the arguments that do not exist (no home, no login shell).
for u in "$@"; do
  if ! id -u "$u" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u"
  fi
done
