//! The keys of `ssh` and of each host in `hosts`.

use super::{Absent, Key, Section, Shape, names};
use crate::topology::load::grammar::{HOST_ADDRESS, JUMP, SSH_FILE, SSH_USER};
use crate::topology::model::Role;

const ROLES: [&str; 5] = names(&Role::ALL);

pub const SSH: Section = Section {
    name: "ssh",
    table: true,
    rules: &[],
    keys: &[
        Key {
            name: "user",
            shape: Shape::Text(SSH_USER.schema),
            default: Absent::Value(r#""root""#),
            ty: "login name: letters, digits, `.`, `_`, `-`, `@`, at most 64, starting with a \
                 letter, digit or `_`",
            meaning: "Remote user.",
        },
        Key {
            name: "port",
            shape: Shape::PORT,
            default: Absent::Value("22"),
            ty: "port",
            meaning: "Remote SSH port.",
        },
        Key {
            name: "identity_file",
            shape: Shape::Text(SSH_FILE.schema),
            default: Absent::None,
            ty: "path ssh takes as it is: no spaces, quotes, `#`, `%`, `$` or `\\`; `~` only as a \
                 leading `~/`",
            meaning: "Private key to use.",
        },
        Key {
            name: "known_hosts",
            shape: Shape::Text(SSH_FILE.schema),
            default: Absent::None,
            ty: "path, as `identity_file`",
            meaning: "Known-hosts file to use.",
        },
        Key {
            name: "become",
            shape: Shape::Bool,
            default: Absent::Value("false"),
            ty: "bool",
            meaning: "Run remote commands through `sudo -n`.",
        },
        Key {
            name: "jump",
            shape: Shape::Text(JUMP),
            default: Absent::None,
            ty: "string",
            meaning: "Jump host every connection goes through: `[user@]host[:port]` (a user name, \
                      a DNS name or an IP address — `[v6]:port` —, a port), nothing else. The hop \
                      is checked as strictly as the connection: the same `known_hosts`, strict \
                      host-key checking, the same identity, batch mode. It is not `ssh -J` (which \
                      hands the value to a shell): foobar-infra writes the hop's `ProxyCommand` \
                      itself from the checked, quoted parts.",
        },
    ],
};

pub const HOST: Section = Section {
    name: "host",
    table: true,
    rules: &[],
    keys: &[
        Key {
            name: "address",
            shape: Shape::Text(HOST_ADDRESS),
            default: Absent::Required,
            ty: "IP address",
            meaning: "The address the tool connects to; not `0.0.0.0`/`::` or multicast. Unique \
                      across hosts.",
        },
        Key {
            name: "roles",
            shape: Shape::List {
                item: &Shape::Choice(&ROLES),
                unique: false,
            },
            default: Absent::Value("[]"),
            ty: "list of `lb`, `web`, `app`, `db`, `dns`",
            meaning: "What runs on the host. `web` requires `app` on the same host (Nginx proxies \
                      to the local application server). At most one host has `db`.",
        },
        Key {
            name: "ssh",
            shape: Shape::Map(&HOST_SSH),
            default: Absent::None,
            ty: "mapping",
            meaning: "This host's own `ssh.user` and `ssh.port`.",
        },
    ],
};

pub const HOST_SSH: Section = Section {
    name: "host.ssh",
    table: false,
    rules: &[],
    keys: &[
        Key {
            name: "user",
            shape: Shape::Text(SSH_USER.schema),
            default: Absent::Derived("`ssh.user`"),
            ty: "login name, as `ssh.user`",
            meaning: "Per-host override.",
        },
        Key {
            name: "port",
            shape: Shape::PORT,
            default: Absent::Derived("`ssh.port`"),
            ty: "port",
            meaning: "Per-host override.",
        },
    ],
};
