//! Connections through a jump host. `ssh -J` would hand the jump host to a `sh -c` of an ssh
//! command line it builds, and the hop would not get the strict host-key settings of the
//! connection itself. Instead the hop is a `ProxyCommand` made here from checked, quoted parts:
//! the same `known_hosts`, strict host-key checking and identity as the direct connection, batch
//! mode, and `-W` to the target. It goes into a small ssh config file for the connection, which
//! then includes the user's and the system's configuration as ssh would read them.

use super::Target;
use crate::remote::quote::sh;
use std::io::Write;

/// `%` is a token in a ProxyCommand (`%h`, `%p`): a literal one is written `%%`.
fn token_safe(s: &str) -> String {
    s.replace('%', "%%")
}

/// The ProxyCommand reaching `target` through its jump host; the hop's own errors go to `log`
/// (ssh gives a ProxyCommand no other place to say why it failed).
pub fn proxy_command(target: &Target, log: &std::path::Path) -> Option<String> {
    let jump = target.jump.as_ref()?;
    let mut words: Vec<String> = vec![
        "ssh".into(),
        "-E".into(),
        log.display().to_string(),
        "-o".into(),
        "BatchMode=yes".into(),
        "-o".into(),
        "StrictHostKeyChecking=yes".into(),
        "-o".into(),
        "ConnectTimeout=10".into(),
    ];
    if let Some(k) = &target.known_hosts {
        words.push("-o".into());
        words.push(format!("UserKnownHostsFile={}", k.display()));
    }
    if let Some(k) = &target.identity_file {
        words.push("-o".into());
        words.push("IdentitiesOnly=yes".into());
        words.push("-i".into());
        words.push(k.display().to_string());
    }
    if let Some(u) = &jump.user {
        words.push("-l".into());
        words.push(u.clone());
    }
    if let Some(p) = jump.port {
        words.push("-p".into());
        words.push(p.to_string());
    }
    // Every word single-quoted for the shell ssh runs a ProxyCommand with; `%h`/`%p` are ssh's
    // own tokens for the target, expanded before the shell sees them.
    let mut command: Vec<String> = words.iter().map(|w| token_safe(&sh(w))).collect();
    command.push("-W".into());
    command.push("'[%h]:%p'".into());
    command.push("--".into());
    command.push(token_safe(&sh(&jump.host)));
    // ssh itself runs it as `exec COMMAND` through /bin/sh.
    Some(command.join(" "))
}

/// A connection's ssh configuration through its jump host, in a private folder removed on drop.
pub struct JumpConfig {
    dir: tempfile::TempDir,
}

impl JumpConfig {
    /// The ssh config file: the ProxyCommand first (the first value ssh reads wins), then the
    /// user's and the system's configuration.
    pub fn config(&self) -> std::path::PathBuf {
        self.dir.path().join("config")
    }

    /// What the hop said, if anything (why it could not connect).
    pub fn hop_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("hop.log")).unwrap_or_default()
    }
}

pub fn config_file(target: &Target) -> std::io::Result<Option<JumpConfig>> {
    let dir = tempfile::Builder::new()
        .prefix(".foobar-infra-ssh-")
        .tempdir()?;
    let Some(command) = proxy_command(target, &dir.path().join("hop.log")) else {
        return Ok(None);
    };
    let mut f = std::fs::File::create(dir.path().join("config"))?;
    writeln!(f, "ProxyCommand {command}")?;
    writeln!(f, "Include ~/.ssh/config")?;
    writeln!(f, "Include /etc/ssh/ssh_config")?;
    f.flush()?;
    Ok(Some(JumpConfig { dir }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::JumpHost;

    fn target(jump: &str) -> Target {
        Target {
            host: "web-01".into(),
            address: "10.0.0.21".into(),
            user: "deploy".into(),
            port: 22,
            identity_file: Some("/keys/100% id".into()),
            known_hosts: Some("/state/known_hosts".into()),
            jump: Some(JumpHost::parse(jump).unwrap()),
            become_: true,
        }
    }

    #[test]
    fn the_hop_checks_keys_as_strictly_as_the_connection() {
        let c = proxy_command(
            &target("ops@bastion.example.com:2222"),
            "/t/hop.log".as_ref(),
        )
        .unwrap();
        assert_eq!(
            c,
            "ssh -E /t/hop.log -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10 -o \
             UserKnownHostsFile=/state/known_hosts -o IdentitiesOnly=yes -i '/keys/100%% id' -l ops \
             -p 2222 \
             -W '[%h]:%p' -- bastion.example.com"
        );
    }

    #[test]
    fn nothing_else_can_reach_the_shell() {
        for bad in [
            "x$(touch /tmp/p)",
            "a;b",
            "`id`",
            "h -oProxyCommand=x",
            "-oX=y",
            "a b",
        ] {
            assert!(JumpHost::parse(bad).is_err(), "{bad}");
        }
        for good in [
            "bastion",
            "ops@10.0.0.1",
            "10.0.0.1:22",
            "[fd00::1]:2222",
            "fd00::1",
        ] {
            assert!(JumpHost::parse(good).is_ok(), "{good}");
        }
    }
}
