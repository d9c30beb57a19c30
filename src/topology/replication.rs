//! The database hosts as a primary and its GTID replicas: which host is which, and the server
//! id each one has.

use super::model::{Host, Role, Topology};

impl Topology {
    /// The primary database host: `database.primary`, or the first `db` host in file order.
    pub fn db_primary(&self) -> Option<&Host> {
        let named = self.database.as_ref()?.primary.as_ref();
        match named {
            Some(name) => self
                .hosts_with(Role::Db)
                .find(|h| h.name.value == name.value),
            None => self.hosts_with(Role::Db).next(),
        }
    }

    /// Every `db` host but the primary, in file order.
    pub fn db_replicas(&self) -> Vec<&Host> {
        let primary = self.db_primary().map(|h| h.name.value.as_str());
        self.hosts_with(Role::Db)
            .filter(|h| Some(h.name.value.as_str()) != primary)
            .collect()
    }

    /// A `db` host's `server-id`: `database.server_id` plus its index among the `db` hosts in
    /// file order, so that it does not change when another host is promoted.
    pub fn db_server_id(&self, host: &str) -> Option<u32> {
        let base = self.database.as_ref()?.server_id;
        let index = self
            .hosts_with(Role::Db)
            .position(|h| h.name.value == host)?;
        base.checked_add(u32::try_from(index).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use crate::topology::load_text;

    const TWO: &str = r#"
domain: example.com
hosts:
  web-01: { address: 192.0.2.21, roles: [web, app] }
  db-01: { address: 192.0.2.30, roles: [db] }
  db-02: { address: 192.0.2.31, roles: [db] }
app: { kind: gunicorn }
database:
  password: { env: FOOBAR_DB_PASSWORD }
  server_id: 7
  replication:
    password: { env: FOOBAR_REPLICATION_PASSWORD }
"#;

    #[test]
    fn the_first_db_host_is_the_primary_unless_one_is_named() {
        // Two db hosts: the primary must be named (a host added above it must not take its
        // place and have it seeded over).
        let loaded = load_text(TWO);
        let errors: Vec<_> = loaded.problems.iter().filter(|p| p.is_error()).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, "topology::missing-db-primary");
        assert!(
            errors[0]
                .help
                .as_deref()
                .unwrap_or("")
                .contains("primary: db-01"),
            "{errors:?}"
        );
        let named = load_text(&TWO.replace("server_id: 7", "server_id: 7\n  primary: db-01"));
        assert!(
            !named.problems.iter().any(|p| p.is_error()),
            "{:?}",
            named.problems
        );
        let t = named.topology.unwrap();
        assert_eq!(t.db_primary().unwrap().name.value, "db-01");
        assert_eq!(t.db_replicas()[0].name.value, "db-02");
        assert_eq!(
            t.database
                .as_ref()
                .unwrap()
                .replication
                .as_ref()
                .unwrap()
                .user
                .value,
            "replication"
        );
        let t = load_text(&TWO.replace("server_id: 7", "server_id: 7\n  primary: db-02"))
            .topology
            .unwrap();
        assert_eq!(t.db_primary().unwrap().name.value, "db-02");
        assert_eq!(t.db_replicas()[0].name.value, "db-01");
        // Server ids follow the file order, whoever is the primary.
        assert_eq!(t.db_server_id("db-01"), Some(7));
        assert_eq!(t.db_server_id("db-02"), Some(8));
        assert_eq!(t.db_server_id("web-01"), None);
    }

    #[test]
    fn replication_with_mysql_is_refused_where_the_engine_is_written() {
        let text = TWO.replace(
            "server_id: 7",
            "server_id: 7\n  primary: db-01\n  engine: mysql",
        );
        let loaded = load_text(&text);
        let e = loaded
            .problems
            .iter()
            .find(|p| p.code == "topology::unsupported-replication")
            .unwrap_or_else(|| panic!("{:?}", loaded.problems));
        assert!(e.is_error());
        let at = e.span.unwrap().offset;
        assert!(text[at..].starts_with("mysql"), "{}", &text[at..]);
    }
}
