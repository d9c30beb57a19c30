# Runs SQL from stdin as the database administrator (root over the local socket); $1, when given,
# is the database to use.
mysql --batch "$@"
