//! Helpers shared by the integration tests: a temp dir with its own database, running perfmon,
//! reading its JSON report.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn perfmon_bin() -> &'static str {
    env!("CARGO_BIN_EXE_perfmon")
}

pub fn workload(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/workloads")
        .join(name)
}

/// The storage backends a test body runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// A temp directory with a database path inside it, or (PostgreSQL) a fresh database on the
/// test server, dropped with the `Env`.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub pg: Option<PgDb>,
}

/// A database of its own on the test server (`PERFMON_TEST_PG`).
pub struct PgDb {
    pub url: String,
    admin: String,
    name: String,
}

/// The test server's URL; fails loudly without one (`make test` starts it).
pub fn pg_server() -> String {
    std::env::var("PERFMON_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty())
        .expect(
            "PERFMON_TEST_PG is not set: the PostgreSQL tests need a server. `make test` starts \
             one; by hand: scripts/pg-test-server start && export \
             PERFMON_TEST_PG=$(scripts/pg-test-server url)",
        )
}

/// `url` with its database name replaced by `db`.
pub fn with_dbname(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let from = base.find("://").map_or(0, |i| i + 3);
    let end = base[from..].find('/').map_or(base.len(), |i| from + i);
    format!("{}/{db}{query}", &base[..end])
}

impl PgDb {
    /// A fresh database on the server at `admin`.
    pub fn create(admin: &str) -> PgDb {
        let name = format!("it_{}", uuid::Uuid::new_v4().simple());
        let mut c = postgres::Client::connect(admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("the PostgreSQL test server is unreachable: {e}"));
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        PgDb {
            url: with_dbname(admin, &name),
            admin: admin.to_string(),
            name,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("tempdir"),
            pg: None,
        }
    }

    /// An `Env` whose database is of `backend`.
    pub fn with(backend: Backend) -> Env {
        let mut e = Env::new();
        if backend == Backend::Postgres {
            e.pg = Some(PgDb::create(&pg_server()));
        }
        e
    }

    /// The SQLite file (for a PostgreSQL `Env`: the local file runs are recorded into first).
    pub fn db(&self) -> PathBuf {
        match self.pg {
            Some(_) => self.dir.path().join("perfmon/perfmon.db"),
            None => self.dir.path().join("runs.db"),
        }
    }

    /// What `--db` is given: the file, or the database's URL.
    pub fn db_arg(&self) -> std::ffi::OsString {
        match &self.pg {
            Some(p) => p.url.clone().into(),
            None => self.db().into(),
        }
    }

    /// `perfmon --db DB ARGS...` with stdin closed. The local data directory is the temp dir,
    /// so the local file of a PostgreSQL `Env` is [`Env::db`].
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(perfmon_bin());
        c.arg("--db").arg(self.db_arg()).args(args);
        c.current_dir(self.dir.path());
        c.stdin(Stdio::null());
        c.env_remove("PERFMON_DB");
        c.env("XDG_DATA_HOME", self.dir.path());
        // Tests see the same recorded environment on a laptop and in CI (which sets `CI`).
        for name in perfmon::commands::run::ENV_ALLOWLIST {
            c.env_remove(name);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run perfmon")
    }

    /// `perfmon run --quiet -- ARGV` and the JSON report of that run.
    pub fn run_and_report(&self, run_args: &[&str], argv: &[&str]) -> (Output, serde_json::Value) {
        let mut args = vec!["run"];
        args.extend_from_slice(run_args);
        args.push("--");
        args.extend_from_slice(argv);
        let out = self.run(&args);
        let rep = self.report_json("last");
        (out, rep)
    }

    pub fn report_json(&self, run: &str) -> serde_json::Value {
        let out = self.run(&["report", run, "--format", "json"]);
        assert!(
            out.status.success(),
            "report failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("report is JSON")
    }
}

pub fn python() -> &'static str {
    "python3"
}

pub fn f64_at(v: &serde_json::Value, path: &str) -> f64 {
    let mut cur = v;
    for k in path.split('.') {
        cur = &cur[k];
    }
    cur.as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number in {v}"))
}

/// Parses GNU time's `-f` output of `%U %S %M %e`: (user_s, sys_s, maxrss_kib, wall_s).
pub fn parse_time_line(stderr: &str) -> (f64, f64, f64, f64) {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("TIME "))
        .unwrap_or_else(|| panic!("no TIME line in {stderr}"));
    let v: Vec<f64> = line[5..]
        .split_whitespace()
        .map(|x| x.parse().expect("number"))
        .collect();
    (v[0], v[1], v[2], v[3])
}

pub fn gnu_time() -> Option<&'static str> {
    ["/usr/bin/time"].into_iter().find(|p| {
        Command::new(p)
            .args(["-f", "%e", "true"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

/// SIGKILLs a spawned `perfmon run`, as a crash would, then the command it started, which would
/// otherwise outlive it as an orphan.
pub fn kill9_perfmon_and_command(child: &mut std::process::Child) {
    let kids = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id()))
        .unwrap_or_default();
    // SAFETY: kill(2) of the perfmon this test spawned, then of the processes it started.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    for k in kids.split_whitespace() {
        // SAFETY: as above.
        unsafe { libc::kill(k.parse::<i32>().unwrap(), libc::SIGKILL) };
    }
}
