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

fn snapshot(name: &str, got: &str) {
    let path = format!("{}/fixtures/report/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(format!("{}/fixtures/report", env!("CARGO_MANIFEST_DIR"))).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{path} missing: run with UPDATE_SNAPSHOTS=1"));
    assert!(
        want == got,
        "{name} differs from {path}; UPDATE_SNAPSHOTS=1 regenerates it\n{got}"
    );
}

fn render(r: &dyn Renderer) -> String {
    let rec = record();
    String::from_utf8(r.render(&rec, &analyze(&rec)).unwrap()).unwrap()
}

#[test]
fn text_snapshot() {
    snapshot("report.txt", &render(&super::text::TextRenderer));
}

#[test]
fn markdown_snapshot() {
    let md = render(&super::markdown::MarkdownRenderer {
        png_dir: Some("charts dir".into()),
    });
    assert!(md.contains("![resources over time](charts%20dir/resources.png)"));
    snapshot("report.md", &md);
}

#[test]
fn json_snapshot() {
    snapshot(
        "report.json",
        &render(&super::json::JsonRenderer {
            samples: false,
            convergence_tol: 0.01,
        }),
    );
}

#[test]
fn json_with_samples_has_every_metric() {
    let v: serde_json::Value = serde_json::from_str(&render(&super::json::JsonRenderer {
        samples: true,
        convergence_tol: 0.01,
    }))
    .unwrap();
    let s = &v["samples"];
    assert_eq!(s["count"], 1201);
    assert_eq!(s["t_s"].as_array().unwrap().len(), 1201);
    assert_eq!(s["metrics"]["tree.rss_kib"].as_array().unwrap().len(), 1201);
    let plain: serde_json::Value = serde_json::from_str(&render(&super::json::JsonRenderer {
        samples: false,
        convergence_tol: 0.01,
    }))
    .unwrap();
    // Schema version 2: an object without --samples too, with the count and the interval.
    assert_eq!(
        plain["samples"],
        serde_json::json!({"count": 1201, "interval_ms": 100})
    );
    assert_eq!(s["interval_ms"], 100);
}

#[test]
fn markdown_escapes_workload_text() {
    let mut rec = record();
    rec.series[0].name = "a|b <i>x</i> [l](u)".into();
    let md = super::markdown::render_markdown(&rec, &analyze(&rec), None);
    assert!(md.contains("a\\|b \\<i>x\\</i> \\[l\\](u)"), "{md}");
    // As rendered (pulldown-cmark, CommonMark with tables): the name, literally, in its cell.
    let mut html = String::new();
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(&md, pulldown_cmark::Options::ENABLE_TABLES),
    );
    assert!(
        html.contains("<td>a|b &lt;i&gt;x&lt;/i&gt; [l](u)"),
        "{html}"
    );
}

fn strip_data_uris(html: &str) -> String {
    let re = regex::Regex::new(r"data:image/png;base64,[A-Za-z0-9+/=]*").unwrap();
    re.replace_all(html, "data:").into_owned()
}

#[test]
fn html_is_self_contained_and_escaped() {
    let mut rec = record();
    rec.series[1].name = "<script>alert(1)</script>".into();
    rec.meta.command.push("http://example.com/x".into());
    let an = analyze(&rec);
    let opts = PngOptions {
        size: (600, 400),
        ..PngOptions::default()
    };
    let html = String::from_utf8(
        super::html::HtmlRenderer { png: opts }
            .render(&rec, &an)
            .unwrap(),
    )
    .unwrap();
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#47;script&gt;"));
    assert_eq!(html.matches("data:image/png;base64,").count(), 4);
    let rest = strip_data_uris(&html);
    for bad in ["http://", "https://", "//", "src=\"http", "url("] {
        assert!(!rest.contains(bad), "found {bad}");
    }
}

#[test]
fn trace_has_complete_counter_and_instant_events() {
    let v: serde_json::Value = serde_json::from_str(&render(&super::trace::TraceRenderer)).unwrap();
    let ev = v["traceEvents"].as_array().unwrap();
    let count = |ph: &str| ev.iter().filter(|e| e["ph"] == ph).count();
    assert_eq!(count("X"), record().timers.len());
    assert!(count("C") > 1000);
    assert_eq!(count("i"), 2);
    let names: std::collections::BTreeSet<_> = ev
        .iter()
        .filter(|e| e["ph"] == "C")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for n in [
        "CPU %",
        "tree RSS (MiB)",
        "disk read (MB/s)",
        "GPU 0 util %",
    ] {
        assert!(names.contains(n), "{n} in {names:?}");
    }
}

fn variety(png_bytes: &[u8]) -> (u32, u32, usize) {
    let dec = png::Decoder::new(png_bytes);
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    let colors: std::collections::HashSet<&[u8]> = buf[..info.buffer_size()].chunks(3).collect();
    (info.width, info.height, colors.len())
}

#[test]
fn pngs_have_size_content_and_follow_data() {
    let rec = record();
    let an = analyze(&rec);
    let a = render_png(&rec, &an, &PngOptions::default()).unwrap();
    for (name, bytes) in &a.files {
        let (w, h, colors) = variety(bytes);
        assert_eq!((w, h), (1200, 800), "{name}");
        assert!(colors > 20, "{name} looks blank: {colors} colours");
    }
    let small = render_png(
        &rec,
        &an,
        &PngOptions {
            size: (640, 480),
            ..PngOptions::default()
        },
    )
    .unwrap();
    assert_eq!(variety(&small.files[0].1).0, 640);
    let mut changed = record();
    changed.series[0].points[10].value *= 50.0;
    for p in changed.processes[0].rss_kib.iter_mut() {
        *p *= 2;
    }
    changed.timers[0].end_s = 15.0;
    let col = changed.samples.columns.get_mut("tree.rss_kib").unwrap();
    col[500] *= 3;
    let b = render_png(&changed, &analyze(&changed), &PngOptions::default()).unwrap();
    for ((n, x), (_, y)) in a.files.iter().zip(&b.files) {
        assert_ne!(x, y, "{n} did not change with the data");
    }
}

#[test]
fn charts_without_data_are_skipped_with_a_note() {
    let mut rec = record();
    rec.timers.clear();
    rec.series.clear();
    let c = render_png(&rec, &analyze(&rec), &PngOptions::default()).unwrap();
    let names: Vec<_> = c.files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(names, ["resources.png", "processes.png"]);
    assert_eq!(c.skipped.len(), 2);
    assert!(c.skipped[0].contains("timers.png"));
}

/// A recording warning (something may be missing from the run) is in every format, escaped.
#[test]
fn recording_warnings_appear_in_every_format() {
    let rec = record();
    let an = analyze(&rec);
    let text = String::from_utf8(super::text::TextRenderer.render(&rec, &an).unwrap()).unwrap();
    assert!(text.contains("warning: processes left behind still wrote to stdout <after>"));
    let md = render(&super::markdown::MarkdownRenderer { png_dir: None });
    assert!(md.contains("**warning**: processes left behind"), "{md}");
    let html = String::from_utf8(
        super::html::HtmlRenderer {
            png: PngOptions::default(),
        }
        .render(&rec, &an)
        .unwrap(),
    )
    .unwrap();
    assert!(html.contains("wrote to stdout &lt;after&gt; the end"));
    let json = render(&super::json::JsonRenderer {
        samples: false,
        convergence_tol: 1e-3,
    });
    assert!(
        json.contains("\"warnings\": [\n      \"processes left behind"),
        "{json}"
    );
}
