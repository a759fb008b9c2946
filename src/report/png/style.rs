//! Shared chart plumbing: the embedded font, the title block, unit scales, colours, min/max
//! downsampling and PNG encoding.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::model::RunRecord;
use crate::report::units::truncate;
use crate::report::ReportError;

/// DejaVu Sans (Bitstream Vera license, assets/fonts/LICENSE-DejaVu.txt), so charts render the
/// same with no fonts installed.
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
pub const FAMILY: &str = "sans-serif";

/// Registers the embedded font as plotters' `sans-serif` (once per process).
pub fn ensure_font() -> Result<(), ReportError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(ReportError::Font)
    }
}

pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Maps any drawing error of chart `chart` to a [`ReportError`].
pub fn ce<E: std::fmt::Display>(chart: &'static str) -> impl Fn(E) -> ReportError {
    move |e| ReportError::Chart {
        chart: chart.into(),
        message: e.to_string(),
    }
}

/// Tableau 10, readable on white.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Font sizes scaled with the image so small `--size` values stay legible.
pub struct Sizes {
    pub title: u32,
    pub text: u32,
    pub small: u32,
}

pub fn sizes(w: u32, h: u32) -> Sizes {
    let k = (w.min(h * 3 / 2) as f64 / 1200.0).clamp(0.6, 2.0);
    Sizes {
        title: (28.0 * k) as u32,
        text: (20.0 * k) as u32,
        small: (17.0 * k) as u32,
    }
}

/// Draws the title block (chart name, run name and id; the command, truncated to the width) and
/// returns the area below it.
pub fn header<'a>(
    root: &Area<'a>,
    rec: &RunRecord,
    chart: &'static str,
    what: &str,
) -> Result<Area<'a>, ReportError> {
    let (w, h) = root.dim_in_pixel();
    let sz = sizes(w, h);
    root.fill(&WHITE).map_err(ce(chart))?;
    let name = rec.meta.name.as_deref().unwrap_or("unnamed");
    let title = format!("{what}: {} (run {})", truncate(name, 60), rec.meta.id);
    root.draw_text(
        &title,
        &(FAMILY, sz.title).into_font().color(&BLACK),
        (12, 8),
    )
    .map_err(ce(chart))?;
    // Average glyph is ~0.55 em wide: fit the command to the width.
    let max_chars = ((w as f64 - 24.0) / (sz.small as f64 * 0.55)) as usize;
    let cmd = format!("$ {}", rec.meta.command.join(" "));
    root.draw_text(
        &truncate(&cmd, max_chars.max(10)),
        &(FAMILY, sz.small).into_font().color(&RGBColor(90, 90, 90)),
        (12, 14 + sz.title as i32),
    )
    .map_err(ce(chart))?;
    let top = 22 + sz.title + sz.small;
    Ok(root.split_vertically(top).1)
}

/// Decimals that tell apart the ticks of an axis spanning `span` with about `ticks` labels
/// (plotters rounds the step up to a round number, up to about twice `span / ticks`): a 7 ms
/// axis reads 0.0066 0.0068 0.0070, not 0.01 0.01 0.01.
pub fn tick_decimals(span: f64, ticks: usize) -> usize {
    let step = span * 2.0 / ticks.max(1) as f64;
    if step > 0.0 && step.is_finite() {
        (-step.log10().floor()).clamp(0.0, 9.0) as usize
    } else {
        0
    }
}

/// A time axis unit chosen for reading: seconds, minutes or hours.
#[derive(Clone, Copy)]
pub struct TimeUnit {
    pub div: f64,
    pub name: &'static str,
}

pub fn time_unit(max_s: f64) -> TimeUnit {
    if max_s < 180.0 {
        TimeUnit {
            div: 1.0,
            name: "s",
        }
    } else if max_s < 3.0 * 3600.0 {
        TimeUnit {
            div: 60.0,
            name: "min",
        }
    } else {
        TimeUnit {
            div: 3600.0,
            name: "h",
        }
    }
}

/// A byte unit (binary) for values up to `max_bytes`.
pub fn byte_unit(max_bytes: f64) -> (f64, &'static str) {
    if max_bytes < 1024.0 * 1024.0 {
        (1024.0, "KiB")
    } else if max_bytes < 1024.0 * 1024.0 * 1024.0 * 2.0 {
        (1024.0 * 1024.0, "MiB")
    } else {
        (1024.0 * 1024.0 * 1024.0, "GiB")
    }
}

/// Keeps at most two points (the min and the max, in time order) per bucket of `buckets` equal
/// slices of the x range, so a line drawn from the result looks the same as from all points.
pub fn downsample(pts: &[(f64, f64)], buckets: usize) -> Vec<(f64, f64)> {
    if pts.len() <= buckets * 2 || buckets == 0 {
        return pts.to_vec();
    }
    let (x0, x1) = (pts[0].0, pts[pts.len() - 1].0);
    let width = (x1 - x0).max(f64::MIN_POSITIVE);
    let mut out = Vec::with_capacity(buckets * 2 + 2);
    let mut i = 0;
    while i < pts.len() {
        let b = (((pts[i].0 - x0) / width) * buckets as f64) as usize;
        let (mut lo, mut hi) = (i, i);
        let mut j = i + 1;
        while j < pts.len() && ((((pts[j].0 - x0) / width) * buckets as f64) as usize) == b {
            if pts[j].1 < pts[lo].1 {
                lo = j;
            }
            if pts[j].1 > pts[hi].1 {
                hi = j;
            }
            j += 1;
        }
        let (a, c) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.push(pts[a]);
        if c != a {
            out.push(pts[c]);
        }
        i = j;
    }
    out
}

/// A y range from 0 (or the minimum when negative) to 10% above the maximum; never empty.
pub fn y_range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, f64::NEG_INFINITY);
    for v in vals.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !hi.is_finite() || hi <= lo {
        hi = lo + 1.0;
    }
    (lo, hi + (hi - lo) * 0.1)
}

/// RGB buffer to PNG bytes.
pub fn encode(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, ReportError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut wr = enc
        .write_header()
        .map_err(|e| ReportError::Png(e.to_string()))?;
    wr.write_image_data(rgb)
        .map_err(|e| ReportError::Png(e.to_string()))?;
    wr.finish().map_err(|e| ReportError::Png(e.to_string()))?;
    Ok(out)
}

/// Draws one chart into a fresh buffer with `draw` and encodes it.
pub fn draw_png(
    (w, h): (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<(), ReportError>,
) -> Result<Vec<u8>, ReportError> {
    ensure_font()?;
    let mut buf = vec![255u8; (w as usize) * (h as usize) * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(ce("png"))?;
    }
    encode(&buf, w, h)
}

/// Writes a centred note (used when a panel has no data).
pub fn note(area: &Area<'_>, chart: &'static str, text: &str) -> Result<(), ReportError> {
    let (w, h) = area.dim_in_pixel();
    let sz = sizes(w, w);
    area.draw_text(
        text,
        &(FAMILY, sz.text)
            .into_font()
            .color(&RGBColor(120, 120, 120)),
        (20, h as i32 / 2),
    )
    .map_err(ce(chart))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_decimals_follow_the_span() {
        // A 7 ms run's time axis, 0.0066 to 0.0072 s: ticks 0.0001 or 0.0002 apart.
        assert_eq!(tick_decimals(0.0006, 6), 4);
        assert_eq!(tick_decimals(0.0006, 10), 4);
        assert_eq!(tick_decimals(1.6, 10), 1);
        assert_eq!(tick_decimals(80.0, 6), 0);
        assert_eq!(tick_decimals(0.0, 6), 0);
    }

    #[test]
    fn downsample_keeps_extremes() {
        let pts: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, (i % 97) as f64)).collect();
        let d = downsample(&pts, 100);
        assert!(d.len() <= 202);
        assert_eq!(d.iter().map(|p| p.1).fold(0.0, f64::max), 96.0);
        assert_eq!(d.iter().map(|p| p.1).fold(1e9, f64::min), 0.0);
        assert!(d.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
