//! The database password reaches the hosts that need it and nothing else: no output, no plan
//! file, no remote command line (sudo logs every command line to the journal).

use crate::support::*;

#[test]
fn the_password_appears_in_no_output_plan_file_or_remote_argv() {
    let (_lab, (first, _)) = lab();
    let mut seen = String::new();
    let (o, e) = text(first);
    seen.push_str(&o);
    seen.push_str(&e);
    // Drift on a sensitive file: planned and applied without showing its contents.
    let web01 = WEB[0].1;
    ssh(
        web01,
        "echo 'EXTRA=1' | sudo tee -a /etc/foobar/app.env >/dev/null",
    );
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("plan.json");
    for args in [
        vec!["plan", "-i", INVENTORY],
        vec!["plan", "-i", INVENTORY, "--format", "json"],
    ] {
        let out = cli().args(&args).output().unwrap();
        let (o, e) = text(&out);
        assert!(o.contains("/etc/foobar/app.env"), "{o}");
        seen.push_str(&o);
        seen.push_str(&e);
    }
    cli()
        .args(["plan", "-i", INVENTORY, "--out"])
        .arg(&saved)
        .assert()
        .success();
    let plan_file = std::fs::read_to_string(&saved).unwrap();
    let out = cli().arg("apply").arg(&saved).output().unwrap();
    let (o, e) = text(&out);
    seen.push_str(&o);
    seen.push_str(&e);
    assert!(out.status.success(), "{o}{e}");
    assert!(!seen.contains(PASSWORD), "the password was printed");
    assert!(
        !plan_file.contains(PASSWORD),
        "the password is in the plan file"
    );
    assert!(
        !plan_file.contains("8DB4D5FC"),
        "no password hash in the plan file"
    );
    for address in [web01, WEB[1].1, DB, LB] {
        let journal = ssh(address, "sudo journalctl -q --no-pager -o cat");
        assert!(
            journal.contains("COMMAND="),
            "sudo logs command lines on {address}"
        );
        assert!(
            !journal.contains(PASSWORD),
            "the password is in a remote command line on {address}"
        );
    }
    // ... yet the app has it, in a file only root and the app can read.
    let env = ssh(
        web01,
        "sudo stat -c '%a %U %G' /etc/foobar/app.env; sudo grep -c DB_PASSWORD= /etc/foobar/app.env",
    );
    assert_eq!(env, "640 root foobar\n1\n");
    assert_eq!(get("/db").0, 200);
}
