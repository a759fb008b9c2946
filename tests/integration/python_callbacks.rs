//! The Python module (python/) and its library callbacks, end to end: each workload in
//! fixtures/python/ runs under `perfmon run`, uses the real library with perfmon's callback and
//! writes what the library itself reported in-process to a JSON file; the series perfmon stored
//! must be exactly those (same iterations, bit-equal floats, directions). The libraries live in
//! .venv-test, made by `make deps` (scripts/setup-pyenv.sh); without it these tests fail and
//! say so. The module is taken from the working tree (PYTHONPATH=python), so a test never runs
//! a stale installed copy.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::Env;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The test virtualenv's python (`PERFMON_TEST_VENV` may point elsewhere, as for setup-pyenv).
fn venv_python() -> PathBuf {
    let venv = std::env::var_os("PERFMON_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".venv-test"));
    let py = root().join(venv).join("bin/python");
    assert!(
        py.exists(),
        "{} is missing: run `make deps` (scripts/setup-pyenv.sh) to create the virtualenv with \
         the Python libraries these tests run against",
        py.display()
    );
    py
}

/// One thread a library: the suite runs beside timing-sensitive tests on 2 cores, and JAX,
/// OpenBLAS and OpenMP would otherwise each start one thread a core.
fn one_thread(c: &mut Command) -> &mut Command {
    c.env("OMP_NUM_THREADS", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("MKL_NUM_THREADS", "1")
        .env(
            "XLA_FLAGS",
            "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
        )
}

fn workload(name: &str) -> PathBuf {
    root().join("fixtures/python").join(name)
}

/// A workload's own run, without perfmon: what it prints and what it expected.
fn direct(env: &Env, python: &Path, name: &str) -> (Output, Value) {
    let expect = env.dir.path().join("direct.json");
    let mut c = Command::new(python);
    c.arg(workload(name)).arg(&expect);
    c.env("PYTHONPATH", root().join("python"));
    c.env_remove("PERFMON").env_remove("PERFMON_FORCE");
    c.current_dir(env.dir.path());
    let out = one_thread(&mut c).output().expect("run python");
    assert!(out.status.success(), "{name}: {}", text(&out.stderr));
    (out, read_json(&expect))
}

/// The workload under `perfmon run`: the report and the workload's expected series.
fn under_perfmon(env: &Env, python: &Path, name: &str) -> (Value, Value) {
    let expect = env.dir.path().join("expect.json");
    let mut c = env.cmd(&["run", "--quiet", "--"]);
    c.arg(python).arg(workload(name)).arg(&expect);
    c.env("PYTHONPATH", root().join("python"));
    c.env_remove("PERFMON_FORCE");
    let out = one_thread(&mut c).output().expect("run perfmon");
    assert!(out.status.success(), "{name}: {}", text(&out.stderr));
    (env.report_json("last"), read_json(&expect))
}

fn read_json(p: &Path) -> Value {
    let s = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_slice(&s).expect("workload wrote JSON")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An expected value: a number, or "nan"/"inf"/"-inf" (stored, reported as null).
fn expected_value(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            assert!(["nan", "inf", "-inf"].contains(&s.as_str()), "{s}");
            None
        }
        _ => panic!("bad expected value {v}"),
    }
}

fn key(s: &Value) -> (String, Option<String>) {
    (
        s["name"].as_str().unwrap().to_string(),
        s["algorithm"].as_str().map(str::to_string),
    )
}

/// Every expected series is stored by the protocol exactly, and no other protocol series is.
fn assert_series(name: &str, report: &Value, expect: &Value) {
    let stored: Vec<&Value> = report["series"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["source"] == "protocol")
        .collect();
    let want = expect["series"].as_array().unwrap();
    let mut stored_keys: Vec<_> = stored.iter().map(|s| key(s)).collect();
    let mut want_keys: Vec<_> = want.iter().map(key).collect();
    stored_keys.sort();
    want_keys.sort();
    assert_eq!(stored_keys, want_keys, "{name}: series");
    for w in want {
        let k = key(w);
        let s = stored.iter().find(|s| key(s) == k).unwrap();
        let got: Vec<(i64, Option<u64>)> = s["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["iter"].as_i64().unwrap(),
                    p["value"].as_f64().map(f64::to_bits),
                )
            })
            .collect();
        let wanted: Vec<(i64, Option<u64>)> = w["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_i64().unwrap(),
                    expected_value(&p[1]).map(f64::to_bits),
                )
            })
            .collect();
        assert!(!wanted.is_empty(), "{name}: {k:?} expects no points");
        assert_eq!(got, wanted, "{name}: {k:?} points (iter, f64 bits)");
        if let Some(d) = w["direction"].as_str() {
            assert_eq!(s["direction"], d, "{name}: {k:?} direction");
            assert_eq!(s["direction_source"], "recorded", "{name}: {k:?}");
        }
    }
}

/// Runs a workload under perfmon and checks its series, then alone: no `@perfmon` line then.
fn check(workload: &str) {
    let python = venv_python();
    let env = Env::new();
    let (report, expect) = under_perfmon(&env, &python, workload);
    assert_series(workload, &report, &expect);
    let (out, _) = direct(&env, &python, workload);
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !text(stream).contains("@perfmon"),
            "{workload} printed protocol lines without perfmon: {}",
            text(stream)
        );
    }
}

#[test]
fn scipy_minimize_and_differential_evolution() {
    check("scipy_workload.py");
}

#[test]
fn optuna_trials() {
    check("optuna_workload.py");
}

#[test]
fn xgboost_train_and_cv() {
    check("xgboost_workload.py");
}

#[test]
fn lightgbm_train_and_cv() {
    check("lightgbm_workload.py");
}

#[test]
fn pymoo_single_and_multi_objective() {
    check("pymoo_workload.py");
}

#[test]
fn deap_easimple_and_logbook() {
    check("deap_workload.py");
}

/// Keras 3 for real, on the JAX CPU backend (installed by `make deps`).
#[test]
fn keras_epochs_and_batches() {
    check("keras_workload.py");
}

/// The module alone: exact round trip of awkward values and keys, timers and marks as stored.
#[test]
fn module_values_timers_and_marks_round_trip() {
    let python = venv_python();
    let env = Env::new();
    let (report, expect) = under_perfmon(&env, &python, "protocol_workload.py");
    assert_series("protocol", &report, &expect);
    let spans: Vec<(String, u64, Option<u64>)> = report["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["closed_at_exit"], false, "{s}");
            (
                s["name"].as_str().unwrap().to_string(),
                s["depth"].as_u64().unwrap(),
                s["parent"].as_u64(),
            )
        })
        .collect();
    let want: Vec<(String, u64, Option<u64>)> = expect["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s[0].as_str().unwrap().to_string(),
                s[1].as_u64().unwrap(),
                s[2].as_u64(),
            )
        })
        .collect();
    assert_eq!(spans, want);
    let marks: Vec<&str> = report["marks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(marks, ["loaded all"]);
    let diag = &report["diagnostics"];
    assert_eq!(diag["malformed_lines"], 0, "{diag}");
    assert_eq!(diag["unmatched_stops"], 0, "{diag}");
}

/// python/tests: formatting, quoting, timers, the on/off switch, threads.
#[test]
fn module_unit_tests() {
    let out = Command::new(venv_python())
        .args(["-m", "unittest", "discover", "-s", "python/tests", "-v"])
        .current_dir(root())
        .env_remove("PERFMON")
        .env_remove("PERFMON_FORCE")
        .output()
        .expect("run python");
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("skipped"), "a module test was skipped: {err}");
}

/// `pip install ./python` (done by make deps) gives an importable package in the venv, and
/// importing it and its callbacks (even with `*`) pulls in none of the libraries.
#[test]
fn installed_module_imports_no_library() {
    let out = Command::new(venv_python())
        .args([
            "-c",
            "import sys, perfmon; from perfmon.callbacks import *; \
             print(perfmon.__file__); \
             libs = ['scipy', 'optuna', 'keras', 'xgboost', 'lightgbm', 'pymoo', 'deap', 'numpy']; \
             print([m for m in libs if m in sys.modules])",
        ])
        .current_dir(std::env::temp_dir())
        .env_remove("PYTHONPATH")
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let mut lines = s.lines();
    assert!(lines.next().unwrap().contains("site-packages"), "{s}");
    assert_eq!(lines.next(), Some("[]"), "{s}");
}
