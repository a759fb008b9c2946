//! Security: private files, secrets redacted before storage, an environment allowlist, reports
//! that escape everything the workload and the command line wrote.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Every byte of the database files (main file, and WAL/SHM if any are left).
pub(crate) fn db_bytes(db: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let p = format!("{}{suffix}", db.display());
        if let Ok(b) = std::fs::read(&p) {
            all.extend(b);
        }
    }
    all
}

pub(crate) fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The default database ($XDG_DATA_HOME/perfmon/perfmon.db) is created 0600 in a 0700
/// directory, and so are its WAL and shared-memory files while a run writes.
#[test]
fn default_db_is_private() {
    let env = Env::new();
    let xdg = env.dir.path().join("xdg");
    let mut child = Command::new(perfmon_bin())
        .args(["run", "--quiet", "--", "sleep", "0.6"])
        .env("XDG_DATA_HOME", &xdg)
        .env_remove("PERFMON_DB")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let db = xdg.join("perfmon/perfmon.db");
    for side in ["-wal", "-shm"] {
        let p = std::path::PathBuf::from(format!("{}{side}", db.display()));
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&xdg.join("perfmon")), 0o700);
}

const SECRETS: &[&str] = &[
    "s3cretPW1",
    "s3cretTok2",
    "s3cretKey3",
    "s3cretUrl4",
    "s3cretTag5",
    "s3cretTag6",
    "s3cretEnv7",
    "s3cretEnv8",
];

/// Secret-looking values on the command line (`--password=`, `--token X`, `API_KEY=`, URL
/// credentials) and in tags are redacted before they are stored: no byte of the database holds
/// them, and no report, list or export shows them. No environment variable is stored unless
/// allowlisted or named with `--env` (and a secret-named one is stored redacted).
#[test]
fn secrets_never_reach_the_database_or_any_report() {
    let env = Env::new();
    let out = env
        .cmd(&[
            "run",
            "--quiet",
            "--name",
            "sec",
            "--tag",
            "api_key=s3cretTag5",
            "--tag",
            "remote=https://bob:s3cretTag6@example.com/x",
            "--tag",
            "plain=visible-tag",
            "--env",
            "MY_SETTING",
            "--env",
            "DB_PASSWORD",
            "--",
            "sh",
            "-c",
            "echo ok",
            "sh",
            "--password=s3cretPW1",
            "--token",
            "s3cretTok2",
            "API_KEY=s3cretKey3",
            "https://alice:s3cretUrl4@example.com/repo.git",
        ])
        .env("SECRET_TOKEN", "s3cretEnv7")
        .env("DB_PASSWORD", "s3cretEnv8")
        .env("MY_SETTING", "visible-env")
        .env("CI", "yes")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"ok\n");
    let bytes = db_bytes(&env.db());
    // The check itself works: what is not secret is there.
    assert!(contains(&bytes, "visible-tag"));
    assert!(contains(&bytes, "visible-env"));
    for s in SECRETS {
        assert!(!contains(&bytes, s), "{s} is in the database");
    }
    let export = env.run(&["export", "sec"]);
    assert!(export.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    let recorded = &doc["runs"][0]["meta"]["env"];
    assert_eq!(
        recorded.to_string(),
        r#"[["CI","yes"],["MY_SETTING","visible-env"],["DB_PASSWORD","***"]]"#
    );
    let mut outputs = vec![export.stdout];
    for fmt in ["text", "json", "markdown", "html", "trace"] {
        let o = env.run(&["report", "sec", "--format", fmt]);
        assert!(o.status.success(), "{fmt}");
        outputs.push(o.stdout);
    }
    outputs.push(env.run(&["list"]).stdout);
    outputs.push(env.run(&["list", "--json"]).stdout);
    for o in &outputs {
        assert!(contains(o, "sec"));
        for s in SECRETS {
            assert!(!contains(o, s), "{s} shown: {}", String::from_utf8_lossy(o));
        }
    }
}

/// Markup from the workload (a timer named `<img src=x onerror=alert(1)>`, a mark with a
/// script tag) and from the command line (an argument `<b>x</b>`, the run's name and a tag) is
/// escaped in HTML and Markdown reports: none of it appears as markup.
#[test]
fn html_and_markdown_reports_escape_workload_and_command_line_text() {
    let env = Env::new();
    let img = "<img src=x onerror=alert(1)>";
    let script = format!(
        "echo '@perfmon timer start \"{img}\"'; echo '@perfmon mark <script>alert(2)</script>'; sleep 0.05; echo '@perfmon timer stop \"{img}\"'; echo '@perfmon progress iter=1 <svg/onload=alert(3)>=1'; echo '@perfmon progress iter=1 loss=1'"
    );
    let out = env.run(&[
        "run",
        "--quiet",
        "--name",
        "<i>name</i>",
        "--tag",
        "note=<u>tag</u>",
        "--",
        "sh",
        "-c",
        &script,
        "<b>x</b>",
    ]);
    assert!(out.status.success());
    let rep = env.report_json("last");
    assert!(
        rep["timers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == img),
        "the timer was not recorded: {}",
        rep["timers"]
    );
    // The HTML report has its own <img> (the charts): look for the payloads themselves.
    let payloads = [
        "<img src=x",
        "<b>x",
        "<script>alert(2)",
        "<svg/onload",
        "<i>name",
        "<u>tag",
    ];
    for fmt in ["html", "markdown"] {
        let o = env.run(&["report", "last", "--format", fmt]);
        assert!(o.status.success());
        let source = String::from_utf8_lossy(&o.stdout).into_owned();
        // Markdown is judged as a reader sees it: rendered (CommonMark), where an escaped `\<`
        // or a code span is text and raw HTML would pass through as markup.
        let text = if fmt == "markdown" {
            let mut html = String::new();
            pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(&source));
            html
        } else {
            source
        };
        for p in payloads {
            assert!(!text.contains(p), "{fmt} shows {p:?} as markup");
        }
        assert!(text.contains("&lt;img"), "{fmt}: the timer is missing");
    }
}

/// The command lines of the processes of the tree (shown in processes.png) are stored with
/// their secrets redacted, as the run's own command line is.
#[test]
fn process_command_lines_are_stored_redacted() {
    let env = Env::new();
    let out = env.run(&[
        "run",
        "--quiet",
        "--interval",
        "20ms",
        "--",
        "sh",
        "-c",
        "sleep 0.4; true",
        "sh",
        "--password=s3cretProc9",
        "--token",
        "s3cretProc10",
    ]);
    assert!(out.status.success());
    let bytes = db_bytes(&env.db());
    // Space-joined: the track's, not the run's command (a JSON array).
    assert!(
        contains(
            &bytes,
            "sh -c sleep 0.4; true sh --password=*** --token ***"
        ),
        "no redacted process command line stored"
    );
    assert!(!contains(&bytes, "s3cretProc9") && !contains(&bytes, "s3cretProc10"));
}
