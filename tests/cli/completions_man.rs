//! `completions SHELL` and `man`: generated for every shell and every command, from the same
//! clap definitions the parser uses (so the list of commands here is clap's, not written out).

use crate::support::cli;
use clap::{CommandFactory, ValueEnum};
use foobar_infra::cli::Cli;

/// Every command as a path of names: `["validate"]`, `["lab", "up"]`, ...
fn commands() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, path: &[String], out: &mut Vec<Vec<String>>) {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            let mut p = path.to_vec();
            p.push(sub.get_name().to_string());
            out.push(p.clone());
            walk(sub, &p, out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), &[], &mut out);
    assert!(out.len() >= 10, "{out:?}");
    assert!(out.contains(&vec!["lab".to_string(), "up".to_string()]));
    out
}

fn stdout(args: &[&str]) -> String {
    let out = cli().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    assert!(out.stderr.is_empty(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_of_every_shell_name_every_command() {
    let commands = commands();
    let shells = clap_complete::Shell::value_variants();
    assert!(shells.len() >= 4);
    for shell in shells {
        let name = shell.to_possible_value().unwrap().get_name().to_string();
        let script = stdout(&["completions", &name]);
        assert!(script.len() > 1000, "{name}: {} bytes", script.len());
        for path in &commands {
            let command = path.last().unwrap();
            assert!(script.contains(command.as_str()), "{name}: no `{command}`");
        }
        // Options too (fish writes them `-l inventory`, the others `--inventory`).
        for option in ["inventory", "auto-approve", "color", "quiet"] {
            assert!(script.contains(option), "{name}: no `{option}`");
        }
    }
    let bash = stdout(&["completions", "bash"]);
    assert!(bash.contains("-o default foobar-infra\n"), "{bash}");
    cli()
        .args(["completions", "tcsh"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("possible values"));
}

/// The main page lists every command; `--out DIR` writes a page per command and subcommand.
#[test]
fn man_pages_name_every_command() {
    let page = stdout(&["man"]);
    assert!(page.contains(".TH foobar-infra 1"), "{page}");
    for section in ["NAME", "SYNOPSIS", "OPTIONS", "SUBCOMMANDS", "EXTRA"] {
        assert!(page.contains(&format!(".SH {section}")), "no {section}");
    }
    // The exit codes of --help are in the page too.
    assert!(page.contains("130  interrupted"), "{page}");
    let commands = commands();
    for path in commands.iter().filter(|p| p.len() == 1) {
        // roff writes `-` as `\-`.
        let name = format!("foobar\\-infra\\-{}(1)", path[0].replace('-', "\\-"));
        assert!(page.contains(&name), "no {name} in the main page");
    }

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    cli()
        .args(["man", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout("")
        .stderr(predicates::str::contains("man pages into"));
    let main = std::fs::read_to_string(out.join("foobar-infra.1")).unwrap();
    assert_eq!(main, page);
    for path in &commands {
        let file = out.join(format!("foobar-infra-{}.1", path.join("-")));
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(text.starts_with(".ie") || text.starts_with(".TH"), "{text}");
        assert!(text.contains(".SH SYNOPSIS"), "{}", file.display());
        // troff reads ASCII; anything else warns (or shows garbage) without a preprocessor.
        assert!(text.is_ascii(), "{}: not ASCII", file.display());
    }
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), commands.len() + 1);
}
