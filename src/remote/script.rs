//! A remote script: a static body (a `.sh` file compiled in) plus the values it works on, passed
//! as its positional parameters (`$1`, `$2`, ...). Values never become code: each is quoted into
//! one `set --` line, and data and secrets travel on stdin.
//!
//! On the wire the whole script travels on stdin too, ahead of the data, so no script is ever
//! limited by the kernel's cap on one argument (128 KiB): the command line is always [`BOOT`],
//! which reads the script's length, the script, and leaves the rest of stdin to it.

use super::layout::{BACKUP_DIR, NGINX_CHECK, PENDING, STAGED, STATE_DIR};
use super::quote::sh;

/// What every script starts with: strict mode, a known locale and PATH, and the host layout.
fn prologue() -> String {
    format!(
        "set -eu\n\
         export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n\
         STATE_DIR={}\nPENDING={}\nBACKUP_DIR={}\nSTAGED={}\nNGINX_CHECK={}\n\
         NL='\n'\nTAB=$(printf '\\t')\n",
        sh(STATE_DIR),
        sh(PENDING),
        sh(BACKUP_DIR),
        sh(STAGED),
        sh(NGINX_CHECK),
    )
}

/// The command line every script runs under: read the script's byte length, then the script,
/// then run it in this shell; what follows on stdin is the script's own input.
pub const BOOT: &str = "IFS= read -r n || exit 90; s=$(head -c \"$n\") || exit 90; eval \"$s\"";

#[derive(Clone, Debug)]
pub struct Script {
    name: &'static str,
    /// Shell functions and constants the body uses, in order.
    libraries: Vec<String>,
    body: &'static str,
    args: Vec<String>,
}

impl Script {
    /// `name` says what the script does, for messages and for in-memory remotes.
    pub fn new(name: &'static str, body: &'static str) -> Self {
        Script {
            name,
            libraries: Vec::new(),
            body,
            args: Vec::new(),
        }
    }

    /// Shell code the body relies on (function definitions, constants).
    pub fn library(mut self, code: impl Into<String>) -> Self {
        self.libraries.push(code.into());
        self
    }

    pub fn arg(mut self, value: impl Into<String>) -> Self {
        self.args.push(value.into());
        self
    }

    pub fn args<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(values.into_iter().map(Into::into));
        self
    }

    /// Several values as one parameter, one per line (the script splits it on newlines).
    pub fn list<S: AsRef<str>>(self, values: impl IntoIterator<Item = S>) -> Self {
        let joined: Vec<String> = values.into_iter().map(|v| v.as_ref().to_string()).collect();
        self.arg(joined.join("\n"))
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn parameters(&self) -> &[String] {
        &self.args
    }

    /// The whole script as the host's shell reads it.
    pub fn text(&self) -> String {
        let mut s = prologue();
        s.push_str("set --");
        for a in &self.args {
            s.push(' ');
            s.push_str(&sh(a));
        }
        s.push('\n');
        for l in &self.libraries {
            s.push_str(l);
            if !l.ends_with('\n') {
                s.push('\n');
            }
        }
        s.push_str(self.body);
        s
    }

    /// What goes on stdin before the data: the script's length, then the script.
    pub fn wire(&self) -> Vec<u8> {
        let text = self.text();
        let mut out = format!("{}\n", text.len()).into_bytes();
        out.extend_from_slice(text.as_bytes());
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// Runs a script locally the way a host does (`sh -c BOOT`, everything on stdin).
    pub fn run_locally(script: &Script, data: &[u8]) -> std::process::Output {
        let mut child = Command::new("sh")
            .args(["-c", BOOT])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut wire = script.wire();
        wire.extend_from_slice(data);
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&wire);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        out
    }

    /// The script is valid shell (`sh -n`) and passes shellcheck: required in CI, where
    /// `scripts/setup` installs it.
    pub fn assert_valid_shell(script: &Script) {
        let text = script.text();
        let out = Command::new("sh")
            .args(["-n", "-c", &text])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            script.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        let have_shellcheck = Command::new("shellcheck")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            have_shellcheck || std::env::var_os("CI").is_none(),
            "shellcheck is not installed (scripts/setup installs it)"
        );
        if !have_shellcheck {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{}.sh", script.name()));
        std::fs::write(&path, &text).unwrap();
        // SC2034, SC2317: the layout variables and library functions come with every script,
        // used or not.
        let out = Command::new("shellcheck")
            .args(["-s", "sh", "-e", "SC2034,SC2317"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "shellcheck on {}:\n{}",
            script.name(),
            String::from_utf8_lossy(&out.stdout)
        );
    }

    #[test]
    fn values_stay_values_and_data_follows_the_script() {
        let body = "printf '%s|' \"$@\"; cat\n";
        let script = Script::new("echo", body)
            .arg("$(touch /tmp/never)")
            .arg("it's")
            .list(["a b", "c"]);
        let out = run_locally(&script, b"DATA");
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "$(touch /tmp/never)|it's|a b\nc|DATA"
        );
    }

    /// A script far larger than one argv argument may be (128 KiB) runs, and its exit code and
    /// the stdin after it come through.
    #[test]
    fn no_size_limit_on_a_script() {
        let big: &'static str = Box::leak(
            format!(
                "{}cat | wc -c\nexit 3\n",
                "# padding padding padding padding padding padding padding\n".repeat(8000)
            )
            .into_boxed_str(),
        );
        let script = Script::new("big", big).arg("x".repeat(200_000));
        assert!(script.text().len() > 600_000);
        let out = run_locally(&script, &[b'z'; 70_000]);
        assert_eq!(out.status.code(), Some(3), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "70000");
    }

    #[test]
    fn the_layout_is_known_to_every_script() {
        let out = run_locally(
            &Script::new("layout", "printf '%s %s' \"$PENDING\" \"$STAGED\"\n"),
            b"",
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{PENDING} {STAGED}")
        );
    }
}
