# The contents of files, for diffs: $1 the largest size fetched, then the paths.
# Prints `PATH<TAB>BASE64` per regular file no larger than $1 (base64, so any byte survives).
# A symbolic link is never read through.
limit=$1
shift
for f in "$@"; do
  if [ -f "$f" ] && [ ! -L "$f" ] && [ "$(stat -c %s "$f")" -le "$limit" ]; then
    printf '%s\t' "$f"
    base64 -w0 < "$f"
    echo
  fi
done
