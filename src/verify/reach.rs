//! Whether a TCP connection gets through, and what stops it: tried from a host (`sh/reach.sh`)
//! or from this machine. A server answers (the database greets a host, or refuses one its
//! user's host list does not name; a web server accepts and waits), or the host's firewall
//! refuses it before any server sees it: its ICMP admin-prohibited reads as "No route to host"
//! (a firewall that drops leaves the connection unanswered).

use super::Status;
use crate::net::Network;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// How long a connection may take to be answered (as `sh/reach.sh` has it).
const CONNECT_SECONDS: u64 = 3;

/// What a connection should meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The database server greets it.
    Greets,
    /// The database server answers, then refuses it: its user's host list does not name it.
    RefusedByServer,
    /// Something accepts the connection (a web server says nothing first).
    Admitted,
    /// The host's firewall refuses it: no server ever sees it.
    RefusedByFirewall,
}

impl Expect {
    fn describe(self) -> &'static str {
        match self {
            Expect::Greets => "expected a greeting",
            Expect::RefusedByServer => "expected the database's refusal by its host list",
            Expect::Admitted => "expected the connection to be accepted",
            Expect::RefusedByFirewall => "expected the firewall to refuse it",
        }
    }
}

/// What a connection met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Connected; what the server said first (empty when not asked, or when it said nothing).
    Connected(String),
    /// Refused with an ICMP error: a firewall's (admin-prohibited reads as "No route to host").
    Prohibited(String),
    /// Nothing answered in time: dropped.
    Silent,
    /// A TCP reset: nothing listens there for this client.
    Reset,
    /// Anything else, as it was said.
    Other(String),
}

/// The errors a refusing firewall causes, as the kernel words them.
const PROHIBITED: [&str; 5] = [
    "No route to host",
    "Host is unreachable",
    "Network is unreachable",
    "Operation not permitted",
    "Permission denied",
];

/// A failed connect's error, by what it says.
fn classify(error: &str) -> Reach {
    if let Some(p) = PROHIBITED.iter().find(|p| error.contains(**p)) {
        Reach::Prohibited(p.to_string())
    } else if error.contains("Connection refused") {
        Reach::Reset
    } else if error.contains("timed out") {
        Reach::Silent
    } else {
        Reach::Other(error.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

/// What `sh/reach.sh` printed.
pub fn parse(text: &str) -> Reach {
    let mut lines = text.lines();
    match lines.next().map(str::trim_end) {
        Some("connected") => Reach::Connected(
            lines
                .find_map(|l| l.strip_prefix("first\t"))
                .unwrap_or_default()
                .trim()
                .to_string(),
        ),
        Some("timeout") => Reach::Silent,
        Some(l) if l.starts_with("error\t") => classify(&l["error\t".len()..]),
        Some(l) if !l.trim().is_empty() => Reach::Other(l.trim().to_string()),
        _ => Reach::Other("no answer from the script".into()),
    }
}

/// The source address this machine would use to reach `to` (nothing is sent: a UDP socket is
/// only pointed at it).
fn source_for(to: SocketAddr) -> Option<IpAddr> {
    let any: SocketAddr = if to.is_ipv4() {
        ([0u8; 4], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = std::net::UdpSocket::bind(any).ok()?;
    socket.connect(to).ok()?;
    Some(socket.local_addr().ok()?.ip())
}

/// A TCP connection from this machine to `address:port`: what it met, and this machine's
/// address as the host sees it (when the address is one).
pub async fn from_here(address: &str, port: u16) -> (Reach, Option<IpAddr>) {
    let Ok(ip) = address.parse::<IpAddr>() else {
        return (
            Reach::Other(format!("{address} is not an IP address")),
            None,
        );
    };
    let to = SocketAddr::new(ip, port);
    let source = source_for(to);
    let connect = tokio::net::TcpStream::connect(to);
    let reach = match tokio::time::timeout(Duration::from_secs(CONNECT_SECONDS), connect).await {
        Ok(Ok(_)) => Reach::Connected(String::new()),
        Ok(Err(e)) => classify(&e.to_string()),
        Err(_) => Reach::Silent,
    };
    (reach, source)
}

/// MariaDB's refusal of a host its users do not name, in its first packet.
fn refused_by_server(first: &str) -> bool {
    first.contains("is not allowed to connect")
}

/// A MariaDB/MySQL greeting (server version, authentication plugin).
fn greets(first: &str) -> bool {
    !refused_by_server(first) && (first.contains("MariaDB") || first.contains("mysql_native"))
}

/// What happened, in words: `who` tried `at` (`10.89.7.30:3306`).
pub fn describe(reach: &Reach, who: &str, at: &str) -> String {
    match reach {
        Reach::Connected(first) if greets(first) => format!("{at} greets {who}"),
        Reach::Connected(first) if refused_by_server(first) => {
            format!("{at} answers {who}, then refuses it: not in the application user's host list")
        }
        Reach::Connected(first) if first.is_empty() => {
            format!("{at} accepts a connection from {who}")
        }
        Reach::Connected(first) => format!(
            "{at} accepts a connection from {who} and says {:?}",
            first.chars().take(60).collect::<String>()
        ),
        Reach::Prohibited(error) => format!(
            "{at} is refused to {who} at the network: {error} (the firewall's admin-prohibited)"
        ),
        Reach::Silent => format!(
            "{at} is refused to {who} at the network: no answer within {CONNECT_SECONDS} s (dropped)"
        ),
        Reach::Reset => format!(
            "{at} resets the connection from {who}: nothing listens there for it (not the firewall's refusal)"
        ),
        Reach::Other(error) => format!("{who} cannot tell whether {at} admits it: {error}"),
    }
}

/// Whether what the connection met is what was expected, with the evidence.
pub fn judge(expect: Expect, reach: &Reach, who: &str, at: &str) -> (Status, String) {
    let met = match (expect, reach) {
        (Expect::Greets, Reach::Connected(first)) => greets(first),
        (Expect::RefusedByServer, Reach::Connected(first)) => refused_by_server(first),
        (Expect::Admitted, Reach::Connected(_)) => true,
        // A reset is no firewall's doing here, but the port is closed to the client all the same.
        (Expect::RefusedByFirewall, Reach::Prohibited(_) | Reach::Silent | Reach::Reset) => true,
        _ => false,
    };
    let what = describe(reach, who, at);
    if met {
        (Status::Pass, what)
    } else {
        (Status::Fail, format!("{what}; {}", expect.describe()))
    }
}

/// From this machine: refused by the firewall, unless this machine's address is one it admits.
pub async fn judge_from_here(address: &str, port: u16, admitted: &[Network]) -> (Status, String) {
    let (reach, source) = from_here(address, port).await;
    let who = match source {
        Some(ip) => format!("this machine ({ip})"),
        None => "this machine".into(),
    };
    if let Some(ip) = source.filter(|ip| admitted.iter().any(|n| n.contains(*ip))) {
        return (
            Status::NotChecked,
            format!("this machine ({ip}) is one the firewall admits: no refusal to see from here"),
        );
    }
    let at = format!("{}:{port}", super::url_host(address));
    judge(Expect::RefusedByFirewall, &reach, &who, &at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GREETING: &str =
        "n....11.8.3-MariaDB-0+deb13u1 from Debian.....'ax>.......-..mysql_native_password.";
    const NOT_ALLOWED: &str =
        "G....jHost '10.89.7.10' is not allowed to connect to this MariaDB server";

    #[test]
    fn the_script_output_says_how_the_connection_ended() {
        assert_eq!(
            parse(&format!("connected\nfirst\t{GREETING}\n")),
            Reach::Connected(GREETING.into())
        );
        assert_eq!(parse("connected\n"), Reach::Connected(String::new()));
        assert_eq!(
            parse(
                "error\t_: connect: No route to host _: line 2: /dev/tcp/10.89.7.30/3306: No route to host \n"
            ),
            Reach::Prohibited("No route to host".into())
        );
        assert_eq!(
            parse(
                "error\t_: connect: Connection refused _: line 2: /dev/tcp/10.89.7.21/80: Connection refused"
            ),
            Reach::Reset
        );
        assert_eq!(parse("timeout\n"), Reach::Silent);
        assert_eq!(
            parse("error\tbash: command not found"),
            Reach::Other("bash: command not found".into())
        );
        assert!(matches!(parse(""), Reach::Other(_)));
    }

    #[test]
    fn this_machines_errors_read_as_the_hosts_do() {
        assert_eq!(
            classify("No route to host (os error 113)"),
            Reach::Prohibited("No route to host".into())
        );
        assert_eq!(classify("Connection refused (os error 111)"), Reach::Reset);
        assert_eq!(
            classify("Connection timed out (os error 110)"),
            Reach::Silent
        );
    }

    #[test]
    fn a_greeting_a_refusal_by_the_server_and_one_by_the_firewall_are_told_apart() {
        let at = "10.89.7.30:3306";
        let greeted = Reach::Connected(GREETING.into());
        let not_allowed = Reach::Connected(NOT_ALLOWED.into());
        let prohibited = Reach::Prohibited("No route to host".into());

        assert_eq!(
            judge(Expect::Greets, &greeted, "web-01", at),
            (Status::Pass, "10.89.7.30:3306 greets web-01".into())
        );
        let (status, why) = judge(Expect::Greets, &prohibited, "web-01", at);
        assert_eq!(status, Status::Fail);
        assert!(
            why.contains("refused to web-01 at the network: No route to host"),
            "{why}"
        );
        assert!(why.ends_with("expected a greeting"), "{why}");

        // Without a firewall: the server's own refusal is what proves the host list.
        let (status, why) = judge(Expect::RefusedByServer, &not_allowed, "lb-01", at);
        assert_eq!(status, Status::Pass);
        assert!(
            why.contains("not in the application user's host list"),
            "{why}"
        );
        assert_eq!(
            judge(Expect::RefusedByServer, &greeted, "lb-01", at).0,
            Status::Fail
        );

        // With one: the firewall's refusal passes, the server's does not (it saw the client).
        let (status, why) = judge(Expect::RefusedByFirewall, &prohibited, "lb-01", at);
        assert_eq!(status, Status::Pass);
        assert!(why.contains("admin-prohibited"), "{why}");
        assert_eq!(
            judge(Expect::RefusedByFirewall, &Reach::Silent, "lb-01", at).0,
            Status::Pass
        );
        let (status, why) = judge(Expect::RefusedByFirewall, &not_allowed, "lb-01", at);
        assert_eq!(status, Status::Fail);
        assert!(
            why.contains("answers lb-01, then refuses it")
                && why.ends_with("expected the firewall to refuse it"),
            "{why}"
        );
        let (status, why) = judge(Expect::RefusedByFirewall, &greeted, "lb-01", at);
        assert_eq!(status, Status::Fail);
        assert!(why.starts_with("10.89.7.30:3306 greets lb-01;"), "{why}");
    }

    #[test]
    fn a_web_port_is_admitted_by_any_connection_and_refused_by_none() {
        let at = "10.89.7.21:80";
        let connected = Reach::Connected(String::new());
        assert_eq!(
            judge(Expect::Admitted, &connected, "lb-01", at),
            (
                Status::Pass,
                "10.89.7.21:80 accepts a connection from lb-01".into()
            )
        );
        assert_eq!(
            judge(Expect::Admitted, &Reach::Reset, "lb-01", at).0,
            Status::Fail
        );
        let (status, why) = judge(Expect::RefusedByFirewall, &connected, "db-01", at);
        assert_eq!(status, Status::Fail);
        assert_eq!(
            why,
            "10.89.7.21:80 accepts a connection from db-01; expected the firewall to refuse it"
        );
        let (status, why) = judge(Expect::RefusedByFirewall, &Reach::Reset, "db-01", at);
        assert_eq!(status, Status::Pass, "closed all the same");
        assert!(why.contains("not the firewall's refusal"), "{why}");
        assert_eq!(
            judge(
                Expect::RefusedByFirewall,
                &Reach::Other("x".into()),
                "db-01",
                at
            )
            .0,
            Status::Fail
        );
    }

    #[tokio::test]
    async fn from_here_a_closed_loopback_port_resets() {
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (reach, source) = from_here("127.0.0.1", port).await;
        assert_eq!(reach, Reach::Reset);
        assert_eq!(source, Some("127.0.0.1".parse().unwrap()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(
            from_here("127.0.0.1", port).await.0,
            Reach::Connected(String::new())
        );
    }

    /// `sh/reach.sh` as a host runs it, against loopback: a server that greets, one that says
    /// nothing, and a port nothing listens on.
    #[test]
    fn the_reach_script_tells_a_greeting_from_silence_and_a_reset() {
        use std::io::Write;
        let run = |port: u16, greeting: &str| {
            let s = crate::remote::Script::new("reach", include_str!("sh/reach.sh")).args([
                "127.0.0.1".to_string(),
                port.to_string(),
                greeting.to_string(),
            ]);
            let out = crate::remote::script::tests::run_locally(&s, b"");
            assert!(out.status.success(), "{out:?}");
            parse(&String::from_utf8_lossy(&out.stdout))
        };
        let greeter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = greeter.local_addr().unwrap().port();
        let serve = std::thread::spawn(move || {
            let (mut c, _) = greeter.accept().unwrap();
            c.write_all(b"\x0a11.8.3-MariaDB\x00mysql_native_password")
                .unwrap();
        });
        assert_eq!(
            run(port, "1"),
            Reach::Connected(".11.8.3-MariaDB.mysql_native_password".into())
        );
        serve.join().unwrap();
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        assert_eq!(run(port, "0"), Reach::Connected(String::new()));
        drop(silent);
        assert_eq!(run(port, "0"), Reach::Reset);
    }
}
