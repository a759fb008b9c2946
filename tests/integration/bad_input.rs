//! Bad input on the command line and in files perfmon reads: a one-line error that names the
//! problem, exit 2, no panic and no backtrace (every command runs with RUST_BACKTRACE=1).

use std::process::Output;

use crate::common::*;

fn run_bt(env: &Env, args: &[&str]) -> Output {
    env.cmd(args).env("RUST_BACKTRACE", "1").output().unwrap()
}

/// Runs perfmon and checks the error: exit 2, exactly one stderr line starting `perfmon: error:`
/// and containing `needle`, nothing on stdout, no panic.
pub(crate) fn expect_error(env: &Env, args: &[&str], needle: &str) {
    let out = run_bt(env, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(err.starts_with("perfmon: error: "), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {needle:?} not in {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{args:?}: {err}"
    );
    assert!(out.stdout.is_empty(), "{args:?}");
}

pub(crate) fn env_with_runs() -> Env {
    let env = Env::new();
    for _ in 0..2 {
        assert!(env.run(&["run", "--quiet", "--", "true"]).status.success());
    }
    env
}

#[test]
fn unknown_run_ids_and_names() {
    let env = env_with_runs();
    expect_error(&env, &["report", "999"], "999");
    expect_error(&env, &["report", "no-such-name"], "no-such-name");
    expect_error(&env, &["report", "-5"], "-5");
    expect_error(&env, &["export", "999"], "999");
    expect_error(&env, &["rm", "999"], "999");
    expect_error(&env, &["compare", "1", "999"], "999");
    // And no database at all.
    let empty = Env::new();
    expect_error(&empty, &["report", "1"], "no database");
}

#[test]
fn bad_intervals() {
    let env = Env::new();
    let marker = env.dir.path().join("ran");
    let m = marker.to_str().unwrap();
    for bad in [
        "0",
        "-1",
        "abc",
        "0ms",
        "1.5.5s",
        "99999999999999999999s",
        "2h",
        "1us",
    ] {
        expect_error(
            &env,
            &["run", "--interval", bad, "--", "touch", m],
            "--interval",
        );
    }
    assert!(!marker.exists(), "the command ran");
}

#[test]
fn bad_fail_on_specs() {
    let env = env_with_runs();
    for bad in [
        "wall>>5",
        "wall>",
        "nosuch>5%",
        "",
        "wall>abc",
        "wall>5%%",
        "cpu<",
    ] {
        expect_error(&env, &["compare", "1", "2", "--fail-on", bad], "--fail-on");
    }
}

#[test]
fn bad_tags() {
    let env = Env::new();
    for bad in ["noequals", "=v", "a b=c", ""] {
        expect_error(&env, &["run", "--tag", bad, "--", "true"], "--tag");
    }
    expect_error(&env, &["list", "--tag", "noequals"], "--tag");
}

#[test]
fn unknown_options_and_subcommands_are_one_line() {
    let env = Env::new();
    expect_error(&env, &["bogus"], "bogus");
    expect_error(&env, &["run"], "<CMD>");
    expect_error(&env, &["report", "--format", "xx"], "xx");
    expect_error(
        &env,
        &["run", "--no-such-flag", "--", "true"],
        "--no-such-flag",
    );
    expect_error(&env, &["gc"], "--keep-last");
}

/// An invalid perfmon.toml in the working directory, and one that cannot be read (a directory in
/// its place): named in one line, and `run` does not start the command.
#[test]
fn invalid_or_unreadable_perfmon_toml() {
    let env = env_with_runs();
    let marker = env.dir.path().join("ran");
    let m = marker.to_str().unwrap();
    let toml = env.dir.path().join("perfmon.toml");
    for content in [
        "garbage [[[",
        "[run]\nbudget = 5\n",
        "[run]\nbudget = \"wall>>5\"\n",
    ] {
        std::fs::write(&toml, content).unwrap();
        expect_error(&env, &["run", "--", "touch", m], "perfmon.toml");
        expect_error(&env, &["check", "last"], "perfmon.toml");
    }
    std::fs::remove_file(&toml).unwrap();
    std::fs::create_dir(&toml).unwrap();
    expect_error(&env, &["run", "--", "touch", m], "perfmon.toml");
    assert!(!marker.exists(), "the command ran");
}

/// `import` of files that are not perfmon exports: one line naming the file.
#[test]
fn bad_import_files() {
    let env = Env::new();
    let f = env.dir.path().join("bad.json");
    for content in [
        "not json",
        "{}",
        "{\"perfmon_export\": 99, \"perfmon_version\": \"9\", \"runs\": []}",
        "{\"perfmon_export\": 1, \"perfmon_version\": \"0\", \"runs\": [{\"meta\": 5}]}",
    ] {
        std::fs::write(&f, content).unwrap();
        expect_error(&env, &["import", f.to_str().unwrap()], "bad.json");
    }
    expect_error(
        &env,
        &["import", "/no/such/file.json"],
        "/no/such/file.json",
    );
}
