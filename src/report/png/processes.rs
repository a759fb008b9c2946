//! processes.png: CPU% and RSS over time of the `--top` processes with the most CPU time, one
//! colour per process (legend: pid and the command line, shortened; a forked worker that shares
//! its parent's command line says whose child it is).

use super::panel::{draw_panel, Line, Look, Panel};
use super::style::{byte_unit, color, draw_png, header, sizes, time_unit, y_range};
use super::PngOptions;
use crate::analyze::Analysis;
use crate::model::{ProcessTrack, RunRecord, MISSING};
use crate::report::units::{fmt_num, truncate};
use crate::report::ReportError;

const CHART: &str = "processes.png";

fn cpu_used(p: &ProcessTrack) -> i64 {
    let v: Vec<i64> = p.cpu_us.iter().copied().filter(|v| *v != MISSING).collect();
    match (v.first(), v.last()) {
        (Some(a), Some(b)) => b - a,
        _ => 0,
    }
}

/// Longest command line in a legend, in characters.
const LABEL_CHARS: usize = 48;

/// A command line shortened for a legend: the program and path arguments by their file names
/// (`/usr/bin/python3 /home/u/exp/train.py --lr 0.1` → `python3 train.py --lr 0.1`), cut to
/// `max` characters; the process name when the command line is unknown.
fn short_command(p: &ProcessTrack, max: usize) -> String {
    let words: Vec<&str> = p
        .cmdline
        .split_whitespace()
        .map(|w| match w.rsplit_once('/') {
            Some((_, base)) if !base.is_empty() && !w.starts_with('-') => base,
            _ => w,
        })
        .collect();
    if words.is_empty() {
        return truncate(&p.name, max);
    }
    truncate(&words.join(" "), max)
}

/// One legend label per process: `PID command`, and `(child of PPID)` where several listed
/// processes would read the same.
fn labels(procs: &[&ProcessTrack]) -> Vec<String> {
    let short: Vec<String> = procs
        .iter()
        .map(|p| short_command(p, LABEL_CHARS))
        .collect();
    procs
        .iter()
        .zip(&short)
        .map(|(p, s)| {
            let twins = short.iter().filter(|o| *o == s).count() > 1;
            let parent_listed = procs.iter().any(|q| q.pid == p.ppid);
            match twins && parent_listed {
                true => format!("{} {s} (child of {})", p.pid, p.ppid),
                false => format!("{} {s}", p.pid),
            }
        })
        .collect()
}

pub(super) fn draw(
    rec: &RunRecord,
    _an: &Analysis,
    opts: &PngOptions,
) -> Result<Vec<u8>, ReportError> {
    draw_png(opts.size, |root| {
        let body = header(
            root,
            rec,
            CHART,
            &format!("Top {} processes by CPU", opts.top),
        )?;
        let t = &rec.samples.t_us;
        let mut procs: Vec<&ProcessTrack> = rec
            .processes
            .iter()
            .filter(|p| p.cpu_us.len() >= 2)
            .collect();
        procs.sort_by_key(|p| std::cmp::Reverse(cpu_used(p)));
        procs.truncate(opts.top.max(1));
        let time = |p: &ProcessTrack, k: usize| t.get(p.first_sample + k).map(|v| *v as f64 / 1e6);
        let mut cpu = Vec::new();
        let mut rss_raw = Vec::new();
        for ((i, p), label) in procs.iter().enumerate().zip(labels(&procs)) {
            let mut pts = Vec::new();
            for k in 1..p.cpu_us.len() {
                let (a, b) = (p.cpu_us[k - 1], p.cpu_us[k]);
                if let (Some(t0), Some(t1)) = (time(p, k - 1), time(p, k)) {
                    if a != MISSING && b != MISSING && b >= a && t1 > t0 {
                        pts.push((t1, (b - a) as f64 / 1e6 / (t1 - t0) * 100.0));
                    }
                }
            }
            cpu.push(Line::new(label.clone(), color(i), pts));
            let r: Vec<(f64, f64)> = p
                .rss_kib
                .iter()
                .enumerate()
                .filter(|(_, v)| **v != MISSING)
                .filter_map(|(k, v)| time(p, k).map(|t| (t, *v as f64 * 1024.0)))
                .collect();
            rss_raw.push((label, color(i), r));
        }
        let (div, unit) = byte_unit(
            rss_raw
                .iter()
                .flat_map(|r| r.2.iter().map(|p| p.1))
                .fold(0.0, f64::max),
        );
        let rss: Vec<Line> = rss_raw
            .into_iter()
            .map(|(label, color, pts)| {
                Line::new(
                    label,
                    color,
                    pts.into_iter().map(|(t, v)| (t, v / div)).collect(),
                )
            })
            .collect();
        let x_max_s = crate::analyze::wall_of(rec).max(t.last().map_or(0.0, |v| *v as f64 / 1e6));
        let tu = time_unit(x_max_s);
        let (_, h) = body.dim_in_pixel();
        let axis = sizes(opts.size.0, opts.size.1).text * 3;
        let (a, b) = body.split_vertically((h.saturating_sub(axis)) / 2);
        let y = y_range(
            cpu.iter()
                .flat_map(|l| l.pts.iter().map(|p| p.1))
                .chain([100.0]),
        );
        let panel = |y_desc: String, lines, y, bottom, y_fmt: Box<dyn Fn(&f64) -> String>| Panel {
            chart: CHART,
            look: Look::Stacked {
                bottom,
                label_bands: false,
            },
            x_desc: format!("time since start ({})", tu.name),
            y_desc,
            x_range: Some((0.0, (x_max_s / tu.div).max(1e-9))),
            y_range: Some(y),
            x_div: tu.div,
            y_fmt,
            lines,
            bands: &[],
            markers: Vec::new(),
            x_fmt: None,
            x_labels: 10,
        };
        let pct = |v: &f64| format!("{v:.0}%");
        draw_panel(
            &a,
            &panel("CPU (%, 100 = 1 core)".into(), cpu, y, false, Box::new(pct)),
        )?;
        let y = y_range(rss.iter().flat_map(|l| l.pts.iter().map(|p| p.1)));
        let f = |v: &f64| fmt_num((*v * 10.0).round() / 10.0);
        draw_panel(
            &b,
            &panel(format!("RSS ({unit})"), rss, y, true, Box::new(f)),
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(pid: u32, ppid: u32, name: &str, cmdline: &str) -> ProcessTrack {
        ProcessTrack {
            pid,
            ppid,
            name: name.into(),
            cmdline: cmdline.into(),
            ..ProcessTrack::default()
        }
    }

    #[test]
    fn processes_are_named_by_their_command_lines() {
        let main = track(
            10,
            1,
            "python3",
            "/usr/bin/python3 /home/u/exp/train.py --lr 0.1",
        );
        let w1 = track(
            11,
            10,
            "python3",
            "/usr/bin/python3 /home/u/exp/train.py --lr 0.1",
        );
        let w2 = track(12, 10, "python3", "python3 -m worker --log=/tmp/w.log");
        let gone = track(13, 10, "sh", "");
        let got = labels(&[&main, &w1, &w2, &gone]);
        assert_eq!(
            got,
            [
                "10 python3 train.py --lr 0.1",
                "11 python3 train.py --lr 0.1 (child of 10)",
                "12 python3 -m worker --log=/tmp/w.log",
                "13 sh",
            ]
        );
        let long = track(14, 1, "x", &format!("prog {}", "a".repeat(100)));
        assert!(short_command(&long, 20).chars().count() <= 20);
    }
}
