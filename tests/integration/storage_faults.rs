//! perfmon's storage fails: a writer holding the lock, a missing, read-only or full file
//! system, corrupt, truncated and newer databases, damaged blobs, and many writers at once. No
//! run is lost silently; every error is one line.

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// Asserts a perfmon failure: exit 2, one line on stderr, no panic or backtrace.
pub fn assert_one_line_error(out: &Output, what: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    assert_eq!(err.lines().count(), 1, "{what}: not one line: {err}");
    assert!(err.starts_with("perfmon: error: "), "{what}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{what}: {err}"
    );
    err
}

fn run_bt(env: &Env, args: &[&str]) -> Output {
    env.cmd(args).env("RUST_BACKTRACE", "1").output().unwrap()
}

fn short_runs(env: &Env, n: usize) {
    for i in 0..n {
        let out = env.run(&[
            "run",
            "--quiet",
            "--interval",
            "10ms",
            "--name",
            &format!("r{i}"),
            "--",
            "sh",
            "-c",
            "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done",
        ]);
        assert!(out.status.success());
    }
}

fn sqlite(db: &Path, sql: &str) {
    let prog = format!(
        "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.executescript({sql:?})\nc.commit()\n"
    );
    let st = Command::new(python())
        .args(["-c", &prog])
        .arg(db)
        .status()
        .unwrap();
    assert!(st.success());
}

/// Another process holds an exclusive lock for 10 s while the command prints a line every
/// 50 ms for 1 s: every line reaches the caller within 0.5 s of being printed (the output is
/// never held up by the database), and the final save, which meets the lock for about 9.5 s
/// (close to SQLite's 10 s busy timeout), keeps retrying: the run is saved with no error.
#[test]
fn db_locked_for_10_s_neither_blocks_output_nor_loses_the_run() {
    let env = Env::new();
    short_runs(&env, 1); // the database exists, in WAL mode
    let w = workload("ticker.py");
    let mut perfmon = env
        .cmd(&["run", "--quiet", "--name", "locked", "--", python()])
        .args([w.to_str().unwrap(), "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut r = std::io::BufReader::new(perfmon.stdout.take().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.starts_with("tick 0"), "{line}");
    let lock = "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\ntime.sleep(10)\nc.execute('COMMIT')\n";
    let mut locker = Command::new(python())
        .args(["-c", lock])
        .arg(env.db())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lr = std::io::BufReader::new(locker.stdout.take().unwrap());
    let mut l = String::new();
    lr.read_line(&mut l).unwrap();
    assert_eq!(l.trim(), "locked");
    let locked_at = Instant::now();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    let mut worst: f64 = 0.0;
    let mut n = 0;
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let printed: f64 = line.split_whitespace().nth(2).unwrap().parse().unwrap();
        worst = worst.max(now() - printed);
        n += 1;
    }
    assert!(n > 10, "only {n} lines");
    assert!(worst < 0.5, "a line arrived {worst:.2} s late");
    let out = perfmon.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        locked_at.elapsed() >= Duration::from_secs(9),
        "perfmon ended while the database was locked"
    );
    assert!(!err.contains("locked"), "{err}");
    assert!(locker.wait().unwrap().success());
    let rep = env.report_json("locked");
    assert_eq!(rep["status"], "ok");
}

/// A run read while it is still going, or after its perfmon died before the first flush, is
/// `incomplete`, not "damaged" (its totals are not written yet).
#[test]
fn run_without_any_flush_reads_as_incomplete() {
    let env = Env::new();
    let mut child = env
        .cmd(&["run", "--quiet", "--", "sleep", "30"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let out = run_bt(&env, &["report", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    kill9_perfmon_and_command(&mut child);
    let rep = env.report_json("last");
    assert_eq!(rep["status"], "incomplete");
    assert_eq!(run_bt(&env, &["doctor"]).status.code(), Some(0));
}

#[test]
fn missing_db_directories_are_created_private() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let db = env.dir.path().join("a/b/runs.db");
    let out = Command::new(perfmon_bin())
        .arg("--db")
        .arg(&db)
        .args(["run", "--quiet", "--", "echo", "hi"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"hi\n");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&env.dir.path().join("a/b")), 0o700);
    assert_eq!(mode(&env.dir.path().join("a")), 0o700);
}

/// How to get a private mount namespace for a small tmpfs: `unshare -m` as root, else
/// `unshare -rm` (an unprivileged user namespace). None where neither works (a container
/// without CAP_SYS_ADMIN): those tests then say so and pass.
fn unshare_args() -> Option<Vec<&'static str>> {
    for args in [vec!["-m"], vec!["-r", "-m"]] {
        let ok = Command::new("unshare")
            .args(&args)
            .args([
                "sh",
                "-c",
                "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d && umount $d && rmdir $d",
            ])
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return Some(args);
        }
    }
    None
}

/// Runs `script` (sh) in a private mount namespace with a tmpfs of `opts` mounted on $MNT, with
/// $PERFMON the binary and $TMPDIR the env's directory (outside the tmpfs).
fn in_tmpfs(env: &Env, opts: &str, script: &str) -> Option<Output> {
    let Some(args) = unshare_args() else {
        eprintln!("skipped: cannot mount a tmpfs here (no unshare -m / -rm)");
        return None;
    };
    let mnt = env.dir.path().join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let full = format!("mount -t tmpfs -o {opts} tmpfs \"$MNT\" || exit 99\n{script}");
    let out = Command::new("unshare")
        .args(&args)
        .args(["sh", "-c", &full])
        .env("MNT", &mnt)
        .env("PERFMON", perfmon_bin())
        .env("TMPDIR", env.dir.path())
        .env("RUST_BACKTRACE", "1")
        .env_remove("PERFMON_DB")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(99), "mount failed");
    Some(out)
}

/// A read-only file system (or directory): perfmon finds out before it starts the command,
/// says so in one line and exits 2; the command never runs (so it is not run unrecorded).
#[test]
fn read_only_db_directory_is_refused_before_the_command_starts() {
    let env = Env::new();
    let marker = env.dir.path().join("ran");
    let script = format!(
        "\"$PERFMON\" --db \"$MNT/sub/runs.db\" run -- touch {0}; echo rc=$? >&2\n\"$PERFMON\" --db \"$MNT/runs.db\" run -- touch {0}; echo rc=$? >&2",
        marker.display()
    );
    let Some(out) = in_tmpfs(&env, "ro,size=1m", &script) else {
        return;
    };
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    for pair in lines.chunks(2) {
        assert!(pair[0].starts_with("perfmon: error: "), "{err}");
        assert!(pair[0].contains("Read-only"), "{err}");
        assert_eq!(pair[1], "rc=2", "{err}");
    }
    assert!(!marker.exists(), "the command ran");
}

/// The disk is already full when perfmon starts: refused before the command starts, one line,
/// exit 2.
#[test]
fn full_disk_at_start_is_refused_before_the_command_starts() {
    let env = Env::new();
    let marker = env.dir.path().join("ran");
    let script = format!(
        "dd if=/dev/zero of=\"$MNT/fill\" bs=4k 2>/dev/null\n\"$PERFMON\" --db \"$MNT/runs.db\" run -- touch {}",
        marker.display()
    );
    let Some(out) = in_tmpfs(&env, "size=256k", &script) else {
        return;
    };
    assert_one_line_error(&out, "full disk");
    assert!(!marker.exists(), "the command ran");
}

/// The command fills the disk while it runs, so the final save fails: the command's output and
/// exit status are intact, perfmon prints where the run went (a fallback JSON file, 0600, in
/// $TMPDIR since the database's directory is full), and `perfmon import` loads it into another
/// database with its command, status and samples.
#[test]
fn full_disk_at_the_end_goes_to_a_fallback_file_that_import_loads() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let script = "\"$PERFMON\" --db \"$MNT/runs.db\" run --quiet --name filled --interval 10ms -- sh -c 'echo filling; dd if=/dev/zero of=\"$MNT/fill\" bs=4k 2>/dev/null; sleep 0.3; exit 3'";
    let Some(out) = in_tmpfs(&env, "size=512k", script) else {
        return;
    };
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert_eq!(out.stdout, b"filling\n");
    assert!(!err.contains("panicked"), "{err}");
    let path = err
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '`' || c == ':' || c == ','))
        .find(|w| w.contains("perfmon-unsaved-") && w.ends_with(".json"))
        .unwrap_or_else(|| panic!("no fallback path in {err}"));
    let path = Path::new(path);
    assert!(path.starts_with(env.dir.path()), "{}", path.display());
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let imported = env.run(&["import", path.to_str().unwrap()]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let rep = env.report_json("filled");
    assert_eq!(rep["exit_code"], 3);
    assert_eq!(rep["status"], "failed");
    assert!(
        rep["samples"]["count"].as_u64().unwrap() > 5,
        "{}",
        rep["samples"]
    );
}

/// One run's sample blob is damaged: reading that run is a one-line error naming it, every
/// other run reads as before, `list` works, and `doctor` names the run (exit 1); on a healthy
/// database `doctor` says ok (exit 0).
#[test]
fn damaged_blob_breaks_only_its_run_and_doctor_names_it() {
    let env = Env::new();
    short_runs(&env, 3);
    let ok = run_bt(&env, &["doctor"]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout)
        .trim_end()
        .ends_with(": ok"));
    // A zstd frame header that claims a huge window, then junk; and plain junk for another
    // column of the same run.
    sqlite(
        &env.db(),
        "UPDATE sample_chunks SET data = x'28b52ffd00ffffffff0102030405' WHERE run_id = 2;",
    );
    let bad = run_bt(&env, &["report", "2", "--format", "json"]);
    let err = assert_one_line_error(&bad, "damaged run");
    assert!(err.contains("run 2"), "{err}");
    for id in ["1", "3"] {
        let out = run_bt(&env, &["report", id, "--format", "json"]);
        assert!(out.status.success(), "run {id}");
    }
    assert!(run_bt(&env, &["list"]).status.success());
    let doc = run_bt(&env, &["doctor"]);
    assert_eq!(doc.status.code(), Some(1));
    let text = String::from_utf8_lossy(&doc.stdout);
    let damaged: Vec<&str> = text.lines().filter(|l| l.starts_with("damaged:")).collect();
    assert_eq!(damaged.len(), 1, "{text}");
    assert!(damaged[0].contains("run 2"), "{text}");
    // Removing the damaged run heals the database.
    assert!(run_bt(&env, &["rm", "2"]).status.success());
    assert_eq!(run_bt(&env, &["doctor"]).status.code(), Some(0));
}

/// A database written by a newer perfmon (schema version 99): every command refuses it in one
/// line (exit 2), `run` before starting the command, and the file is left exactly as it was.
#[test]
fn newer_schema_is_refused_in_one_line_and_left_untouched() {
    let env = Env::new();
    short_runs(&env, 1);
    sqlite(&env.db(), "PRAGMA user_version = 99;");
    let before = std::fs::read(env.db()).unwrap();
    let marker = env.dir.path().join("ran");
    for args in [
        vec!["report"],
        vec!["list"],
        vec!["doctor"],
        vec!["gc", "--keep-last", "0"],
        vec!["run", "--", "touch", marker.to_str().unwrap()],
    ] {
        let out = run_bt(&env, &args);
        let err = assert_one_line_error(&out, &format!("{args:?}"));
        assert!(err.contains("newer"), "{err}");
    }
    assert!(!marker.exists(), "the command ran");
    assert!(
        std::fs::read(env.db()).unwrap() == before,
        "the file changed"
    );
}

/// A truncated database and a file that is not a database at all: one-line errors (exit 2) for
/// reading and recording, and `doctor` reports the damage (exit 1) instead of failing.
#[test]
fn truncated_or_garbage_db_gives_one_line_errors_and_doctor_reports_it() {
    let env = Env::new();
    short_runs(&env, 3);
    // `run` leaves its write-ahead log for the next command to copy in: `list` does, and the
    // database file then holds every run on its own.
    let wal = format!("{}-wal", env.db().display());
    assert!(Path::new(&wal).exists());
    assert!(env.run(&["list"]).status.success());
    assert!(!Path::new(&wal).exists(), "the log was not copied in");
    let bytes = std::fs::read(env.db()).unwrap();
    let mut garbage = vec![0u8; 8192];
    for (i, b) in garbage.iter_mut().enumerate() {
        *b = (i * 7919 % 251) as u8;
    }
    for (what, content) in [
        ("truncated", bytes[..bytes.len() / 3].to_vec()),
        ("garbage", garbage),
    ] {
        std::fs::write(env.db(), &content).unwrap();
        for args in [vec!["report"], vec!["list"], vec!["run", "--", "true"]] {
            let out = run_bt(&env, &args);
            assert_one_line_error(&out, &format!("{what} {args:?}"));
        }
        let doc = run_bt(&env, &["doctor"]);
        assert_eq!(doc.status.code(), Some(1), "{what}");
        let text = String::from_utf8_lossy(&doc.stdout);
        assert!(text.starts_with("damaged:"), "{what}: {text}");
        assert!(doc.stderr.is_empty(), "{what}");
    }
}

/// 16 `perfmon run` at once into one database while `report` and `gc --keep-last 1000` run in a
/// loop: every run is saved and no "database is locked" (or any error) reaches anyone.
#[test]
fn sixteen_concurrent_runs_with_report_and_gc_all_saved() {
    let env = Env::new();
    short_runs(&env, 1);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let db = env.db();
    let loops: Vec<_> = [
        vec!["report", "--format", "json"],
        vec!["gc", "--keep-last", "1000"],
        vec!["list"],
    ]
    .into_iter()
    .map(|args| {
        let stop = stop.clone();
        let db = db.clone();
        std::thread::spawn(move || {
            let mut errs = Vec::new();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let out = Command::new(perfmon_bin())
                    .arg("--db")
                    .arg(&db)
                    .args(&args)
                    .stdin(Stdio::null())
                    .output()
                    .unwrap();
                let err = String::from_utf8_lossy(&out.stderr).into_owned();
                if !out.status.success() || err.contains("locked") || err.contains("error") {
                    errs.push(format!("{args:?}: {err}"));
                }
                n += 1;
            }
            (n, errs)
        })
    })
    .collect();
    let runs: Vec<_> = (0..16)
        .map(|i| {
            env.cmd(&[
                "run",
                "--interval",
                "10ms",
                "--name",
                &format!("c{i}"),
                "--",
                "sh",
                "-c",
                "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; echo done",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for r in runs {
        let out = r.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert_eq!(out.stdout, b"done\n");
        assert!(!err.contains("locked") && !err.contains("warning"), "{err}");
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for l in loops {
        let (n, errs) = l.join().unwrap();
        assert!(n > 0);
        assert!(errs.is_empty(), "{errs:?}");
    }
    let list = env.run(&["list", "--json", "--limit", "100"]);
    let runs: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 17);
    assert!(runs.iter().all(|r| r["status"] == "ok"), "{runs:?}");
}
