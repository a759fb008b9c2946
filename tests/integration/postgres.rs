//! The shared store: every command on SQLite and PostgreSQL from one test body, runs moving
//! between stores by UUID without duplicates, a server that cannot be reached or goes away
//! mid-run (the run is kept locally and pushed later), 32 concurrent writers while reports run,
//! and the password never shown. Needs the test server of `make test` (`PERFMON_TEST_PG`).

use std::process::{Command, Output};
use std::time::Duration;

use crate::common::*;

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn list(env: &Env) -> Vec<serde_json::Value> {
    let out = env.run(&["list", "--json", "--limit", "1000"]);
    serde_json::from_str::<serde_json::Value>(&ok(&out))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// A run of known output: a timer, a series of 20 points, exit code `code`.
fn protocol_run(env: &Env, name: &str, code: i32) -> Output {
    let script = format!(
        "echo '@perfmon timer start load'; sleep 0.05; echo '@perfmon timer stop load'; \
         i=0; while [ $i -lt 20 ]; do echo \"@perfmon progress iter=$i loss=$((100 - i))\"; \
         i=$((i+1)); done; exit {code}"
    );
    env.run(&["run", "--quiet", "--name", name, "--", "sh", "-c", &script])
}

#[test]
fn every_command_works_on_both_backends() {
    for backend in BACKENDS {
        let env = Env::with(backend);
        for name in ["a", "a", "b"] {
            ok(&protocol_run(&env, name, 0));
        }
        ok(&env.run(&[
            "run", "--quiet", "--repeat", "2", "--name", "g", "--", "true",
        ]));
        let runs = list(&env);
        assert_eq!(runs.len(), 5, "{backend:?}");
        assert!(runs.iter().all(|r| r["status"] == "ok"), "{backend:?}");

        let rep = env.report_json("a");
        let series = rep["series"].as_array().unwrap();
        let loss = series.iter().find(|s| s["name"] == "loss").unwrap();
        let values: Vec<f64> = loss["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["value"].as_f64().unwrap())
            .collect();
        assert_eq!(
            values,
            (0..20).map(|i| f64::from(100 - i)).collect::<Vec<_>>()
        );
        assert_eq!(rep["timers"][0]["name"], "load", "{backend:?}");
        assert!(
            rep["samples"]["count"].as_u64().unwrap() >= 1,
            "{backend:?}"
        );

        let text = ok(&env.run(&["report", "last"]));
        assert!(text.contains("perfmon run"), "{text}");
        ok(&env.run(&["report", "group:1"]));
        let cmp = env.run(&["compare", "name=a", "name=b", "--fail-on", "wall>1000%"]);
        assert!(ok(&cmp).starts_with("passed"), "{backend:?}");
        ok(&env.run(&["history", "a"]));
        let check = env.run(&["check", "last", "--budget", "wall<60s"]);
        assert_eq!(check.status.code(), Some(0), "{backend:?}");
        assert!(ok(&env.run(&["doctor"])).contains(": ok"), "{backend:?}");

        // export and import: the same runs again are recognized by their UUID.
        let file = env.dir.path().join("e.json");
        ok(&env.run(&["export", "1", "2", "-o", file.to_str().unwrap()]));
        let imp = env.run(&["import", file.to_str().unwrap()]);
        ok(&imp);
        assert!(
            String::from_utf8_lossy(&imp.stderr).contains("2 run(s) of"),
            "{}",
            String::from_utf8_lossy(&imp.stderr)
        );
        assert_eq!(list(&env).len(), 5, "{backend:?}");

        ok(&env.run(&["rm", "1"]));
        ok(&env.run(&["gc", "--keep-last", "3"]));
        assert_eq!(list(&env).len(), 3, "{backend:?}");
        ok(&env.run(&["gc", "--older-than", "30d"]));
    }
}

#[test]
fn push_is_idempotent_and_all_sends_only_what_is_missing() {
    let local = Env::new();
    for name in ["x", "y", "z"] {
        ok(&protocol_run(&local, name, 0));
    }
    let server = Env::with(Backend::Postgres);
    let url = server.pg.as_ref().unwrap().url.clone();
    let push = |args: &[&str]| {
        let mut a = vec!["push"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["--to", &url]);
        let out = local.run(&a);
        ok(&out);
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(push(&["x"]).contains("pushed 1 run(s)"));
    assert!(push(&["x"]).contains("pushed 0 run(s) to postgres://"));
    assert_eq!(list(&server).len(), 1);
    // A run named twice is pushed (and counted) once.
    let twice = push(&["y", "x", "y"]);
    assert!(twice.contains("pushed 1 run(s) to postgres://"), "{twice}");
    assert!(
        twice.trim_end().ends_with("; 1 were there already"),
        "{twice}"
    );
    assert_eq!(list(&server).len(), 2);
    let all = push(&["--all"]);
    assert!(all.contains("pushed 1 run(s)"), "{all}");
    assert!(push(&["--all"]).contains("pushed 0 run(s)"));
    let there = list(&server);
    assert_eq!(there.len(), 3);
    // The runs arrive whole: the series reads back the same from the server.
    let here = local.report_json("z");
    let remote = server.report_json("z");
    assert_eq!(here["series"], remote["series"]);
    assert_eq!(here["samples"], remote["samples"]);
    // And back into another SQLite file: pushing from the server adds nothing twice.
    let other = Env::new();
    let db = other.db();
    for _ in 0..2 {
        ok(&server.run(&["push", "--all", "--to", db.to_str().unwrap()]));
    }
    assert_eq!(list(&other).len(), 3);
}

/// Where nothing listens: the run is kept in the local file, the command's output and exit
/// status are untouched, and `push` delivers it once a server is there.
#[test]
fn an_unreachable_server_keeps_the_run_locally() {
    let env = Env::new();
    let url = "postgres://ci:hunter2secret@127.0.0.1:1/perf";
    let out = Command::new(perfmon_bin())
        .args(["--db", url, "run", "--name", "offline", "--"])
        .args(["sh", "-c", "echo hello; exit 3"])
        .env("XDG_DATA_HOME", env.dir.path())
        .env_remove("PERFMON_DB")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("hunter2secret"), "{err}");
    assert!(err.contains("postgres://ci:***@127.0.0.1:1/perf"), "{err}");
    assert!(err.contains("push"), "{err}");
    // The run is whole in the local file (where `cmd`'s runs go too, under XDG_DATA_HOME).
    let local = Command::new(perfmon_bin())
        .args(["list", "--json"])
        .env("XDG_DATA_HOME", env.dir.path())
        .env_remove("PERFMON_DB")
        .output()
        .unwrap();
    let runs: serde_json::Value = serde_json::from_str(&ok(&local)).unwrap();
    let offline: Vec<_> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "offline")
        .collect();
    assert!(offline.iter().any(|r| r["status"] == "failed"), "{runs}");

    let server = Env::with(Backend::Postgres);
    let url = server.pg.as_ref().unwrap().url.clone();
    let push = Command::new(perfmon_bin())
        .args(["push", "--all", "--to", &url])
        .env("XDG_DATA_HOME", env.dir.path())
        .env_remove("PERFMON_DB")
        .output()
        .unwrap();
    ok(&push);
    assert!(list(&server).iter().any(|r| r["name"] == "offline"));
}

#[test]
fn thirty_two_concurrent_runs_while_reports_compare_history_and_gc_loop() {
    let env = Env::with(Backend::Postgres);
    for name in ["seed", "seed", "other", "other"] {
        ok(&protocol_run(&env, name, 0));
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let loops: Vec<_> = [
        vec!["report", "last"],
        vec!["compare", "name=seed", "name=other"],
        vec!["history", "seed"],
        vec!["gc", "--older-than", "30d"],
    ]
    .into_iter()
    .map(|args| {
        let mut c = env.cmd(&args);
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut errors = Vec::new();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let out = c.output().unwrap();
                n += 1;
                // gc says what it removed on stderr; anything else there is a problem.
                let err = String::from_utf8_lossy(&out.stderr);
                let noise = err.lines().any(|l| !l.starts_with("perfmon: removed "));
                if !out.status.success() || noise {
                    errors.push(String::from_utf8_lossy(&out.stderr).into_owned());
                }
            }
            (n, errors)
        })
    })
    .collect();
    let runs: Vec<_> = (0..32)
        .map(|i| {
            env.cmd(&[
                "run",
                "--quiet",
                "--interval",
                "20ms",
                "--name",
                &format!("c{i}"),
                "--",
                "sh",
                "-c",
                "i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; echo '@perfmon progress iter=1 loss=1'",
            ])
            .output_async()
        })
        .collect();
    for r in runs {
        let out = r.join().unwrap();
        assert!(out.status.success());
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for l in loops {
        let (n, errors) = l.join().unwrap();
        assert!(n >= 1);
        assert!(errors.is_empty(), "{errors:?}");
    }
    let all = list(&env);
    assert_eq!(all.len(), 36);
    assert!(all.iter().all(|r| r["status"] == "ok"));
    // Nothing stayed behind in the local file.
    let local = Command::new(perfmon_bin())
        .args(["--db", env.db().to_str().unwrap(), "list", "--json"])
        .output()
        .unwrap();
    let left: serde_json::Value = serde_json::from_str(&ok(&local)).unwrap();
    assert_eq!(left.as_array().unwrap().len(), 0, "{left}");
}

trait OutputAsync {
    fn output_async(self) -> std::thread::JoinHandle<Output>;
}

impl OutputAsync for Command {
    fn output_async(mut self) -> std::thread::JoinHandle<Output> {
        std::thread::spawn(move || self.output().unwrap())
    }
}

/// The password of the URL never shows: not in messages (good or bad), not in the stored run,
/// not in any report format, not in an export.
#[test]
fn the_password_is_never_shown_nor_stored() {
    let env = Env::with(Backend::Postgres);
    let url = env.pg.as_ref().unwrap().url.clone();
    let password = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('@').next())
        .and_then(|user_info| user_info.split_once(':'))
        .map(|(_, p)| p.to_string())
        .expect("the test server's URL carries a password");
    assert!(password.len() >= 6, "a password too short to search for");
    let mut seen = String::new();
    let mut record = |out: &Output| {
        seen.push_str(&String::from_utf8_lossy(&out.stdout));
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
    };
    let out = env.run(&[
        "run",
        "--name",
        "pw",
        "--env",
        "PERFMON_DB",
        "--",
        "sh",
        "-c",
        "echo '@perfmon progress iter=1 loss=2'",
    ]);
    ok(&out);
    record(&out);
    for format in ["text", "json", "markdown", "html"] {
        let out = env.run(&["report", "last", "--format", format]);
        ok(&out);
        record(&out);
    }
    for args in [
        vec!["list"],
        vec!["doctor"],
        vec!["history", "pw"],
        vec!["export", "last"],
    ] {
        let out = env.run(&args);
        ok(&out);
        record(&out);
    }
    // Failures name the database too: a database that does not exist, a wrong password.
    let missing = with_dbname(&url, "no_such_database_here");
    let wrong = url.replacen(&format!(":{password}@"), ":WrongPassw0rd@", 1);
    for bad in [missing, wrong] {
        let out = Command::new(perfmon_bin())
            .args(["--db", &bad, "list"])
            .env_remove("PERFMON_DB")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(":***@"), "{err}");
        assert!(!err.contains("WrongPassw0rd"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        record(&out);
    }
    assert!(!seen.is_empty());
    assert!(!seen.contains(&password), "the password was shown:\n{seen}");
}

/// A server of the test's own (scripts/pg-test-server with its own state directory), stopped
/// while the command runs: the command's output and exit status are untouched, the run is
/// complete in the local file, and `push --all` delivers it once a server is back.
#[test]
fn the_server_stopped_mid_run_loses_nothing() {
    let env = Env::new();
    let state = env.dir.path().join("pg-state");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-test-server");
    let call = |verb: &str| {
        Command::new(&script)
            .arg(verb)
            .env("PERFMON_PG_STATE", &state)
            .output()
            .unwrap()
    };
    let server = |verb: &str| ok(&call(verb)).trim().to_string();
    // Stopped whatever happens, a failed assertion included.
    struct Stop<F: Fn(&str) -> Output>(F);
    impl<F: Fn(&str) -> Output> Drop for Stop<F> {
        fn drop(&mut self) {
            (self.0)("stop");
        }
    }
    let url = server("start");
    let _stop = Stop(&call);
    let local = |args: &[&str]| {
        Command::new(perfmon_bin())
            .args(args)
            .env("XDG_DATA_HOME", env.dir.path())
            .env_remove("PERFMON_DB")
            .output()
            .unwrap()
    };
    // The server works: a first run reaches it.
    let first = local(&[
        "--db", &url, "run", "--quiet", "--name", "before", "--", "true",
    ]);
    ok(&first);
    let child = Command::new(perfmon_bin())
        .args([
            "--db",
            &url,
            "run",
            "--interval",
            "50ms",
            "--name",
            "mid",
            "--",
        ])
        .args(["sh", "-c", "echo start; sleep 2; echo end; exit 4"])
        .env("XDG_DATA_HOME", env.dir.path())
        .env_remove("PERFMON_DB")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    server("stop");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "start\nend\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("could not be sent") && err.contains("push"),
        "{err}"
    );
    let kept: serde_json::Value =
        serde_json::from_str(&ok(&local(&["report", "mid", "--format", "json"]))).unwrap();
    assert_eq!(kept["status"], "failed");
    assert_eq!(kept["exit_code"], 4);
    let samples = kept["samples"]["count"].as_u64().unwrap();
    assert!(samples >= 20, "{samples} samples kept");

    let url = server("start");
    ok(&local(&["push", "--all", "--to", &url]));
    let there: serde_json::Value = serde_json::from_str(&ok(&local(&[
        "--db", &url, "report", "mid", "--format", "json",
    ])))
    .unwrap();
    assert_eq!(there["uuid"], kept["uuid"]);
    assert_eq!(there["samples"], kept["samples"]);
    server("stop");
}

/// A mistyped server URL is bad input, not a network fault: refused in one line naming what is
/// wrong (exit 2) before the command runs, with nothing stored and the password masked.
#[test]
fn a_malformed_server_url_is_refused_before_the_command_runs() {
    let env = Env::new();
    let marker = env.dir.path().join("ran");
    for (url, names) in [
        ("postgres://ci:hunter2secret@db:notaport/perf", "port"),
        ("postgres://ci:hunter2secret@db/perf?sslmode=bogus", "bogus"),
        (
            "postgres://ci:hunter2secret@db/perf?nosuchoption=1",
            "nosuchoption",
        ),
    ] {
        let out = Command::new(perfmon_bin())
            .args(["--db", url, "run", "--", "touch", marker.to_str().unwrap()])
            .env("XDG_DATA_HOME", env.dir.path())
            .env_remove("PERFMON_DB")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("perfmon: error: ") && err.contains(names),
            "{err}"
        );
        assert!(!err.contains("hunter2secret"), "{err}");
        assert!(!marker.exists(), "the command ran for {url}");
        assert!(
            !env.dir.path().join("perfmon").exists(),
            "something was stored"
        );
    }
}
