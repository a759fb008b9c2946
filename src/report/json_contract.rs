//! The JSON contract as a test: the output must deserialize into these mirror types, each with
//! `deny_unknown_fields`, and every key must be documented in docs/json-schema.md.
#![allow(clippy::unwrap_used, dead_code)]

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    schema_version: u32,
    id: i64,
    uuid: String,
    name: Option<String>,
    status: String,
    exit_code: Option<i32>,
    signal: Option<i32>,
    command: Vec<String>,
    cwd: String,
    tags: BTreeMap<String, String>,
    started_at: String,
    wall_s: Option<f64>,
    host: Host,
    git: Option<Git>,
    perfmon_version: String,
    interval_ms: u64,
    cpu: Cpu,
    memory: Memory,
    io: Io,
    faults: Faults,
    context_switches: Ctx,
    processes: Processes,
    processes_left_behind: Vec<Left>,
    cgroup: Option<Cgroup>,
    perfmon: Perfmon,
    sources: Sources,
    gpu: Vec<Gpu>,
    gpu_status: String,
    timers: Vec<Timer>,
    spans: Vec<Span>,
    series: Vec<Series>,
    convergence_tol: f64,
    marks: Vec<Mark>,
    samples: Samples,
    resources: Resources,
    findings: Vec<Finding>,
    diagnostics: Diagnostics,
    violations: Vec<Violation>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Violation {
    metric: String,
    limit: f64,
    value: f64,
    t_s: f64,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Host {
    hostname: String,
    os: String,
    kernel: String,
    cpu_model: String,
    cores: u32,
    memory_bytes: u64,
    gpus: Vec<String>,
    gpu_driver: Option<String>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Git {
    commit: String,
    branch: Option<String>,
    dirty: Option<bool>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cpu {
    user_s: f64,
    system_s: f64,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Memory {
    peak_rss_bytes: u64,
    peak_tree_rss_bytes: u64,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Io {
    read_bytes: u64,
    write_bytes: u64,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Faults {
    minor: u64,
    major: u64,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ctx {
    voluntary: u64,
    involuntary: u64,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Processes {
    seen: u64,
    reaped: u64,
    left_behind: Vec<Left>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Left {
    pid: u32,
    name: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cgroup {
    memory_peak_bytes: Option<u64>,
    cpu_user_s: Option<f64>,
    cpu_system_s: Option<f64>,
    io_read_bytes: Option<u64>,
    io_write_bytes: Option<u64>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Perfmon {
    cpu_s: f64,
    peak_rss_bytes: u64,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sources {
    cpu: String,
    peak_rss: String,
    peak_tree_rss: String,
    io: Option<String>,
    faults: String,
    context_switches: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Gpu {
    index: u32,
    name: String,
    uuid: Option<String>,
    memory_total_bytes: Option<u64>,
    util_mean_pct: Option<f64>,
    util_peak_pct: Option<f64>,
    mem_peak_bytes: Option<u64>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Timer {
    name: String,
    count: u64,
    total_s: f64,
    mean_s: f64,
    min_s: f64,
    max_s: f64,
    self_s: f64,
    share_of_wall: f64,
    depth: u32,
    closed_at_exit: u64,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Span {
    name: String,
    start_s: f64,
    end_s: f64,
    depth: u32,
    parent: Option<usize>,
    closed_at_exit: bool,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Series {
    name: String,
    algorithm: Option<String>,
    source: String,
    main: bool,
    direction: String,
    direction_source: String,
    role: String,
    points: Vec<Point>,
    first: Option<f64>,
    best: Option<f64>,
    #[serde(rename = "final")]
    final_value: Option<f64>,
    best_iter: Option<i64>,
    best_t_s: Option<f64>,
    converged_iter: Option<i64>,
    converged_t_s: Option<f64>,
    converged_for_iters: Option<i64>,
    still_improving: bool,
    min: Option<f64>,
    max: Option<f64>,
    stagnation_iters: Option<i64>,
    mean_s_per_iter: Option<f64>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Point {
    iter: i64,
    t_s: f64,
    value: Option<f64>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Mark {
    t_s: f64,
    text: String,
}
/// Always an object (schema version 2); `t_s` and `metrics` only with `--samples`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Samples {
    count: u64,
    interval_ms: u64,
    #[serde(default)]
    t_s: Option<Vec<f64>>,
    #[serde(default)]
    metrics: Option<BTreeMap<String, Vec<Option<i64>>>>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Resources {
    samples: u64,
    host_cores: u32,
    cpu_cores_mean: Option<f64>,
    cpu_cores_peak: Option<f64>,
    cpu_host_share_pct: Option<f64>,
    rss_mean_bytes: Option<u64>,
    rss_peak_bytes: Option<u64>,
    read_mb_s_mean: Option<f64>,
    read_mb_s_peak: Option<f64>,
    write_mb_s_mean: Option<f64>,
    write_mb_s_peak: Option<f64>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Finding {
    kind: String,
    phase: Option<String>,
    share_of_wall: f64,
    message: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Diagnostics {
    lines_seen: u64,
    malformed_lines: u64,
    malformed_examples: Vec<String>,
    unmatched_stops: u64,
    truncated_lines: u64,
    warnings: Vec<String>,
}

fn output(samples: bool) -> String {
    use super::Renderer;
    let rec = super::fixture::record();
    let an = crate::analyze::analyze(&rec);
    let r = super::json::JsonRenderer {
        samples,
        convergence_tol: 0.01,
    };
    String::from_utf8(r.render(&rec, &an).unwrap()).unwrap()
}

#[test]
fn output_matches_the_mirror_types() {
    for samples in [false, true] {
        let text = output(samples);
        let r: Report = serde_json::from_str(&text).unwrap();
        assert_eq!(r.schema_version, super::json_types::SCHEMA_VERSION);
        assert_eq!(r.schema_version, 2);
        assert_eq!(r.status, "ok");
        // `samples` is an object with or without --samples; only the series depend on the flag.
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let obj = v["samples"].as_object().expect("samples is an object");
        let mut got: Vec<&str> = obj.keys().map(String::as_str).collect();
        got.sort_unstable();
        let want = if samples {
            vec!["count", "interval_ms", "metrics", "t_s"]
        } else {
            vec!["count", "interval_ms"]
        };
        assert_eq!(got, want, "samples keys with samples={samples}");
        assert!(obj["count"].is_u64() && obj["interval_ms"].is_u64());
        assert_eq!(r.samples.count, 1201);
        assert_eq!(r.samples.interval_ms, r.interval_ms);
        assert_eq!(r.samples.interval_ms, 100);
        if samples {
            assert_eq!(r.samples.t_s.as_ref().map(Vec::len), Some(1201));
            let metrics = r.samples.metrics.as_ref().unwrap();
            assert!(!metrics.is_empty());
            assert!(metrics.values().all(|col| col.len() == 1201));
        } else {
            assert!(r.samples.t_s.is_none() && r.samples.metrics.is_none());
        }
    }
    // An empty record too (nulls, empty lists), with and without --samples.
    let rec = crate::analyze::testutil::empty_record();
    let an = crate::analyze::analyze(&rec);
    for samples in [false, true] {
        let w = super::json::build(&rec, &an, samples, 0.01);
        let r: Report = serde_json::from_value(serde_json::to_value(w).unwrap()).unwrap();
        assert_eq!(r.samples.count, 0);
        assert_eq!(r.samples.interval_ms, rec.meta.interval_ms);
        assert_eq!(r.samples.t_s.is_some(), samples);
        assert_eq!(r.samples.metrics.is_some(), samples);
    }
}

/// Schema version 2: an unknown GPU fact is null (it was `""` and `0`, figures that were never
/// measured), and the run's recording warnings are listed.
#[test]
fn unknown_gpu_facts_are_null_and_warnings_are_listed() {
    use super::Renderer;
    let mut rec = super::fixture::record();
    let known = rec.gpus[0].clone();
    // The device list lost (an older or imported run): the GPU is known from its columns only.
    rec.gpus.clear();
    rec.diagnostics.warnings = vec!["the output parser stopped".into()];
    let an = crate::analyze::analyze(&rec);
    let r = super::json::JsonRenderer {
        samples: false,
        convergence_tol: 0.01,
    };
    let text = String::from_utf8(r.render(&rec, &an).unwrap()).unwrap();
    let _: Report = serde_json::from_str(&text).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let gpu = &v["gpu"][0];
    assert_eq!(gpu["index"], known.index);
    assert!(gpu["uuid"].is_null(), "{gpu}");
    assert!(gpu["memory_total_bytes"].is_null(), "{gpu}");
    assert_eq!(
        v["diagnostics"]["warnings"],
        serde_json::json!(["the output parser stopped"])
    );
    // A device NVML gave no UUID or memory size for (recorded as "" and 0).
    let mut rec = super::fixture::record();
    rec.gpus[0].uuid.clear();
    rec.gpus[0].memory_total_bytes = 0;
    let an = crate::analyze::analyze(&rec);
    let v = serde_json::to_value(super::json::build(&rec, &an, false, 0.01)).unwrap();
    assert!(v["gpu"][0]["uuid"].is_null() && v["gpu"][0]["memory_total_bytes"].is_null());
    // And a known one is as recorded.
    let rec = super::fixture::record();
    let an = crate::analyze::analyze(&rec);
    let v = serde_json::to_value(super::json::build(&rec, &an, false, 0.01)).unwrap();
    assert_eq!(v["gpu"][0]["uuid"], rec.gpus[0].uuid.as_str());
    assert_eq!(
        v["gpu"][0]["memory_total_bytes"],
        rec.gpus[0].memory_total_bytes
    );
}

fn keys(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                out.insert(k.clone());
                keys(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

#[test]
fn every_key_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json-schema.md"))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&output(true)).unwrap();
    let plain: serde_json::Value = serde_json::from_str(&output(false)).unwrap();
    let mut ks = std::collections::BTreeSet::new();
    keys(&v, &mut ks);
    keys(&plain, &mut ks);
    // Keys under samples.metrics and tags are data (metric names, tag keys), not schema.
    let data: std::collections::BTreeSet<String> = v["samples"]["metrics"]
        .as_object()
        .unwrap()
        .keys()
        .chain(v["tags"].as_object().unwrap().keys())
        .cloned()
        .collect();
    let missing: Vec<_> = ks
        .iter()
        .filter(|k| !data.contains(*k) && !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(missing.is_empty(), "undocumented keys: {missing:?}");
}
