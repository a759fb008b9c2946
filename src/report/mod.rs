//! Rendering a run: text, JSON, Markdown, HTML, trace and PNG charts.
//!
//! INTERFACE (filled in by the report work): renderers, [`fmt_rfc3339`].

/// Milliseconds since the epoch as an RFC 3339 UTC timestamp (`2026-11-28T06:23:24.000Z`).
pub fn fmt_rfc3339(ms: i64) -> String {
    format!("{ms}")
}
