//! The firewall per role on the lab: each host admits what its roles serve, from whom they serve
//! it, and refuses the rest at once; a ruleset that would refuse the run's own SSH connection is
//! refused before it is loaded; one that cuts SSH anyway (the `cut-ssh` drill) is put back and the
//! host is reachable again.

use crate::support::*;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A TCP connection from this machine: `Ok` when it connects, else the error's text.
fn connect_here(address: &str, port: u16) -> Result<(), String> {
    let to: SocketAddr = format!("{address}:{port}").parse().unwrap();
    TcpStream::connect_timeout(&to, Duration::from_secs(3))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A TCP connection from a lab host (as `deploy`): "ok", or what bash said.
fn connect_from(from: &str, address: &str, port: u16) -> String {
    let out = ssh(
        from,
        &format!(
            "if timeout 3 bash -c '</dev/tcp/{address}/{port}' 2>/tmp/connect.err; then echo ok; else cat /tmp/connect.err; fi"
        ),
    );
    out.trim().to_string()
}

fn refused(result: &str) -> bool {
    result.contains("No route to host")
}

const WEB01: &str = "10.89.7.21";
const NS1: &str = "10.89.7.40";

/// The rules file's hash on a host.
fn rules_hash(address: &str) -> String {
    ssh(address, "sha256sum /etc/foobar-infra/firewall.nft")
}

#[test]
fn each_role_admits_whom_it_serves_and_the_rest_is_refused_at_once() {
    let (_lab, _) = lab();
    // From this machine (an admin): SSH everywhere, the site at the load balancer, DNS at ns1.
    for address in [LB, WEB01, DB, NS1] {
        assert_eq!(connect_here(address, 22), Ok(()), "ssh to {address}");
    }
    assert_eq!(connect_here(LB, 80), Ok(()));
    assert_eq!(connect_here(NS1, 53), Ok(()));
    // Nginx and MariaDB are not for this machine: refused at once by the firewall (an ICMP
    // administratively-prohibited answer), not left to time out.
    for (address, port) in [(WEB01, 80), (DB, 3306)] {
        let start = Instant::now();
        let e = connect_here(address, port).unwrap_err();
        assert!(refused(&e), "{address}:{port}: {e}");
        assert!(start.elapsed() < Duration::from_secs(2), "refused at once");
    }
    // Nginx from the load balancer only; the database from the app hosts only.
    assert_eq!(connect_from(LB, WEB01, 80), "ok");
    assert!(refused(&connect_from(DB, WEB01, 80)), "db-01 -> web-01:80");
    assert_eq!(connect_from(WEB01, DB, 3306), "ok");
    let from_lb = connect_from(LB, DB, 3306);
    assert!(refused(&from_lb), "lb-01 -> db-01:3306: {from_lb}");
    // The table is loaded, by its own unit, and the hosts' other tables are not this tool's.
    let tables = ssh(WEB01, "sudo nft list tables");
    assert!(tables.contains("table inet foobar_infra"), "{tables}");
    assert_eq!(
        ssh(WEB01, "systemctl is-active foobar-infra-firewall.service").trim(),
        "active"
    );
}

#[test]
fn a_firewall_that_would_refuse_this_runs_own_ssh_is_refused_before_it_is_loaded() {
    let (_lab, _) = lab();
    let before: Vec<String> = [LB, WEB01, DB].iter().map(|a| rules_hash(a)).collect();
    // SSH only through lb-01: this machine's own connections would be refused.
    let (_dir, topology) = variant(|t| t.replace("admin: [10.89.7.1, lb-01]", "admin: [lb-01]"));
    for command in ["plan", "apply"] {
        let mut c = cli();
        c.args([command, "-i", &topology]);
        if command == "apply" {
            c.arg("--auto-approve");
        }
        let out = c.output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{command}: {stdout}{stderr}");
        assert!(
            stderr.contains(
                "the firewall for web-01 would refuse this run's own SSH connection (from 10.89.7.1 to port 22)"
            ) && stderr.contains("it admits SSH on port 22 from 10.89.7.10")
                && stderr.contains("Add 10.89.7.1 (or its network) to firewall.admin"),
            "{command}: {stderr}"
        );
        // lb-01 itself is refused too: its own address is not this run's.
        assert!(
            stderr.contains("the firewall for lb-01 would refuse"),
            "{stderr}"
        );
        assert!(
            !stdout.contains("changed"),
            "{command} changed nothing: {stdout}"
        );
    }
    let after: Vec<String> = [LB, WEB01, DB].iter().map(|a| rules_hash(a)).collect();
    assert_eq!(before, after, "no ruleset was swapped in");
}

#[test]
fn a_firewall_that_cuts_ssh_anyway_is_put_back_and_the_host_answers_again() {
    let (_lab, _) = lab();
    let before = rules_hash(WEB01);
    // A real change of web-01's ruleset (one more admin address), with the drill that makes the
    // new ruleset also drop every SSH packet, this run's established connection included.
    let (_dir, topology) = variant(|t| {
        t.replace(
            "admin: [10.89.7.1, lb-01]",
            "admin: [10.89.7.1, lb-01, 10.89.7.99]",
        )
    });
    let out = drilled_apply(&topology);
    let (stdout, stderr) = text(&out);
    assert_ne!(out.status.code(), Some(0), "{stdout}{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("after its new firewall was loaded, web-01 does not admit a new SSH connection from this machine"),
        "{all}"
    );
    // Within the watchdog's window the host answers a new SSH connection again, with the ruleset
    // it had before the run.
    wait_for_ssh(WEB01);
    assert_eq!(rules_hash(WEB01), before, "the previous ruleset is back");
    let live = ssh(WEB01, "sudo nft list table inet foobar_infra");
    assert!(!live.contains("10.89.7.99"), "{live}");
    assert!(
        !live.contains("tcp dport 22 drop"),
        "the drill's rule went with the ruleset: {live}"
    );
    // The lab is as the inventory has it: nothing to do, no lock left behind.
    assert_no_changes();

    // A first firewall on a host that has none: cut, and the host goes back to no table at all.
    ssh(
        WEB01,
        "sudo systemctl disable --now foobar-infra-firewall.service && sudo rm /etc/foobar-infra/firewall.nft /etc/systemd/system/foobar-infra-firewall.service && sudo systemctl daemon-reload",
    );
    assert!(!ssh(WEB01, "sudo nft list tables").contains("foobar_infra"));
    let out = drilled_apply(INVENTORY);
    let all = format!("{}{}", text(&out).0, text(&out).1);
    assert_ne!(out.status.code(), Some(0), "{all}");
    wait_for_ssh(WEB01);
    let tables = ssh(WEB01, "sudo nft list tables");
    assert!(!tables.contains("foobar_infra"), "{tables}");
    assert_eq!(
        ssh(
            WEB01,
            "test -e /etc/foobar-infra/firewall.nft && echo left || echo gone"
        )
        .trim(),
        "gone"
    );
    // Applied again without the drill, web-01 has its firewall back.
    let out = cli()
        .args([
            "apply",
            "-i",
            INVENTORY,
            "--auto-approve",
            "--limit",
            "web-01",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(ssh(WEB01, "sudo nft list tables").contains("foobar_infra"));
    assert_no_changes();
}

fn assert_no_changes() {
    let out = cli()
        .args(["plan", "--detailed-exitcode", "-i", INVENTORY])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
}

/// `apply` of `topology` to web-01 with the `cut-ssh` drill and a 15 s watchdog.
fn drilled_apply(topology: &str) -> std::process::Output {
    let start = Instant::now();
    let out = cli()
        .env("FOOBAR_INFRA_DRILL", "cut-ssh")
        .args([
            "apply",
            "-i",
            topology,
            "--auto-approve",
            "--limit",
            "web-01",
            "--confirm-timeout",
            "15s",
        ])
        .timeout(Duration::from_secs(240))
        .output()
        .unwrap();
    eprintln!(
        "the drilled apply ended after {:.1}s",
        start.elapsed().as_secs_f64()
    );
    out
}

/// Waits (at most a minute) until `address` admits a new SSH connection and answers on it.
fn wait_for_ssh(address: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let start = Instant::now();
    loop {
        if connect_here(address, 22).is_ok() && !ssh(address, "echo up").is_empty() {
            eprintln!(
                "{address} answered SSH again {:.1}s after the apply ended",
                start.elapsed().as_secs_f64()
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{address} never answered SSH again"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_firewall_turned_off_stays_loaded_and_plan_says_how_to_remove_it() {
    let (_lab, _) = lab();
    let (_dir, topology) = variant(|t| t.replace("admin: [10.89.7.1, lb-01]", "enabled: false"));
    let out = cli()
        .args(["plan", "--detailed-exitcode", "-i", &topology])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    for host in ["lb-01", "web-01", "db-01", "ns1"] {
        assert!(
            stderr.contains(&format!(
                "{host}: the firewall (table inet foobar_infra) is still loaded though firewall.enabled is false"
            )),
            "{stderr}"
        );
    }
    assert!(stderr.contains("systemctl disable --now foobar-infra-firewall.service"));
    assert!(ssh(WEB01, "sudo nft list tables").contains("foobar_infra"));
}
