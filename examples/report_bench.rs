//! Times report rendering on a synthetic 1-hour run sampled at 10 Hz (36 000 samples of the
//! tree and system metrics, 8 cores, one GPU), 20 timers and 3 progress series.
//!
//! `cargo run --release --example report_bench` — goals: text and JSON < 200 ms, PNG set < 2 s.
//! Set `REPORT_BENCH_OUT=DIR` to keep the PNGs.

use std::time::Instant;

use perfmon::analyze::analyze;
use perfmon::model::*;
use perfmon::report::json::JsonRenderer;
use perfmon::report::png::{render_png, PngOptions};
use perfmon::report::text::TextRenderer;
use perfmon::report::Renderer;

fn record() -> RunRecord {
    let n = 36_000i64;
    let mut s = SampleSet::default();
    let mut x = 1u64;
    let mut rnd = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as f64 / (1u64 << 31) as f64
    };
    let (mut u, mut y, mut rd, mut wr) = (0i64, 0i64, 0i64, 0i64);
    let mut busy = [0i64; 8];
    let mut tot = [0i64; 8];
    for i in 0..n {
        let cores = 2.0 + 2.0 * rnd();
        let mut cols: Vec<(String, i64)> = vec![
            (metric::CPU_USER_US.into(), u),
            (metric::CPU_SYSTEM_US.into(), y),
            (
                metric::RSS_KIB.into(),
                2_000_000 + (rnd() * 100_000.0) as i64,
            ),
            (metric::VSIZE_KIB.into(), 9_000_000),
            (metric::PROCS.into(), 5),
            (metric::THREADS.into(), 40),
            (metric::READ_BYTES.into(), rd),
            (metric::WRITE_BYTES.into(), wr),
            (metric::MINFLT.into(), i * 10),
            (metric::MAJFLT.into(), 0),
            (metric::VCTXSW.into(), i * 20),
            (metric::IVCTXSW.into(), i * 2),
            (metric::LOAD1_X100.into(), 300),
            (metric::MEM_AVAILABLE_KIB.into(), 20_000_000),
            (metric::NET_RX_BYTES.into(), i * 100),
            (metric::NET_TX_BYTES.into(), i * 100),
            ("gpu0.util_pct".into(), (rnd() * 100.0) as i64),
            ("gpu0.mem_used_bytes".into(), 8 << 30),
        ];
        for c in 0..8 {
            cols.push((metric::core_busy(c), busy[c]));
            cols.push((metric::core_total(c), tot[c]));
            busy[c] += (rnd() * 10.0) as i64;
            tot[c] += 10;
        }
        let refs: Vec<(&str, i64)> = cols.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        s.push(i * 100_000, &refs);
        u += (cores * 95_000.0) as i64;
        y += (cores * 5_000.0) as i64;
        rd += (rnd() * 2e6) as i64;
        wr += (rnd() * 1e6) as i64;
    }
    let mut timers = Vec::new();
    for k in 0..10 {
        let a = k as f64 * 360.0;
        let p = timers.len();
        timers.push(TimerSpan {
            name: format!("phase {k}"),
            start_s: a,
            end_s: a + 350.0,
            depth: 0,
            parent: None,
            closed_at_exit: false,
        });
        timers.push(TimerSpan {
            name: format!("step {k}"),
            start_s: a + 10.0,
            end_s: a + 300.0,
            depth: 1,
            parent: Some(p),
            closed_at_exit: false,
        });
    }
    let series = (0..3)
        .map(|k| Series {
            name: ["loss", "val_acc", "penalty"][k].into(),
            algorithm: Some("ga".into()),
            source: "protocol".into(),
            direction: None,
            direction_from: None,
            role: None,
            main: k == 0,
            points: (0..10_000)
                .map(|i| Point {
                    iter: i,
                    t_s: i as f64 * 0.36,
                    value: 1000.0 * (-(i as f64) / 1500.0).exp() + k as f64,
                })
                .collect(),
        })
        .collect();
    let processes = (0..50)
        .map(|p| ProcessTrack {
            pid: 100 + p,
            ppid: 1,
            name: format!("worker-{p}"),
            cmdline: format!("python3 -m worker --shard {p}"),
            first_sample: 0,
            cpu_us: (0..n).map(|i| i * 10_000 * (p as i64 + 1)).collect(),
            rss_kib: (0..n).map(|i| 100_000 + i % 1000).collect(),
        })
        .collect();
    RunRecord {
        meta: RunMeta {
            id: 1,
            uuid: String::new(),
            name: Some("bench".into()),
            tags: vec![],
            command: vec!["python3".into(), "train.py".into()],
            cwd: "/".into(),
            started_at_ms: 0,
            wall_s: Some(3600.0),
            exit_code: Some(0),
            signal: None,
            status: RunStatus::Ok,
            host: HostInfo {
                cores: 8,
                ..HostInfo::default()
            },
            git: None,
            perfmon_version: "0.1.0".into(),
            interval_ms: 100,
            env: vec![],
            group_id: None,
        },
        totals: Totals::default(),
        samples: s,
        gpus: vec![GpuDevice {
            index: 0,
            name: "GPU".into(),
            uuid: "u".into(),
            memory_total_bytes: 24 << 30,
        }],
        gpu_status: "ok".into(),
        timers,
        series,
        marks: vec![],
        diagnostics: ParseDiagnostics::default(),
        processes,
        violations: Vec::new(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rec = record();
    let t = Instant::now();
    let an = analyze(&rec);
    let t_an = t.elapsed();
    let t = Instant::now();
    let text = TextRenderer.render(&rec, &an)?;
    let t_text = t.elapsed() + t_an;
    let t = Instant::now();
    let json = JsonRenderer {
        samples: false,
        convergence_tol: 0.01,
    }
    .render(&rec, &an)?;
    let t_json = t.elapsed() + t_an;
    let t = Instant::now();
    let json_full = JsonRenderer {
        samples: true,
        convergence_tol: 0.01,
    }
    .render(&rec, &an)?;
    let t_json_full = t.elapsed() + t_an;
    let t = Instant::now();
    let charts = render_png(&rec, &an, &PngOptions::default())?;
    let t_png = t.elapsed() + t_an;
    if let Ok(dir) = std::env::var("REPORT_BENCH_OUT") {
        std::fs::create_dir_all(&dir)?;
        for (n, b) in &charts.files {
            std::fs::write(format!("{dir}/{n}"), b)?;
        }
    }
    println!(
        "samples: {}  (analysis {:.1} ms, included below)",
        rec.samples.len(),
        t_an.as_secs_f64() * 1e3
    );
    println!(
        "text:            {:8.1} ms  ({} bytes)",
        t_text.as_secs_f64() * 1e3,
        text.len()
    );
    println!(
        "json:            {:8.1} ms  ({} bytes)",
        t_json.as_secs_f64() * 1e3,
        json.len()
    );
    println!(
        "json --samples:  {:8.1} ms  ({} bytes)",
        t_json_full.as_secs_f64() * 1e3,
        json_full.len()
    );
    println!(
        "png set:         {:8.1} ms  ({} charts, {} bytes)",
        t_png.as_secs_f64() * 1e3,
        charts.files.len(),
        charts.files.iter().map(|f| f.1.len()).sum::<usize>()
    );
    Ok(())
}
