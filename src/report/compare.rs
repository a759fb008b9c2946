//! A comparison (`perfmon compare BASE CAND`): the rows and the gate of a [`Comparison`] as
//! text, Markdown, JSON (schema [`COMPARE_SCHEMA_VERSION`], documented in docs/json-schema.md)
//! and the overlay chart of both sides' median runs.

use super::group::wire::Runs;
use super::png::panel::{render_panels, Line, Panel};
use super::table::Table;
use super::units::{fmt_metric, fmt_num, md_escape};
use super::{ReportError, Selection};
use crate::analyze::compare::{Inconclusive, Row, TestKind};
use crate::analyze::sides::Comparison;
use crate::analyze::stats::Summary;
use crate::analyze::{best_so_far, cpu_percent_series};
use crate::model::{metric, Direction, RunRecord};

/// Version of the compare JSON; bumped only for breaking changes.
pub const COMPARE_SCHEMA_VERSION: u32 = 1;

/// A comparison with the selections of its two sides.
pub struct CompareDocument<'a> {
    pub base: &'a Selection,
    pub cand: &'a Selection,
    pub c: &'a Comparison,
}

/// The sentence of a gated metric the runs were too noisy to decide.
pub fn undecided_text(u: &Inconclusive) -> String {
    format!(
        "{} is {:.1}% worse (> {}%) but not significantly (p {}; runs spread by up to {:.0}%): too noisy to decide; add runs a side or use a quieter machine",
        u.threshold.metric,
        u.worse_by_pct,
        u.threshold.pct,
        u.p.map_or("-".to_string(), |p| format!("{p:.2}")),
        u.spread_pct
    )
}

fn fmt_summary(metric: &str, s: &Summary) -> String {
    if s.n > 1 {
        format!(
            "{} ± {}",
            fmt_metric(metric, s.median),
            fmt_metric(metric, s.stddev)
        )
    } else {
        fmt_metric(metric, s.median)
    }
}

fn fmt_change(r: &Row) -> String {
    match r.change_pct {
        Some(c) => format!("{c:+.1}%"),
        None => "n/a".into(),
    }
}

fn fmt_p(r: &Row) -> String {
    match r.p {
        Some(p) if p < 0.0001 => "<0.0001".into(),
        Some(p) => format!("{p:.4}"),
        None => "-".into(),
    }
}

/// `runs 1 2 3`, or `runs 1 … 40` for many.
fn ids(v: &[i64]) -> String {
    let s: Vec<String> = v.iter().map(|i| i.to_string()).collect();
    if s.len() > 8 {
        format!("runs {} … {}", s[0], s[s.len() - 1])
    } else {
        format!("runs {}", s.join(" "))
    }
}

impl CompareDocument<'_> {
    fn method(&self) -> String {
        let o = &self.c.opts;
        match self.c.test() {
            Some(t) => format!(
                "{} test, alpha {}, min effect {}% on the medians",
                match t {
                    TestKind::MannWhitney => "Mann-Whitney U",
                    _ => "Welch's t",
                },
                o.alpha,
                o.min_effect_pct
            ),
            None => format!(
                "fewer than 3 runs a side: plain ratio of the values, min effect {}% (no significance test)",
                o.min_effect_pct
            ),
        }
    }

    fn gate_line(&self) -> String {
        let c = self.c;
        if c.thresholds.is_empty() {
            return "gate: no --fail-on thresholds (exit 0)".into();
        }
        if c.failures.is_empty() {
            let mut line = format!(
                "gate: passed ({})",
                c.thresholds
                    .iter()
                    .map(|t| format!("{}>{}%", t.metric, t.pct))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for u in &c.undecided {
                line.push_str("; inconclusive: ");
                line.push_str(&undecided_text(u));
            }
            return line;
        }
        format!(
            "gate: FAILED: {}",
            c.failures
                .iter()
                .map(|f| format!(
                    "{} regressed by {:.1}% (> {}%)",
                    f.threshold.metric, f.worse_by_pct, f.threshold.pct
                ))
                .collect::<Vec<_>>()
                .join("; ")
        )
    }

    /// The rows; `verdict` writes a row's verdict.
    fn table(&self, esc: fn(&str) -> String, verdict: fn(&str) -> String) -> Table {
        let mut t = Table::new(
            &["metric", "base", "candidate", "change", "p", "verdict"],
            1,
        );
        for r in &self.c.rows {
            let m = r.metric.to_string();
            t.row(vec![
                esc(&m),
                fmt_summary(&m, &r.base),
                fmt_summary(&m, &r.cand),
                fmt_change(r),
                fmt_p(r),
                verdict(r.verdict.as_str()),
            ]);
        }
        t
    }

    pub fn text(&self) -> String {
        let mut o = format!(
            "base:      {} = {} [{}]\ncandidate: {} = {} [{}]\nmethod:    {}\n\n",
            self.base.spec,
            self.base.label,
            ids(&self.base.ids),
            self.cand.spec,
            self.cand.label,
            ids(&self.cand.ids),
            self.method()
        );
        o.push_str(&self.table(str::to_string, str::to_string).text(2));
        o.push('\n');
        o.push_str(&self.gate_line());
        o.push('\n');
        o
    }

    pub fn markdown(&self) -> String {
        let esc = md_escape;
        let mut o = format!(
            "### perfmon compare\n\n- base: `{}` = {} ({})\n- candidate: `{}` = {} ({})\n- method: {}\n\n",
            esc(&self.base.spec),
            esc(&self.base.label),
            ids(&self.base.ids),
            esc(&self.cand.spec),
            esc(&self.cand.label),
            ids(&self.cand.ids),
            self.method()
        );
        let table = self
            .table(esc, |v| match v {
                "regressed" => "**regressed**".to_string(),
                s => s.to_string(),
            })
            .last_left();
        o.push_str(&table.markdown());
        o.push_str(&format!("\n{}\n", esc(&self.gate_line())));
        o
    }

    /// The compare JSON.
    pub fn json(&self) -> wire::Compare {
        let c = self.c;
        let finite = |v: f64| v.is_finite().then_some(v);
        wire::Compare {
            base: Runs::of(self.base),
            candidate: Runs::of(self.cand),
            gate: wire::Gate {
                failed: c
                    .failures
                    .iter()
                    .map(|f| wire::Failed {
                        metric: f.threshold.metric.to_string(),
                        threshold_pct: f.threshold.pct,
                        worse_by_pct: finite(f.worse_by_pct),
                    })
                    .collect(),
                inconclusive: c
                    .undecided
                    .iter()
                    .map(|u| wire::Inconclusive {
                        metric: u.threshold.metric.to_string(),
                        p: u.p,
                        spread_pct: finite(u.spread_pct),
                        threshold_pct: u.threshold.pct,
                        worse_by_pct: u.worse_by_pct,
                    })
                    .collect(),
                not_measured: c.not_measured.clone(),
                passed: c.passed(),
                thresholds: c
                    .thresholds
                    .iter()
                    .map(|t| wire::Threshold {
                        metric: t.metric.to_string(),
                        pct: t.pct,
                    })
                    .collect(),
            },
            method: wire::Method {
                alpha: c.opts.alpha,
                min_effect_pct: c.opts.min_effect_pct,
                test: c.test().map_or("ratio", TestKind::as_str),
            },
            rows: c
                .rows
                .iter()
                .map(|r| wire::Row {
                    base: wire::Summary::of(&r.base),
                    candidate: wire::Summary::of(&r.cand),
                    change_pct: r.change_pct,
                    lower_is_better: r.lower_is_better,
                    metric: r.metric.to_string(),
                    p: r.p,
                    test: r.test,
                    verdict: r.verdict.as_str(),
                })
                .collect(),
            schema_version: COMPARE_SCHEMA_VERSION,
        }
    }
}

/// The wire types of the compare JSON. Fields are in the order of their names, the order of
/// the output of earlier versions (which wrote sorted maps).
pub mod wire {
    use serde::Serialize;

    pub use crate::report::group::wire::Runs;

    #[derive(Debug, Serialize)]
    pub struct Compare {
        pub base: Runs,
        pub candidate: Runs,
        pub gate: Gate,
        pub method: Method,
        pub rows: Vec<Row>,
        pub schema_version: u32,
    }

    #[derive(Debug, Serialize)]
    pub struct Method {
        pub alpha: f64,
        pub min_effect_pct: f64,
        /// `mann-whitney`, `welch`, or `ratio` with fewer than 3 runs a side.
        pub test: &'static str,
    }

    #[derive(Debug, Serialize)]
    pub struct Row {
        pub base: Summary,
        pub candidate: Summary,
        pub change_pct: Option<f64>,
        pub lower_is_better: bool,
        pub metric: String,
        pub p: Option<f64>,
        pub test: &'static str,
        pub verdict: &'static str,
    }

    #[derive(Debug, Serialize)]
    pub struct Summary {
        pub max: f64,
        pub mean: f64,
        pub median: f64,
        pub min: f64,
        pub n: usize,
        pub stddev: f64,
    }

    impl Summary {
        pub fn of(s: &crate::analyze::stats::Summary) -> Summary {
            Summary {
                max: s.max,
                mean: s.mean,
                median: s.median,
                min: s.min,
                n: s.n,
                stddev: s.stddev,
            }
        }
    }

    #[derive(Debug, Serialize)]
    pub struct Gate {
        pub failed: Vec<Failed>,
        pub inconclusive: Vec<Inconclusive>,
        pub not_measured: Vec<String>,
        pub passed: bool,
        pub thresholds: Vec<Threshold>,
    }

    #[derive(Debug, Serialize)]
    pub struct Threshold {
        pub metric: String,
        pub pct: f64,
    }

    #[derive(Debug, Serialize)]
    pub struct Failed {
        pub metric: String,
        pub threshold_pct: f64,
        /// Null when infinite (from exactly 0).
        pub worse_by_pct: Option<f64>,
    }

    #[derive(Debug, Serialize)]
    pub struct Inconclusive {
        pub metric: String,
        pub p: Option<f64>,
        /// Null when infinite (a side's minimum is 0).
        pub spread_pct: Option<f64>,
        pub threshold_pct: f64,
        pub worse_by_pct: f64,
    }
}

/// Both sides' median-wall runs overlaid: tree CPU, tree RSS and the main series' best so far.
/// `runs` are the base's and the candidate's run (id and record), when the side has one.
pub fn overlay_png(
    base: &Selection,
    cand: &Selection,
    runs: [Option<(i64, &RunRecord)>; 2],
) -> Result<Vec<u8>, ReportError> {
    let mut cpu = Vec::new();
    let mut rss = Vec::new();
    let mut conv = Vec::new();
    for (i, (run, label)) in runs.iter().zip(["base", "candidate"]).enumerate() {
        let Some((id, rec)) = run else {
            continue;
        };
        let color = super::png::style::color(i);
        let name = format!("{label} (run {id})");
        cpu.push(Line::new(
            name.clone(),
            color,
            cpu_percent_series(&rec.samples)
                .iter()
                .map(|p| (p.t_s, (p.user_pct + p.system_pct) / 100.0))
                .collect(),
        ));
        rss.push(Line::new(
            name.clone(),
            color,
            rec.samples
                .gauge(metric::RSS_KIB)
                .iter()
                .map(|(t, v)| (*t, *v as f64 / 1024.0))
                .collect(),
        ));
        if let Some(s) = rec.series.iter().find(|s| s.main) {
            let dir = match s.direction {
                Some(Direction::Maximize) => Direction::Maximize,
                _ => Direction::Minimize,
            };
            conv.push(Line::new(
                format!("{name}: {} (best so far)", s.name),
                color,
                best_so_far(dir, &s.points)
                    .map(|(p, b)| (p.t_s, b))
                    .collect(),
            ));
        }
    }
    let x_max = [&cpu, &rss, &conv]
        .iter()
        .flat_map(|ls| ls.iter().flat_map(|l| l.pts.iter().map(|p| p.0)))
        .fold(0.0, f64::max);
    let x_range = Some((0.0, x_max.max(1e-3)));
    let fmt2 = |v: &f64| fmt_num((v * 100.0).round() / 100.0);
    let time = "time since start (s)";
    let mut panels = vec![
        Panel::plain("compare", time, "tree CPU (cores)", cpu, fmt2),
        Panel::plain("compare", time, "tree RSS (MiB)", rss, fmt2),
    ];
    if !conv.is_empty() {
        panels.push(Panel::plain(
            "compare",
            time,
            "main series, best so far",
            conv,
            |v: &f64| fmt_num(*v),
        ));
    }
    for p in &mut panels {
        p.x_range = x_range;
    }
    let title = format!("compare: {} vs {}", base.spec, cand.spec);
    let sub = format!(
        "the run with the median wall time of each side: {} and {}",
        base.label, cand.label
    );
    render_panels("compare", &title, &sub, &panels, (1200, 900))
}
