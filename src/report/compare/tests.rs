//! The comparison as a CI user reads it: the verdict first, the Markdown as GitHub renders it
//! (pulldown-cmark, a CommonMark renderer), series named, wide spreads and self-comparisons
//! said.
#![allow(clippy::unwrap_used)]

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use super::CompareDocument;
use crate::analyze::compare::CompareOptions;
use crate::analyze::figures::Figure;
use crate::analyze::hosts::{Cpu, SideCpus};
use crate::analyze::sides::{Comparison, Side};
use crate::analyze::spec::{parse_fail_on, Metric};
use crate::report::Selection;

fn fig(metric: Metric, value: f64) -> Figure {
    Figure {
        metric,
        value,
        lower_is_better: true,
    }
}

/// Runs of a GA minimizing `loss`: wall, a timer whose name has Markdown in it, the main
/// series' best, and IO that is 0 in most runs and large in one.
fn side(walls: &[f64], io_outlier: f64) -> Side {
    Side::from_runs(walls.iter().enumerate().map(|(i, w)| {
        let figs = vec![
            fig(Metric::Wall, *w),
            fig(Metric::Timer("load_data *fast*".into()), w / 2.0),
            fig(Metric::Best(None), w / 100.0),
            fig(Metric::IoRead, if i == 0 { io_outlier } else { 0.0 }),
        ];
        (Some("loss".to_string()), figs)
    }))
}

fn sel(spec: &str, ids: &[i64]) -> Selection {
    Selection {
        spec: spec.into(),
        label: format!("group \"{spec}\" ({} runs)", ids.len()),
        ids: ids.to_vec(),
    }
}

const BASE: [f64; 5] = [9.9, 10.0, 10.1, 10.2, 9.8];
/// 20% slower, every run slower than every base run: Mann-Whitney's exact two-sided p for 5
/// against 5 fully separated runs is 2 / C(10, 5) = 2 / 252 = 0.0079.
const SLOWER: [f64; 5] = [11.9, 12.0, 12.1, 12.2, 11.8];

fn comparison(fail_on: &str) -> Comparison {
    let t = if fail_on.is_empty() {
        Vec::new()
    } else {
        parse_fail_on(fail_on).unwrap()
    };
    Comparison::new(
        &side(&BASE, 0.0),
        &side(&SLOWER, 26.5e6),
        t,
        CompareOptions::default(),
    )
}

fn render(c: &Comparison, base: &Selection, cand: &Selection) -> (String, String) {
    let cpus = SideCpus::default();
    let doc = CompareDocument {
        base,
        cand,
        c,
        cpus: &cpus,
    };
    (doc.text(), doc.markdown())
}

fn sides() -> (Selection, Selection) {
    (sel("main", &[1, 2, 3, 4, 5]), sel("pr", &[6, 7, 8, 9, 10]))
}

#[test]
fn text_opens_with_the_verdict_and_the_gated_rows() {
    let (b, k) = sides();
    let c = comparison("wall>5%");
    let (text, _) = render(&c, &b, &k);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "FAILED: wall +20.0% (> 5%), p 0.008", "{text}");
    // The gated rows come next, the wall row alone; then the sides and every row.
    assert!(lines[2].trim_start().starts_with("metric"), "{text}");
    assert!(lines[3].trim_start().starts_with("wall "), "{text}");
    assert!(lines[3].ends_with("regressed"), "{text}");
    assert_eq!(lines[4], "", "{text}");
    assert!(lines[5].starts_with("base:"), "{text}");
    let all = text.split("method:").nth(1).unwrap();
    assert!(all.contains("timer:load_data *fast*") && all.contains("io_read"));
}

#[test]
fn passing_and_ungated_verdicts_are_one_line_too() {
    let (b, k) = sides();
    let (text, _) = render(&comparison("wall>25%,gpu_mem>1%"), &b, &k);
    assert_eq!(
        text.lines().next().unwrap(),
        "passed: wall +20.0% (limit 25%), p 0.008; gpu_mem not measured"
    );
    // A metric at 0 on both sides is unchanged, not a change "from 0".
    let (text, _) = render(&comparison("io_read>5%"), &b, &k);
    assert!(
        text.starts_with("passed: io_read unchanged at 0 (limit 5%), p "),
        "{text}"
    );
    // Noisy sides whose median is 5% worse: the gate passes and says it could not decide.
    // Mann-Whitney: U = 8 of 25; P(U <= 8) = 53 / 252 for 5 against 5, two-sided 0.421.
    let noisy = |v: &[f64]| {
        Side::from_runs(
            v.iter()
                .map(|x| (None, vec![fig(Metric::Cpu, *x)]))
                .collect::<Vec<_>>(),
        )
    };
    let c = Comparison::new(
        &noisy(&[0.0607, 0.0575, 0.0616, 0.0452, 0.0621]),
        &noisy(&[0.0548, 0.0639, 0.0566, 0.0721, 0.0644]),
        parse_fail_on("cpu>3%").unwrap(),
        CompareOptions::default(),
    );
    let (text, md) = render(&c, &b, &k);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "passed, inconclusive: cpu +5.3% (> 3%) not significant, p 0.421"
    );
    assert!(lines
        .next()
        .unwrap()
        .starts_with("inconclusive: cpu is 5.3% worse (> 3%) but not significantly (p 0.42;"));
    assert!(
        md.starts_with("### passed, inconclusive: cpu +5.3% (> 3%)"),
        "{md}"
    );
    let (text, _) = render(&comparison(""), &b, &k);
    assert!(
        text.starts_with("no gate (no --fail-on): 3 regressed (wall, timer:load_data *fast*, best (loss)), 0 improved, 1 unchanged\n"),
        "{text}"
    );
}

/// The text of the first heading and of every paragraph, as a reader of the rendered page sees
/// them.
fn rendered(md: &str) -> (String, Vec<String>, String) {
    let (mut heading, mut paras, mut html) = (None, Vec::new(), String::new());
    let mut cur: Option<String> = None;
    for ev in Parser::new_ext(md, pulldown_cmark::Options::ENABLE_TABLES) {
        match &ev {
            Event::Start(Tag::Heading { .. } | Tag::Paragraph) => cur = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = cur.as_mut() {
                    c.push_str(t);
                }
            }
            Event::End(TagEnd::Heading(_)) if heading.is_none() => heading = cur.take(),
            Event::End(TagEnd::Paragraph) => paras.extend(cur.take()),
            _ => {}
        }
    }
    pulldown_cmark::html::push_html(
        &mut html,
        Parser::new_ext(md, pulldown_cmark::Options::ENABLE_TABLES),
    );
    (heading.unwrap_or_default(), paras, html)
}

#[test]
fn markdown_renders_the_verdict_as_its_first_heading_without_escapes() {
    let (b, k) = sides();
    let c = comparison("wall>5%,timer:load_data *fast*>10%");
    let (_, md) = render(&c, &b, &k);
    let (heading, _, html) = rendered(&md);
    assert_eq!(
        heading,
        "FAILED: wall +20.0% (> 5%), p 0.008; timer:load_data *fast* +20.0% (> 10%), p 0.008",
        "{md}"
    );
    assert!(!heading.contains('\\') && !heading.contains("&gt;"));
    // Workload text stays literal: no emphasis made of a timer's stars or underscores.
    assert!(
        !html.contains("<em>") && !html.contains("<strong>fast"),
        "{html}"
    );
    assert!(html.contains("<strong>regressed</strong>"), "{html}");
    assert!(html.contains("<td>timer:load_data *fast*</td>"), "{html}");
    // The gated rows come before the full table.
    assert_eq!(html.matches("<table>").count(), 2, "{html}");
}

#[test]
fn rows_of_the_main_series_name_it() {
    let (b, k) = sides();
    let (text, md) = render(&comparison("best>1%"), &b, &k);
    assert!(
        text.starts_with("FAILED: best (loss) +20.0% (> 1%)"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("best (loss) ")),
        "{text}"
    );
    let (_, _, html) = rendered(&md);
    assert!(html.contains("<td>best (loss)</td>"), "{html}");
    let c = comparison("best>1%");
    let json = CompareDocument {
        base: &b,
        cand: &k,
        c: &c,
        cpus: &SideCpus::default(),
    }
    .json();
    let best = json.rows.iter().find(|r| r.metric == "best").unwrap();
    assert_eq!(best.label, "best (loss)");
}

#[test]
fn a_spread_wider_than_the_median_is_said() {
    let (b, k) = sides();
    let (text, md) = render(&comparison(""), &b, &k);
    let io = text
        .lines()
        .rfind(|l| l.trim_start().starts_with("io_read"))
        .unwrap();
    // The candidate: four runs at 0 and one at 26.5 MB: median 0, σ 11.9 MB = 11.3 MiB.
    assert!(io.contains("0 B ± 11.3 MiB (σ > median)"), "{io}");
    // The base (all 0) is not flagged.
    assert_eq!(io.matches("σ > median").count(), 1, "{io}");
    assert!(text.contains("\n(σ > median): the runs spread more than their median"));
    let (_, paras, _) = rendered(&md);
    assert!(
        paras.iter().any(|p| p.starts_with("(σ > median): ")),
        "{paras:?}"
    );
}

#[test]
fn a_selection_compared_with_itself_says_so() {
    let s = sel("main", &[1, 2, 3, 4, 5]);
    let c = Comparison::new(
        &side(&BASE, 0.0),
        &side(&BASE, 0.0),
        Vec::new(),
        CompareOptions::default(),
    );
    let (text, md) = render(&c, &s, &s);
    assert_eq!(
        text.lines().nth(1).unwrap(),
        "note: base and candidate are the same runs 1 2 3 4 5: a selection compared with itself shows no change; compare it with another selection"
    );
    let (_, paras, _) = rendered(&md);
    assert!(paras[0].starts_with("note: base and candidate are the same runs"));
    let doc = CompareDocument {
        base: &s,
        cand: &s,
        c: &c,
        cpus: &SideCpus::default(),
    };
    assert_eq!(doc.json().shared_runs, [1, 2, 3, 4, 5]);
    // Sides that overlap in part say which runs they share.
    let (text, _) = render(&c, &s, &sel("last:3", &[4, 5, 6]));
    assert!(
        text.contains("note: base and candidate share runs 4 5:"),
        "{text}"
    );
    let (b, k) = sides();
    assert!(!render(&c, &b, &k).0.contains("note:"));
}

#[test]
fn the_chart_marks_the_gated_metrics_and_draws_each_run() {
    let c = comparison("wall>5%,best>25%");
    let (b, k) = (side(&BASE, 0.0), side(&SLOWER, 26.5e6));
    let p = super::png::gate_panel(&c, [&b, &k]).unwrap();
    let label = |x: f64| p.x_fmt.as_ref().unwrap()(&x);
    assert_eq!(label(1.0), "wall +20.0% FAILED");
    assert_eq!(label(2.0), "best (loss) +20.0%");
    assert_eq!(label(1.5), "");
    // Thresholds at 105% (broken: red) and 125%; every run as % of the base median (10 s).
    let red = plotters::style::RGBColor(214, 39, 40);
    assert_eq!(p.lines[0].pts, [(0.6, 105.0), (1.4, 105.0)]);
    assert_eq!(p.lines[0].color, red);
    assert_eq!(p.lines[1].pts[0].1, 125.0);
    assert_ne!(p.lines[1].color, red);
    let cand = &p.lines[3];
    assert_eq!(cand.pts.len(), 10);
    assert!((cand.pts[0].1 - 119.0).abs() < 1e-9, "{:?}", cand.pts);
    // The chart's title is the verdict line.
    let doc = CompareDocument {
        base: &sides().0,
        cand: &sides().1,
        c: &c,
        cpus: &SideCpus::default(),
    };
    let png = super::overlay_png(&doc, [&b, &k], [None, None]).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
}

/// Two thresholds on one metric: only the broken one is marked (as the gate line says), not
/// every threshold of that metric.
#[test]
fn the_chart_marks_only_the_broken_threshold_of_a_metric() {
    let c = comparison("wall>5%,wall>30%");
    let (b, k) = (side(&BASE, 0.0), side(&SLOWER, 26.5e6));
    let p = super::png::gate_panel(&c, [&b, &k]).unwrap();
    let label = |x: f64| p.x_fmt.as_ref().unwrap()(&x);
    assert_eq!(label(1.0), "wall +20.0% FAILED");
    assert_eq!(label(2.0), "wall +20.0%");
    let red = plotters::style::RGBColor(214, 39, 40);
    assert_eq!(p.lines[0].color, red);
    assert_ne!(p.lines[1].color, red);
}

/// Sides that ran on different CPU models say so next to the sides, in every format; one model
/// says nothing.
#[test]
fn different_cpu_models_are_warned_of_next_to_the_sides() {
    let (b, k) = sides();
    let c = comparison("");
    let cpu = |model: &str, cores, runs: &[i64]| Cpu {
        model: model.into(),
        cores,
        runs: runs.to_vec(),
    };
    let differ = SideCpus {
        base: vec![cpu("AMD EPYC 7313", 16, &b.ids)],
        cand: vec![cpu("Intel(R) Xeon(R) CPU @ 2.20GHz", 16, &k.ids)],
    };
    let doc = CompareDocument {
        base: &b,
        cand: &k,
        c: &c,
        cpus: &differ,
    };
    let warning = "the runs compared ran on different CPU models, so their times are not comparable: base \"AMD EPYC 7313\" (16 cores); candidate \"Intel(R) Xeon(R) CPU @ 2.20GHz\" (16 cores)";
    let text = doc.text();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("candidate: "))
        .unwrap();
    assert_eq!(lines[at + 1], format!("warning:   {warning}"), "{text}");
    let (_, _, html) = rendered(&doc.markdown());
    assert!(
        html.contains("<strong>warning</strong>: the runs compared ran on different CPU models"),
        "{html}"
    );
    let j = doc.json();
    assert_eq!(j.hosts.warning.as_deref(), Some(warning));
    assert!(j.hosts.cpu_models_differ && !j.hosts.cores_differ);
    assert_eq!(j.hosts.base[0].cpu_model, "AMD EPYC 7313");
    assert_eq!(j.hosts.candidate[0].runs, k.ids);
    let same = SideCpus {
        base: vec![cpu("AMD EPYC 7313", 16, &b.ids)],
        cand: vec![cpu("AMD EPYC 7313", 16, &k.ids)],
    };
    let doc = CompareDocument { cpus: &same, ..doc };
    assert!(!doc.text().contains("warning"));
    assert!(!doc.markdown().contains("warning"));
    assert_eq!(doc.json().hosts.warning, None);
}
