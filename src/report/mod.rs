//! Rendering: a run as text, JSON, Markdown, HTML, Chrome trace and PNG charts; a group, a
//! comparison and a history as text, JSON, Markdown and PNG.
//!
//! A run report is one [`document::RunDocument`], built once from the record and its
//! [`Analysis`]; text, Markdown and HTML are writers of it (one small file each) and JSON takes
//! its figures from it. Every text format implements [`Renderer`]; PNG charts come from
//! [`png::render_png`] as named files. Renderers never print: the command decides where the
//! bytes go. Workload-provided text (names, commands, tags, marks, malformed lines) is escaped by
//! every format that has markup. Nothing here reads the store or computes statistics: the
//! figures come from `analyze`.

pub mod compare;
pub mod document;
pub mod group;
pub mod history;
pub mod html;
pub mod json;
pub mod json_types;
pub mod markdown;
mod markup;
pub mod png;
pub mod status;
pub mod table;
pub mod text;
pub mod trace;
pub mod units;

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod json_contract;
#[cfg(test)]
mod parity;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod view_contract;

use crate::analyze::Analysis;
use crate::model::RunRecord;

/// Errors of rendering.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("JSON encoding: {0}")]
    Json(#[from] serde_json::Error),
    #[error("drawing {chart}: {message}")]
    Chart { chart: String, message: String },
    #[error("PNG encoding: {0}")]
    Png(String),
    #[error("the embedded font could not be loaded")]
    Font,
}

/// The runs a group, a side of a comparison or a history covers, as the views name them.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// What the user wrote.
    pub spec: String,
    /// A description for people: `group 3 "base" (5 runs)`.
    pub label: String,
    /// Run ids, oldest first.
    pub ids: Vec<i64>,
}

/// Pretty JSON with a final newline: the JSON of a group, a comparison or a history.
pub fn json_text(v: &impl serde::Serialize) -> Result<String, ReportError> {
    Ok(serde_json::to_string_pretty(v)? + "\n")
}

/// A format that renders a run into the bytes of one file.
pub trait Renderer {
    fn render(&self, rec: &RunRecord, analysis: &Analysis) -> Result<Vec<u8>, ReportError>;
}

/// Milliseconds since the epoch as an RFC 3339 UTC timestamp (`2026-11-28T06:23:24.000Z`).
pub fn fmt_rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod time_tests {
    use super::fmt_rfc3339;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(fmt_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(fmt_rfc3339(1_795_847_004_000), "2026-11-28T06:23:24.000Z");
        assert_eq!(fmt_rfc3339(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(fmt_rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(fmt_rfc3339(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
    }
}
