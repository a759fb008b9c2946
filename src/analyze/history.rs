//! A metric over stored runs in time order: one point per run, or per `--repeat` group (the
//! median of its runs, so a CI job that repeats its benchmark gives one point per commit), and
//! the change points of the points' values (see [`super::changepoint`]); runs of different
//! workloads (names) apart when asked, never one series. Pure functions.

use std::collections::{BTreeMap, HashMap};

use super::changepoint::{e_divisive, min_points, ChangePoint, ChangePointOptions};
use super::stats::median;

/// One run's value of the metric, with what the history shows of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunValue {
    pub run_id: i64,
    /// The run's name (`run --name`): a workload.
    pub name: Option<String>,
    pub group_id: Option<i64>,
    pub started_at_ms: i64,
    pub commit: Option<String>,
    pub value: f64,
}

/// One point of the history: a run, or a group of runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub run_ids: Vec<i64>,
    pub started_at_ms: i64,
    pub commit: Option<String>,
    /// The run's value, or the median of the group's.
    pub value: f64,
}

/// The points and their change points.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// The workload's name when the runs were split by name (None: one series of all runs).
    pub name: Option<String>,
    pub points: Vec<Point>,
    pub change_points: Vec<ChangePoint>,
    /// Fewest points in which a change can be found (see [`min_points`]).
    pub needed: usize,
}

impl History {
    /// Whether there are too few points for the detector to find any change.
    pub fn too_few(&self) -> bool {
        self.points.len() < self.needed
    }

    /// The sentence of [`History::too_few`]: `too few points to detect a change (need 6, have
    /// 4)`.
    pub fn too_few_text(&self) -> Option<String> {
        self.too_few().then(|| {
            format!(
                "too few points to detect a change (need {}, have {})",
                self.needed,
                self.points.len()
            )
        })
    }
}

/// The points of runs given oldest first: the runs of one group make one point, where its
/// first run stands, with the time and commit of that run.
pub fn points(runs: impl IntoIterator<Item = RunValue>) -> Vec<Point> {
    let mut by_key: BTreeMap<(i64, i64), (Point, Vec<f64>)> = BTreeMap::new();
    // The first run id of each group seen.
    let mut group_first: HashMap<i64, i64> = HashMap::new();
    for r in runs {
        // Key: the group's first run id, so a group sorts where it started.
        let key = match r.group_id {
            Some(g) => (*group_first.entry(g).or_insert(r.run_id), g),
            None => (r.run_id, -r.run_id),
        };
        let (p, values) = by_key.entry(key).or_insert_with(|| {
            (
                Point {
                    run_ids: Vec::new(),
                    started_at_ms: r.started_at_ms,
                    commit: r.commit.clone(),
                    value: f64::NAN,
                },
                Vec::new(),
            )
        });
        p.run_ids.push(r.run_id);
        values.push(r.value);
    }
    by_key
        .into_values()
        .map(|(mut p, values)| {
            p.value = median(&values).unwrap_or(f64::NAN);
            p
        })
        .collect()
}

/// The history of runs given oldest first.
pub fn history(runs: impl IntoIterator<Item = RunValue>, opts: &ChangePointOptions) -> History {
    let points = points(runs);
    let values: Vec<f64> = points.iter().map(|p| p.value).collect();
    History {
        name: None,
        change_points: e_divisive(&values, opts),
        points,
        needed: min_points(opts),
    }
}

/// One history per workload (run name, in the order of each name's first run; unnamed runs
/// are one workload), so that different programs' values never make one series.
pub fn histories_by_name(runs: Vec<RunValue>, opts: &ChangePointOptions) -> Vec<History> {
    let mut index: HashMap<Option<String>, usize> = HashMap::new();
    let mut groups: Vec<(Option<String>, Vec<RunValue>)> = Vec::new();
    for r in runs {
        let i = *index.entry(r.name.clone()).or_insert_with(|| {
            groups.push((r.name.clone(), Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(r);
    }
    groups
        .into_iter()
        .map(|(name, mine)| History {
            name,
            ..history(mine, opts)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: i64, group: Option<i64>, value: f64) -> RunValue {
        RunValue {
            run_id: id,
            name: None,
            group_id: group,
            started_at_ms: id * 1000,
            commit: Some(format!("c{id}")),
            value,
        }
    }

    #[test]
    fn a_group_is_one_point_at_its_first_run_with_the_median() {
        let p = points([
            run(1, None, 5.0),
            run(2, Some(7), 1.0),
            run(3, Some(7), 9.0),
            run(4, None, 2.0),
            run(5, Some(7), 3.0),
        ]);
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].run_ids, [1]);
        assert_eq!(p[1].run_ids, [2, 3, 5]);
        assert_eq!(p[1].value, 3.0);
        assert_eq!(p[1].commit.as_deref(), Some("c2"));
        assert_eq!(p[1].started_at_ms, 2000);
        assert_eq!(p[2].run_ids, [4]);
    }

    #[test]
    fn a_shift_is_found_where_it_began() {
        let runs = (0..16).map(|i| run(i + 1, None, if i < 8 { 10.0 } else { 20.0 }));
        let h = history(runs, &ChangePointOptions::default());
        assert_eq!(h.points.len(), 16);
        assert_eq!(h.change_points.len(), 1);
        assert_eq!(h.change_points[0].index, 8);
        assert!(!h.too_few());
    }

    #[test]
    fn too_few_points_say_how_many_are_needed() {
        let h = history((0..5).map(|i| run(i + 1, None, 1.0)), &Default::default());
        assert!(h.change_points.is_empty());
        assert_eq!(
            h.too_few_text().as_deref(),
            Some("too few points to detect a change (need 10, have 5)")
        );
        let h = history((0..10).map(|i| run(i + 1, None, 1.0)), &Default::default());
        assert!(h.too_few_text().is_none());
    }

    #[test]
    fn workloads_are_split_by_name_never_mixed() {
        // Two programs interleaved, each steady: mixed, they would look like noise or shifts.
        let runs: Vec<RunValue> = (0..16)
            .map(|i| RunValue {
                name: Some(if i % 2 == 0 { "fast" } else { "slow" }.into()),
                ..run(i + 1, None, if i % 2 == 0 { 1.0 } else { 50.0 })
            })
            .collect();
        let hs = histories_by_name(runs, &Default::default());
        assert_eq!(hs.len(), 2);
        assert_eq!(hs[0].name.as_deref(), Some("fast"));
        assert_eq!(hs[0].points.len(), 8);
        assert!(hs[0].points.iter().all(|p| p.value == 1.0));
        assert_eq!(hs[1].points[0].run_ids, [2]);
        assert!(hs.iter().all(|h| h.change_points.is_empty()));
    }
}
