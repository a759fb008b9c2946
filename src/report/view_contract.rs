//! The JSON contracts of the group, compare and history documents, as tests: each output must
//! deserialize into these mirror types, each with `deny_unknown_fields` and every nullable key
//! required (present, possibly null); every key must be documented in its section of
//! docs/json-schema.md; and keys come in the order of their names, as they always have.
#![allow(clippy::unwrap_used, dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer};

use super::Selection;
use crate::analyze::compare::CompareOptions;
use crate::analyze::figures::Figure;
use crate::analyze::hosts::{Cpu, SideCpus};
use crate::analyze::sides::{Comparison, Side};
use crate::analyze::spec::{parse_fail_on, Metric};

/// A key that must be present, with a value or null.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::deserialize(d)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Runs {
    label: String,
    runs: Vec<i64>,
    selection: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    command: String,
    group: Runs,
    metrics: Vec<GroupMetric>,
    schema_version: u32,
    targets: Vec<Target>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupMetric {
    max: f64,
    mean: f64,
    median: f64,
    metric: String,
    min: f64,
    n: u64,
    outlier_runs: Vec<i64>,
    stddev: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Target {
    attempts: Vec<Attempt>,
    direction: String,
    #[serde(deserialize_with = "nullable")]
    ert_iters: Option<f64>,
    #[serde(deserialize_with = "nullable")]
    ert_s: Option<f64>,
    runs: u64,
    series: String,
    success_rate: f64,
    successes: u64,
    target: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Attempt {
    #[serde(deserialize_with = "nullable")]
    hit_iter: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    hit_t_s: Option<f64>,
    run_id: i64,
    spent_iters: i64,
    #[serde(deserialize_with = "nullable")]
    spent_s: Option<f64>,
    success: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Compare {
    base: Runs,
    candidate: Runs,
    gate: Gate,
    hosts: Hosts,
    method: Method,
    rows: Vec<Row>,
    schema_version: u32,
    shared_runs: Vec<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Hosts {
    base: Vec<HostCpu>,
    candidate: Vec<HostCpu>,
    cores_differ: bool,
    cpu_models_differ: bool,
    #[serde(deserialize_with = "nullable")]
    warning: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HostCpu {
    cores: u32,
    cpu_model: String,
    runs: Vec<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Method {
    alpha: f64,
    min_effect_pct: f64,
    test: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    base: Summary,
    candidate: Summary,
    #[serde(deserialize_with = "nullable")]
    change_pct: Option<f64>,
    label: String,
    lower_is_better: bool,
    metric: String,
    #[serde(deserialize_with = "nullable")]
    p: Option<f64>,
    test: String,
    verdict: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Summary {
    max: f64,
    mean: f64,
    median: f64,
    min: f64,
    n: u64,
    stddev: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Gate {
    failed: Vec<Failed>,
    inconclusive: Vec<Inconclusive>,
    not_measured: Vec<String>,
    passed: bool,
    thresholds: Vec<Threshold>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Threshold {
    metric: String,
    pct: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Failed {
    metric: String,
    threshold_pct: f64,
    #[serde(deserialize_with = "nullable")]
    worse_by_pct: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Inconclusive {
    metric: String,
    #[serde(deserialize_with = "nullable")]
    p: Option<f64>,
    #[serde(deserialize_with = "nullable")]
    spread_pct: Option<f64>,
    threshold_pct: f64,
    worse_by_pct: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct History {
    change_points: Vec<ChangePoint>,
    method: String,
    metric: String,
    min_points: u64,
    points: Vec<HistoryPoint>,
    schema_version: u32,
    #[serde(deserialize_with = "nullable")]
    selection: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryPoint {
    #[serde(deserialize_with = "nullable")]
    commit: Option<String>,
    #[serde(deserialize_with = "nullable")]
    name: Option<String>,
    run_ids: Vec<i64>,
    started_at: String,
    #[serde(deserialize_with = "nullable")]
    value: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangePoint {
    after: f64,
    before: f64,
    #[serde(deserialize_with = "nullable")]
    change_pct: Option<f64>,
    #[serde(deserialize_with = "nullable")]
    commit: Option<String>,
    index: u64,
    #[serde(deserialize_with = "nullable")]
    name: Option<String>,
    p: f64,
    run_ids: Vec<i64>,
}

fn sel(spec: &str, ids: &[i64]) -> Selection {
    Selection {
        spec: spec.into(),
        label: format!("group {spec:?} ({} runs)", ids.len()),
        ids: ids.to_vec(),
    }
}

/// Four runs of the fixture, one slower, one without a wall time.
fn group_json() -> String {
    let runs: Vec<_> = (0..4)
        .map(|i| {
            let mut r = super::fixture::record();
            r.meta.id = 10 + i;
            r.meta.group_id = Some(3);
            for p in &mut r.series[0].points {
                p.value *= 1.0 + i as f64;
            }
            if i == 3 {
                r.meta.wall_s = None;
                r.totals.cpu_user_us *= 3;
            }
            r
        })
        .collect();
    let targets: BTreeMap<String, f64> =
        [("best".to_string(), 0.012), ("nosuch".to_string(), 1.0)].into();
    let g = crate::analyze::group::summarize_group(&runs, &targets, 0.01);
    let s = sel("group:3", &[10, 11, 12, 13]);
    super::json_text(&super::group::json(&s, &g)).unwrap()
}

fn side(walls: &[f64], cpus: &[f64], zeros: usize) -> Side {
    Side::from_runs(walls.iter().zip(cpus).map(|(w, c)| {
        let f = |metric, value| Figure {
            metric,
            value,
            lower_is_better: true,
        };
        let mut figs = vec![f(Metric::Wall, *w), f(Metric::Cpu, *c)];
        figs.extend((0..zeros).map(|_| f(Metric::IoRead, 0.0)));
        (Some("loss".to_string()), figs)
    }))
}

/// A failed threshold, an inconclusive one, one not measured, and a metric at 0 on both sides.
fn compare_json() -> String {
    let base = side(
        &[10.0, 10.2, 9.9, 10.1, 10.0],
        &[0.0607, 0.0575, 0.0616, 0.0452, 0.0621],
        1,
    );
    let cand = side(
        &[12.0, 12.1, 11.9, 12.2, 12.0],
        &[0.0548, 0.0639, 0.0566, 0.0721, 0.0644],
        1,
    );
    let c = Comparison::new(
        &base,
        &cand,
        parse_fail_on("wall>5%,cpu>3%,gpu_mem>1%").unwrap(),
        CompareOptions::default(),
    );
    assert_eq!(
        (c.failures.len(), c.undecided.len(), c.not_measured.len()),
        (1, 1, 1)
    );
    let (b, k) = (
        sel("base", &[1, 2, 3, 4, 5]),
        sel("cand", &[6, 7, 8, 9, 10]),
    );
    let cpu = |model: &str, cores, runs: &[i64]| Cpu {
        model: model.into(),
        cores,
        runs: runs.to_vec(),
    };
    let cpus = SideCpus {
        base: vec![cpu("AMD EPYC 7313", 16, &b.ids)],
        cand: vec![
            cpu("AMD EPYC 7313", 16, &[6, 7]),
            cpu("Apple M2", 8, &[8, 9, 10]),
        ],
    };
    let doc = super::compare::CompareDocument {
        base: &b,
        cand: &k,
        c: &c,
        cpus: &cpus,
    };
    super::json_text(&doc.json()).unwrap()
}

/// 16 points with a shift at the ninth, a group among them and a run without a commit.
fn history_json() -> String {
    use crate::analyze::history::{history, RunValue};
    let runs = (0..16).map(|i| RunValue {
        name: Some("ci".into()),
        run_id: i + 1,
        group_id: (i == 2).then_some(9),
        started_at_ms: 1_795_847_004_000 + i * 60_000,
        commit: (i != 5).then(|| format!("{:07x}", 0xabc000 + i)),
        value: if i < 8 { 10.0 } else { 20.0 } + (i % 3) as f64 * 0.1,
    });
    let h = history(runs, &Default::default());
    assert!(!h.change_points.is_empty());
    let hs = [h];
    let doc = super::history::HistoryDocument {
        metric: "wall",
        selection: Some("ci"),
        hs: &hs,
    };
    super::json_text(&doc.json()).unwrap()
}

#[test]
fn group_json_matches_the_mirror_types() {
    let text = group_json();
    let g: Group = serde_json::from_str(&text).unwrap();
    assert_eq!(g.schema_version, 1);
    assert_eq!(g.schema_version, super::group::GROUP_SCHEMA_VERSION);
    assert_eq!(g.group.runs, [10, 11, 12, 13]);
    assert_eq!(g.targets.len(), 2);
    assert!(g.metrics.iter().any(|m| m.metric == "wall" && m.n == 3));
    // A target no run reached has an infinite (null) ERT and attempts without hits.
    let none = g.targets.iter().find(|t| t.series == "nosuch").unwrap();
    assert_eq!(none.successes, 0);
    assert!(none.ert_iters.is_none() && none.attempts.iter().all(|a| a.hit_iter.is_none()));
    assert!(g.targets[0].attempts.iter().any(|a| a.spent_s.is_none()));
}

#[test]
fn compare_json_matches_the_mirror_types() {
    let c: Compare = serde_json::from_str(&compare_json()).unwrap();
    assert_eq!(c.schema_version, 1);
    assert_eq!(c.schema_version, super::compare::COMPARE_SCHEMA_VERSION);
    assert_eq!(c.method.test, "mann-whitney");
    assert!(!c.gate.passed);
    assert_eq!(c.gate.failed[0].metric, "wall");
    assert_eq!(c.gate.inconclusive[0].metric, "cpu");
    assert_eq!(c.gate.not_measured, ["gpu_mem"]);
    assert!(c.shared_runs.is_empty());
    assert!(c.hosts.cpu_models_differ && c.hosts.cores_differ);
    assert_eq!(c.hosts.candidate[1].cpu_model, "Apple M2");
    assert_eq!(c.hosts.candidate[1].runs, [8, 9, 10]);
    assert!(c
        .hosts
        .warning
        .unwrap()
        .contains("\"Apple M2\" (8 cores, runs 8 9 10)"));
    let best = c.rows.iter().find(|r| r.metric == "wall").unwrap();
    assert_eq!(best.label, "wall");
    let io = c.rows.iter().find(|r| r.metric == "io_read").unwrap();
    assert!(io.change_pct.is_none());
}

#[test]
fn history_json_matches_the_mirror_types() {
    let h: History = serde_json::from_str(&history_json()).unwrap();
    assert_eq!(h.schema_version, 1);
    assert_eq!(h.schema_version, super::history::HISTORY_SCHEMA_VERSION);
    assert_eq!(h.points.len(), 16);
    assert!(h.points.iter().any(|p| p.commit.is_none()));
    assert_eq!(h.change_points[0].index, 8);
    assert_eq!(h.points[0].started_at, "2026-11-28T06:23:24.000Z");
}

/// Every key of every object of the JSON text, recursively.
fn keys(text: &str) -> BTreeSet<String> {
    fn walk(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => {
                out.extend(m.keys().cloned());
                m.values().for_each(|x| walk(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(&serde_json::from_str(text).unwrap(), &mut out);
    out
}

/// The section of docs/json-schema.md under `heading`, up to the next `## `.
fn doc_section(heading: &str) -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json-schema.md"))
        .unwrap();
    let start = doc
        .find(heading)
        .unwrap_or_else(|| panic!("docs/json-schema.md has no {heading:?}"));
    let rest = &doc[start + heading.len()..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    rest[..end].to_string()
}

#[test]
fn every_key_is_documented_in_its_section() {
    for (heading, text) in [
        ("## Group", group_json()),
        ("## Compare", compare_json()),
        ("## History", history_json()),
    ] {
        let section = doc_section(heading);
        let missing: Vec<_> = keys(&text)
            .into_iter()
            .filter(|k| !section.contains(&format!("`{k}`")))
            .collect();
        assert!(
            missing.is_empty(),
            "{heading}: undocumented keys {missing:?}"
        );
    }
}

/// The keys of each object of pretty-printed JSON, in the order written.
fn keys_as_written(text: &str) -> Vec<Vec<String>> {
    let mut done = Vec::new();
    let mut open: Vec<Vec<String>> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some((k, _)) = line.strip_prefix('"').and_then(|r| r.split_once("\": ")) {
            open.last_mut().unwrap().push(k.to_string());
        }
        if line.ends_with('{') {
            open.push(Vec::new());
        }
        if line.starts_with('}') {
            done.push(open.pop().unwrap());
        }
    }
    done
}

/// Earlier versions wrote maps with sorted keys; the wire types keep that order, so the bytes
/// of the output are as they were.
#[test]
fn keys_are_written_in_the_order_of_their_names() {
    for text in [group_json(), compare_json(), history_json()] {
        let objects = keys_as_written(&text);
        assert!(objects.len() > 10);
        for keys in objects {
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted);
        }
    }
}
