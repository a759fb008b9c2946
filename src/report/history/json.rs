//! The history JSON (schema [`HISTORY_SCHEMA_VERSION`], documented in docs/json-schema.md):
//! the points of every workload in one list, each with its workload's `name`, and the change
//! points indexing into that list.

use super::{HistoryDocument, METHOD};
use crate::report::fmt_rfc3339;

/// Version of the history JSON.
pub const HISTORY_SCHEMA_VERSION: u32 = 1;

impl HistoryDocument<'_> {
    /// The history JSON.
    pub fn json(&self) -> wire::History {
        let mut points = Vec::new();
        let mut change_points = Vec::new();
        for h in self.hs {
            let offset = points.len();
            change_points.extend(h.change_points.iter().map(|c| {
                let p = &h.points[c.index];
                wire::ChangePoint {
                    after: c.mean_after,
                    before: c.mean_before,
                    change_pct: c.relative_change().map(|r| r * 100.0),
                    commit: p.commit.clone(),
                    index: offset + c.index,
                    name: h.name.clone(),
                    p: c.p,
                    run_ids: p.run_ids.clone(),
                }
            }));
            points.extend(h.points.iter().map(|p| wire::Point {
                commit: p.commit.clone(),
                name: h.name.clone(),
                run_ids: p.run_ids.clone(),
                started_at: fmt_rfc3339(p.started_at_ms),
                value: p.value,
            }));
        }
        wire::History {
            change_points,
            method: METHOD,
            metric: self.metric.to_string(),
            min_points: self.hs.first().map_or(0, |h| h.needed),
            points,
            schema_version: HISTORY_SCHEMA_VERSION,
            selection: self.selection.map(str::to_string),
        }
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
        /// Fewest points of a workload in which a change can be found.
        pub min_points: usize,
        pub points: Vec<Point>,
        pub schema_version: u32,
        pub selection: Option<String>,
    }

    #[derive(Debug, Serialize)]
    pub struct Point {
        pub commit: Option<String>,
        /// The workload (run name) of the point; null for unnamed runs.
        pub name: Option<String>,
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
        pub name: Option<String>,
        pub p: f64,
        pub run_ids: Vec<i64>,
    }
}
