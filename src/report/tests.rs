//! Renderer tests on the fixture: snapshots (UPDATE_SNAPSHOTS=1 regenerates them), PNG sanity,
//! HTML self-containment and escaping, trace structure.
#![allow(clippy::unwrap_used)]

use super::fixture::record;
use super::png::{render_png, PngOptions};
use super::Renderer;
use crate::analyze::analyze;

#[test]
fn write_pngs_for_review() {
    let rec = record();
    let an = analyze(&rec);
    let charts = render_png(&rec, &an, &PngOptions::default()).unwrap();
    if let Ok(dir) = std::env::var("PERFMON_PNG_OUT") {
        std::fs::create_dir_all(&dir).unwrap();
        for (n, b) in &charts.files {
            std::fs::write(format!("{dir}/{n}"), b).unwrap();
        }
    }
    assert_eq!(charts.files.len(), 4, "{:?}", charts.skipped);
    let _ = super::text::TextRenderer.render(&rec, &an).unwrap();
}
