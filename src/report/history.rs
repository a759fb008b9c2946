//! A metric's history (`perfmon history --metric M`): the points and change points of a
//! [`History`] as text, JSON (schema [`HISTORY_SCHEMA_VERSION`], documented in
//! docs/json-schema.md) and a chart.

use super::png::panel::{render_panels, Line, Mark, Panel, VMarker};
use super::png::style::{byte_unit, time_unit};
use super::table::{Align, Table};
use super::units::{fmt_metric, fmt_num};
use super::{fmt_rfc3339, ReportError};
use crate::analyze::history::{History, Point};
use crate::analyze::spec::{Metric, Unit};

/// Version of the history JSON.
pub const HISTORY_SCHEMA_VERSION: u32 = 1;

/// What the JSON says of the method.
const METHOD: &str = "e-divisive means (alpha 1), permutation test";

/// A history of `metric` over the runs `selection` names (None: all runs).
pub struct HistoryDocument<'a> {
    pub metric: &'a str,
    pub selection: Option<&'a str>,
    pub h: &'a History,
}

/// The first 10 characters of a commit, or `-`.
fn short(c: &Option<String>) -> String {
    c.as_deref()
        .map(|c| c.chars().take(10).collect())
        .unwrap_or_else(|| "-".into())
}

/// `run 5`, or `runs 5-9 (5)` for a group.
fn who(p: &Point) -> String {
    match p.run_ids.as_slice() {
        [one] => format!("run {one}"),
        many => format!(
            "runs {}-{} ({})",
            many.first().copied().unwrap_or(0),
            many.last().copied().unwrap_or(0),
            many.len()
        ),
    }
}

impl HistoryDocument<'_> {
    pub fn text(&self) -> String {
        let (metric, points, cps) = (self.metric, &self.h.points, &self.h.change_points);
        let mut o = format!(
            "history of {metric} over {} ({} points, oldest first)\n\n",
            self.selection
                .map(|s| format!("runs {s:?}"))
                .unwrap_or_else(|| "all runs".into()),
            points.len()
        );
        let mut t =
            Table::new(&["#", "runs", "started (UTC)", "commit", metric, ""], 0).aligned(&[
                Align::Right,
                Align::Left,
                Align::Left,
                Align::Left,
                Align::Right,
                Align::Left,
            ]);
        t.min_width = vec![4, 22, 19, 10, 12];
        for (i, p) in points.iter().enumerate() {
            let started = fmt_rfc3339(p.started_at_ms);
            t.row(vec![
                (i + 1).to_string(),
                who(p),
                started.get(..19).unwrap_or(&started).replace('T', " "),
                short(&p.commit),
                fmt_metric(metric, p.value),
                if cps.iter().any(|c| c.index == i) {
                    "<- change".into()
                } else {
                    String::new()
                },
            ]);
        }
        o.push_str(&t.text(0));
        o.push('\n');
        if cps.is_empty() {
            o.push_str("change points: none (E-divisive means, permutation test)\n");
        } else {
            o.push_str("change points (E-divisive means, permutation test):\n");
            for c in cps {
                let p = &points[c.index];
                o.push_str(&format!(
                    "  at #{} ({}, commit {}): {} -> {} ({}), p = {:.3}\n",
                    c.index + 1,
                    who(p),
                    short(&p.commit),
                    fmt_metric(metric, c.mean_before),
                    fmt_metric(metric, c.mean_after),
                    c.relative_change()
                        .map(|r| format!("{:+.1}%", r * 100.0))
                        .unwrap_or_else(|| "n/a".into()),
                    c.p
                ));
            }
        }
        o
    }

    /// The history JSON.
    pub fn json(&self) -> wire::History {
        let points = &self.h.points;
        wire::History {
            change_points: self
                .h
                .change_points
                .iter()
                .map(|c| wire::ChangePoint {
                    after: c.mean_after,
                    before: c.mean_before,
                    change_pct: c.relative_change().map(|r| r * 100.0),
                    commit: points[c.index].commit.clone(),
                    index: c.index,
                    p: c.p,
                    run_ids: points[c.index].run_ids.clone(),
                })
                .collect(),
            method: METHOD,
            metric: self.metric.to_string(),
            points: points
                .iter()
                .map(|p| wire::Point {
                    commit: p.commit.clone(),
                    run_ids: p.run_ids.clone(),
                    started_at: fmt_rfc3339(p.started_at_ms),
                    value: p.value,
                })
                .collect(),
            schema_version: HISTORY_SCHEMA_VERSION,
            selection: self.selection.map(str::to_string),
        }
    }

    /// The metric over the points, with the change points marked.
    pub fn png(&self) -> Result<Vec<u8>, ReportError> {
        let (metric, points, cps) = (self.metric, &self.h.points, &self.h.change_points);
        let max = points.iter().map(|p| p.value).fold(0.0, f64::max);
        let (div, unit) = display_unit(metric, max);
        let mut panel = Panel::plain(
            "history",
            "point (run or group, oldest first)",
            if unit.is_empty() {
                metric.to_string()
            } else {
                format!("{metric} ({unit})")
            },
            vec![Line {
                label: metric.to_string(),
                color: super::png::style::color(0),
                pts: points
                    .iter()
                    .enumerate()
                    .map(|(i, p)| ((i + 1) as f64, p.value / div))
                    .collect(),
                mark: Mark::LinePoints,
            }],
            |v: &f64| fmt_num((v * 1000.0).round() / 1000.0),
        );
        panel.markers = cps
            .iter()
            .map(|c| VMarker {
                x: c.index as f64 + 0.5,
                label: c
                    .relative_change()
                    .map(|r| format!(" {:+.1}%", r * 100.0))
                    .unwrap_or_default(),
            })
            .collect();
        let title = format!("history of {metric}: {} change point(s)", cps.len());
        let sub = format!(
            "{} - {} points; change points by E-divisive means with a permutation test",
            self.selection.unwrap_or("all runs"),
            points.len()
        );
        render_panels("history", &title, &sub, &[panel], (1200, 600))
    }
}

/// The metric in display units: (scale divisor, unit label).
pub fn display_unit(metric: &str, max: f64) -> (f64, &'static str) {
    match Metric::parse(metric).map(|m| m.unit()) {
        Ok(Unit::Seconds) if max < 1.0 => (1e-3, "ms"),
        Ok(Unit::Seconds) => {
            let u = time_unit(max);
            (u.div, u.name)
        }
        Ok(Unit::Bytes) => byte_unit(max),
        Ok(Unit::Cores) => (1.0, "cores"),
        Ok(Unit::Percent) => (1.0, "%"),
        _ => (1.0, ""),
    }
}

/// The wire types of the history JSON. Fields are in the order of their names, the order of
/// the output of earlier versions (which wrote sorted maps).
pub mod wire {
    use serde::Serialize;

    #[derive(Debug, Serialize)]
    pub struct History {
        pub change_points: Vec<ChangePoint>,
        pub method: &'static str,
        pub metric: String,
        pub points: Vec<Point>,
        pub schema_version: u32,
        pub selection: Option<String>,
    }

    #[derive(Debug, Serialize)]
    pub struct Point {
        pub commit: Option<String>,
        pub run_ids: Vec<i64>,
        pub started_at: String,
        /// Null when not finite.
        pub value: f64,
    }

    #[derive(Debug, Serialize)]
    pub struct ChangePoint {
        pub after: f64,
        pub before: f64,
        pub change_pct: Option<f64>,
        pub commit: Option<String>,
        pub index: usize,
        pub p: f64,
        pub run_ids: Vec<i64>,
    }
}
