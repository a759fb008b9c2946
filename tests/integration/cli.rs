//! One meaning per option (issue 12): durations need a unit, errors say each cause once, hints
//! list every form a selection takes, help lists formats, environment and exit codes, and the
//! shell completions and man page come from the same definitions.

use std::path::Path;
use std::process::Command;

use crate::bad_input::{env_with_runs, expect_error};
use crate::common::*;

/// `--interval 10` used to mean 10 s without a word: every duration option refuses a bare
/// number, names the option and suggests both units; the command does not run.
#[test]
fn a_bare_number_is_not_a_duration() {
    let env = Env::new();
    let marker = env.dir.path().join("ran");
    let m = marker.to_str().unwrap();
    for bare in ["10", "0.5", "3"] {
        let args = ["run", "--interval", bare, "--", "touch", m];
        expect_error(&env, &args, "--interval");
        let err = String::from_utf8_lossy(&env.run(&args).stderr).into_owned();
        assert!(
            err.contains(&format!("{bare}s")) && err.contains(&format!("{bare}ms")),
            "{err}"
        );
    }
    assert!(!marker.exists(), "the command ran");
    expect_error(&env, &["gc", "--older-than", "30"], "--older-than");
    expect_error(&env, &["run", "--budget", "wall<600", "--", "true"], "unit");
    // With a unit, the same values are taken.
    let ok = env.run(&["run", "--quiet", "--interval", "10ms", "--", "true"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let gc = env.run(&["gc", "--older-than", "30d", "--dry-run"]);
    assert!(
        gc.status.success(),
        "{}",
        String::from_utf8_lossy(&gc.stderr)
    );
}

/// Each cause of an error is said once: an io::Error quoted by the context that wraps it was
/// printed twice ("No such file or directory (os error 2): No such file or directory ...").
#[test]
fn database_errors_say_each_cause_once() {
    let env = Env::new();
    let file = env.dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let under_file = file.join("x.db");
    let marker = env.dir.path().join("ran");
    for db in [Path::new("/proc/x.db"), under_file.as_path()] {
        for args in [
            vec!["run", "--", "touch", marker.to_str().unwrap()],
            vec!["import", "/dev/null"],
        ] {
            let out = Command::new(perfmon_bin())
                .arg("--db")
                .arg(db)
                .args(&args)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{db:?} {args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert_eq!(err.matches("(os error").count(), 1, "{err}");
            let parts: Vec<&str> = err.trim_end().split(": ").collect();
            let mut seen = parts.clone();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), parts.len(), "a cause repeats: {err}");
        }
    }
    assert!(!marker.exists(), "the command ran");
}

/// `list` with a database path where none can ever be fails as `report` does (it said "no runs
/// stored yet" and exited 0); a path where `run` would create one is still an empty list.
#[test]
fn list_fails_where_no_database_can_be() {
    let env = Env::new();
    let file = env.dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let under_file = file.join("x.db");
    for db in [
        Path::new("/proc/x.db"),
        under_file.as_path(),
        env.dir.path(),
    ] {
        for cmd in ["list", "report"] {
            let out = Command::new(perfmon_bin())
                .arg("--db")
                .arg(db)
                .arg(cmd)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd} {db:?}: {err}");
            assert!(err.starts_with("perfmon: error: no database at"), "{err}");
            assert!(err.contains("none can be created there"), "{err}");
            assert!(out.stdout.is_empty());
        }
    }
    let fresh = env.run(&["list"]);
    assert_eq!(fresh.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&fresh.stdout).contains("no runs stored yet"));
    assert!(!env.db().exists(), "list created the database");
    let json = env.run(&["list", "--json"]);
    assert_eq!(String::from_utf8_lossy(&json.stdout).trim(), "[]");
}

/// Hints name every form a selection takes, not only run ids and names.
#[test]
fn selection_hints_list_every_form() {
    let env = env_with_runs();
    for args in [
        &["compare", "no-such-name", "1"][..],
        &["compare", "1", "group:x"],
        &["compare", "1", "group:99"],
        &["compare", "last:0", "1"],
        &["compare", "tag:novalue", "1"],
        &["compare", "name=nobody", "1"],
        &["report", "no-such-name"],
        &["report", "group:99"],
    ] {
        let out = env.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        for form in ["group:N", "name=NAME", "tag:KEY=VALUE", "last:N", "last"] {
            assert!(err.contains(form), "{args:?}: {form} not in {err}");
        }
    }
    let err = env.run(&["history", "no-such-name"]).stderr;
    let err = String::from_utf8_lossy(&err);
    assert!(
        err.contains("name=NAME") && err.contains("tag:KEY=VALUE"),
        "{err}"
    );
}

/// `run` without a command answers with its one-line usage.
#[test]
fn run_without_a_command_shows_the_usage() {
    let env = Env::new();
    for args in [
        &["run"][..],
        &["run", "--"],
        &["run", "--quiet", "--name", "x"],
    ] {
        expect_error(&env, args, "perfmon run [OPTIONS] -- CMD [ARGS...]");
    }
    let help = env.run(&["run", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout)
        .contains("Usage: perfmon run [OPTIONS] -- CMD [ARGS...]"));
}
