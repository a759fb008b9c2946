//! The tables that the Markdown and HTML writers share: the same rows and cells from the
//! [`RunDocument`], workload text passed through the format's escape function; each writer
//! writes them with [`Table::markdown`] or [`Table::html`].

use super::document::{
    direction_with_source, main_marker, mark_time, parameter_figures, parameter_series,
    progress_series, series_figures, timer_figures, timer_marker, Esc, RunDocument,
    PEAK_RSS_SOURCE, PEAK_TREE_RSS_SOURCE, RUSAGE,
};
use super::table::{Align, Table};
use super::units::printable;

/// The key/value table under the title: status, command (the cell as the writer quotes it),
/// when, where, then the totals and the GPUs.
pub fn header_table(doc: &RunDocument, esc: Esc, command: String) -> Table {
    let h = &doc.header;
    let t = &doc.totals;
    let mut table = Table::new(&["", ""], 2);
    let mut kv = |k: &str, v: String| table.row(vec![k.to_string(), v]);
    kv("status", h.status_line());
    kv("command", command);
    kv("started", h.started.clone());
    kv("host", h.host(esc));
    if let Some(g) = h.git(esc) {
        kv("git", g);
    }
    if let Some(tags) = h.tags(esc) {
        kv("tags", tags);
    }
    kv("wall", t.wall());
    kv(
        "CPU user / system",
        format!("{} / {} ({RUSAGE})", t.cpu_user(), t.cpu_system()),
    );
    kv("peak RSS", format!("{} ({PEAK_RSS_SOURCE})", t.peak_rss()));
    kv(
        "peak tree RSS",
        format!("{} ({PEAK_TREE_RSS_SOURCE})", t.peak_tree_rss()),
    );
    kv(
        "IO read / write",
        format!("{} ({})", t.io(), esc(t.io_source())),
    );
    kv("page faults", t.faults());
    kv("context switches", t.context_switches());
    kv(
        "processes",
        format!(
            "{}, {} left behind{}",
            t.processes(),
            t.t.left_behind.len(),
            t.left_behind(esc)
                .map(|l| format!(": {l}"))
                .unwrap_or_default()
        ),
    );
    kv("perfmon overhead", t.perfmon_overhead());
    kv(
        "GPU",
        t.gpu_lines(printable)
            .iter()
            .map(|l| esc(l))
            .collect::<Vec<_>>()
            .join("<br>"),
    );
    table
}

/// One row per timer name, nested names indented with `indent` per level.
pub fn timers_table(doc: &RunDocument, esc: Esc, indent: &str) -> Table {
    let mut t = Table::new(
        &[
            "timer",
            "count",
            "total",
            "mean",
            "min",
            "max",
            "self",
            "share of wall",
        ],
        1,
    );
    for s in &doc.timers.rows {
        let mut row = vec![format!(
            "{}{}{}",
            indent.repeat(s.min_depth as usize),
            esc(&s.name),
            esc(timer_marker(s))
        )];
        row.extend(timer_figures(s));
        t.row(row);
    }
    t
}

/// One row per progress series (objective and metrics; parameters have [`parameters_table`]).
pub fn series_table(doc: &RunDocument, esc: Esc) -> Table {
    let mut t = Table::new(
        &[
            "series",
            "algorithm",
            "direction",
            "points",
            "first",
            "best",
            "final",
            "best at",
            "converged at",
            "flat for",
            "stagnant iters",
            "per iter",
        ],
        3,
    );
    for s in progress_series(&doc.series) {
        let mut row = vec![
            format!("{}{}", esc(&s.name), main_marker(s)),
            esc(s.algorithm.as_deref().unwrap_or("-")),
            direction_with_source(s, false),
        ];
        row.extend(series_figures(s));
        t.row(row);
    }
    t
}

/// One row per parameter series: the values the run set at each iteration.
pub fn parameters_table(doc: &RunDocument, esc: Esc) -> Table {
    let mut t = Table::new(
        &[
            "parameter",
            "algorithm",
            "points",
            "first",
            "final",
            "min",
            "max",
        ],
        2,
    );
    for s in parameter_series(&doc.series) {
        let mut row = vec![esc(&s.name), esc(s.algorithm.as_deref().unwrap_or("-"))];
        row.extend(parameter_figures(s));
        t.row(row);
    }
    t
}

/// Mean and peak of each resource.
pub fn resources_table(doc: &RunDocument) -> Table {
    let r = &doc.resources;
    let mut t = Table::new(&["resource", "mean", "peak"], 1);
    t.row(vec![
        "CPU (cores)".into(),
        r.r.cpu_cores_mean
            .map(|_| format!("{} of {}", r.cpu_mean(), r.r.host_cores))
            .unwrap_or_else(|| "-".into()),
        r.cpu_peak(),
    ]);
    t.row(vec![
        "CPU (share of the host)".into(),
        r.cpu_share_pct(),
        "-".into(),
    ]);
    t.row(vec!["tree RSS".into(), r.rss_mean(), r.rss_peak()]);
    let (a, p) = r.read();
    t.row(vec!["disk read (MB/s)".into(), a, p]);
    let (a, p) = r.write();
    t.row(vec!["disk write (MB/s)".into(), a, p]);
    for g in &doc.totals.gpus {
        t.row(vec![
            format!("GPU {} util", g.usage.index),
            g.util_mean(),
            g.util_peak(),
        ]);
        t.row(vec![
            format!("GPU {} memory", g.usage.index),
            "-".into(),
            g.mem_peak(),
        ]);
    }
    t
}

/// The first marks, each at its time.
pub fn marks_table(doc: &RunDocument, esc: Esc) -> Table {
    let mut t = Table::new(&["at", "mark"], 0).aligned(&[Align::Right, Align::Left]);
    for k in doc.marks.iter().take(super::document::MARKS_SHOWN) {
        t.row(vec![mark_time(k), esc(&k.text)]);
    }
    t
}
