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
    uuid: String,
    memory_total_bytes: u64,
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
    points: Vec<Point>,
    first: Option<f64>,
    best: Option<f64>,
    #[serde(rename = "final")]
    final_value: Option<f64>,
    best_iter: Option<i64>,
    best_t_s: Option<f64>,
    converged_iter: Option<i64>,
    converged_t_s: Option<f64>,
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
#[derive(Deserialize)]
#[serde(untagged)]
enum Samples {
    Count(u64),
    Full(SampleData),
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleData {
    count: u64,
    t_s: Vec<f64>,
    metrics: BTreeMap<String, Vec<Option<i64>>>,
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
        let r: Report = serde_json::from_str(&output(samples)).unwrap();
        assert_eq!(r.schema_version, 1);
        assert_eq!(r.status, "ok");
        assert!(matches!(
            (samples, &r.samples),
            (false, Samples::Count(1201)) | (true, Samples::Full(_))
        ));
    }
    // An empty record too (nulls, empty lists).
    let rec = crate::analyze::testutil::empty_record();
    let an = crate::analyze::analyze(&rec);
    let w = super::json::build(&rec, &an, true, 0.01);
    let _: Report = serde_json::from_value(serde_json::to_value(w).unwrap()).unwrap();
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
    let mut ks = std::collections::BTreeSet::new();
    keys(&v, &mut ks);
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
