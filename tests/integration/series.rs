//! Progress series that mean what they say: the direction inferred from the output (and where it
//! came from), parameters kept apart from objectives, and convergence only after a plateau.
//! Figures are checked against the corpus' ground truth (recorded in-process by the workload).

use std::path::PathBuf;

use crate::common::{f64_at, Env};

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/corpus")
        .join(name)
}

fn truth(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(corpus(name).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn by_name<'a>(rep: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    rep["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no series {name}: {}", rep["series"]))
}

fn run_optuna(env: &Env, extra: &[&str]) -> serde_json::Value {
    let file = corpus("optuna_tpe").join("stderr.txt");
    let mut args = vec!["--quiet"];
    args.extend_from_slice(extra);
    let (out, rep) = env.run_and_report(&args, &["cat", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    rep
}

#[test]
fn an_optuna_maximize_study_is_maximized_with_its_parameters_apart() {
    let env = Env::new();
    let rep = run_optuna(&env, &[]);
    let t = truth("optuna_tpe");
    assert_eq!(t["direction"], "maximize");
    let v = by_name(&rep, "value");
    assert_eq!(v["main"], true);
    assert_eq!(v["role"], "objective");
    assert_eq!(v["direction"], "maximize");
    assert_eq!(v["direction_source"], "best");
    assert_eq!(f64_at(v, "best"), f64_at(&t, "final.best_value"));
    assert_eq!(v["best_iter"], t["final"]["best_trial"]);
    // Convergence from the ground truth: the first trial whose running max is within 1% of the
    // final best, and the run stays there to its end (80 trials).
    let vals: Vec<f64> = t["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    let best = vals.iter().copied().fold(f64::MIN, f64::max);
    let mut running = f64::MIN;
    let first = vals
        .iter()
        .position(|&x| {
            running = running.max(x);
            (best - running).abs() <= 0.01 * best
        })
        .unwrap();
    assert_eq!(v["converged_iter"], first as i64);
    assert_eq!(v["converged_for_iters"], (vals.len() - 1 - first) as i64);
    assert_eq!(v["still_improving"], false);
    let b = by_name(&rep, "best_value");
    assert_eq!(
        (&b["role"], &b["direction"]),
        (&"metric".into(), &"maximize".into())
    );
    for p in ["C", "gamma"] {
        let s = by_name(&rep, p);
        assert_eq!(s["role"], "parameter", "{s}");
        for k in ["best", "best_iter", "converged_iter", "stagnation_iters"] {
            assert!(s[k].is_null(), "{p}.{k}: {s}");
        }
        assert_eq!(s["points"].as_array().unwrap().len(), 80);
    }
    // The text report shows the direction's source and keeps the parameters apart.
    let out = env.run(&["report", "last"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("max (best)"), "{text}");
    let params = text
        .split("\nParameters (2, per iteration)")
        .nth(1)
        .unwrap_or("");
    assert!(
        params.contains("\n  C ") && params.contains("\n  gamma "),
        "{text}"
    );
}

#[test]
fn the_command_line_and_perfmon_toml_set_directions() {
    let env = Env::new();
    std::fs::write(
        env.dir.path().join("perfmon.toml"),
        "[directions]\nvalue = \"min\"\nbest_value = \"min\"\n",
    )
    .unwrap();
    let rep = run_optuna(&env, &[]);
    let v = by_name(&rep, "value");
    assert_eq!(
        (&v["direction"], &v["direction_source"]),
        (&"minimize".into(), &"config".into())
    );
    let lowest = v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .fold(f64::MAX, f64::min);
    assert_eq!(f64_at(v, "best"), lowest);
    // --direction wins over the file; a name no series has is a warning, not an error.
    let file = corpus("optuna_tpe").join("stderr.txt");
    let out = env.run(&[
        "run",
        "--direction",
        "value=max",
        "--direction",
        "nothing=min",
        "--",
        "cat",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("perfmon: warning: --direction names \"nothing\""),
        "{stderr}"
    );
    let rep = env.report_json("last");
    let v = by_name(&rep, "value");
    assert_eq!(
        (&v["direction"], &v["direction_source"]),
        (&"maximize".into(), &"option".into())
    );
    assert_eq!(by_name(&rep, "best_value")["direction_source"], "config");
    let bad = env.run(&["run", "--direction", "value=up", "--", "true"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_direction_stated_in_the_output_and_a_loss_still_falling() {
    let env = Env::new();
    let mut out = String::from("[I 2026-01-01] Study direction: StudyDirection.MAXIMIZE\n");
    for i in 0..30 {
        out += &format!("Trial {i} finished with value: {}\n", 1.0 - 0.8f64.powi(i));
    }
    for i in 0..50 {
        out += &format!("@perfmon progress iter={i} loss={}\n", 0.9f64.powi(i));
    }
    let file = env.dir.path().join("out.txt");
    std::fs::write(&file, out).unwrap();
    let (_, rep) = env.run_and_report(&["--quiet"], &["cat", file.to_str().unwrap()]);
    let loss = by_name(&rep, "loss");
    // The protocol series is the main one; the statement goes to the main series only when it
    // has no direction of its own, so here loss keeps its name's.
    assert_eq!(loss["direction_source"], "name");
    assert_eq!(loss["still_improving"], true, "{loss}");
    assert!(loss["converged_iter"].is_null());
    let text = String::from_utf8_lossy(&env.run(&["report", "last"]).stdout).to_string();
    assert!(text.contains("still improving"), "{text}");

    // Without the protocol series, the statement names the direction of the trials' value.
    let trials: String = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("@perfmon"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, trials).unwrap();
    let (_, rep) = env.run_and_report(&["--quiet"], &["cat", file.to_str().unwrap()]);
    let v = by_name(&rep, "value");
    assert_eq!(v["main"], true);
    assert_eq!(
        (&v["direction"], &v["direction_source"]),
        (&"maximize".into(), &"output".into())
    );
}

/// Every corpus folder that prints progress: the main series' direction is the one its
/// workload optimized (expected.json, written by the workload itself), whoever told perfmon.
#[test]
fn the_corpus_main_series_go_the_way_their_workloads_optimized() {
    let env = Env::new();
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(corpus("")).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(text) = std::fs::read_to_string(dir.join("expected.json")) else {
            continue;
        };
        let t: serde_json::Value = serde_json::from_str(&text).unwrap();
        if t["n_progress_lines"].as_u64().unwrap_or(0) == 0 {
            continue;
        }
        let file = dir.join(format!("{}.txt", t["stream"].as_str().unwrap()));
        let (out, rep) = env.run_and_report(&["--quiet"], &["cat", file.to_str().unwrap()]);
        assert!(out.status.success());
        let main = rep["series"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["main"] == true)
            .unwrap_or_else(|| panic!("{}: no main series", dir.display()));
        assert_eq!(
            main["direction"],
            t["direction"],
            "{}: {main}",
            dir.display()
        );
        checked.push(format!("{} {}", t["name"], main["direction_source"]));
    }
    assert!(checked.len() >= 8, "{checked:?}");
}
