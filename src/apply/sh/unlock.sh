# Releases the host's apply lock.
rm -rf "$STATE_DIR/lock"
