//! The `hosts` and `ssh` sections.

use super::grammar::{SSH_FILE, SSH_USER, host_name, shown};
use super::keys::{HOST, HOST_SSH, SSH};
use crate::diagnostic::{Problem, Span};
use crate::topology::decode::{Decoder, Sp};
use crate::topology::model::*;
use crate::topology::node::Node;
use std::net::{IpAddr, Ipv4Addr};

pub(super) fn hosts(node: &Node, d: &mut Decoder) -> Vec<Host> {
    let Some(map) = d.any_map(node, "hosts") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, key, value) in map.entries() {
        let what = format!("host `{}`", shown(name));
        if !host_name(name) {
            d.push(
                Problem::error(
                    "topology::invalid-name",
                    key.span,
                    format!("`{}` is not a valid host name", shown(name)),
                )
                .label("invalid host name")
                .help(
                    "use letters, digits and '-' (e.g. web-01); it becomes the machine's hostname",
                ),
            );
        }
        let Some(f) = d.map(value, &what, &HOST.names()) else {
            continue;
        };
        // A host whose address is wrong stays in the list (with an unspecified address that no
        // rule compares) so that references to it do not turn into errors of their own.
        let placeholder = |span| Sp::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), span);
        let address = match f.get("address") {
            Some(n) => match d.ip(n, &format!("{what} address")) {
                Some(ip) if ip.value.is_unspecified() || ip.value.is_multicast() => {
                    d.push(
                        Problem::error(
                            "topology::invalid-address",
                            ip.span,
                            format!("{what} address {} cannot be connected to", ip.value),
                        )
                        .label("not a host address")
                        .help("write the address the tool reaches the host on, e.g. 192.0.2.10"),
                    );
                    placeholder(ip.span)
                }
                Some(ip) => ip,
                None => placeholder(n.span),
            },
            None => {
                d.push(
                    Problem::error(
                        "topology::missing-key",
                        key.span,
                        format!("{what} has no `address`"),
                    )
                    .label("address missing")
                    .help("add `address: 192.0.2.10` (the address the tool connects to)"),
                );
                placeholder(key.span)
            }
        };
        let roles = f
            .get("roles")
            .map(|n| d.list(n, |d, n| d.choice(n, &format!("{what} role"), &Role::ALL)))
            .unwrap_or_default();
        let (mut ssh_user, mut ssh_port) = (None, None);
        if let Some(s) = f
            .get("ssh")
            .and_then(|n| d.map(n, &format!("{what} ssh"), &HOST_SSH.names()))
        {
            ssh_user = s.get("user").and_then(|n| SSH_USER.read(n, "ssh user", d));
            ssh_port = s.get("port").and_then(|n| d.port(n, "ssh port"));
        }
        out.push(Host {
            name: Sp::new(name.to_string(), key.span),
            address,
            roles,
            ssh_user,
            ssh_port,
        });
    }
    out
}

pub(super) fn ssh(node: Option<&Node>, root: Span, d: &mut Decoder) -> SshSettings {
    let mut s = SshSettings {
        user: Sp::new("root".into(), root),
        port: 22,
        identity_file: None,
        known_hosts: None,
        become_: false,
        jump: None,
    };
    let Some(f) = node.and_then(|n| d.map(n, "ssh", &SSH.names())) else {
        return s;
    };
    if let Some(u) = f.get("user").and_then(|n| SSH_USER.read(n, "ssh.user", d)) {
        s.user = u;
    }
    if let Some(p) = f.get("port").and_then(|n| d.port(n, "ssh.port")) {
        s.port = p.value;
    }
    s.identity_file = f
        .get("identity_file")
        .and_then(|n| SSH_FILE.read(n, "ssh.identity_file", d));
    s.known_hosts = f
        .get("known_hosts")
        .and_then(|n| SSH_FILE.read(n, "ssh.known_hosts", d));
    s.become_ = f
        .get("become")
        .and_then(|n| d.bool(n, "ssh.become"))
        .unwrap_or(false);
    s.jump = f.get("jump").and_then(|n| d.name(n, "ssh.jump")).and_then(|j| {
        match JumpHost::parse(&j.value) {
            Ok(host) => Some(Sp::new(host, j.span)),
            Err(why) => {
                d.push(
                    Problem::error(
                        "topology::invalid-value",
                        j.span,
                        format!("ssh.jump: `{}` is not [user@]host[:port]", j.value),
                    )
                    .label(why)
                    .help("write it like deploy@bastion.example.com:22 (a user name, a DNS name or IP address, a port)"),
                );
                None
            }
        }
    });
    s
}
