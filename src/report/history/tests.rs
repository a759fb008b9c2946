//! The history as its reader sees it: which runs and commits it used, why it found nothing,
//! workloads apart, and the chart's levels.
#![allow(clippy::unwrap_used)]

use super::HistoryDocument;
use crate::analyze::history::{histories_by_name, RunValue};

fn run(id: i64, name: &str, value: f64) -> RunValue {
    RunValue {
        run_id: id,
        name: Some(name.into()),
        group_id: None,
        started_at_ms: 1_795_847_004_000 + id * 60_000,
        commit: Some(format!("{:07x}{}", 0xabc0000 + id, "0".repeat(33))),
        value,
    }
}

#[test]
fn too_few_points_say_so_and_what_was_used() {
    let hs = histories_by_name(
        (1..=4).map(|i| run(i, "ci", 1.0)).collect(),
        &Default::default(),
    );
    let doc = HistoryDocument {
        metric: "wall",
        selection: Some("ci"),
        hs: &hs,
    };
    let text = doc.text();
    assert!(
        text.contains("change points: none: too few points to detect a change (need 10, have 4)"),
        "{text}"
    );
    assert!(
        text.contains(
            "ci: 4 points from 4 runs (runs 1, 2, 3, 4), 4 commits (abc0001000, abc0002000, abc0003000, abc0004000), oldest first"
        ),
        "{text}"
    );
}

#[test]
fn workloads_without_a_selection_are_charted_and_listed_apart() {
    // Two workloads interleaved; "slow" doubles at its 7th run.
    let runs: Vec<RunValue> = (1..=28)
        .map(|i| {
            if i % 2 == 1 {
                run(i, "fast", 0.010)
            } else {
                run(i, "slow", if i > 14 { 2.0 } else { 1.0 })
            }
        })
        .collect();
    let hs = histories_by_name(runs, &Default::default());
    let doc = HistoryDocument {
        metric: "wall",
        selection: None,
        hs: &hs,
    };
    let text = doc.text();
    assert!(
        text.starts_with(
            "history of wall over all runs: 2 workloads (run names), each its own series\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("\nfast: 14 points from 14 runs (runs 1 … 27)"),
        "{text}"
    );
    assert!(
        text.contains("\nslow: 14 points from 14 runs (runs 2 … 28)"),
        "{text}"
    );
    assert!(text.contains("1.00 s -> 2.00 s (+100.0%)"), "{text}");
    let v = serde_json::to_value(doc.json()).unwrap();
    assert_eq!(v["points"].as_array().unwrap().len(), 28);
    assert_eq!(v["points"][0]["name"], "fast");
    assert_eq!(v["points"][14]["name"], "slow");
    let cps = v["change_points"].as_array().unwrap();
    assert_eq!(cps.len(), 1, "{cps:?}");
    // The 8th point of "slow" (run 16), the 23rd of all.
    assert_eq!(cps[0]["index"], 14 + 7);
    assert_eq!(cps[0]["name"], "slow");
    assert_eq!(cps[0]["run_ids"][0], 16);
    assert_eq!(v["min_points"], 10);
    let png = doc.png().unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    if let Ok(dir) = std::env::var("PERFMON_PNG_OUT") {
        std::fs::write(format!("{dir}/history.png"), &png).unwrap();
    }
    // The level between changes: flat at each stretch's mean, a jump at the change.
    let slow = &hs[1];
    assert_eq!(
        super::png::levels(slow, 1.0),
        [(0.5, 1.0), (7.5, 1.0), (7.5, 2.0), (14.5, 2.0)]
    );
}
