# Records that the schema with hash $2 was loaded into database $1.
mkdir -p "$STATE_DIR"
printf '%s' "$2" > "$STATE_DIR/schema-$1.sha256"
