//! PNG charts drawn with plotters into memory: `resources.png`, `timers.png`,
//! `convergence.png` and `processes.png`. A chart whose data is absent (no timers, no series,
//! no process tracks, no samples) is skipped with a note instead of being drawn empty.

mod convergence;
pub mod panel;
mod plain;
mod processes;
mod resources;
pub mod style;
mod timers;

use crate::analyze::Analysis;
use crate::model::RunRecord;

use super::ReportError;

/// Chart options (`--size`, `--log-y`, `--top`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PngOptions {
    pub size: (u32, u32),
    /// Force a logarithmic y axis on convergence charts (otherwise automatic).
    pub log_y: bool,
    /// Processes shown in processes.png.
    pub top: usize,
}

impl Default for PngOptions {
    fn default() -> Self {
        PngOptions {
            size: (1200, 800),
            log_y: false,
            top: 5,
        }
    }
}

/// Rendered charts: (file name, PNG bytes), and a note per chart skipped.
#[derive(Debug, Default)]
pub struct Charts {
    pub files: Vec<(String, Vec<u8>)>,
    pub skipped: Vec<String>,
}

/// Every chart: file name and what it shows.
pub const CHARTS: [(&str, &str); 4] = [
    ("resources.png", "resources over time"),
    ("timers.png", "timers"),
    ("convergence.png", "convergence"),
    ("processes.png", "top processes"),
];

/// Why a chart has nothing to draw, or None when it will be drawn.
fn missing(rec: &RunRecord, file: &str) -> Option<&'static str> {
    match file {
        "resources.png" if rec.samples.len() < 2 => Some("fewer than two samples"),
        "timers.png" if rec.timers.is_empty() => Some("no timers"),
        "convergence.png"
            if !rec.series.iter().any(|s| {
                crate::analyze::role_of(s) != crate::model::Role::Parameter
                    && s.points.iter().any(|p| p.value.is_finite())
            }) =>
        {
            Some("no progress series (parameters are not drawn)")
        }
        "processes.png"
            if rec.processes.iter().all(|p| p.cpu_us.len() < 2) || rec.samples.is_empty() =>
        {
            Some("no process tracks")
        }
        _ => None,
    }
}

/// The charts [`render_png`] will draw for this run.
pub fn planned(rec: &RunRecord) -> Vec<(&'static str, &'static str)> {
    CHARTS
        .into_iter()
        .filter(|(f, _)| missing(rec, f).is_none())
        .collect()
}

/// Draws every chart that has data.
pub fn render_png(
    rec: &RunRecord,
    an: &Analysis,
    opts: &PngOptions,
) -> Result<Charts, ReportError> {
    let mut out = Charts::default();
    for (file, _) in CHARTS {
        if let Some(why) = missing(rec, file) {
            out.skipped.push(format!("{file} skipped: {why}"));
            continue;
        }
        let png = match file {
            "resources.png" => resources::draw(rec, an, opts)?,
            "timers.png" => timers::draw(rec, an, opts)?,
            "convergence.png" => convergence::draw(rec, an, opts)?,
            _ => processes::draw(rec, an, opts)?,
        };
        out.files.push((file.to_string(), png));
    }
    Ok(out)
}
