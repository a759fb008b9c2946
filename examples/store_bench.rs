//! Storage benchmark: a realistic one-hour run at 10 Hz (36 000 samples of 20 metrics) written
//! through `RunWriter` with a flush every 50 samples (5 s), as `perfmon run` does. Prints the
//! database size per stored sample value and the cost of a flush.
//!
//! `cargo run --release --example store_bench [-- SAMPLES [--tracks]]`
//! With `--tracks` a second database also gets process tracks (4 long-lived processes and a
//! short-lived child every 10 s), reported separately: the headline figure is samples only.

use std::path::Path;
use std::time::{Duration, Instant};

use perfmon::model::{
    metric, HostInfo, ParseDiagnostics, ProcessTrack, RunMeta, RunRecord, RunStatus, Totals,
};
use perfmon::store::{RunWriter, Store};

/// xorshift64*: reproducible noise without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n.max(1)) as i64
    }
    /// Roughly normal (Irwin–Hall of 4), mean 0, standard deviation `sd`.
    fn normal(&mut self, sd: f64) -> f64 {
        let s: f64 = (0..4).map(|_| self.unit()).sum::<f64>() - 2.0;
        s * sd * (3.0f64).sqrt()
    }
}

/// The counters of a training-like workload: ~3.6 cores busy with per-interval jitter, an
/// evaluation phase every minute, data loading bursts, a checkpoint every 5 minutes.
struct Workload {
    rng: Rng,
    t_us: i64,
    cpu_user: f64,
    cpu_sys: f64,
    rss_kib: i64,
    vsize_kib: i64,
    read: i64,
    write: i64,
    minflt: i64,
    majflt: i64,
    vctx: i64,
    ivctx: i64,
    cores: [(i64, i64); 2],
    load: f64,
    mem_avail: i64,
    rx: i64,
    tx: i64,
}

impl Workload {
    fn new() -> Workload {
        Workload {
            rng: Rng(0x5eed_1234_abcd_9876),
            t_us: 0,
            cpu_user: 0.0,
            cpu_sys: 0.0,
            rss_kib: 1_800_000,
            vsize_kib: 9_400_000,
            read: 0,
            write: 0,
            minflt: 40_000,
            majflt: 120,
            vctx: 0,
            ivctx: 0,
            cores: [(0, 0); 2],
            load: 3.5,
            mem_avail: 52_000_000,
            rx: 0,
            tx: 0,
        }
    }

    fn sample(&mut self, i: usize) -> (i64, Vec<(String, i64)>) {
        let r = &mut self.rng;
        // The sampler keeps a fixed schedule; wake-up latency is 50 µs to ~2 ms.
        let t = i as i64 * 100_000 + 50 + (r.unit() * r.unit() * 2000.0) as i64;
        let dt = (t - self.t_us).max(1) as f64;
        self.t_us = t;
        let sec = i / 10;
        let eval = sec % 60 >= 55;
        let loading = sec % 60 < 3;
        let checkpoint = sec % 300 == 299;
        let cores_busy = if eval { 1.0 } else { 3.6 };
        self.cpu_user += (dt * cores_busy * (1.0 + r.normal(0.03))).max(0.0);
        self.cpu_sys +=
            (dt * (0.04 + if loading { 0.3 } else { 0.0 }) * (1.0 + r.normal(0.2))).max(0.0);
        // RSS moves by whole pages; a step at each evaluation, slow growth, allocator noise.
        self.rss_kib += 4 * (r.below(65) - 32);
        if sec % 60 == 55 && i % 10 == 0 {
            self.rss_kib += 4 * 25_000;
        }
        if sec % 60 == 0 && i % 10 == 0 && sec > 0 {
            self.rss_kib -= 4 * 24_900;
        }
        if r.below(200) == 0 {
            self.vsize_kib += 4 * 16_384 * if r.below(2) == 0 { 1 } else { -1 };
        }
        let child = sec % 30 < 2;
        let procs = 4 + i64::from(child);
        let threads = 38 + if child { 3 } else { 0 } + i64::from(loading) * 8;
        if loading {
            self.read += 4096 * (9_000 + r.below(2_000));
        } else if r.below(10) == 0 {
            self.read += 4096 * r.below(8);
        }
        if checkpoint {
            self.write += 4096 * (11_000 + r.below(1000));
        } else if r.below(5) == 0 {
            self.write += 4096 * (1 + r.below(3));
        }
        self.minflt += r.below(if loading { 20_000 } else { 1_500 });
        if r.below(50) == 0 {
            self.majflt += 1 + r.below(4);
        }
        self.vctx += 40 + r.below(200);
        self.ivctx += 5 + r.below(60);
        for c in &mut self.cores {
            // USER_HZ = 100: 10 ticks per 100 ms, ±1 at tick boundaries.
            let ticks = 9 + r.below(3);
            c.1 += ticks;
            c.0 += if eval {
                r.below(ticks as u64 / 2 + 1)
            } else {
                ticks - r.below(2)
            };
        }
        self.load += (cores_busy - self.load) * 0.0017 + r.normal(0.002);
        self.mem_avail += 4 * (r.below(513) - 256) - if loading { 4 * 2_000 } else { 0 };
        self.rx += r.below(1500) + if loading { 4_000_000 } else { 0 };
        self.tx += r.below(400);
        let values = vec![
            (metric::CPU_USER_US.into(), self.cpu_user as i64),
            (metric::CPU_SYSTEM_US.into(), self.cpu_sys as i64),
            (metric::RSS_KIB.into(), self.rss_kib),
            (metric::VSIZE_KIB.into(), self.vsize_kib),
            (metric::PROCS.into(), procs),
            (metric::THREADS.into(), threads),
            (metric::READ_BYTES.into(), self.read),
            (metric::WRITE_BYTES.into(), self.write),
            (metric::MINFLT.into(), self.minflt),
            (metric::MAJFLT.into(), self.majflt),
            (metric::VCTXSW.into(), self.vctx),
            (metric::IVCTXSW.into(), self.ivctx),
            (metric::core_busy(0), self.cores[0].0),
            (metric::core_total(0), self.cores[0].1),
            (metric::core_busy(1), self.cores[1].0),
            (metric::core_total(1), self.cores[1].1),
            (metric::LOAD1_X100.into(), (self.load * 100.0) as i64),
            (metric::MEM_AVAILABLE_KIB.into(), self.mem_avail),
            (metric::NET_RX_BYTES.into(), self.rx),
            (metric::NET_TX_BYTES.into(), self.tx),
        ];
        (t, values)
    }
}

fn meta() -> RunMeta {
    RunMeta {
        id: 0,
        uuid: String::new(),
        name: Some("bench".into()),
        tags: vec![("kind".into(), "bench".into())],
        command: vec!["python".into(), "train.py".into()],
        cwd: "/tmp".into(),
        started_at_ms: 1_700_000_000_000,
        wall_s: None,
        exit_code: None,
        signal: None,
        status: RunStatus::Incomplete,
        host: HostInfo::default(),
        git: None,
        perfmon_version: "bench".into(),
        interval_ms: 100,
        env: Vec::new(),
        group_id: None,
    }
}

/// Adds one value to each live track (4 long-lived processes, a 2 s child every 30 s).
fn push_tracks(rec: &mut RunRecord, i: usize, rng: &mut Rng) {
    let sec = i / 10;
    let child_first = (sec / 30) * 300;
    let mut live: Vec<(u32, usize)> = (0..4).map(|k| (1000 + k, 0)).collect();
    if sec % 30 < 2 {
        live.push((5000 + (sec / 30) as u32, child_first));
    }
    for (pid, first) in live {
        let pos = rec
            .processes
            .iter()
            .position(|p| p.pid == pid && p.first_sample == first);
        let t = match pos {
            Some(p) => &mut rec.processes[p],
            None => {
                rec.processes.push(ProcessTrack {
                    pid,
                    ppid: 999,
                    name: format!("proc{pid}"),
                    first_sample: first,
                    ..ProcessTrack::default()
                });
                let n = rec.processes.len() - 1;
                &mut rec.processes[n]
            }
        };
        let cpu = t.cpu_us.last().copied().unwrap_or(0) + 90_000 + rng.below(20_000);
        let rss = t.rss_kib.last().copied().unwrap_or(400_000) + 4 * (rng.below(33) - 16);
        t.cpu_us.push(cpu);
        t.rss_kib.push(rss);
    }
}

struct Outcome {
    bytes: u64,
    values: usize,
    flushes: Vec<Duration>,
    finish: Duration,
    max_tail: usize,
}

fn run_bench(path: &Path, samples: usize, tracks: bool) -> anyhow::Result<Outcome> {
    let mut store = Store::open(path)?;
    let id = store.begin_run(&meta())?;
    let mut rec = RunRecord {
        meta: meta(),
        totals: Totals::default(),
        samples: Default::default(),
        gpus: Vec::new(),
        gpu_status: String::new(),
        timers: Vec::new(),
        series: Vec::new(),
        marks: Vec::new(),
        diagnostics: ParseDiagnostics::default(),
        processes: Vec::new(),
        violations: Vec::new(),
    };
    rec.meta.id = id;
    let mut w = RunWriter::new(id);
    let mut wl = Workload::new();
    let mut trng = Rng(42);
    let mut flushes = Vec::new();
    let mut max_tail = 0;
    let mut ncols = 0;
    for i in 0..samples {
        let (t, values) = wl.sample(i);
        let refs: Vec<(&str, i64)> = values.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        rec.samples.push(t, &refs);
        ncols = rec.samples.columns.len();
        if tracks {
            push_tracks(&mut rec, i, &mut trng);
        }
        max_tail = max_tail.max(rec.samples.len());
        if i % 50 == 49 {
            let t0 = Instant::now();
            w.flush(&mut store, &mut rec)?;
            flushes.push(t0.elapsed());
            // Like the sampler may: forget ended children once they are saved.
            rec.processes
                .retain(|p| p.pid < 5000 || p.first_sample + 20 > i);
        }
    }
    rec.meta.status = RunStatus::Ok;
    rec.meta.wall_s = Some(samples as f64 / 10.0);
    rec.meta.exit_code = Some(0);
    let t0 = Instant::now();
    w.finish(&mut store, &mut rec)?;
    let finish = t0.elapsed();
    let loaded = store.load_run(id)?;
    anyhow::ensure!(loaded.samples.len() == samples, "lost samples");
    drop(store); // the last connection checkpoints and removes the WAL
    let bytes = std::fs::metadata(path)?.len();
    Ok(Outcome {
        bytes,
        values: samples * (ncols + 1),
        flushes,
        finish,
        max_tail,
    })
}

fn report(label: &str, o: &Outcome) {
    let mut f = o.flushes.clone();
    f.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mean = f.iter().map(|d| ms(*d)).sum::<f64>() / f.len().max(1) as f64;
    let pct = |p: f64| f.get(((f.len() as f64 * p) as usize).min(f.len().saturating_sub(1)));
    println!("{label}:");
    println!(
        "  database file: {} bytes for {} sample values (time column included)",
        o.bytes, o.values
    );
    println!(
        "  bytes/value: {:.3}",
        o.bytes as f64 / o.values.max(1) as f64
    );
    println!(
        "  flushes: {} (every 50 samples), mean {:.2} ms, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; finish {:.1} ms",
        f.len(),
        mean,
        pct(0.5).map_or(0.0, |d| ms(*d)),
        pct(0.99).map_or(0.0, |d| ms(*d)),
        f.last().map_or(0.0, |d| ms(*d)),
        ms(o.finish)
    );
    println!("  largest in-memory sample tail: {} samples", o.max_tail);
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let samples = args
        .iter()
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(36_000);
    let dir = std::env::temp_dir().join(format!("perfmon-store-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let o = run_bench(&dir.join("samples.db"), samples, false)?;
    report(&format!("{samples} samples at 10 Hz, samples only"), &o);
    if args.iter().any(|a| a == "--tracks") {
        let o = run_bench(&dir.join("tracks.db"), samples, true)?;
        report(
            "same run with process tracks (bytes/value still per sample value)",
            &o,
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
