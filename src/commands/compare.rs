//! `perfmon compare BASE CAND`: one row per metric with both sides' statistics, the change and
//! a verdict; with `--fail-on` (or `[compare] fail_on` in perfmon.toml) it is a CI gate that
//! exits 1 on a significant regression beyond a threshold, 0 otherwise, 2 on usage errors.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;

use super::select::{select, Selection};
use crate::analyze::compare::{
    compare_metric, gate, inconclusive, CompareOptions, GateFailure, Inconclusive, Row, TestKind,
};
use crate::analyze::figures::{main_key, normalize, run_figures};
use crate::analyze::spec::{Metric, Threshold};
use crate::analyze::stats::Summary;
use crate::cli::{CompareArgs, CompareFormat};
use crate::report::units::fmt_metric;
use crate::store::Store;

/// Exit status when the gate fails.
pub const EXIT_REGRESSION: i32 = 1;

/// Version of the compare JSON; bumped only for breaking changes.
pub const COMPARE_SCHEMA_VERSION: u32 = 1;

/// The figures of every run of one side, per metric.
pub struct Side {
    pub sel: Selection,
    pub values: BTreeMap<Metric, Vec<f64>>,
    pub lower_is_better: BTreeMap<Metric, bool>,
    pub main_series: Option<String>,
    /// Metric order of the first run (stable output).
    pub order: Vec<Metric>,
}

/// Loads and analyzes the runs of a selection.
pub fn load_side(store: &Store, spec: &str, tol: f64) -> Result<Side> {
    let sel = select(store, spec)?;
    let mut side = Side {
        sel,
        values: BTreeMap::new(),
        lower_is_better: BTreeMap::new(),
        main_series: None,
        order: Vec::new(),
    };
    // Large sides are read on two threads, each with its own read-only connection: 10,000 runs
    // must compare within a second.
    let ids = side.sel.ids.clone();
    let per_run: Vec<(Option<String>, Vec<crate::analyze::figures::Figure>)> = if ids.len() >= 200 {
        let (a, b) = ids.split_at(ids.len() / 2);
        let path = store.path().to_path_buf();
        let other = std::thread::scope(|sc| {
            let h = sc.spawn(|| -> Result<_> {
                let s2 = Store::open_readonly(&path)?;
                run_figures_of(&s2, b, tol)
            });
            let first = run_figures_of(store, a, tol);
            let second = h
                .join()
                .map_err(|_| anyhow::anyhow!("a reading thread panicked"))?;
            Ok::<_, anyhow::Error>((first?, second?))
        })?;
        let (mut first, second) = other;
        first.extend(second);
        first
    } else {
        run_figures_of(store, &ids, tol)?
    };
    for (main, figures) in per_run {
        if side.main_series.is_none() {
            side.main_series = main;
        }
        for f in figures {
            if !side.values.contains_key(&f.metric) {
                side.order.push(f.metric.clone());
            }
            side.values
                .entry(f.metric.clone())
                .or_default()
                .push(f.value);
            side.lower_is_better.insert(f.metric, f.lower_is_better);
        }
    }
    Ok(side)
}

/// The main series key and the figures of each run, in order.
#[allow(clippy::type_complexity)]
fn run_figures_of(
    store: &Store,
    ids: &[i64],
    tol: f64,
) -> Result<Vec<(Option<String>, Vec<crate::analyze::figures::Figure>)>> {
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        // Samples only matter for GPU figures: a side of thousands of runs stays fast.
        let mut rec = store
            .load_run_summary(id)
            .with_context(|| format!("cannot read run {id}"))?;
        if !rec.gpus.is_empty() {
            rec = store
                .load_run(id)
                .with_context(|| format!("cannot read run {id}"))?;
        }
        let an = crate::analyze::analyze_with(
            &rec,
            &crate::analyze::AnalyzeOptions {
                convergence_tol: tol,
            },
        );
        out.push((main_key(&an), run_figures(&rec, &an)));
    }
    Ok(out)
}

/// The compared rows, in the base's metric order then the candidate's extra metrics.
pub fn compare_sides(base: &Side, cand: &Side, opts: &CompareOptions) -> Vec<Row> {
    let mut order = base.order.clone();
    for m in &cand.order {
        if !order.contains(m) {
            order.push(m.clone());
        }
    }
    order
        .into_iter()
        .filter_map(|m| {
            let b = base.values.get(&m)?;
            let c = cand.values.get(&m)?;
            let lower = base
                .lower_is_better
                .get(&m)
                .or_else(|| cand.lower_is_better.get(&m))
                .copied()
                .unwrap_or(true);
            compare_metric(m, b, c, lower, opts)
        })
        .collect()
}

pub fn compare(db: &Path, a: &CompareArgs) -> Result<i32> {
    let cfg = crate::config::load()?;
    let thresholds: Vec<Threshold> = match &a.fail_on {
        Some(t) => t.0.clone(),
        None => cfg.fail_on()?.unwrap_or_default(),
    };
    let opts = CompareOptions {
        alpha: a.alpha.or(cfg.config.compare.alpha).unwrap_or(0.05),
        min_effect_pct: a
            .min_effect
            .or(cfg.config.compare.min_effect)
            .unwrap_or(1.0),
        test: match a.test {
            crate::cli::TestArg::Auto => TestKind::Auto,
            crate::cli::TestArg::Welch => TestKind::Welch,
            crate::cli::TestArg::MannWhitney => TestKind::MannWhitney,
        },
    };
    let store = Store::open_readonly(db)?;
    let base = load_side(&store, &a.base, a.converge_tol)?;
    let cand = load_side(&store, &a.cand, a.converge_tol)?;
    let rows = compare_sides(&base, &cand, &opts);
    // A threshold may name the main series by its name or as `best`.
    let thresholds: Vec<Threshold> = thresholds
        .into_iter()
        .map(|t| Threshold {
            metric: normalize(&t.metric, base.main_series.as_deref()),
            pct: t.pct,
        })
        .collect();
    let missing: Vec<String> = thresholds
        .iter()
        .filter(|t| !rows.iter().any(|r| r.metric == t.metric))
        .map(|t| t.metric.to_string())
        .collect();
    let failures = gate(&rows, &thresholds);
    let undecided = inconclusive(&rows, &thresholds);
    let doc = CompareDoc {
        base: &base,
        cand: &cand,
        rows: &rows,
        opts: &opts,
        thresholds: &thresholds,
        failures: &failures,
        undecided: &undecided,
        missing: &missing,
    };
    let out = match a.format {
        CompareFormat::Png => {
            let Some(path) = &a.output else {
                anyhow::bail!("--format png needs --output FILE");
            };
            let png = overlay_png(&store, &base, &cand)?;
            std::fs::write(path, png)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("perfmon: wrote {}", path.display());
            warn_undecided(&undecided);
            return Ok(if failures.is_empty() {
                0
            } else {
                EXIT_REGRESSION
            });
        }
        CompareFormat::Text => doc.text(),
        CompareFormat::Json => serde_json::to_string_pretty(&doc.json())? + "\n",
        CompareFormat::Markdown => doc.markdown(),
    };
    match &a.output {
        Some(p) => {
            std::fs::write(p, out).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => super::write_stdout(&out)?,
    }
    for m in &missing {
        eprintln!("perfmon: warning: --fail-on names {m}, which neither side measured");
    }
    warn_undecided(&undecided);
    Ok(if failures.is_empty() {
        0
    } else {
        EXIT_REGRESSION
    })
}

/// One line per gated metric the runs were too noisy to decide (CI logs show it whatever the
/// format; the gate still passes).
fn warn_undecided(undecided: &[Inconclusive]) {
    for u in undecided {
        eprintln!("perfmon: warning: {}", undecided_text(u));
    }
}

fn undecided_text(u: &Inconclusive) -> String {
    format!(
        "{} is {:.1}% worse (> {}%) but not significantly (p {}; runs spread by up to {:.0}%): too noisy to decide; add runs a side or use a quieter machine",
        u.threshold.metric,
        u.worse_by_pct,
        u.threshold.pct,
        u.p.map_or("-".to_string(), |p| format!("{p:.2}")),
        u.spread_pct
    )
}

struct CompareDoc<'a> {
    base: &'a Side,
    cand: &'a Side,
    rows: &'a [Row],
    opts: &'a CompareOptions,
    thresholds: &'a [Threshold],
    failures: &'a [GateFailure],
    undecided: &'a [Inconclusive],
    missing: &'a [String],
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

impl CompareDoc<'_> {
    fn method(&self) -> String {
        let n = |s: &Side| s.sel.ids.len();
        if n(self.base) >= 3 && n(self.cand) >= 3 {
            format!(
                "{} test, alpha {}, min effect {}% on the medians",
                match self
                    .opts
                    .test
                    .resolve(self.base.sel.ids.len(), self.cand.sel.ids.len())
                {
                    TestKind::MannWhitney => "Mann-Whitney U",
                    _ => "Welch's t",
                },
                self.opts.alpha,
                self.opts.min_effect_pct
            )
        } else {
            format!(
                "fewer than 3 runs a side: plain ratio of the values, min effect {}% (no significance test)",
                self.opts.min_effect_pct
            )
        }
    }

    fn gate_line(&self) -> String {
        if self.thresholds.is_empty() {
            return "gate: no --fail-on thresholds (exit 0)".into();
        }
        if self.failures.is_empty() {
            let mut line = format!(
                "gate: passed ({})",
                self.thresholds
                    .iter()
                    .map(|t| format!("{}>{}%", t.metric, t.pct))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for u in self.undecided {
                line.push_str("; inconclusive: ");
                line.push_str(&undecided_text(u));
            }
            return line;
        }
        format!(
            "gate: FAILED: {}",
            self.failures
                .iter()
                .map(|f| format!(
                    "{} regressed by {:.1}% (> {}%)",
                    f.threshold.metric, f.worse_by_pct, f.threshold.pct
                ))
                .collect::<Vec<_>>()
                .join("; ")
        )
    }

    fn text(&self) -> String {
        let mut o = format!(
            "base:      {} = {} [{}]\ncandidate: {} = {} [{}]\nmethod:    {}\n\n",
            self.base.sel.spec,
            self.base.sel.label,
            ids(&self.base.sel.ids),
            self.cand.sel.spec,
            self.cand.sel.label,
            ids(&self.cand.sel.ids),
            self.method()
        );
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                let m = r.metric.to_string();
                vec![
                    m.clone(),
                    fmt_summary(&m, &r.base),
                    fmt_summary(&m, &r.cand),
                    fmt_change(r),
                    fmt_p(r),
                    r.verdict.as_str().to_string(),
                ]
            })
            .collect();
        o.push_str(&crate::report::text::table(
            &["metric", "base", "candidate", "change", "p", "verdict"],
            &rows,
            1,
        ));
        o.push('\n');
        o.push_str(&self.gate_line());
        o.push('\n');
        o
    }

    fn markdown(&self) -> String {
        let esc = crate::report::units::md_escape;
        let mut o = format!(
            "### perfmon compare\n\n- base: `{}` = {} ({})\n- candidate: `{}` = {} ({})\n- method: {}\n\n",
            esc(&self.base.sel.spec),
            esc(&self.base.sel.label),
            ids(&self.base.sel.ids),
            esc(&self.cand.sel.spec),
            esc(&self.cand.sel.label),
            ids(&self.cand.sel.ids),
            self.method()
        );
        o.push_str(
            "| metric | base | candidate | change | p | verdict |\n|---|---:|---:|---:|---:|---|\n",
        );
        for r in self.rows {
            let m = r.metric.to_string();
            let v = match r.verdict.as_str() {
                "regressed" => "**regressed**".to_string(),
                s => s.to_string(),
            };
            o.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                esc(&m),
                fmt_summary(&m, &r.base),
                fmt_summary(&m, &r.cand),
                fmt_change(r),
                fmt_p(r),
                v
            ));
        }
        o.push_str(&format!("\n{}\n", esc(&self.gate_line())));
        o
    }

    fn json(&self) -> serde_json::Value {
        let summary = |s: &Summary| {
            json!({"n": s.n, "mean": s.mean, "stddev": s.stddev, "median": s.median,
                   "min": s.min, "max": s.max})
        };
        let side =
            |s: &Side| json!({"selection": s.sel.spec, "label": s.sel.label, "runs": s.sel.ids});
        json!({
            "schema_version": COMPARE_SCHEMA_VERSION,
            "base": side(self.base),
            "candidate": side(self.cand),
            "method": {
                "test": if self.base.sel.ids.len() >= 3 && self.cand.sel.ids.len() >= 3 {
                    self.opts
                        .test
                        .resolve(self.base.sel.ids.len(), self.cand.sel.ids.len())
                        .as_str()
                } else {
                    "ratio"
                },
                "alpha": self.opts.alpha,
                "min_effect_pct": self.opts.min_effect_pct,
            },
            "rows": self.rows.iter().map(|r| json!({
                "metric": r.metric.to_string(),
                "base": summary(&r.base),
                "candidate": summary(&r.cand),
                "change_pct": r.change_pct,
                "test": r.test,
                "p": r.p,
                "lower_is_better": r.lower_is_better,
                "verdict": r.verdict.as_str(),
            })).collect::<Vec<_>>(),
            "gate": {
                "thresholds": self.thresholds.iter().map(|t| json!({"metric": t.metric.to_string(), "pct": t.pct})).collect::<Vec<_>>(),
                "failed": self.failures.iter().map(|f| json!({
                    "metric": f.threshold.metric.to_string(),
                    "threshold_pct": f.threshold.pct,
                    "worse_by_pct": if f.worse_by_pct.is_finite() { json!(f.worse_by_pct) } else { json!(null) },
                })).collect::<Vec<_>>(),
                "inconclusive": self.undecided.iter().map(|u| json!({
                    "metric": u.threshold.metric.to_string(),
                    "threshold_pct": u.threshold.pct,
                    "worse_by_pct": u.worse_by_pct,
                    "p": u.p,
                    "spread_pct": if u.spread_pct.is_finite() { json!(u.spread_pct) } else { json!(null) },
                })).collect::<Vec<_>>(),
                "not_measured": self.missing,
                "passed": self.failures.is_empty(),
            },
        })
    }
}

fn ids(v: &[i64]) -> String {
    let s: Vec<String> = v.iter().map(|i| i.to_string()).collect();
    if s.len() > 8 {
        format!("runs {} … {}", s[0], s[s.len() - 1])
    } else {
        format!("runs {}", s.join(" "))
    }
}

/// The run of a side whose wall time is the median: the one the overlay draws.
fn representative(side: &Side) -> Option<i64> {
    let walls = side.values.get(&Metric::Wall)?;
    let mut idx: Vec<usize> = (0..walls.len().min(side.sel.ids.len())).collect();
    idx.sort_by(|a, b| walls[*a].total_cmp(&walls[*b]));
    idx.get(idx.len() / 2).map(|i| side.sel.ids[*i])
}

/// Both sides' median-wall runs overlaid: tree CPU, tree RSS and the main series' best so far.
fn overlay_png(store: &Store, base: &Side, cand: &Side) -> Result<Vec<u8>> {
    use crate::model::metric;
    use crate::report::png::xy::{render_xy, Mark, XyLine, XyPanel};
    let mut cpu = Vec::new();
    let mut rss = Vec::new();
    let mut conv = Vec::new();
    for (i, (side, label)) in [(base, "base"), (cand, "candidate")].iter().enumerate() {
        let Some(id) = representative(side) else {
            continue;
        };
        let rec = store
            .load_run(id)
            .with_context(|| format!("cannot read run {id}"))?;
        let color = crate::report::png::style::color(i);
        let name = format!("{label} (run {id})");
        cpu.push(XyLine {
            label: name.clone(),
            color,
            pts: crate::analyze::cpu_percent_series(&rec.samples)
                .iter()
                .map(|p| (p.t_s, (p.user_pct + p.system_pct) / 100.0))
                .collect(),
            mark: Mark::Line,
        });
        rss.push(XyLine {
            label: name.clone(),
            color,
            pts: rec
                .samples
                .gauge(metric::RSS_KIB)
                .iter()
                .map(|(t, v)| (*t, *v as f64 / 1024.0))
                .collect(),
            mark: Mark::Line,
        });
        if let Some(s) = rec.series.iter().find(|s| s.main) {
            let max = s.direction == Some(crate::model::Direction::Maximize);
            let mut best = f64::NAN;
            let pts = s
                .points
                .iter()
                .filter(|p| p.value.is_finite())
                .map(|p| {
                    if best.is_nan() || (max && p.value > best) || (!max && p.value < best) {
                        best = p.value;
                    }
                    (p.t_s, best)
                })
                .collect();
            conv.push(XyLine {
                label: format!("{name}: {} (best so far)", s.name),
                color,
                pts,
                mark: Mark::Line,
            });
        }
    }
    let x_max = [&cpu, &rss, &conv]
        .iter()
        .flat_map(|ls| ls.iter().flat_map(|l| l.pts.iter().map(|p| p.0)))
        .fold(0.0, f64::max);
    let x_range = Some((0.0, x_max.max(1e-3)));
    let fmt2: fn(f64) -> String = |v| crate::report::units::fmt_num((v * 100.0).round() / 100.0);
    let mut panels = vec![
        XyPanel {
            x_desc: "time since start (s)".into(),
            y_desc: "tree CPU (cores)".into(),
            lines: cpu,
            markers: Vec::new(),
            x_range,
            y_range: None,
            y_fmt: fmt2,
        },
        XyPanel {
            x_desc: "time since start (s)".into(),
            y_desc: "tree RSS (MiB)".into(),
            lines: rss,
            markers: Vec::new(),
            x_range,
            y_range: None,
            y_fmt: fmt2,
        },
    ];
    if !conv.is_empty() {
        panels.push(XyPanel {
            x_desc: "time since start (s)".into(),
            y_desc: "main series, best so far".into(),
            lines: conv,
            markers: Vec::new(),
            x_range,
            y_range: None,
            y_fmt: |v| crate::report::units::fmt_num(v),
        });
    }
    let title = format!("compare: {} vs {}", base.sel.spec, cand.sel.spec);
    let sub = format!(
        "the run with the median wall time of each side: {} and {}",
        base.sel.label, cand.sel.label
    );
    Ok(render_xy("compare", &title, &sub, &panels, (1200, 900))?)
}
