//! What apply's remote scripts and this side agree on: named exit codes, typed result lines,
//! typed service actions and file checkers. The scripts (`sh/*.sh`) see the exit codes as
//! `EXIT_*` variables made from [`Exit`], so each number is written once.

use crate::desired::{File, Validator};

/// Exit codes with a meaning of their own (anything else: a command failed under `set -e`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Another run holds the host's lock.
    LockHeld = 3,
    /// A staged file was rejected by its service's checker; nothing was swapped.
    Invalid = 4,
    /// apt-get could not update or install.
    Packages = 5,
    /// A service action failed.
    Service = 6,
    /// A health check did not pass in time.
    Health = 7,
    /// The files are back but some services did not come back.
    Rollback = 8,
}

impl Exit {
    const ALL: [Exit; 6] = [
        Exit::LockHeld,
        Exit::Invalid,
        Exit::Packages,
        Exit::Service,
        Exit::Health,
        Exit::Rollback,
    ];

    fn variable(self) -> &'static str {
        match self {
            Exit::LockHeld => "EXIT_LOCK_HELD",
            Exit::Invalid => "EXIT_INVALID",
            Exit::Packages => "EXIT_PACKAGES",
            Exit::Service => "EXIT_SERVICE",
            Exit::Health => "EXIT_HEALTH",
            Exit::Rollback => "EXIT_ROLLBACK",
        }
    }

    pub fn code(self) -> i32 {
        self as i32
    }
}

/// The shell library every apply script gets: the exit codes, then the shared functions.
pub fn library() -> String {
    let mut s: String = Exit::ALL
        .iter()
        .map(|e| format!("{}={}\n", e.variable(), e.code()))
        .collect();
    s.push_str(&format!(
        "FIREWALL_RULES={}\nFIREWALL_TABLE={}\nFIREWALL_UNIT={}\n",
        crate::remote::quote::sh(crate::firewall::RULES_FILE),
        crate::remote::quote::sh(crate::firewall::TABLE),
        crate::remote::quote::sh(crate::firewall::UNIT),
    ));
    s.push_str(include_str!("sh/lib.sh"));
    s
}

/// A line a script prints to say what it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// Another run holds the lock: seconds since it was renewed (its record follows).
    Held { idle: &'a str },
    /// A file was renamed into place; `backup` when a live version was backed up first.
    Swapped { path: &'a str, backup: bool },
    /// Only the owner and mode of a file were set.
    Attributes { path: &'a str },
    /// A checker rejected a staged file; its output follows.
    Invalid { path: &'a str, checker: &'a str },
    /// A load-balancer server's status before a drain (`UP`, `DOWN 1/2`, `MAINT`...).
    Was { status: &'a str },
    /// Sessions a drain left when its time ran out.
    Left { sessions: &'a str },
    /// A server's status after it was readied.
    Now { status: &'a str },
    /// The load balancer's admin socket does not exist (nothing to drain).
    Absent,
    /// The server was in MAINT because a run of this tool took it out and died.
    LeftByARun,
    /// The server is the only one of its backend in service: not taken out.
    Only,
}

impl<'a> Line<'a> {
    /// The line, if it is one of the protocol's (other lines are a command's own output).
    pub fn parse(line: &'a str) -> Option<Line<'a>> {
        let parts: Vec<&str> = line.split('\t').collect();
        Some(match parts.as_slice() {
            ["held", idle] => Line::Held { idle },
            ["swapped", path, kind @ ("backup" | "new")] => Line::Swapped {
                path,
                backup: *kind == "backup",
            },
            ["attrs", path] => Line::Attributes { path },
            ["invalid", path, checker] => Line::Invalid { path, checker },
            ["was", status] => Line::Was { status },
            ["left", sessions] => Line::Left { sessions },
            ["now", status] => Line::Now { status },
            ["absent"] => Line::Absent,
            ["left-by-a-run"] => Line::LeftByARun,
            ["only"] => Line::Only,
            _ => return None,
        })
    }
}

/// What a file is checked with on the host before it is swapped in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checker {
    None,
    Haproxy,
    Mysql,
    NamedConf,
    NamedZone,
    Systemd,
    Nft,
    Keepalived,
}

impl Checker {
    /// Nginx files are checked once, through the check copy of nginx.conf; php-fpm pools have
    /// no checker on the host yet.
    pub fn of(f: &File) -> Checker {
        match f.validate {
            Some(Validator::Haproxy) => Checker::Haproxy,
            Some(Validator::Mysql) => Checker::Mysql,
            Some(Validator::NamedConf) => Checker::NamedConf,
            Some(Validator::NamedZone) => Checker::NamedZone,
            Some(Validator::Systemd) => Checker::Systemd,
            Some(Validator::Nft) => Checker::Nft,
            Some(Validator::Keepalived) => Checker::Keepalived,
            Some(Validator::Nginx | Validator::PhpFpm) | None => Checker::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Checker::None => "none",
            Checker::Haproxy => "haproxy",
            Checker::Mysql => "mysql",
            Checker::NamedConf => "named-conf",
            Checker::NamedZone => "named-zone",
            Checker::Systemd => "systemd",
            Checker::Nft => "nft",
            Checker::Keepalived => "keepalived",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_exactly() {
        assert_eq!(
            Line::parse("swapped\t/etc/a b\tbackup"),
            Some(Line::Swapped {
                path: "/etc/a b",
                backup: true
            })
        );
        assert_eq!(
            Line::parse("swapped\t/etc/a\tnew"),
            Some(Line::Swapped {
                path: "/etc/a",
                backup: false
            })
        );
        assert_eq!(Line::parse("swapped\t/etc/a\tmaybe"), None);
        assert_eq!(
            Line::parse("invalid\t/etc/haproxy/haproxy.cfg\thaproxy -c"),
            Some(Line::Invalid {
                path: "/etc/haproxy/haproxy.cfg",
                checker: "haproxy -c"
            })
        );
        assert_eq!(Line::parse("[ALERT] parsing"), None);
    }

    #[test]
    fn every_exit_code_is_distinct_and_known_to_the_scripts() {
        let lib = library();
        let mut codes: Vec<i32> = Exit::ALL.iter().map(|e| e.code()).collect();
        codes.dedup();
        assert_eq!(codes.len(), Exit::ALL.len());
        for e in Exit::ALL {
            assert!(lib.contains(&format!("{}={}\n", e.variable(), e.code())));
        }
    }
}
