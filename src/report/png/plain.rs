//! What the plain look of a panel (charts of groups, comparisons and history) adds to the
//! drawer: a value axis from zero unless the data say otherwise (and then the axis name says
//! so), and the legend in a strip beside the plot, never over the data.

use plotters::prelude::*;

use super::panel::{Line, Mark};
use super::style::{ce, Area, FAMILY};
use crate::report::units::fmt_num;
use crate::report::ReportError;

/// Data spanning less than this share of their largest magnitude would draw as a flat line on
/// an axis from zero: such an axis starts near the data instead.
const FLAT_SHARE: f64 = 0.1;

/// The value axis of data from `lo` to `hi`, and the note its name carries when it does not
/// start at zero. From zero (or to zero, for negative data) unless the data span less than
/// [`FLAT_SHARE`] of their magnitude; data of both signs include zero anyway.
pub fn value_axis(lo: f64, hi: f64) -> ((f64, f64), Option<String>) {
    let pad = |a: f64, b: f64| ((b - a) * 0.08).max(b.abs().max(a.abs()) * 1e-6).max(1e-12);
    if !(lo.is_finite() && hi.is_finite()) {
        return ((0.0, 1.0), None);
    }
    let magnitude = lo.abs().max(hi.abs());
    let flat = hi > lo && hi - lo < FLAT_SHARE * magnitude;
    if lo < 0.0 && hi > 0.0 || !flat {
        let (a, b) = (lo.min(0.0), hi.max(0.0));
        let p = pad(a, b);
        let a = if a < 0.0 { a - p } else { 0.0 };
        let b = if b > 0.0 { b + p } else { 0.0 };
        return if a == b {
            ((0.0, 1.0), None)
        } else {
            ((a, b), None)
        };
    }
    let p = pad(lo, hi);
    let (a, b) = (lo - p, hi + p);
    let from = if hi <= 0.0 { b } else { a };
    let note = format!(
        "axis {} {}, not 0",
        if hi <= 0.0 { "to" } else { "from" },
        fmt_num(significant(from))
    );
    ((a, b), Some(note))
}

/// `v` to 4 significant digits, for an axis note.
fn significant(v: f64) -> f64 {
    if v == 0.0 {
        return 0.0;
    }
    let k = 10f64.powi(3 - v.abs().log10().floor() as i32);
    (v * k).round() / k
}

/// Width in pixels of a legend of `lines` in font size `small` (0 when no line has a label).
pub fn legend_width(lines: &[Line], small: u32, area_w: u32) -> u32 {
    let chars = lines
        .iter()
        .map(|l| l.label.chars().count())
        .max()
        .unwrap_or(0);
    if chars == 0 {
        return 0;
    }
    let w = chars as f64 * small as f64 * 0.58 + 44.0;
    (w as u32).min(area_w * 2 / 5)
}

/// The legend of `lines` in `area` (the strip right of the plot), from `top` down; lines
/// without a label have no entry.
pub fn draw_legend(
    area: &Area<'_>,
    chart: &'static str,
    lines: &[Line],
    small: u32,
    top: i32,
) -> Result<(), ReportError> {
    let (w, _) = area.dim_in_pixel();
    let max_chars = ((w as f64 - 40.0) / (small as f64 * 0.58)).max(4.0) as usize;
    let mut y = top + small as i32 / 2;
    for l in lines.iter().filter(|l| !l.label.is_empty()) {
        let c = l.color;
        if l.mark == Mark::Points {
            area.draw(&Circle::new((18, y), 5, c.filled()))
                .map_err(ce(chart))?;
        } else {
            area.draw(&PathElement::new(vec![(8, y), (28, y)], c.stroke_width(3)))
                .map_err(ce(chart))?;
        }
        area.draw_text(
            &crate::report::units::truncate(&l.label, max_chars),
            &(FAMILY, small).into_font().color(&BLACK),
            (34, y - small as i32 / 2),
        )
        .map_err(ce(chart))?;
        y += small as i32 + 8;
    }
    Ok(())
}

/// `text` in lines of at most `width` characters, broken after `; ` or `, ` (else cut), at
/// most `max_lines` (the last one ending in `…` when text is left).
pub fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() && lines.len() < max_lines {
        if rest.chars().count() <= width {
            lines.push(rest.to_string());
            rest = "";
            break;
        }
        let cut: usize = rest
            .char_indices()
            .nth(width)
            .map_or(rest.len(), |(i, _)| i);
        let at = rest[..cut]
            .rfind("; ")
            .or_else(|| rest[..cut].rfind(", "))
            .map_or(cut, |i| i + 1);
        lines.push(rest[..at].trim_end().to_string());
        rest = rest[at..].trim_start();
    }
    if !rest.is_empty() {
        if let Some(last) = lines.last_mut() {
            *last = crate::report::units::truncate(&format!("{last} {rest}"), width);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_wrap_between_items() {
        let t = "FAILED: wall +17.2% (> 5%), p 0.008; best (loss) +30.0% (> 3%), p 0.004";
        assert_eq!(
            wrap(t, 40, 3),
            [
                "FAILED: wall +17.2% (> 5%), p 0.008;",
                "best (loss) +30.0% (> 3%), p 0.004"
            ]
        );
        assert_eq!(wrap(t, 200, 3), [t]);
        let cut = wrap(t, 20, 2);
        assert_eq!(cut.len(), 2);
        assert!(
            cut[1].ends_with('…') && cut[1].chars().count() == 20,
            "{cut:?}"
        );
    }

    #[test]
    fn value_axes_start_at_zero_unless_the_data_are_flat_there() {
        // A 20% step from 10 s: from zero.
        assert_eq!(value_axis(10.0, 12.0), ((0.0, 12.96), None));
        // Both signs: zero is inside.
        let ((a, b), note) = value_axis(-1.0, 3.0);
        assert!(a < -1.0 && b > 3.0 && note.is_none());
        // All negative and spread: up to zero.
        assert_eq!(value_axis(-12.0, -10.0).0 .1, 0.0);
        // 1000.1 to 1000.3 would be a flat line from zero: near the data, and said.
        let ((a, b), note) = value_axis(1000.1, 1000.3);
        assert!(a > 1000.0 && a < 1000.1 && b > 1000.3, "{a} {b}");
        assert_eq!(note.as_deref(), Some("axis from 1000, not 0"));
        let (_, note) = value_axis(-1000.3, -1000.1);
        assert_eq!(note.as_deref(), Some("axis to -1000, not 0"));
        // One value, or none: a real range.
        assert_eq!(value_axis(0.0, 0.0).0, (0.0, 1.0));
        assert_eq!(value_axis(5.0, 5.0), ((0.0, 5.4), None));
    }
}
