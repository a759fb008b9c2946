//! The chart of a comparison: both sides' median runs overlaid.

use crate::analyze::{best_so_far, cpu_percent_series};
use crate::model::{metric, Direction, RunRecord};
use crate::report::png::panel::{render_panels, Line, Panel};
use crate::report::units::fmt_num;
use crate::report::{ReportError, Selection};

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
        let color = crate::report::png::style::color(i);
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
