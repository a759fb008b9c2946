//! Issue 15: secrets recognised by their form (credential headers, GitHub/AWS/Slack/... tokens,
//! JWTs) are redacted in the command, tags, recorded environment values, marks and run names
//! before they are stored, under names that do not look secret.

use crate::common::*;
use crate::security::{contains, db_bytes};

/// The issue's command line, a mark, a tag and an environment value: each holds secrets, none of
/// which may reach the database, the export or a report.
const SECRETS: &[&str] = &[
    // The issue's command line.
    "abcdef123456",
    "xyz789",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "AKIAIOSFODNN7EXAMPLE",
    // Tags.
    "tagBearer42",
    "gho_16C7e42F292c6912E7710c838347Ae178B4a",
    // Environment values.
    "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
    "XXXXXXXXXXXXXXXXXXXXXXXX",
    // The name of a run group.
    "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
    // Marks.
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "markToken77",
    "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI",
];

/// The command line of issue 15, word for word.
const ISSUE_ARGV: &[&str] = &[
    "sh",
    "-c",
    "true",
    "-H",
    "Authorization: Bearer abcdef123456",
    "-H",
    "X-Api-Key: xyz789",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "AKIAIOSFODNN7EXAMPLE",
];

const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

fn runs(env: &Env) {
    let out = env
        .cmd(&[
            "run",
            "--quiet",
            "--name",
            "issue15",
            "--tag",
            "auth=Authorization: Bearer tagBearer42",
            "--tag",
            "gh=gho_16C7e42F292c6912E7710c838347Ae178B4a",
            "--tag",
            "plain=visible-tag",
            "--env",
            "MY_VAR",
            "--env",
            "HOOK",
            "--",
        ])
        .args(ISSUE_ARGV)
        .env("MY_VAR", "ghs_16C7e42F292c6912E7710c838347Ae178B4a")
        .env(
            "HOOK",
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = format!(
        "echo '@perfmon mark deploy with {JWT}'; echo '@perfmon mark retry X-Auth-Token: markToken77'; echo '@perfmon mark key AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI ok'"
    );
    let out = env.run(&[
        "run", "--quiet", "--name", "marks15", "--", "sh", "-c", &script,
    ]);
    assert!(out.status.success());
    let name = "sweep hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh";
    let out = env.run(&[
        "run", "--quiet", "--repeat", "2", "--name", name, "--", "true",
    ]);
    assert!(out.status.success());
}

#[test]
fn secrets_known_by_form_never_reach_the_store_or_any_output() {
    let env = Env::new();
    runs(&env);
    let bytes = db_bytes(&env.db());
    assert!(contains(&bytes, "visible-tag"));
    for s in SECRETS {
        assert!(!contains(&bytes, s), "{s} is in the database");
    }
    let export = env.run(&["export", "issue15", "marks15"]);
    assert!(export.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    // What is kept around the secrets: the header names and schemes, the other arguments, the
    // marks themselves.
    let first = &doc["runs"][0]["meta"];
    assert_eq!(
        first["command"].to_string(),
        r#"["sh","-c","true","-H","Authorization: Bearer ***","-H","X-Api-Key: ***","***","***"]"#
    );
    assert_eq!(
        first["env"].to_string(),
        r#"[["MY_VAR","***"],["HOOK","https://hooks.slack.com/services/***"]]"#
    );
    let marks: Vec<&str> = doc["runs"][1]["marks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        marks,
        ["deploy with ***", "retry X-Auth-Token: ***", "key *** ok"]
    );
    let mut outputs = vec![export.stdout];
    for run in ["issue15", "marks15"] {
        for fmt in ["text", "json", "markdown", "html", "trace"] {
            let o = env.run(&["report", run, "--format", fmt]);
            assert!(o.status.success(), "{fmt}");
            outputs.push(o.stdout);
        }
    }
    outputs.push(env.run(&["list", "--json"]).stdout);
    for o in &outputs {
        for s in SECRETS {
            assert!(!contains(o, s), "{s} shown: {}", String::from_utf8_lossy(o));
        }
    }
}

/// A run exported by an older perfmon, whose rules caught less, is redacted on import (with a
/// warning); a run of today imports unchanged (`compare::export_import_is_lossless...`).
#[test]
fn import_redacts_runs_an_older_perfmon_recorded() {
    let env = Env::new();
    let out = env.run(&["run", "--quiet", "--name", "old", "--", "sh", "-c", "true"]);
    assert!(out.status.success());
    let export = env.run(&["export", "old"]);
    let mut doc: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    // What the older perfmon stored: the issue's command line as it was, and a mark.
    let run = &mut doc["runs"][0];
    run["meta"]["command"] = serde_json::json!(ISSUE_ARGV);
    run["marks"] = serde_json::json!([{"t_s": 0.0, "text": format!("deploy with {JWT}")}]);
    let file = env.dir.path().join("old.json");
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let other = Env::new();
    let out = other.run(&["import", file.to_str().unwrap()]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("held secret-looking values; they are stored redacted"),
        "{stderr}"
    );
    let bytes = db_bytes(&other.db());
    assert!(contains(&bytes, "Authorization: Bearer ***"));
    for s in SECRETS {
        assert!(!contains(&bytes, s), "{s} is in the database");
    }
}
