//! Issue 13, classes 1-7: automatic recognition on output of kinds it was not built against
//! (fixtures/recognition/<class>/, real captures and hand-written text in the style of several
//! libraries; fixtures/recognition/README.md says which). Each case: the main series' name, some
//! of its points exactly, its point count; every file of negative/ (and fixtures/logs, in
//! parse_corpus.rs) yields no series. Every file also goes through the runner's block path
//! (`Parser::feed_lines`, in small chunks) and must give the same series.

use std::path::{Path, PathBuf};

use perfmon::parse::{parse_reader, ParseConfig, ParseResult, Parser, Stream};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/recognition")
}

fn cfg() -> ParseConfig {
    ParseConfig {
        auto: true,
        regexes: vec![],
        explain: false,
    }
}

fn by_lines(file: &Path) -> ParseResult {
    let f = std::io::BufReader::new(std::fs::File::open(file).unwrap());
    parse_reader(f, Stream::Stdout, &cfg()).unwrap()
}

/// The whole lines of the file in 1000-byte chunks through `feed_lines`.
fn by_blocks(file: &Path) -> ParseResult {
    let data = std::fs::read(file).unwrap();
    let mut p = Parser::new(&cfg()).unwrap();
    let mut rest = &data[..];
    while !rest.is_empty() {
        let cut = rest.len().min(1000);
        let end = match rest[..cut].iter().rposition(|&c| c == b'\n') {
            Some(i) => i + 1,
            None => rest
                .iter()
                .position(|&c| c == b'\n')
                .map_or(rest.len(), |i| i + 1),
        };
        p.feed_lines(Stream::Stdout, 0.0, &rest[..end]);
        rest = &rest[end..];
    }
    p.finish(1.0)
}

/// A series as (name, main, points).
type Shape = (String, bool, Vec<(i64, f64)>);

fn shape(r: &ParseResult) -> Vec<Shape> {
    r.series
        .iter()
        .map(|s| {
            let pts = s.points.iter().map(|p| (p.iter, p.value)).collect();
            (s.name.clone(), s.main, pts)
        })
        .collect()
}

/// (file, main series, its point count, some of its points)
type Want = (&'static str, &'static str, usize, &'static [(i64, f64)]);

const CASES: &[Want] = &[
    // 1. overwritten lines
    (
        "1-overwritten/tqdm_postfix.txt",
        "loss",
        41,
        &[(0, 1.86), (1, 1.7298), (40, 0.1097)],
    ),
    (
        "1-overwritten/keras_progbar.txt",
        "val_loss",
        5,
        &[(1, 0.55), (5, 0.1833)],
    ),
    (
        "1-overwritten/hyperopt_bar.txt",
        "loss",
        20,
        &[(1, 0.7702), (20, 0.005)],
    ),
    (
        "1-overwritten/ansi_ga_display.txt",
        "fitness",
        30,
        &[(1, 98.5), (30, 55.0)],
    ),
    // 2. cells with units or clock formats
    (
        "2-units/pymoo_text_cells.txt",
        "f_min",
        25,
        &[(1, 10.0), (25, 0.4)],
    ),
    (
        "2-units/trainer_units_table.txt",
        "loss",
        15,
        &[(1, 2.0), (15, 0.1333)],
    ),
    // 3. headers of several words
    (
        "3-headers/sklearn_gb_classifier.txt",
        "Train Loss",
        19,
        &[(1, 1.2458), (100, 0.2370)],
    ),
    (
        "3-headers/trust_constr_pipe.txt",
        "obj func",
        30,
        &[(1, 10.0), (30, 0.33333)],
    ),
    (
        "3-headers/right_aligned_metrics.txt",
        "Best Score",
        30,
        &[(1, 0.7235), (2, 0.74424)],
    ),
    // 4. records over several lines
    (
        "4-multiline/sklearn_sgd.txt",
        "loss",
        12,
        &[(1, 21.238423), (12, 4.326724)],
    ),
    (
        "4-multiline/iteration_banner.txt",
        "objective",
        20,
        &[(1, 100.0), (20, 5.0)],
    ),
    (
        "4-multiline/ga_generation_blocks.txt",
        "Best fitness",
        15,
        &[(1, 2.5), (15, 37.5)],
    ),
    // 5. event counters
    (
        "5-counters/scipy_basinhopping.txt",
        "f",
        26,
        &[(0, 0.41592), (2, -0.431663)],
    ),
    (
        "5-counters/annealing_minimum_hash.txt",
        "f",
        25,
        &[(1, 119.0), (25, 90.7)],
    ),
    (
        "5-counters/trial_brackets.txt",
        "value",
        20,
        &[(1, 0.8), (20, 0.325)],
    ),
    // 6. key sets that vary
    (
        "6-keysets/json_varying_keys.txt",
        "loss",
        300,
        &[(1, 3.0), (300, 0.01)],
    ),
    (
        "6-keysets/hf_trainer_dicts.txt",
        "loss",
        100,
        &[(0, 1.9048), (99, 0.3333)],
    ),
    (
        "6-keysets/kv_one_off_keys.txt",
        "loss",
        120,
        &[(1, 1.0), (120, 0.00833)],
    ),
    // 7. sparse iterations
    (
        "7-sparse/sklearn_gradient_boosting.txt",
        "Train Loss",
        21,
        &[
            (1, 40419.9374),
            (10, 23832.1085),
            (20, 14272.1666),
            (300, 234.0998),
        ],
    ),
    (
        "7-sparse/cma_default.txt",
        "function value",
        7,
        &[
            (3, 304.5846442842881),
            (100, 2.503453129734136),
            (380, 6.840250906879309e-15),
        ],
    ),
];

#[test]
fn every_class_finds_the_objective_as_main_series() {
    let mut bad = Vec::new();
    for &(file, main, n, pts) in CASES {
        let path = dir().join(file);
        let r = by_lines(&path);
        let got = shape(&r);
        assert_eq!(got, shape(&by_blocks(&path)), "{file}: block path differs");
        let Some((name, _, have)) = got.first().filter(|s| s.1) else {
            bad.push(format!("{file}: no main series"));
            continue;
        };
        if name != main || have.len() != n {
            bad.push(format!(
                "{file}: main {name} with {} points, want {main} with {n}",
                have.len()
            ));
            continue;
        }
        for p in pts {
            if !have
                .iter()
                .any(|h| h.0 == p.0 && (h.1 - p.1).abs() <= 1e-9 * p.1.abs().max(1e-300))
            {
                bad.push(format!("{file}: no point {p:?} in {main}"));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn one_off_keys_and_units_never_become_series() {
    let r = by_lines(&dir().join("6-keysets/json_varying_keys.txt"));
    let names: Vec<&str> = r.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["loss", "lr", "val_loss"]);
    let r = by_lines(&dir().join("2-units/trainer_units_table.txt"));
    let time = r.series.iter().find(|s| s.name == "time").unwrap();
    // `58.40s` and `1m 3s` as seconds; `mem` (`1.21G`) and `throughput` (`4.2k`, `n/a`) skipped
    assert_eq!(time.points[7].value, 58.0);
    assert_eq!(time.points[0].value, 7.3);
    assert!(r
        .series
        .iter()
        .all(|s| s.name != "mem" && s.name != "throughput"));
    assert_eq!(
        r.series.iter().find(|s| s.name == "acc").unwrap().points[0].value,
        53.1
    );
}

#[test]
fn ordinary_output_of_the_same_shapes_yields_no_series() {
    let mut files: Vec<_> = std::fs::read_dir(dir().join("negative"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 6);
    for f in files {
        for r in [by_lines(&f), by_blocks(&f)] {
            assert!(r.series.is_empty(), "{}: {:?}", f.display(), shape(&r));
        }
    }
}

/// A tqdm bar redrawn 20,000 times without a newline (a 1.1 MB line, far past the parser's
/// 64 KiB line bound): every state is read, through `perfmon parse`'s reader and the runner's
/// line splitting alike.
#[test]
fn a_bar_redrawn_past_the_line_bound_keeps_every_state() {
    let mut data = Vec::new();
    for k in 1..=20_000 {
        let pct = k * 100 / 20_000;
        data.extend_from_slice(
            format!(
                "\rtrain: {pct:3}%|#####     | {k}/20000 [00:10<00:10, 900it/s, loss={:.6}]",
                1.0 / f64::from(k)
            )
            .as_bytes(),
        );
    }
    data.push(b'\n');
    assert!(data.len() > 16 * perfmon::parse::MAX_LINE);
    let r = parse_reader(&data[..], Stream::Stderr, &cfg()).unwrap();
    let l = &r.series[0];
    assert_eq!(
        (l.name.as_str(), l.main, l.points.len()),
        ("loss", true, 20_000)
    );
    assert_eq!(
        (l.points[19_999].iter, l.points[19_999].value),
        (20_000, 0.00005)
    );
    assert_eq!(r.diagnostics.truncated_lines, 0);
    assert_eq!(r.diagnostics.lines_seen, 1);
}

/// The same through the real binary: `perfmon run` forwards the bar's bytes untouched and the
/// stored run's main series holds every state.
#[test]
fn perfmon_run_reads_every_state_of_a_long_redrawn_bar() {
    let env = crate::common::Env::new();
    let script = "import sys\nfor k in range(1, 20001):\n    sys.stderr.write('\\r%3d%%|#####     | %d/20000 [00:10<00:10, 900it/s, loss=%.6f]' % (k * 100 // 20000, k, 1.0 / k))\nsys.stderr.write('\\n')\n";
    let out = env.run(&["run", "--quiet", "--", "python3", "-c", script]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stderr.iter().filter(|&&c| c == b'\r').count(), 20_000);
    let rep = env.report_json("last");
    let main = &rep["series"][0];
    assert_eq!(main["name"], "loss");
    assert_eq!(main["main"], true);
    let pts = main["points"].as_array().unwrap();
    assert_eq!(pts.len(), 20_000);
    assert_eq!(pts[19_999]["iter"], 20_000);
    assert_eq!(pts[19_999]["value"], 0.00005);
}
