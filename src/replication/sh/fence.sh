# Fences the old primary so that it takes no more writes: the fence marked for plan ($2 says by
# whom), then its service $1 stopped. Says what it did.
mkdir -p "$STATE_DIR"
printf '%s\n' "$2" > "$STATE_DIR/fenced"
rm -f "$STATE_DIR/promoted"
systemctl stop -- "$1"
echo "$1 stopped"
