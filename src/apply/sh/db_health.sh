# Waits at most 20 s for the database to answer over the local socket, else EXIT_HEALTH.
end=$(($(date +%s) + 20))
while [ "$(date +%s)" -lt "$end" ]; do
  if mysql -N -B -e 'SELECT 1' >/dev/null 2>&1; then exit 0; fi
  sleep 0.25
done
mysql -N -B -e 'SELECT 1' 2>&1
exit "$EXIT_HEALTH"
