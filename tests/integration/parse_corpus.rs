//! Acceptance of the output parser on real library output (fixtures/corpus, captured from the
//! workloads of the shared corpus, with ground truth recorded inside each process) and on ordinary
//! program logs (fixtures/logs) where nothing may be recognized. Library-level: through
//! `perfmon::parse`, feeding stdout and stderr to one parser as the runner does.

use std::path::{Path, PathBuf};

use perfmon::parse::{parse_reader, ParseConfig, ParseResult, Parser, Stream};

fn fixtures(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(dir)
}

fn cfg() -> ParseConfig {
    ParseConfig {
        auto: true,
        regexes: vec![],
        explain: false,
    }
}

/// stdout then stderr of a capture, through one parser.
fn parse_capture(dir: &Path) -> ParseResult {
    let mut p = Parser::new(&cfg()).unwrap();
    let mut t = 0.0;
    for (file, stream) in [
        ("stdout.txt", Stream::Stdout),
        ("stderr.txt", Stream::Stderr),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap_or_default();
        for line in bytes.split(|&b| b == b'\n') {
            p.feed_line(stream, t, line, false);
            t += 0.001;
        }
    }
    p.finish(t)
}

struct Case {
    name: String,
    expected: Vec<(i64, f64)>,
    rel: f64,
    abs: f64,
}

fn corpus() -> Vec<(PathBuf, Case)> {
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(fixtures("corpus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for d in dirs.into_iter().filter(|d| d.is_dir()) {
        let e: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("expected.json")).unwrap()).unwrap();
        let expected = e["series_printed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["iter"].as_i64().unwrap(), p["value"].as_f64().unwrap()))
            .collect();
        let tol = &e["verification"]["tolerance"];
        out.push((
            d.clone(),
            Case {
                name: e["name"].as_str().unwrap().to_string(),
                expected,
                rel: tol["rel"].as_f64().unwrap_or(0.0),
                abs: tol["abs"].as_f64().unwrap_or(0.0),
            },
        ));
    }
    assert!(out.len() >= 9, "corpus folders missing");
    out
}

fn matches(c: &Case, pts: &[(i64, f64)]) -> bool {
    pts.len() == c.expected.len()
        && pts.iter().zip(&c.expected).all(|(&(i, v), &(ei, ev))| {
            i == ei && (v - ev).abs() <= c.abs + c.rel * ev.abs() + 1e-12 * ev.abs().max(1e-300)
        })
}

#[test]
fn every_corpus_capture_yields_its_truth_as_the_main_series() {
    let mut failures = Vec::new();
    for (dir, case) in corpus() {
        let r = parse_capture(&dir);
        if case.expected.is_empty() {
            if !r.series.is_empty() {
                failures.push(format!(
                    "{}: expected no series, found {}",
                    case.name,
                    r.series.len()
                ));
            }
            continue;
        }
        let found = r.series.iter().find(|s| {
            let pts: Vec<(i64, f64)> = s.points.iter().map(|p| (p.iter, p.value)).collect();
            matches(&case, &pts)
        });
        match found {
            None => failures.push(format!(
                "{}: no series matches the {} expected points; found {:?}",
                case.name,
                case.expected.len(),
                r.series
                    .iter()
                    .map(|s| (&s.name, s.points.len()))
                    .collect::<Vec<_>>()
            )),
            Some(s) if !s.main => failures.push(format!(
                "{}: `{}` matches but the main series is {:?}",
                case.name,
                s.name,
                r.series.iter().find(|s| s.main).map(|s| &s.name)
            )),
            Some(_) => {}
        }
        assert!(
            r.series.is_empty() || r.series[0].main,
            "{}: main not first",
            case.name
        );
        assert!(r.series.iter().filter(|s| s.main).count() <= 1);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ordinary_logs_yield_no_series() {
    let mut files: Vec<_> = std::fs::read_dir(fixtures("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 8, "log fixtures missing");
    let mut bad = Vec::new();
    for f in files {
        let r = parse_reader(
            std::io::BufReader::new(std::fs::File::open(&f).unwrap()),
            Stream::Stdout,
            &cfg(),
        )
        .unwrap();
        if !r.series.is_empty() {
            bad.push(format!(
                "{}: {:?}",
                f.display(),
                r.series
                    .iter()
                    .map(|s| format!("{} ({})", s.name, s.source))
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(bad.is_empty(), "false series:\n{}", bad.join("\n"));
}

/// The same acceptance through the real binary: `perfmon run -- replay.py DIR` forwards the
/// captured library output on its own streams, and the stored run's main series (read back with
/// `perfmon report --format json`) matches the truth recorded inside the library's process.
#[test]
fn perfmon_run_on_replayed_corpus_output_reports_the_truth_as_main_series() {
    let env = crate::common::Env::new();
    let mut failures = Vec::new();
    for (dir, case) in corpus() {
        let replay = crate::common::workload("replay.py");
        let out = env.run(&[
            "run",
            "--quiet",
            "--",
            "python3",
            replay.to_str().unwrap(),
            dir.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expected_out = std::fs::read(dir.join("stdout.txt")).unwrap_or_default();
        assert_eq!(out.stdout, expected_out, "{}: stdout changed", case.name);
        let rep = env.report_json("last");
        let series = rep["series"].as_array().unwrap();
        let main = series.iter().find(|s| s["main"] == true);
        if case.expected.is_empty() {
            if !series.is_empty() {
                failures.push(format!("{}: expected no series", case.name));
            }
            continue;
        }
        let Some(main) = main else {
            failures.push(format!("{}: no main series", case.name));
            continue;
        };
        let pts: Vec<(i64, f64)> = main["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["iter"].as_i64().unwrap(), p["value"].as_f64().unwrap()))
            .collect();
        if !matches(&case, &pts) {
            failures.push(format!(
                "{}: main series {} ({} points) does not match the {} expected",
                case.name,
                main["name"],
                pts.len(),
                case.expected.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
