//! The shared lab: brought up bare and applied once per run; helpers to run the CLI and to reach
//! hosts the way an operator would (ssh as the topology's user, strict host keys).

use assert_cmd::Command;
use std::process::Output;
use std::sync::{Mutex, MutexGuard, OnceLock};

pub const INVENTORY: &str = "inventories/lab.yaml";
pub const LB: &str = "10.89.7.10";
pub const WEB: [(&str, &str); 3] = [
    ("web-01", "10.89.7.21"),
    ("web-02", "10.89.7.22"),
    ("web-03", "10.89.7.23"),
];
pub const DB: &str = "10.89.7.30";
/// The lab's (deliberately insecure, inline) database password.
pub const PASSWORD: &str = "lab-only-not-secret";

pub fn cli() -> Command {
    let mut c = Command::cargo_bin("foobar-infra").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    c
}

pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs a command on a lab host as `deploy`; `sudo` inside as needed.
pub fn ssh(address: &str, command: &str) -> String {
    String::from_utf8_lossy(&crate::lab_ssh::ssh_output(address, command).stdout).into_owned()
}

/// How many times systemd started or reloaded `unit` on a host (from its journal).
pub fn lifecycle_events(address: &str, unit: &str) -> usize {
    let out = crate::lab_ssh::ssh_output(
        address,
        &format!(
            "sudo journalctl -q -u {unit} -o cat | grep -c -E '^(Reloading|Reloaded|Starting|Started|Stopping)' || true"
        ),
    );
    assert!(out.status.success(), "ssh to {address} failed");
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a count from {address}: {text:?}"))
}

/// The lab's CA (`lab up` makes it; inventories/lab.yaml's `tls.trust`).
pub fn lab_ca() -> std::path::PathBuf {
    foobar_infra::lab::ca::LabTls::in_dir(&crate::lab_ssh::state_dir()).ca
}

/// `curl` for `https://www.foobar.com{path}` at the load balancer, as a client that trusts only
/// the lab's CA: a fresh connection, at most `seconds` in all, `-sS` (errors on stderr).
pub fn curl_https(path: &str, seconds: u32) -> std::process::Command {
    curl_https_at(LB, path, seconds)
}

/// `curl_https` with the site's name resolved to `address` (a load balancer, or the VIP).
pub fn curl_https_at(address: &str, path: &str, seconds: u32) -> std::process::Command {
    let mut c = std::process::Command::new("curl");
    c.args(["-sS", "-m", &seconds.to_string(), "--cacert"])
        .arg(lab_ca())
        .args(["--resolve", &format!("www.foobar.com:443:{address}")])
        .arg(format!("https://www.foobar.com{path}"));
    c
}

/// HTTPS through the load balancer (the site as inventories/lab.yaml serves it; plain HTTP
/// only redirects): (status, X-Served-By, body). Status 0 when the request failed.
pub fn get(path: &str) -> (u16, String, String) {
    get_at(LB, path)
}

/// `get` with the site at `address`.
pub fn get_at(address: &str, path: &str) -> (u16, String, String) {
    let out = curl_https_at(address, path, 5)
        .args(["-D", "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let served_by = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("x-served-by: ")
                .map(str::to_string)
        })
        .unwrap_or_default();
    (status, served_by.trim().to_string(), body.to_string())
}

static SERIAL: Mutex<()> = Mutex::new(());
static FIRST_APPLY: OnceLock<(Output, f64)> = OnceLock::new();

/// Takes the lab for one test. The first caller makes it fresh (bare hosts) and applies once.
pub fn lab() -> (MutexGuard<'static, ()>, &'static (Output, f64)) {
    lab_of(INVENTORY, INVENTORY)
}

/// `lab()` for the hosts of `hosts` (`lab up -i`), the first apply of `topology` (which may leave
/// some of them bare). The first caller of a test binary decides both.
pub fn lab_of(hosts: &str, topology: &str) -> (MutexGuard<'static, ()>, &'static (Output, f64)) {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let first = FIRST_APPLY.get_or_init(|| {
        cli().args(["lab", "down"]).assert().success();
        cli().args(["lab", "up", "-i", hosts]).assert().success();
        let start = std::time::Instant::now();
        let out = cli()
            .args(["apply", "-i", topology, "--auto-approve"])
            .output()
            .unwrap();
        (out, start.elapsed().as_secs_f64())
    });
    assert!(
        first.0.status.success(),
        "the first apply failed:\n{}\n{}",
        text(&first.0).0,
        text(&first.0).1
    );
    (guard, first)
}

/// A `--templates` folder whose `nginx/site.conf.tera` is the embedded one after `edit`.
pub fn site_template(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("nginx")).unwrap();
    let original = foobar_infra::render::templates::EMBEDDED
        .iter()
        .find(|(n, _)| *n == "nginx/site.conf.tera")
        .unwrap()
        .1;
    let edited = edit(original);
    assert_ne!(edited, original, "the edit changes the template");
    std::fs::write(dir.path().join("nginx/site.conf.tera"), edited).unwrap();
    dir
}

/// The live Nginx site file of every web host, by hash.
pub fn site_files() -> Vec<String> {
    WEB.iter()
        .map(|(_, a)| ssh(a, "sha256sum /etc/nginx/conf.d/foobar.conf"))
        .collect()
}

/// The id of the stale lock `apply`'s error names in its `force-unlock` hint.
pub fn stale_lock_id(stderr: &str) -> String {
    let hint = "foobar-infra force-unlock -i inventories/lab.yaml ";
    let at = stderr.find(hint).unwrap_or_else(|| panic!("{stderr}")) + hint.len();
    stderr[at..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect()
}

/// Whether apply's report table has a row with these cells, written `a | b | c` (the table pads
/// its columns to the widest cell: two or more spaces between cells, one inside a cell).
pub fn has_row(stdout: &str, row: &str) -> bool {
    stdout.lines().any(|line| {
        let cells: Vec<&str> = line
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        cells.join(" | ").starts_with(row)
    })
}

/// The lab inventory after `edit`, in a folder of its own (paths made absolute).
pub fn variant(edit: impl Fn(&str) -> String) -> (tempfile::TempDir, String) {
    variant_of(INVENTORY, edit)
}

/// `inventory` after `edit`, in a folder of its own (paths made absolute).
pub fn variant_of(inventory: &str, edit: impl Fn(&str) -> String) -> (tempfile::TempDir, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(std::path::Path::new(root).join(inventory))
        .unwrap()
        .replace("../examples/", &format!("{root}/examples/"));
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit changes the inventory");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.yaml");
    std::fs::write(&path, edited).unwrap();
    (dir, path.display().to_string())
}
