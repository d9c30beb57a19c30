//! The lab's base image: Debian with systemd, sshd, sudo and python3 and nothing of the web stack,
//! built offline from Debian's packages (no container registry) and cached under a tag derived
//! from a hash of this recipe.

use super::LabError;
use super::engine::Engine;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

pub const SUITE: &str = "bookworm";
/// The login user of every lab host, with passwordless sudo (like a cloud image).
pub const USER: &str = "deploy";
pub const USER_ID: u32 = 1000;

const PACKAGES: &[&str] = &[
    "systemd",
    "systemd-sysv",
    "dbus",
    "libpam-systemd",
    "openssh-server",
    "sudo",
    "python3",
    "iproute2",
    "ca-certificates",
    "netbase",
    "procps",
    "curl",
];

/// Generates missing sshd host keys at boot; normally the lab injects one before the first start.
const HOSTKEYS_UNIT: &str = "[Unit]
Description=Generate missing OpenSSH host keys
Before=ssh.service ssh.socket
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
RemainAfterExit=yes
[Install]
WantedBy=multi-user.target
RequiredBy=ssh.service
";

/// mmdebstrap customize hooks, run against the root file system in "$1".
fn hooks() -> Vec<String> {
    vec![
        format!(r#"chroot "$1" useradd --create-home --shell /bin/bash --uid {USER_ID} --user-group {USER}"#),
        // '*': no password login, but not a locked account (sshd refuses locked ones).
        format!(r#"chroot "$1" usermod -p '*' {USER}"#),
        format!(r#"install -d -m 0700 -o {USER_ID} -g {USER_ID} "$1/home/{USER}/.ssh""#),
        format!(r#"echo '{USER} ALL=(ALL) NOPASSWD:ALL' > "$1/etc/sudoers.d/90-{USER}" && chmod 0440 "$1/etc/sudoers.d/90-{USER}""#),
        // Host keys are per host: none in the image.
        r#"rm -f "$1"/etc/ssh/ssh_host_*"#.into(),
        format!(r#"printf '%s' '{HOSTKEYS_UNIT}' > "$1/etc/systemd/system/ssh-hostkeys.service""#),
        r#"chroot "$1" systemctl enable ssh-hostkeys.service ssh.service"#.into(),
        // Timers that would take the dpkg lock in the middle of a test.
        r#"chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer"#.into(),
        r#"echo LANG=C.UTF-8 > "$1/etc/default/locale""#.into(),
        // A privileged container would otherwise copy the machine's kernel log into its journal.
        r#"mkdir -p "$1/etc/systemd/journald.conf.d" && printf '[Journal]\nReadKMsg=no\n' > "$1/etc/systemd/journald.conf.d/90-lab.conf""#.into(),
        // Lab hosts only: a package mirror that serves a frozen snapshot would otherwise make
        // `apt-get update` fail once the snapshot's Release files pass their Valid-Until date.
        r#"printf 'Acquire::Languages "none";\nAcquire::Check-Valid-Until "false";\n' > "$1/etc/apt/apt.conf.d/90-lab""#.into(),
        // The engine provides these per container; machine-id empty = one per container.
        r#"rm -f "$1/etc/resolv.conf" "$1/etc/hostname"; : > "$1/etc/machine-id""#.into(),
    ]
}

fn mmdebstrap_args(tar: &str) -> Vec<String> {
    let mut args = vec![
        "--variant=minbase".to_string(),
        format!("--include={}", PACKAGES.join(",")),
        "--aptopt=Acquire::Languages \"none\"".into(),
        "--aptopt=Acquire::Check-Valid-Until \"false\"".into(),
        // Keep the package lists so a fresh host can install at once, as a cloud image can.
        "--skip=cleanup/apt/lists".into(),
    ];
    args.extend(hooks().into_iter().map(|h| format!("--customize-hook={h}")));
    // No mirror given: mmdebstrap uses Debian's default mirror and adds updates and security.
    args.push(SUITE.into());
    args.push(tar.into());
    args
}

/// The image tag: a hash of everything that goes into the image.
pub fn tag() -> String {
    let mut h = Sha256::new();
    for a in mmdebstrap_args("") {
        h.update(a.as_bytes());
        h.update([0]);
    }
    h.update(b"import:init:SIGRTMIN+3");
    hex::encode(h.finalize())[..12].to_string()
}

pub fn reference() -> String {
    format!("localhost/foobar-lab:{}", tag())
}

/// Builds the image unless one with the current recipe's tag exists. `progress` receives each
/// line the build prints. Returns whether it built.
pub fn ensure(engine: &Engine, progress: &dyn Fn(&str)) -> Result<bool, LabError> {
    let image = reference();
    if engine.exists("image", &image)? {
        return Ok(false);
    }
    if crate::check_configs::which("mmdebstrap").is_none() {
        return Err(LabError::MissingTool {
            tool: "mmdebstrap".into(),
            hint: "apt-get install mmdebstrap (it builds the lab image from Debian's packages)"
                .into(),
        });
    }
    let dir = tempfile::Builder::new()
        .prefix("foobar-lab-image-")
        .tempdir()
        .map_err(|e| LabError::Image(format!("cannot make a temporary folder: {e}")))?;
    let tar = dir.path().join("rootfs.tar");
    progress("building the base image (Debian minbase, systemd, sshd, sudo, python3)");
    let mut child = Command::new("mmdebstrap")
        .args(mmdebstrap_args(&tar.display().to_string()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| LabError::Image(format!("cannot run mmdebstrap: {e}")))?;
    let mut tail: Vec<String> = Vec::new();
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if line.starts_with("I: ") {
                progress(line.trim_start_matches("I: "));
            }
            tail.push(line);
            if tail.len() > 30 {
                tail.remove(0);
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| LabError::Image(format!("mmdebstrap: {e}")))?;
    if !status.success() {
        return Err(LabError::Image(format!(
            "mmdebstrap failed ({status}); its last lines:\n{}",
            tail.join("\n")
        )));
    }
    progress("importing the image");
    let args: Vec<String> = [
        "import",
        "--change",
        "CMD [\"/sbin/init\"]",
        "--change",
        "STOPSIGNAL=SIGRTMIN+3",
        "--change",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        format!("LABEL=foobar.lab.recipe={}", tag()),
        tar.display().to_string(),
        image,
    ])
    .collect();
    engine.check(&args, None)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_is_stable_and_short() {
        assert_eq!(tag(), tag());
        assert_eq!(tag().len(), 12);
        assert!(reference().starts_with("localhost/foobar-lab:"));
    }

    #[test]
    fn recipe_has_no_web_stack() {
        let args = mmdebstrap_args("x.tar").join(" ");
        for pkg in ["haproxy", "nginx", "mariadb", "gunicorn", "mysql"] {
            assert!(
                !args.contains(pkg),
                "{pkg} must be installed by apply, not baked in"
            );
        }
        assert!(args.contains("openssh-server") && args.contains("sudo"));
    }
}
