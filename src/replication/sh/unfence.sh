# Undoes a fence whose promote failed: the old primary's service $1 started again, read_only put
# back to $2 (what it was before the fence), the fence mark removed.
rm -f "$STATE_DIR/fenced"
systemctl start -- "$1"
end=$(($(date +%s) + 30))
until mysql -N -B -e 'SELECT 1' >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$end" ]; then
    echo "$1 started but its server did not answer within 30 s: read_only not put back to $2" >&2
    exit 1
  fi
  sleep 0.25
done
mysql -e "SET GLOBAL read_only = $2"
echo "$1 started, read_only back to $2, fence mark removed"
