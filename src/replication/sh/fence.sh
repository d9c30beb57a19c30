# Fences the old primary so that it takes no more writes: read_only on (when its server answers),
# the fence marked for plan ($2 says by whom), then its service $1 stopped. Says what it did.
if mysql -e 'SET GLOBAL read_only = 1' 2>/dev/null; then
  echo "read_only set"
else
  echo "its server did not answer (read_only not set)"
fi
mkdir -p "$STATE_DIR"
printf '%s\n' "$2" > "$STATE_DIR/fenced"
rm -f "$STATE_DIR/promoted"
systemctl stop -- "$1"
echo "$1 stopped"
