//! The lab's own directory (outside any repository): the login key, each host's sshd key, the
//! known_hosts file built from them, an ssh_config for people, and the engine configuration.

use super::LabError;
use super::image::USER;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct State {
    pub dir: PathBuf,
}

pub struct HostKey {
    pub private: Vec<u8>,
    pub public: String,
}

/// `~/.local/state/foobar-infra/lab`, unless FOOBAR_INFRA_LAB_DIR says otherwise.
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("FOOBAR_INFRA_LAB_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/state/foobar-infra/lab")
}

fn io(what: &str, path: &Path, e: std::io::Error) -> LabError {
    LabError::State(format!("cannot {what} {}: {e}", path.display()))
}

fn keygen(path: &Path, comment: &str) -> Result<(), LabError> {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(path)
        .output()
        .map_err(|e| LabError::MissingTool {
            tool: "ssh-keygen".into(),
            hint: format!("cannot run ssh-keygen ({e}): apt-get install openssh-client"),
        })?;
    if !out.status.success() {
        return Err(LabError::State(format!(
            "ssh-keygen failed for {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

impl State {
    /// Opens the directory, creating it (mode 0700) and the lab's login key if missing.
    pub fn open(dir: PathBuf) -> Result<State, LabError> {
        std::fs::create_dir_all(dir.join("hosts")).map_err(|e| io("create", &dir, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| io("protect", &dir, e))?;
        }
        let state = State { dir };
        if !state.key_path().exists() {
            keygen(&state.key_path(), "foobar-infra-lab")?;
        }
        let conf = state.dir.join("containers.conf");
        // The hosts get their own /etc/hosts, not a copy of this machine's.
        std::fs::write(&conf, "[containers]\nbase_hosts_file = \"none\"\n")
            .map_err(|e| io("write", &conf, e))?;
        Ok(state)
    }

    pub fn key_path(&self) -> PathBuf {
        self.dir.join("id_ed25519")
    }

    pub fn known_hosts_path(&self) -> PathBuf {
        self.dir.join("known_hosts")
    }

    pub fn containers_conf(&self) -> PathBuf {
        self.dir.join("containers.conf")
    }

    pub fn public_key(&self) -> Result<String, LabError> {
        let p = self.dir.join("id_ed25519.pub");
        std::fs::read_to_string(&p).map_err(|e| io("read", &p, e))
    }

    /// The host's sshd key, made on first use and kept, so a re-created host keeps its identity.
    pub fn host_key(&self, host: &str) -> Result<HostKey, LabError> {
        let dir = self.dir.join("hosts").join(host);
        std::fs::create_dir_all(&dir).map_err(|e| io("create", &dir, e))?;
        let path = dir.join("ssh_host_ed25519_key");
        if !path.exists() {
            keygen(&path, &format!("root@{host}"))?;
        }
        let private = std::fs::read(&path).map_err(|e| io("read", &path, e))?;
        let pub_path = dir.join("ssh_host_ed25519_key.pub");
        let public = std::fs::read_to_string(&pub_path).map_err(|e| io("read", &pub_path, e))?;
        Ok(HostKey { private, public })
    }

    /// Writes known_hosts (`name,address type key` per host) and an ssh_config for people.
    pub fn write_known_hosts(&self, hosts: &[(String, String)]) -> Result<(), LabError> {
        let mut known = String::new();
        let mut config = String::new();
        for (name, address) in hosts {
            let key = self.host_key(name)?;
            let mut parts = key.public.split_whitespace();
            let (Some(kind), Some(blob)) = (parts.next(), parts.next()) else {
                return Err(LabError::State(format!(
                    "the host key of {name} is malformed"
                )));
            };
            known.push_str(&format!("{name},{address} {kind} {blob}\n"));
            config.push_str(&format!(
                "Host {name}\n  HostName {address}\n  HostKeyAlias {name}\n"
            ));
        }
        config.push_str(&format!(
            "Host *\n  User {USER}\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  BatchMode yes\n",
            self.key_path().display(),
            self.known_hosts_path().display()
        ));
        let kh = self.known_hosts_path();
        std::fs::write(&kh, known).map_err(|e| io("write", &kh, e))?;
        let cfg = self.dir.join("ssh_config");
        std::fs::write(&cfg, config).map_err(|e| io("write", &cfg, e))?;
        Ok(())
    }

    /// Options for `ssh` that trust only the lab's known_hosts and use only the lab's key.
    pub fn ssh_options(&self) -> Vec<String> {
        let o = |s: &str| ["-o".to_string(), s.to_string()];
        let mut v = vec![
            "-F".to_string(),
            "/dev/null".into(),
            "-i".into(),
            self.key_path().display().to_string(),
        ];
        v.extend(o("IdentitiesOnly=yes"));
        v.extend(o(&format!(
            "UserKnownHostsFile={}",
            self.known_hosts_path().display()
        )));
        v.extend(o("GlobalKnownHostsFile=/dev/null"));
        v.extend(o("StrictHostKeyChecking=yes"));
        v.extend(o("BatchMode=yes"));
        v.extend(o("ConnectTimeout=2"));
        v.extend(o("LogLevel=ERROR"));
        v
    }

    fn sysctl_record(&self) -> PathBuf {
        self.dir.join("sysctl.before")
    }

    /// The machine's kernel settings as they were before the lab changed them.
    fn recorded(&self) -> Vec<(String, String)> {
        parse_record(&std::fs::read_to_string(self.sysctl_record()).unwrap_or_default())
    }

    /// Remembers a kernel setting (a /proc/sys path) once, before the lab changes it.
    fn remember(&self, path: &str) {
        if self.recorded().iter().any(|(k, _)| k == path) {
            return;
        }
        if let Ok(v) = std::fs::read_to_string(path) {
            let mut text = std::fs::read_to_string(self.sysctl_record()).unwrap_or_default();
            text.push_str(&format!("{path}={}\n", v.trim()));
            let _ = std::fs::write(self.sysctl_record(), text);
        }
    }

    /// Each systemd host holds about 7 inotify instances; the machine's default (128) stops
    /// the 21st host from booting. Raises the limit for `hosts` hosts, remembering the old value.
    pub fn ensure_inotify(&self, hosts: usize) -> Result<(), LabError> {
        let need = 16 * hosts as u64 + 256;
        let current: u64 = std::fs::read_to_string(INOTIFY_INSTANCES)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if current >= need {
            return Ok(());
        }
        self.remember(INOTIFY_INSTANCES);
        std::fs::write(INOTIFY_INSTANCES, need.to_string()).map_err(|e| {
            LabError::State(format!(
                "{hosts} hosts need fs.inotify.max_user_instances >= {need} (it is {current}) and it cannot be raised: {e}; run as root or `sysctl -w fs.inotify.max_user_instances={need}`"
            ))
        })
    }

    /// Puts back every kernel setting the lab changed (called when no container is left).
    pub fn restore_sysctls(&self) {
        for (path, value) in to_restore(&self.recorded()) {
            let _ = std::fs::write(path, value);
        }
        let _ = std::fs::remove_file(self.sysctl_record());
    }
}

/// The settings the lab changes itself, and so puts back.
const INOTIFY_INSTANCES: &str = "/proc/sys/fs/inotify/max_user_instances";
const RESTORED: [&str; 1] = [INOTIFY_INSTANCES];

/// `path=value` lines.
fn parse_record(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What of a record to put back: only the settings the lab changed itself. A record made by an
/// older lab may also hold IP forwarding, which the engine's network turns on and other tools
/// (docker, libvirt) may need: it is left as it is.
fn to_restore(recorded: &[(String, String)]) -> Vec<(&str, &str)> {
    recorded
        .iter()
        .filter(|(path, _)| RESTORED.contains(&path.as_str()))
        .map(|(path, value)| (path.as_str(), value.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_puts_back_only_what_the_lab_raised() {
        let record = parse_record(
            "/proc/sys/net/ipv4/ip_forward=0\n/proc/sys/fs/inotify/max_user_instances=128\n",
        );
        assert_eq!(record.len(), 2);
        assert_eq!(
            to_restore(&record),
            [("/proc/sys/fs/inotify/max_user_instances", "128")]
        );
        assert!(to_restore(&parse_record("/proc/sys/net/ipv4/ip_forward=0\n")).is_empty());
    }
}
