//! perfmon compare, groups, targets, budgets, history and the CI recipe, end to end on real
//! runs of fixture workloads whose true cost is known.

use crate::common::{python, workload, Env};

/// A CPU burn of a known number of loop iterations (in thousands): awk starts in about a
/// millisecond, so the CPU time is the loop's, unlike an interpreter whose start-up varies.
fn burn(env: &Env, name: &str, kiloiters: &str, repeat: &str) {
    let prog = format!("BEGIN {{ for (i = 0; i < {kiloiters} * 1000; i++) x += i }}");
    let out = env.run(&[
        "run", "--quiet", "--repeat", repeat, "--name", name, "--", "awk", &prog,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn compare_code(env: &Env, base: &str, cand: &str, fail_on: &str) -> i32 {
    let out = env.run(&["compare", base, cand, "--fail-on", fail_on]);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.code().unwrap_or(-1)
}

/// 20 trials of the gate at default settings with `--fail-on fail_on`: in each, 5 interleaved
/// runs of every side (`run(name, side)` for sides 0, 1 and 2; 0 and 1 the same workload, 2
/// the slower one), then base (0) against the same (1) and against the slower (2). Asserts at
/// most 1 false alarm and at least 19 slowdowns caught.
fn assert_gate_trials(env: &Env, fail_on: &str, slower: &str, run: impl Fn(&str, usize)) {
    let trials = 20;
    let (mut false_alarms, mut caught) = (0, 0);
    for t in 0..trials {
        let names = [0, 1, 2].map(|k| format!("t{t}-{k}"));
        // The sides' runs interleave, as a careful benchmark does, so a burst of load falls
        // on all sides alike.
        for _ in 0..5 {
            for (side, name) in names.iter().enumerate() {
                run(name, side);
            }
        }
        let sel = |i: usize| format!("name={}", names[i]);
        if compare_code(env, &sel(0), &sel(1), fail_on) != 0 {
            false_alarms += 1;
        }
        if compare_code(env, &sel(0), &sel(2), fail_on) == 1 {
            caught += 1;
        }
    }
    assert!(
        false_alarms <= 1,
        "{false_alarms} false alarms in {trials} trials"
    );
    assert!(
        caught >= trials - 1,
        "caught {caught} of {trials} {slower} slowdowns"
    );
}

/// 20 compares of two groups of the same workload (5 interleaved runs each) must not fail, and
/// the same workload made three times as costly must fail. The gate is on CPU time: the loop
/// spends a known amount of CPU, while wall time on a CI machine also measures whatever runs
/// beside it.
///
/// How often a 20% or 50% slowdown is caught depends on the machine's noise as much as on
/// perfmon: on shared VMs the CPU time of one and the same loop moves between modes up to 60%
/// apart in bursts of other tenants' load, and CI once caught only 17 of 20 50% slowdowns
/// (2026-12-02). Those rates are measured by `scripts/bench-gate` and kept in BENCHMARKS.md, as
/// timing goals are; this test asks what holds on any machine: the CPU metric reaches the gate
/// and decides it. The statistics' power at 20% is asserted on the steady job below.
#[test]
#[ignore = "timing-sensitive: `make test` runs it alone, after the parallel suite"]
fn the_gate_does_not_cry_wolf_and_catches_slowdowns() {
    let env = Env::new();
    assert_gate_trials(&env, "cpu>5%", "3x", |name, side| {
        burn(&env, name, ["1500", "1500", "4500"][side], "1")
    });
}

/// The gate's sensitivity where the workload's own noise is small: a job that waits (sleep
/// 0.1 s against 0.12 s, wall time measured to about a millisecond) made 20% slower fails in at
/// least 19 of 20 trials of 5 interleaved runs a side, and the same job never fails. The CPU-bound
/// test above cannot ask this of a 20% slowdown on a noisy machine (see `scripts/bench-gate`);
/// this one shows the statistics themselves have the power, and keeps it from regressing.
#[test]
#[ignore = "timing-sensitive: `make test` runs it alone, after the parallel suite"]
fn the_gate_catches_a_20_percent_slowdown_of_a_steady_workload() {
    let env = Env::new();
    assert_gate_trials(&env, "wall>5%", "20%", |name, side| {
        let secs = ["0.1", "0.1", "0.12"][side];
        let out = env.run(&["run", "--quiet", "--name", name, "--", "sleep", secs]);
        assert!(out.status.success());
    });
}

/// A slowdown the runs are too noisy to decide passes the gate (no crying wolf) but is said:
/// one warning line on stderr, `inconclusive` in the gate line and the JSON. The sides are
/// waits of known length, so the test knows the medians (0.10 s and 0.12 s: 20% worse) and
/// the spread (0.10 to 0.16 s) whatever the machine.
#[test]
fn a_worse_median_in_noisy_runs_is_flagged_inconclusive() {
    let env = Env::new();
    let sides = [
        ("base", ["0.10", "0.10", "0.10", "0.14", "0.14"]),
        ("cand", ["0.12", "0.12", "0.12", "0.10", "0.16"]),
    ];
    for (name, waits) in sides {
        for w in waits {
            let out = env.run(&["run", "--quiet", "--name", name, "--", "sleep", w]);
            assert!(out.status.success());
        }
    }
    let out = env.run(&["compare", "name=base", "name=cand", "--fail-on", "wall>5%"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("too noisy")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].starts_with("perfmon: warning: wall is ")
            && warnings[0].contains("% worse (> 5%) but not significantly"),
        "{stderr}"
    );
    assert!(
        stdout.starts_with("passed, inconclusive: wall +")
            && stdout.contains("\ninconclusive: wall is"),
        "{stdout}"
    );

    let out = env.run(&[
        "compare",
        "name=base",
        "name=cand",
        "--fail-on",
        "wall>5%",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let i = &v["gate"]["inconclusive"][0];
    assert_eq!(i["metric"], "wall");
    // The figures are those of the stored walls (sleep's 0.10 against 0.12 s plus whatever the
    // machine adds to every run, which under load shrinks the 20% a little): median against
    // median, and the wider side's max/min.
    let walls = |name: &str| -> Vec<f64> {
        let out = env.run(&["list", "--json", "--name", name]);
        let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut w: Vec<f64> = runs
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["wall_s"].as_f64().unwrap())
            .collect();
        w.sort_by(f64::total_cmp);
        w
    };
    let (b, c) = (walls("base"), walls("cand"));
    let expect_worse = (c[2] / b[2] - 1.0) * 100.0;
    let expect_spread = (b[4] / b[0]).max(c[4] / c[0]) * 100.0 - 100.0;
    let worse = i["worse_by_pct"].as_f64().unwrap();
    assert!((worse - expect_worse).abs() < 0.01, "{i} {b:?} {c:?}");
    assert!(worse > 5.0 && worse < 25.0, "{i}");
    let spread = i["spread_pct"].as_f64().unwrap();
    assert!((spread - expect_spread).abs() < 0.01, "{i} {b:?} {c:?}");
    assert!(spread > worse, "{i}");
    assert!(i["p"].as_f64().unwrap() >= 0.05, "{i}");
    assert_eq!(v["gate"]["passed"], true);

    // A threshold above the change leaves nothing undecided.
    let out = env.run(&["compare", "name=base", "name=cand", "--fail-on", "wall>30%"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("too noisy"));
}

#[test]
fn compare_json_has_its_documented_keys_and_verdicts() {
    let env = Env::new();
    burn(&env, "base", "1000", "3");
    burn(&env, "cand", "3000", "3");
    let out = env.run(&[
        "compare",
        "base",
        "cand",
        "--format",
        "json",
        "--fail-on",
        "cpu>10%",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["base"]["runs"].as_array().unwrap().len(), 3);
    assert_eq!(v["method"]["test"], "welch");
    let cpu = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "cpu")
        .unwrap();
    assert_eq!(cpu["verdict"], "regressed");
    // Three times the loop: about three times the CPU; at least twice, as the parallel suite on
    // two cores blurs a 60 ms loop's CPU time (+124 % was seen in a clean-clone `make test`).
    let change = cpu["change_pct"].as_f64().unwrap();
    assert!(change > 100.0, "{change}");
    assert_eq!(v["gate"]["passed"], false);
    assert_eq!(v["gate"]["failed"][0]["metric"], "cpu");
    // --format png --output DIR writes DIR/compare.png, as report does with its charts.
    let dir = env.dir.path().join("charts");
    let out = env.run(&[
        "compare",
        "base",
        "cand",
        "--fail-on",
        "cpu>10%",
        "--format",
        "png",
        "--output",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let bytes = std::fs::read(dir.join("compare.png")).unwrap();
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 5000);
    // A single run a side: no test, and the output says so.
    let out = env.run(&["compare", "1", "4", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["method"]["test"], "ratio");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let env = Env::new();
    burn(&env, "x", "10", "1");
    for args in [
        vec!["compare", "x", "x", "--fail-on", "wall>>5"],
        vec!["compare", "x", "nosuch"],
        vec!["compare", "x", "x", "--alpha", "2"],
        vec!["check", "x", "--budget", "wall<5parsecs"],
        vec!["history", "--metric", "nosuch"],
    ] {
        let out = env.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn group_report_gives_success_rate_and_ert_as_coco_defines_them() {
    let env = Env::new();
    let w = workload("target_walk.py");
    // Run i reaches loss <= 5 at iteration 5 + i; with 7 iterations run 3 never does.
    let out = env.run(&[
        "run",
        "--quiet",
        "--repeat",
        "4",
        "--name",
        "walk2",
        "--",
        "sh",
        "-c",
        &format!("exec {} {} $PERFMON_REPEAT_INDEX 7", python(), w.display()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = env.run(&[
        "report", "walk2", "--group", "--target", "5", "--format", "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &v["targets"][0];
    assert_eq!(t["runs"], 4);
    assert_eq!(t["successes"], 3);
    assert_eq!(t["direction"], "minimize");
    // (5 + 6 + 7 + 7 iterations) / 3 successes.
    let ert = t["ert_iters"].as_f64().unwrap();
    assert!((ert - 25.0 / 3.0).abs() < 1e-9, "{ert}");
    let wall = v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "wall")
        .unwrap();
    assert_eq!(wall["n"], 4);
    let png = env.dir.path().join("charts");
    let out = env.run(&[
        "report",
        "walk2",
        "--group",
        "--target",
        "5",
        "--format",
        "png",
        "--output",
        png.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let bytes = std::fs::read(png.join("time-to-target-loss.png")).unwrap();
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 5000);
}

#[test]
fn budgets_warn_kill_and_check() {
    let env = Env::new();
    let w = workload("spike.py");
    // 100 MiB held for 3 s against a 50 MiB budget: stopped, stored as over-budget.
    let out = env.run(&[
        "run",
        "--budget",
        "peak_tree_rss<50MiB",
        "--budget-kill",
        "--",
        python(),
        w.to_str().unwrap(),
        "100",
        "3",
        "0",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("budget crossed") && err.contains("peak_tree_rss"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(143), "{err}");
    let rep = env.report_json("last");
    assert_eq!(rep["status"], "over-budget");
    assert_eq!(rep["violations"][0]["metric"], "peak_tree_rss");
    assert!(rep["wall_s"].as_f64().unwrap() < 2.5);
    // check: exit 1 on a broken budget, 0 on a kept one.
    assert_eq!(
        env.run(&["check", "--budget", "peak_tree_rss<50MiB"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        env.run(&["check", "--budget", "wall<1h"]).status.code(),
        Some(0)
    );
}

#[test]
fn history_finds_where_a_slowdown_began() {
    let env = Env::new();
    for k in ["1000"; 8].iter().chain(["2000"; 8].iter()) {
        burn(&env, "ci", k, "1");
    }
    let out = env.run(&["history", "ci", "--metric", "cpu", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["points"].as_array().unwrap().len(), 16);
    let cps = v["change_points"].as_array().unwrap();
    // The shift is found where it began; on a busy machine a stray run may add another.
    let at8 = cps.iter().find(|c| c["index"] == 8);
    assert!(at8.is_some(), "{cps:?}");
    assert!(at8.unwrap()["change_pct"].as_f64().unwrap() > 50.0);
    assert!(cps.len() <= 2, "{cps:?}");
}

#[test]
fn export_import_is_lossless_and_gc_reclaims() {
    let env = Env::new();
    let w = workload("demo_ga.py");
    let out = env.run(&[
        "run",
        "--quiet",
        "--name",
        "ga",
        "--",
        python(),
        w.to_str().unwrap(),
        "8",
        "20",
    ]);
    assert!(out.status.success());
    let exported = env.run(&["export", "ga"]);
    assert!(exported.status.success());
    let file = env.dir.path().join("runs.json");
    std::fs::write(&file, &exported.stdout).unwrap();
    let other = Env::new();
    assert!(other
        .run(&["import", file.to_str().unwrap()])
        .status
        .success());
    let again = other.run(&["export", "ga"]);
    let a: serde_json::Value = serde_json::from_slice(&exported.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        a["runs"], b["runs"],
        "export → import → export changed the run"
    );
    assert!(a["runs"][0]["samples"]["t_us"].as_array().unwrap().len() > 3);
    // gc and rm remove runs and say so.
    burn(&env, "old", "10", "3");
    let out = env.run(&["gc", "--keep-last", "1", "--name", "old"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("removed 2 of 3"));
    assert!(env.run(&["rm", "ga"]).status.success());
    let list = env.run(&["list", "--json"]);
    let l: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(l.as_array().unwrap().len(), 1);
    assert_eq!(env.run(&["doctor"]).status.code(), Some(0));
}

#[test]
fn the_ci_recipe_passes_on_the_same_code_and_fails_on_a_regression() {
    let env = Env::new();
    let recipe = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/ci-recipe");
    let summary = env.dir.path().join("summary.md");
    let run = |branch: &str, kiloiters: &str| {
        let prog = format!("BEGIN {{ for (i = 0; i < {kiloiters} * 1000; i++) x += i }}");
        std::process::Command::new(recipe)
            .args([branch, "--", "awk", prog.as_str()])
            .env("PERFMON", crate::common::perfmon_bin())
            .env("PERFMON_DB", env.db())
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("ARTIFACT_DIR", env.dir.path())
            // The recipe's plumbing is under test here, not the statistics (the gate test above
            // does that, alone): a wide threshold and a 3x slowdown keep it clear of load noise.
            .env("FAIL_ON", "cpu>50%")
            .current_dir(env.dir.path())
            .output()
            .unwrap()
    };
    let main = run("main", "1500");
    assert!(
        main.status.success(),
        "{}",
        String::from_utf8_lossy(&main.stderr)
    );
    let same = run("feature", "1500");
    assert!(
        same.status.success(),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    let slow = run("slow", "4500");
    assert_eq!(
        slow.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&slow.stderr)
    );
    let s = std::fs::read_to_string(&summary).unwrap();
    assert!(
        s.contains("### perfmon group") && s.contains("### FAILED: cpu +"),
        "{s}"
    );
    assert!(s.contains("**regressed**"), "{s}");
    let html = std::fs::read_to_string(env.dir.path().join("perfmon-report.html")).unwrap();
    assert!(html.contains("<html") && !html.contains("https://"));
}

#[test]
fn history_without_a_selection_keeps_workloads_apart_and_says_why_it_finds_nothing() {
    let env = Env::new();
    for _ in 0..3 {
        burn(&env, "small", "10", "1");
        burn(&env, "big", "400", "1");
    }
    let out = env.run(&["history", "--metric", "cpu"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.starts_with("history of cpu over all runs: 2 workloads (run names)"),
        "{text}"
    );
    assert!(
        text.contains("\nsmall: 3 points from 3 runs (runs 1, 3, 5), no commit")
            || text.contains("\nsmall: 3 points from 3 runs (runs 1, 3, 5), 1 commit"),
        "{text}"
    );
    assert!(
        text.contains("\nbig: 3 points from 3 runs (runs 2, 4, 6)"),
        "{text}"
    );
    assert_eq!(
        text.matches("too few points to detect a change (need 10, have 3)")
            .count(),
        2,
        "{text}"
    );
    let out = env.run(&["history", "--metric", "cpu", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["small", "small", "small", "big", "big", "big"]);
    assert_eq!(v["min_points"], 10);
}
