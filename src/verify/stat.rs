//! HAProxy's `show stat` CSV, read by column name (positions move between versions).

/// One server line: backend, server, status (`UP`, `DOWN`, `MAINT`, `DRAIN`, `NOLB`,
/// `DOWN 1/3`, `MAINT (via x)`...), the last check's status (`L7OK`, `L4CON`...), and current
/// sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerStat {
    pub backend: String,
    pub server: String,
    pub status: String,
    pub check_status: String,
    pub sessions: u64,
}

impl ServerStat {
    /// Serving: UP (also `UP 1/2` while going down) and its last layer-7 check passed.
    pub fn healthy(&self) -> bool {
        (self.status == "UP" || self.status.starts_with("UP ")) && self.check_status == "L7OK"
    }
}

/// Parses `show stat` output: the `# pxname,svname,...` header, then one line per proxy,
/// server and backend. Only server lines are kept.
pub fn parse(text: &str) -> Result<Vec<ServerStat>, String> {
    let mut lines = text.lines();
    let header = lines
        .find(|l| l.starts_with("# "))
        .ok_or("no `show stat` header")?;
    let columns: Vec<&str> = header.trim_start_matches("# ").split(',').collect();
    let at = |name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .ok_or(format!("no `{name}` column in `show stat`"))
    };
    let (px, sv, status, check, scur) = (
        at("pxname")?,
        at("svname")?,
        at("status")?,
        at("check_status")?,
        at("scur")?,
    );
    let mut out = Vec::new();
    for line in lines.filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let f: Vec<&str> = line.split(',').collect();
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        if matches!(get(sv), "FRONTEND" | "BACKEND") {
            continue;
        }
        out.push(ServerStat {
            backend: get(px).to_string(),
            server: get(sv).to_string(),
            status: get(status).to_string(),
            // `* L7OK` while a check is under way: the last result is what counts.
            check_status: get(check).trim_start_matches("* ").to_string(),
            sessions: get(scur).parse().unwrap_or(0),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Trimmed from HAProxy 2.6's `show stat` (columns in their real order, most left out).
    const SAMPLE: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,weight,check_status,check_code\n\
www,FRONTEND,,,3,9,,120,OPEN,,,\n\
web,web-01,0,0,1,2,,40,UP,100,L7OK,200\n\
web,web-02,0,0,0,2,,40,MAINT,100,L7OK,200\n\
web,web-03,0,0,0,2,,40,DOWN 1/2,100,L7STS,503\n\
web,web-04,0,0,0,2,,40,UP,100,* L7OK,200\n\
web,BACKEND,0,0,1,4,,80,UP,200,,\n";

    #[test]
    fn servers_are_read_by_column_name() {
        let s = parse(SAMPLE).unwrap();
        assert_eq!(s.len(), 4);
        assert!(s[3].healthy(), "a check under way keeps its last result");
        assert_eq!(s[0].server, "web-01");
        assert!(s[0].healthy());
        assert_eq!(s[0].sessions, 1);
        assert!(!s[1].healthy(), "MAINT is not serving");
        assert_eq!(s[2].status, "DOWN 1/2");
        assert!(!s[2].healthy());
    }

    #[test]
    fn a_missing_column_is_an_error() {
        assert!(parse("# pxname,svname,status\nweb,web-01,UP\n").is_err());
        assert!(parse("nothing").is_err());
    }
}
