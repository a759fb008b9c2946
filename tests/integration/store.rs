//! The database: a killed perfmon leaves an incomplete run with its samples; concurrent runs
//! into one database are all saved.

use std::time::Duration;

use crate::common::*;

#[test]
fn sigkill_of_perfmon_leaves_an_incomplete_run_with_samples() {
    let env = Env::new();
    let mut child = env
        .cmd(&["run", "--quiet", "--", "sleep", "30"])
        .spawn()
        .unwrap();
    // Past the first flush (every 5 s).
    std::thread::sleep(Duration::from_millis(6500));
    kill9_perfmon_and_command(&mut child);
    let rep = env.report_json("last");
    assert_eq!(rep["status"], "incomplete");
    let n = rep["samples"]["count"].as_u64().unwrap();
    assert!(n >= 40, "only {n} samples survived");
}

#[test]
fn eight_concurrent_runs_into_one_db_are_all_saved() {
    let env = Env::new();
    let handles: Vec<_> = (0..8)
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
                "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done",
            ])
            .spawn()
            .unwrap()
        })
        .collect();
    for mut h in handles {
        assert!(h.wait().unwrap().success());
    }
    let list = env.run(&["list", "--json", "--limit", "100"]);
    let runs: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 8);
    assert!(runs.iter().all(|r| r["status"] == "ok"));
}
