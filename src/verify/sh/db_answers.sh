# The database answers over the host's local socket.
mysql -N -B -e 'SELECT 1' 2>&1
