//! Unit tests of the parser as a whole: the protocol contract, and the recognizers on formats of
//! libraries that are not in the corpus (to show they generalize) and on ordinary output.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::model::Direction;

fn run(cfg: &ParseConfig, lines: &[&[u8]]) -> ParseResult {
    let mut p = Parser::new(cfg).unwrap();
    for (k, l) in lines.iter().enumerate() {
        p.feed_line(Stream::Stdout, k as f64, l, false);
    }
    p.finish(lines.len() as f64)
}

fn auto() -> ParseConfig {
    ParseConfig {
        auto: true,
        regexes: vec![],
        explain: true,
    }
}

fn text(lines: &str) -> ParseResult {
    let v: Vec<&[u8]> = lines.lines().map(str::as_bytes).collect();
    run(&auto(), &v)
}

fn series<'a>(r: &'a ParseResult, name: &str) -> &'a Series {
    r.series
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no series {name}: {:?}", names(r)))
}

fn names(r: &ParseResult) -> Vec<String> {
    r.series
        .iter()
        .map(|s| format!("{}({})", s.name, s.source))
        .collect()
}

fn iv(s: &Series) -> Vec<(i64, f64)> {
    s.points.iter().map(|p| (p.iter, p.value)).collect()
}

// ---- protocol ----

#[test]
fn timers_nest_and_repeat() {
    let r = text(
        "@perfmon timer start \"Data Loading\"\n@perfmon timer start parse\n@perfmon timer stop parse\n\
         @perfmon timer start parse\n@perfmon timer stop parse\n@perfmon timer stop \"Data Loading\"\n",
    );
    let t = &r.timers;
    assert_eq!(t.len(), 3);
    assert_eq!(
        (t[0].name.as_str(), t[0].depth, t[0].parent),
        ("Data Loading", 0, None)
    );
    assert_eq!(
        (t[1].name.as_str(), t[1].depth, t[1].parent),
        ("parse", 1, Some(0))
    );
    assert_eq!((t[2].start_s, t[2].end_s, t[2].parent), (3.0, 4.0, Some(0)));
    assert_eq!((t[0].start_s, t[0].end_s), (0.0, 5.0));
    assert!(t.iter().all(|t| !t.closed_at_exit));
}

#[test]
fn open_timer_closed_at_exit_and_unmatched_stop() {
    let r = text("@perfmon timer stop never\n@perfmon timer start train\n");
    assert_eq!(r.diagnostics.unmatched_stops, 1);
    assert_eq!(r.timers.len(), 1);
    assert!(r.timers[0].closed_at_exit);
    assert_eq!(r.timers[0].end_s, 2.0);
}

#[test]
fn progress_several_algorithms_and_direction() {
    let r = text(
        "@perfmon progress algo=GA iter=1 best=0.5 mean=0.9\n@perfmon progress algo=PSO iter=1 best=0.7\n\
         @perfmon progress algo=GA iter=2 best=0.4 mean=0.8 direction=min\n@perfmon progress best=3\n",
    );
    assert_eq!(r.series.len(), 4);
    let ga: Vec<_> = r
        .series
        .iter()
        .filter(|s| s.algorithm.as_deref() == Some("GA"))
        .collect();
    assert_eq!(ga.len(), 2);
    let best = ga.iter().find(|s| s.name == "best").unwrap();
    assert_eq!(iv(best), vec![(1, 0.5), (2, 0.4)]);
    assert_eq!(best.direction, Some(Direction::Minimize));
    assert!(
        best.main,
        "the declared-direction objective is main: {:?}",
        names(&r)
    );
    assert!(r.series[0].main && r.series.iter().filter(|s| s.main).count() == 1);
    assert!(r.series.iter().all(|s| s.source == "protocol"));
    let none = r.series.iter().find(|s| s.algorithm.is_none()).unwrap();
    assert_eq!(iv(none), vec![(0, 3.0)]);
}

#[test]
fn malformed_lines_are_counted_not_fatal() {
    let r = text(
        "@perfmon timer start\n@perfmon progress iter=x best=1\n@perfmon progress algo=GA iter=1\n\
         @perfmon frobnicate\n@perfmon progress iter=1 best=abc\n@perfmon mark \n@perfmon timer start \"open\n\
         @perfmon progress iter=2 best=1.5\n",
    );
    assert_eq!(r.diagnostics.malformed_lines, 7);
    assert_eq!(r.diagnostics.malformed_examples.len(), 5);
    assert_eq!(r.series.len(), 1);
    assert!(r.timers.is_empty());
}

#[test]
fn carriage_return_invalid_utf8_and_marks() {
    let r = run(
        &auto(),
        &[
            b"@perfmon timer start a\r",
            b"@perfmon mark caf\xe9 \xff ok\r",
            b"@perfmon timer stop a\r",
            b"@perfmon progress iter=1 lo\xffss=1 best=2\r",
            b"@perfmon progress iter=2 best=1\r",
        ],
    );
    assert_eq!(r.timers.len(), 1);
    assert!(!r.timers[0].closed_at_exit);
    assert_eq!(r.marks.len(), 1);
    assert!(r.marks[0].text.starts_with("caf"));
    assert_eq!(r.diagnostics.malformed_lines, 1);
    assert_eq!(iv(series(&r, "best")), vec![(2, 1.0)]);
    assert!(is_protocol_line(b"@perfmon mark x"));
}

#[test]
fn protocol_wins_over_auto_for_main() {
    let mut s = String::new();
    for i in 0..10 {
        s += &format!("epoch={i} loss=0.{i}\n@perfmon progress iter={i} objective={i}\n");
    }
    let r = text(&s);
    assert_eq!(r.series[0].name, "objective");
    assert!(r.series[0].main);
    assert_eq!(series(&r, "loss").source, "auto:kv");
}

#[test]
fn latest_progress_follows_main() {
    let mut p = Parser::new(&auto()).unwrap();
    assert_eq!(p.latest_progress(), None);
    for i in 0..4 {
        p.feed_line(
            Stream::Stderr,
            0.0,
            format!("epoch {i} - lr: 0.1 - loss: {}", 5 - i).as_bytes(),
            false,
        );
    }
    assert_eq!(p.latest_progress(), Some(("loss".to_string(), 2.0)));
    p.feed_line(
        Stream::Stdout,
        0.0,
        b"@perfmon progress iter=1 fitness=7",
        false,
    );
    assert_eq!(p.latest_progress(), Some(("fitness".to_string(), 7.0)));
}

// ---- user regexes ----

#[test]
fn user_regex() {
    let cfg = ParseConfig {
        auto: false,
        regexes: vec![r"round (?P<iter>\d+) obj (?P<obj>\S+)".into()],
        explain: true,
    };
    let r = run(
        &cfg,
        &[b"round 1 obj 3.5", b"round 2 obj 2.5", b"gen=1 best=2"],
    );
    assert_eq!(r.series.len(), 1);
    assert_eq!(
        r.series[0].source,
        r"regex:round (?P<iter>\d+) obj (?P<obj>\S+)"
    );
    assert_eq!(iv(&r.series[0]), vec![(1, 3.5), (2, 2.5)]);
    assert_eq!(r.explain[0].taken_as, "regex:0");
    for bad in ["(unclosed", r"step (?P<iter>\d+)"] {
        let cfg = ParseConfig {
            auto: true,
            regexes: vec![bad.into()],
            explain: false,
        };
        let e = Parser::new(&cfg).err().unwrap();
        assert!(matches!(e, ParseError::BadRegex { .. }), "{e}");
        assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
    }
}

#[test]
fn no_auto_means_protocol_only() {
    let cfg = ParseConfig {
        auto: false,
        regexes: vec![],
        explain: false,
    };
    let lines: Vec<String> = (0..5).map(|i| format!("gen={i} best={i}")).collect();
    let v: Vec<&[u8]> = lines.iter().map(|s| s.as_bytes()).collect();
    assert!(run(&cfg, &v).series.is_empty());
}

// ---- recognizers on libraries outside the corpus ----

#[test]
fn keras_epoch_then_metrics_line() {
    let mut s = String::new();
    for e in 1..=4 {
        s += &format!("Epoch {e}/4\n1875/1875 [==============================] - 3s 1ms/step - loss: 0.{e}5 - accuracy: 0.9{e} - val_loss: 0.{e}7 - val_accuracy: 0.8{e}\n");
    }
    let r = text(&s);
    let l = series(&r, "val_loss");
    assert_eq!(iv(l), vec![(1, 0.17), (2, 0.27), (3, 0.37), (4, 0.47)]);
    assert!(l.main, "{:?}", names(&r));
    // The parser records only stated directions; the analysis infers these from the names.
    assert_eq!(l.direction, None);
    assert_eq!(series(&r, "accuracy").direction, None);
}

#[test]
fn lightgbm_bracket_with_possessive_names() {
    let mut s = String::from("[LightGBM] [Info] Total Bins 510\n");
    for i in 1..=5 {
        s += &format!(
            "[{i}]\ttraining's l2: {}\tvalid_1's l2: {}\n",
            10 - i,
            12 - i
        );
    }
    let r = text(&s);
    let v = series(&r, "valid_1's l2");
    assert!(v.main);
    assert_eq!(v.source, "auto:bracket");
    assert_eq!(iv(v)[0], (1, 11.0));
    assert_eq!(r.series.len(), 2);
}

#[test]
fn lightning_like_sentences() {
    let mut s = String::new();
    for e in 0..3 {
        s += &format!(
            "Epoch {e}: 100%|██████████| 32/32 [00:01<00:00, 25.3it/s, loss=0.{e}1, v_num=3]\n"
        );
    }
    let r = text(&s);
    let l = series(&r, "loss");
    assert_eq!(l.source, "auto:sentence");
    assert_eq!(iv(l), vec![(0, 0.01), (1, 0.11), (2, 0.21)]);
    assert!(l.main);
}

#[test]
fn hyperopt_and_ga_logs() {
    let r = text(
        "gen 0 evals 50 best_fitness=12.5 avg=30.1\ngen 1 evals 100 best_fitness=11.0 avg=25.0\n\
         gen 2 evals 150 best_fitness=9.5 avg=20.7\n",
    );
    assert_eq!(
        iv(series(&r, "best_fitness")),
        vec![(0, 12.5), (1, 11.0), (2, 9.5)]
    );
    assert!(series(&r, "best_fitness").main);
    let r = text(
        "{'loss': 0.52, 'status': 'ok', 'iteration': 1}\n{'loss': 0.41, 'status': 'ok', 'iteration': 2}\n\
         {'loss': 0.43, 'status': 'ok', 'iteration': 3}\n",
    );
    assert_eq!(
        iv(series(&r, "loss")),
        vec![(1, 0.52), (2, 0.41), (3, 0.43)]
    );
}

#[test]
fn json_lines_with_step() {
    let mut s = String::from("{\"event\": \"start\", \"lr\": 0.001}\n");
    for i in 0..4 {
        s += &format!(
            "{{\"step\": {}, \"loss\": {}, \"lr\": 0.001}}\n",
            i * 100,
            1.0 / f64::from(i + 1)
        );
    }
    let r = text(&s);
    let l = series(&r, "loss");
    assert_eq!(
        (l.source.as_str(), l.points.len(), l.points[3].iter),
        ("auto:json", 4, 300)
    );
    assert!(l.main);
}

#[test]
fn pipe_table_pymoo_like_and_ray_tune_like() {
    let r = text(
        "==========================================================\n\
         n_gen  |  n_eval  | n_nds  |      igd      |       gd     \n\
         ==========================================================\n\
              1 |      100 |      1 |  0.0380483254 |  0.0380483254\n\
              2 |      200 |      2 |  0.0250000000 |  0.0300000000\n\
              3 |      300 |      2 |  0.0200000000 |             -\n\
              4 |      400 |      3 |  0.0100000000 |  0.0200000000\n",
    );
    let igd = series(&r, "igd");
    assert_eq!(
        iv(igd),
        vec![(1, 0.038_048_325_4), (2, 0.025), (3, 0.02), (4, 0.01)]
    );
    assert!(igd.main);
    assert_eq!(
        r.explain
            .iter()
            .filter(|l| l.taken_as == "auto:table header")
            .count(),
        1
    );
    let r = text(
        "+-----------+--------+----------+\n| iter      |   loss |   mean_t |\n+-----------+--------+----------+\n\
         |         1 |  0.91  |   1.2    |\n|         2 |  0.72  |   1.1    |\n|         3 |  0.55  |   1.3    |\n",
    );
    assert_eq!(
        iv(series(&r, "loss")),
        vec![(1, 0.91), (2, 0.72), (3, 0.55)]
    );
}

#[test]
fn whitespace_table_with_repeated_header() {
    let mut s = String::new();
    for block in 0..3 {
        s += "   Iter     Loss    GradNorm\n";
        for k in 1..=4 {
            let i = block * 4 + k;
            s += &format!("   {i:>4}  {:.4}  {:.3}\n", 1.0 / f64::from(i), 0.5);
        }
    }
    let r = text(&s);
    let l = series(&r, "Loss");
    assert_eq!(l.points.len(), 12);
    assert_eq!(l.points[11].iter, 12);
    assert!(l.main);
    assert_eq!(r.series.len(), 2);
}

#[test]
fn ordinary_output_makes_no_series() {
    let r = text(
        "2024-05-01 12:00:01 INFO loaded 5000 rows in 0.3 s\n2024-05-01 12:00:02 INFO loaded 5000 rows in 0.3 s\n\
         2024-05-01 12:00:03 INFO loaded 5000 rows in 0.3 s\nPython 3.11.4\nnumpy version 1.26.0\n\
         level=info msg=\"request\" status=200 duration=0.031\nlevel=info msg=\"request\" status=200 duration=0.040\n\
         level=info msg=\"request\" status=404 duration=0.002\nlevel=info msg=\"request\" status=200 duration=0.051\n\
         100%|██████████| 100/100 [00:01<00:00, 95.12it/s]\n\
         warning: unused variable: `x` --> src/main.rs:3:9\nwarning: unused variable: `y` --> src/main.rs:4:9\n\
         warning: unused variable: `z` --> src/main.rs:5:9\n\
         127.0.0.1 - - [01/May/2024:12:00:01 +0000] \"GET /a?id=1 HTTP/1.1\" 200 512\n\
         127.0.0.1 - - [01/May/2024:12:00:02 +0000] \"GET /a?id=2 HTTP/1.1\" 200 512\n\
         127.0.0.1 - - [01/May/2024:12:00:03 +0000] \"GET /a?id=3 HTTP/1.1\" 200 512\n\
         Step 1 of 3: downloading\nStep 2 of 3: unpacking\nStep 3 of 3: installing\n",
    );
    assert!(r.series.is_empty(), "{:?}", names(&r));
}

#[test]
fn explain_lists_lines_and_summary() {
    let mut s = String::from("starting\n@perfmon timer start run\n");
    for i in 0..3 {
        s += &format!("gen={i} best={i}.5\n");
    }
    s += "done gens=3 best=2.5\n";
    let r = text(&s);
    let taken: Vec<&str> = r.explain.iter().map(|l| l.taken_as.as_str()).collect();
    assert_eq!(
        taken,
        vec![
            "ignored",
            "protocol timer start",
            "auto:kv",
            "auto:kv",
            "auto:kv",
            "ignored (unconfirmed auto:kv)"
        ]
    );
    let t = explain_text(&r);
    assert!(t.contains("     3  auto:kv"), "{t}");
    assert!(t.contains("* best  source=auto:kv"), "{t}");
    assert!(t.contains("still open at exit"), "{t}");
}

#[test]
fn parse_reader_replays_and_bounds_long_lines() {
    let mut input = Vec::new();
    for i in 0..3 {
        input.extend_from_slice(format!("epoch={i} loss=0.{i}\r\n").as_bytes());
    }
    input.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
    input.extend_from_slice(b"\nlast");
    let r = parse_reader(&input[..], Stream::Stdout, &auto()).unwrap();
    assert_eq!(r.diagnostics.lines_seen, 5);
    assert_eq!(r.diagnostics.truncated_lines, 1);
    let l = series(&r, "loss");
    assert_eq!(l.points[2].t_s, 2.0 * REPLAY_STEP_S);
}

#[test]
fn arbitrary_bytes_never_panic() {
    // a cheap deterministic fuzz: lines assembled from fragments that exercise every recognizer
    const FRAG: [&[u8]; 24] = [
        b"=",
        b":",
        b"::",
        b"==",
        b"{",
        b"}",
        b"[",
        b"]",
        b"|",
        b" ",
        b"\t",
        b"\r",
        b"\"",
        b"'s ",
        b"1",
        b"-2.5e",
        b"e+",
        b"gen",
        b"epoch 3",
        b"loss",
        b".",
        b"\xff",
        b"@perfmon ",
        b"nan",
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut p = Parser::new(&auto()).unwrap();
    for _ in 0..200_000 {
        let mut line = Vec::new();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let n = (x % 12) as usize;
        for k in 0..n {
            line.extend_from_slice(FRAG[((x >> (k * 5)) % FRAG.len() as u64) as usize]);
        }
        p.feed_line(Stream::Stdout, 0.0, &line, false);
    }
    let _ = explain_text(&p.finish(1.0));
}

// ---- feed_lines (the runner's block path) ----

/// Feeds `data` line by line and as blocks of whole lines cut near every `cut` bytes; the
/// results must be the same.
fn same_by_blocks(cfg: &ParseConfig, data: &[u8], what: &str) {
    for cut in [1, 47, 64, 200, 4096, 65536] {
        let mut a = Parser::new(cfg).unwrap();
        let mut b = Parser::new(cfg).unwrap();
        let mut rest = data;
        let mut k = 0.0;
        while !rest.is_empty() {
            let end = match memchr::memchr(b'\n', &rest[cut.min(rest.len()) - 1..]) {
                Some(i) => cut.min(rest.len()) + i,
                None => rest.len(),
            };
            let (blk, tail) = rest.split_at(end);
            for l in blk
                .split(|&c| c == b'\n')
                .take(blk.iter().filter(|&&c| c == b'\n').count())
            {
                a.feed_line(Stream::Stdout, k, l, false);
            }
            b.feed_lines(Stream::Stdout, k, blk);
            if blk.last() != Some(&b'\n') {
                let l = &blk[memchr::memrchr(b'\n', blk).map_or(0, |i| i + 1)..];
                a.feed_line(Stream::Stdout, k, l, false);
                b.feed_line(Stream::Stdout, k, l, false);
            }
            rest = tail;
            k += 1.0;
        }
        let (ra, rb) = (a.finish(k), b.finish(k));
        assert_eq!(
            format!("{ra:?}"),
            format!("{rb:?}"),
            "{what}, blocks of ~{cut}"
        );
    }
}

#[test]
fn feed_lines_is_feed_line_on_every_line() {
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    for dir in ["corpus", "logs"] {
        let mut stack = vec![std::path::PathBuf::from(root).join(dir)];
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            } else if p.extension().is_some_and(|e| e == "txt" || e == "log") {
                inputs.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    assert!(inputs.len() > 10, "fixtures found: {}", inputs.len());
    // headers followed by rows after plain lines, iteration lines, `\r`, `@` and blank lines
    inputs.push((
        "synthetic".into(),
        b"Some text here\n\ngen nevals avg min\nplain words only\ngen nevals avg min\n\n\
          0 400 1.5 0.5\n1 400 1.4 0.4\nEpoch 3/10\nloss: 0.5\nEpoch 4/10\nstill plain\n\
          loss: 0.4\nprogress\r50%\rstep=3 loss=0.2\n@perfmon progress iter=1 x=2\n\
          @perfmon mark m\n  indented words\nstep 5 loss 1.0\nEpoch 5/10\n"
            .to_vec(),
    ));
    for (what, data) in &inputs {
        for auto in [true, false] {
            let cfg = ParseConfig {
                auto,
                regexes: vec![],
                explain: false,
            };
            same_by_blocks(&cfg, data, what);
        }
    }
    let cfg = ParseConfig {
        auto: true,
        regexes: vec![r"step=(?P<iter>\d+) loss=(?P<loss>[0-9.]+)".into()],
        explain: true,
    };
    same_by_blocks(
        &cfg,
        &inputs[inputs.len() - 1].1,
        "synthetic with regex and explain",
    );
}

// ---- key sets that vary (issue 13, class 6) ----

#[test]
fn one_off_keys_do_not_hide_the_stable_ones() {
    let mut s = String::new();
    for i in 0..2000 {
        s += &format!(
            "{{\"step\": {i}, \"loss\": {}, \"id_{i}\": {i}}}\n",
            1.0 / f64::from(i + 1)
        );
    }
    let r = text(&s);
    assert_eq!(names(&r), vec!["loss(auto:json)"]);
    let l = series(&r, "loss");
    assert_eq!(l.points.len(), 2000);
    assert_eq!(iv(l)[1999], (1999, 1.0 / 2000.0));
}

#[test]
fn keys_present_on_some_lines_form_their_own_series() {
    let mut s = String::new();
    for i in 1..=40 {
        s += &format!("step={i} loss={:.3}", 2.0 / f64::from(i));
        if i % 4 == 0 {
            s += " lr=0.01";
        }
        if i % 10 == 0 {
            s += &format!(" val_loss={:.3}", 3.0 / f64::from(i));
        }
        s += "\n";
    }
    let r = text(&s);
    let l = series(&r, "loss");
    assert_eq!(l.points.len(), 40);
    assert!(series(&r, "val_loss").main, "{:?}", names(&r));
    assert_eq!(
        iv(series(&r, "val_loss")),
        vec![(10, 0.3), (20, 0.15), (30, 0.1), (40, 0.075)]
    );
    assert_eq!(series(&r, "lr").points.len(), 10);
    assert_eq!(r.series.len(), 3);
}

// ---- overwritten lines (issue 13, class 1) ----

#[test]
fn every_redrawn_state_is_read_and_protocol_states_stay_the_protocols() {
    let mut line = String::new();
    for k in 1..=5 {
        line += &format!(
            "\r\x1b[2K\x1b[1mstep\x1b[0m {k}/5 |##| loss={}",
            0.5 / f64::from(k)
        );
    }
    let r = text(&format!("{line}\n"));
    assert_eq!(
        iv(series(&r, "loss")),
        vec![(1, 0.5), (2, 0.25), (3, 0.5 / 3.0), (4, 0.125), (5, 0.1)]
    );
    // an earlier `@perfmon` state is not read by the recognizers (the protocol reads the last)
    let r = text("@perfmon progress iter=1 x=1\rz=1\n@perfmon progress iter=2 x=2\rz=2\n@perfmon progress iter=3 x=3\rz=3\n");
    assert!(r.series.is_empty(), "{:?}", names(&r));
}
