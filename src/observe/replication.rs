//! What a database host says of replication in the probe: `repl` lines (its variables, its
//! `SHOW SLAVE STATUS`, the marks `promote` leaves) and `repluser` lines (the replication
//! account's hosts).

use serde::{Deserialize, Serialize};

/// One host's replication state as the probe read it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicationFacts {
    pub read_only: bool,
    pub server_id: String,
    /// `@@gtid_binlog_pos`: what this server wrote to its binary log.
    pub gtid_binlog_pos: String,
    /// `@@gtid_slave_pos`: what it applied as a replica.
    pub gtid_slave_pos: String,
    /// `SHOW SLAVE STATUS`, when the host is configured as a replica.
    pub source: Option<SlaveStatus>,
    /// The mark `promote` left on the host it made the primary.
    pub promoted: Option<String>,
    /// The mark `promote` left on the primary it fenced.
    pub fenced: Option<String>,
}

/// The fields of `SHOW SLAVE STATUS` this tool reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaveStatus {
    pub master_host: String,
    pub master_port: String,
    pub io_running: String,
    pub sql_running: String,
    /// `Seconds_Behind_Master`; `None` when the server says NULL (a thread stopped).
    pub seconds_behind: Option<u64>,
    pub last_io_error: String,
    pub last_sql_error: String,
    pub using_gtid: String,
}

impl SlaveStatus {
    pub fn running(&self) -> bool {
        self.io_running == "Yes" && self.sql_running == "Yes"
    }
}

/// Reads one `repl` line's fields (after `repl`) into `facts`; false when it is not one.
pub fn parse_line(facts: &mut ReplicationFacts, parts: &[&str]) -> bool {
    match parts {
        ["vars", read_only, server_id, binlog, slave] => {
            // CONCAT_WS gives the variable's name for it (`ON`), a bare SELECT `1`.
            facts.read_only = matches!(*read_only, "1" | "ON");
            facts.server_id = server_id.to_string();
            facts.gtid_binlog_pos = binlog.to_string();
            facts.gtid_slave_pos = slave.to_string();
        }
        ["slave", key, value] => {
            let s = facts.source.get_or_insert_with(SlaveStatus::default);
            let value = value.trim().to_string();
            match *key {
                "Master_Host" => s.master_host = value,
                "Master_Port" => s.master_port = value,
                "Slave_IO_Running" => s.io_running = value,
                "Slave_SQL_Running" => s.sql_running = value,
                "Seconds_Behind_Master" => s.seconds_behind = value.parse().ok(),
                "Last_IO_Error" => s.last_io_error = value,
                "Last_SQL_Error" => s.last_sql_error = value,
                "Using_Gtid" => s.using_gtid = value,
                _ => return false,
            }
        }
        ["promoted", mark] => facts.promoted = Some(mark.to_string()),
        ["fenced", mark] => facts.fenced = Some(mark.to_string()),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_reads_as_its_variables_and_slave_status() {
        let mut f = ReplicationFacts::default();
        for line in [
            "vars\t1\t2\t0-2-3\t0-1-40",
            "slave\tMaster_Host\t10.89.7.30",
            "slave\tSlave_IO_Running\tYes",
            "slave\tSlave_SQL_Running\tYes",
            "slave\tSeconds_Behind_Master\t0",
            "slave\tLast_IO_Error\t",
            "promoted\tdb-02 at 1700000000",
        ] {
            let parts: Vec<&str> = line.split('\t').collect();
            assert!(parse_line(&mut f, &parts), "{line}");
        }
        assert!(f.read_only);
        assert_eq!(f.gtid_slave_pos, "0-1-40");
        // What MariaDB 10.11 prints through CONCAT_WS in the probe.
        for (value, read_only) in [("ON", true), ("OFF", false), ("0", false)] {
            let mut g = ReplicationFacts::default();
            assert!(parse_line(&mut g, &["vars", value, "2", "", ""]));
            assert_eq!(g.read_only, read_only, "{value}");
        }
        let s = f.source.as_ref().unwrap();
        assert!(s.running());
        assert_eq!(s.seconds_behind, Some(0));
        assert_eq!(s.master_host, "10.89.7.30");
        assert_eq!(f.promoted.as_deref(), Some("db-02 at 1700000000"));
        // NULL lag: a thread is stopped.
        parse_line(&mut f, &["slave", "Seconds_Behind_Master", "NULL"]);
        assert_eq!(f.source.unwrap().seconds_behind, None);
        assert!(!parse_line(&mut ReplicationFacts::default(), &["other"]));
    }
}
