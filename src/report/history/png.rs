//! The chart of a history: one panel per workload (at most [`MAX_PANELS`]), the metric over
//! its points labelled by commit and run, the level between change points drawn as a step
//! and each change marked with its size.

use super::{short, HistoryDocument};
use crate::analyze::history::{History, Point};
use crate::analyze::spec::{Metric, Unit};
use crate::report::png::panel::{point_labels, render_panels, Line, Mark, Panel, VMarker};
use crate::report::png::style::{byte_unit, color, time_unit};
use crate::report::units::fmt_num;
use crate::report::ReportError;

/// Workloads drawn; the subtitle says how many more the text lists.
pub const MAX_PANELS: usize = 6;

/// Pixels of the x axis of a panel (1200 wide, less the y labels and the legend), and of one
/// character of a tick label: how many labels fit without touching.
const AXIS_PX: usize = 780;
const CHAR_PX: usize = 9;

/// A point's x label: `3f2a9c1 r5`, `3f2a9c1 r5-9` for a group, `- r5` without a commit.
fn x_label(p: &Point) -> String {
    let commit: String = short(&p.commit).chars().take(7).collect();
    match p.run_ids.as_slice() {
        [one] => format!("{commit} r{one}"),
        many => format!(
            "{commit} r{}-{}",
            many.first().copied().unwrap_or(0),
            many.last().copied().unwrap_or(0)
        ),
    }
}

/// The level of each stretch between change points (the mean of its points), as a step over
/// the points' x (1, 2, ...): flat across a stretch, a jump at each change.
pub fn levels(h: &History, div: f64) -> Vec<(f64, f64)> {
    let mut cuts: Vec<usize> = vec![0];
    cuts.extend(h.change_points.iter().map(|c| c.index));
    cuts.push(h.points.len());
    let mut out = Vec::new();
    for w in cuts.windows(2) {
        let vals: Vec<f64> = h.points[w[0]..w[1]]
            .iter()
            .map(|p| p.value)
            .filter(|v| v.is_finite())
            .collect();
        if vals.is_empty() {
            continue;
        }
        let mean = vals.iter().sum::<f64>() / vals.len() as f64 / div;
        out.push((w[0] as f64 + 0.5, mean));
        out.push((w[1] as f64 + 0.5, mean));
    }
    out
}

impl HistoryDocument<'_> {
    /// One workload's panel, in the display unit of its values.
    fn panel(&self, h: &History) -> Panel<'_> {
        let metric = self.metric;
        let max = h.points.iter().map(|p| p.value).fold(0.0, f64::max);
        let (div, unit) = display_unit(metric, max);
        let name = h
            .name
            .as_deref()
            .map_or(String::new(), |n| format!("{n}: "));
        let mut lines = vec![Line {
            label: format!("{metric} (each point)"),
            color: color(0),
            pts: h
                .points
                .iter()
                .enumerate()
                .map(|(i, p)| ((i + 1) as f64, p.value / div))
                .collect(),
            mark: Mark::LinePoints,
        }];
        if !h.change_points.is_empty() {
            lines.push(Line::new(
                "level between changes (mean)",
                color(1),
                levels(h, div),
            ));
        }
        let y_desc = if unit.is_empty() {
            format!("{name}{metric}")
        } else {
            format!("{name}{metric} ({unit})")
        };
        let mut panel = Panel::plain(
            "history",
            match h.too_few_text() {
                Some(few) => format!("commit and run, oldest first; {few}"),
                None => "commit and run, oldest first".into(),
            },
            y_desc,
            lines,
            |v: &f64| fmt_num((v * 1000.0).round() / 1000.0),
        );
        let n = h.points.len();
        panel.x_range = Some((0.5, n as f64 + 0.5));
        let labels: Vec<String> = h.points.iter().map(x_label).collect();
        let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1);
        // A tick at every point (up to 100), a label at every `every`-th, from the last back
        // (the newest point is always named).
        let fit = (AXIS_PX / (widest * CHAR_PX + 16)).max(1);
        let every = n.div_ceil(fit).max(1);
        panel.x_labels = n.clamp(1, 100);
        panel.x_fmt = Some(point_labels(labels, every));
        panel.markers = h
            .change_points
            .iter()
            .map(|c| VMarker {
                x: c.index as f64 + 0.5,
                label: c
                    .relative_change()
                    .map(|r| format!(" {:+.1}%", r * 100.0))
                    .unwrap_or_default(),
            })
            .collect();
        panel
    }

    /// The metric over the points of each workload, with the change points marked.
    pub fn png(&self) -> Result<Vec<u8>, ReportError> {
        let metric = self.metric;
        let shown = &self.hs[..self.hs.len().min(MAX_PANELS)];
        let panels: Vec<Panel> = shown.iter().map(|h| self.panel(h)).collect();
        let cps: usize = self.hs.iter().map(|h| h.change_points.len()).sum();
        let title = format!("history of {metric}: {cps} change point(s)");
        let mut sub = format!(
            "{}; change points by E-divisive means with a permutation test",
            self.selection.unwrap_or("all runs")
        );
        if self.hs.len() > 1 {
            sub = format!("{} workloads by run name; {sub}", self.hs.len());
        }
        if self.hs.len() > shown.len() {
            sub = format!(
                "the first {} of {} workloads (the text lists all; name one to chart it); {sub}",
                shown.len(),
                self.hs.len()
            );
        }
        let h = 150 + 450 * panels.len() as u32;
        render_panels("history", &title, &sub, &panels, (1200, h))
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
