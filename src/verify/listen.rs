//! What listens on a host (`ss -H -tulnp`, read by the plan's probe) against what its firewall
//! admits: a socket bound beyond loopback on a port the firewall does not admit is something the
//! topology does not declare (the firewall refuses it today; a firewall turned off would not).

use super::Status;
use crate::firewall::{HostFirewall, Proto};
use std::net::IpAddr;

/// One listening socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Socket {
    pub proto: Proto,
    /// The local address as `ss` prints it, without the port (`0.0.0.0`, `*`, `[::]`,
    /// `127.0.0.53%lo`).
    pub address: String,
    pub port: u16,
    /// Reachable only over loopback (a loopback address, or bound to the `lo` device).
    pub loopback: bool,
    /// The processes holding it, when `ss -p` could tell: `python3 (pid 4242)`.
    pub process: Option<String>,
}

impl Socket {
    /// `tcp 0.0.0.0:8081 (python3, pid 4242)`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {}:{}", self.proto.as_str(), self.address, self.port);
        if let Some(p) = &self.process {
            s.push_str(&format!(" ({p})"));
        }
        s
    }
}

/// The processes in `ss -p`'s column: `users:(("sshd",pid=76,fd=3),("sshd",pid=80,fd=3))`.
fn processes(column: &str) -> Option<String> {
    let mut out: Vec<String> = Vec::new();
    for part in column
        .split("((")
        .skip(1)
        .chain(column.split("),(").skip(1))
    {
        let Some((name, rest)) = part.strip_prefix('"').and_then(|p| p.split_once("\",pid="))
        else {
            continue;
        };
        let pid: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let one = format!("{name}, pid {pid}");
        if !out.contains(&one) {
            out.push(one);
        }
    }
    (!out.is_empty()).then(|| out.join("; "))
}

/// Whether an address as `ss` prints it (brackets, `%device`) is reachable only over loopback.
fn loopback(address: &str) -> bool {
    let (ip, device) = match address.rsplit_once('%') {
        Some((ip, device)) => (ip, Some(device.trim_end_matches(']'))),
        None => (address, None),
    };
    if device == Some("lo") {
        return true;
    }
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map_or(v6.is_loopback(), |v4| v4.is_loopback()),
        Ok(v4) => v4.is_loopback(),
        // `*`: every address.
        Err(_) => false,
    }
}

/// One line of `ss -H -tulnp`: `tcp LISTEN 0 4096 0.0.0.0:22 0.0.0.0:* users:(...)`.
pub fn parse(line: &str) -> Option<Socket> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let proto = match *fields.first()? {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        _ => return None,
    };
    let (address, port) = fields.get(4)?.rsplit_once(':')?;
    Some(Socket {
        proto,
        address: address.to_string(),
        port: port.parse().ok()?,
        loopback: loopback(address),
        process: fields.get(6..).and_then(|rest| processes(&rest.join(" "))),
    })
}

/// Every socket beyond loopback on a port `firewall` admits passes; one on a port it does not
/// admit fails, named with its process. `lines` are `ss`'s.
pub fn judge(lines: &[String], firewall: &HostFirewall) -> (Status, String) {
    let mut beyond: Vec<Socket> = Vec::new();
    let mut unread: Vec<&str> = Vec::new();
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        match parse(line) {
            Some(s) if !s.loopback => beyond.push(s),
            Some(_) => {}
            None => unread.push(line),
        }
    }
    // A DHCP client's socket (68, DHCPv6 546) is how the host gets its address, not a service:
    // its answers come back as replies the firewall admits.
    let dhcp_client = |s: &Socket| s.proto == Proto::Udp && matches!(s.port, 68 | 546);
    let admitted = |s: &Socket| {
        dhcp_client(s)
            || firewall
                .rules
                .iter()
                .any(|r| r.proto == s.proto && r.port == s.port)
    };
    let mut wrong: Vec<String> = beyond
        .iter()
        .filter(|s| !admitted(s))
        .map(|s| {
            format!(
                "{} listens beyond loopback on a port the firewall does not admit",
                s.describe()
            )
        })
        .collect();
    wrong.extend(
        unread
            .iter()
            .map(|l| format!("`ss` line not understood: {l}")),
    );
    if !wrong.is_empty() {
        return (Status::Fail, wrong.join("; "));
    }
    // Each port once, with what holds it: `tcp 22 (sshd)`.
    let mut ports: Vec<(Proto, u16, Vec<String>)> = Vec::new();
    for s in &beyond {
        let names: Vec<String> = s
            .process
            .iter()
            .flat_map(|p| p.split("; "))
            .filter_map(|p| p.split(", pid").next())
            .map(str::to_string)
            .collect();
        match ports
            .iter_mut()
            .find(|(proto, port, _)| *proto == s.proto && *port == s.port)
        {
            Some((_, _, have)) => have.extend(names),
            None => ports.push((s.proto, s.port, names)),
        }
    }
    ports.sort();
    let listed: Vec<String> = ports
        .into_iter()
        .map(|(proto, port, mut names)| {
            names.sort();
            names.dedup();
            if names.is_empty() {
                format!("{} {port}", proto.as_str())
            } else {
                format!("{} {port} ({})", proto.as_str(), names.join(", "))
            }
        })
        .collect();
    (
        Status::Pass,
        if listed.is_empty() {
            "nothing listens beyond loopback".into()
        } else {
            format!(
                "beyond loopback only on ports the firewall admits: {}",
                listed.join(", ")
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firewall::Admit;

    /// `ss -H -tulnp` on the lab's database host, with a stray listener on 8081.
    const SS: &str = r#"udp   UNCONN 0      0         127.0.0.53%lo:53         0.0.0.0:*    users:(("systemd-resolve",pid=51,fd=14))
tcp   LISTEN 0      128          0.0.0.0:22         0.0.0.0:*    users:(("sshd",pid=80,fd=3),("sshd",pid=77,fd=3))
tcp   LISTEN 0      80        10.89.7.30:3306       0.0.0.0:*    users:(("mariadbd",pid=412,fd=22))
tcp   LISTEN 0      5            0.0.0.0:8081       0.0.0.0:*    users:(("python3",pid=4242,fd=3))
tcp   LISTEN 0      80         127.0.0.1:33060      0.0.0.0:*
tcp   LISTEN 0      128             [::]:22            [::]:*    users:(("sshd",pid=80,fd=4))
tcp   LISTEN 0      4096           [::1]:25            [::]:*
tcp   LISTEN 0      4096               *:9100             *:*
"#;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    fn admit(proto: Proto, port: u16) -> Admit {
        Admit {
            proto,
            port,
            from: None,
            purpose: String::new(),
            ssh: false,
        }
    }

    #[test]
    fn ss_lines_become_sockets_with_their_processes() {
        let s: Vec<Socket> = SS.lines().filter_map(parse).collect();
        assert_eq!(s.len(), 8);
        assert_eq!(
            s[0],
            Socket {
                proto: Proto::Udp,
                address: "127.0.0.53%lo".into(),
                port: 53,
                loopback: true,
                process: Some("systemd-resolve, pid 51".into()),
            }
        );
        assert_eq!(s[1].process.as_deref(), Some("sshd, pid 80; sshd, pid 77"));
        assert_eq!(s[2].describe(), "tcp 10.89.7.30:3306 (mariadbd, pid 412)");
        assert!(!s[2].loopback && !s[3].loopback && !s[5].loopback && !s[7].loopback);
        assert!(s[4].loopback && s[6].loopback);
        assert_eq!((s[4].process.as_ref(), s[7].address.as_str()), (None, "*"));
        assert!(loopback("[::ffff:127.0.0.1]"));
        assert!(loopback("[fe80::1%lo]") && !loopback("[fe80::1]%eth0"));
        assert_eq!(parse("Netid State"), None);
        assert_eq!(parse("tcp LISTEN 0 5 0.0.0.0:x 0.0.0.0:*"), None);
    }

    #[test]
    fn a_listener_on_a_port_the_firewall_does_not_admit_fails_by_name() {
        let fw = HostFirewall {
            rules: vec![admit(Proto::Tcp, 22), admit(Proto::Tcp, 3306)],
            vrrp_from: Vec::new(),
        };
        let (status, why) = judge(&lines(SS), &fw);
        assert_eq!(status, Status::Fail);
        assert_eq!(
            why,
            "tcp 0.0.0.0:8081 (python3, pid 4242) listens beyond loopback on a port the firewall does not admit; \
             tcp *:9100 listens beyond loopback on a port the firewall does not admit"
        );
        let clean: Vec<String> = lines(SS)
            .into_iter()
            .filter(|l| !l.contains(":8081") && !l.contains(":9100"))
            .collect();
        assert_eq!(
            judge(&clean, &fw),
            (
                Status::Pass,
                "beyond loopback only on ports the firewall admits: tcp 22 (sshd), tcp 3306 (mariadbd)"
                    .into()
            )
        );
        // The protocol counts: DNS over UDP is not DNS over TCP.
        let udp = HostFirewall {
            rules: vec![admit(Proto::Udp, 22), admit(Proto::Tcp, 3306)],
            vrrp_from: Vec::new(),
        };
        assert_eq!(judge(&clean, &udp).0, Status::Fail);
        assert_eq!(
            judge(&[], &fw),
            (Status::Pass, "nothing listens beyond loopback".into())
        );
        // A DHCP client's socket is not a service.
        let dhcp = "udp   UNCONN 0      0      0.0.0.0%eth0:68      0.0.0.0:*    users:((\"dhclient\",pid=90,fd=7))";
        assert_eq!(judge(&lines(dhcp), &fw).0, Status::Pass, "{dhcp}");
        let (status, why) = judge(&lines("tcp LISTEN garbage"), &fw);
        assert_eq!(status, Status::Fail);
        assert!(why.starts_with("`ss` line not understood"), "{why}");
    }
}
