# Dumps database $1 on the primary in one transaction, with the GTID position it starts from (as
# a comment the replica's seed reads), for a new replica.
mariadb-dump --single-transaction --gtid --master-data=2 --hex-blob --routines --triggers "$1"
