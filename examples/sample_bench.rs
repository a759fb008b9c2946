//! Measures the cost of the collectors: `cargo run --release --example sample_bench [SAMPLES]`.
//!
//! For 1, 10 and 50 sleeping child processes it times `TreeSampler::sample` (first, cold sample
//! and steady state, split into finding the tree and reading the processes), and compares with
//! the floor of reading `/proc/PID/{stat,io,status}` once per process (open+read+close, and
//! pread of already open files). It also times `SystemSampler::sample_into` and `open_gpu`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use perfmon::collect::{gpu, system::SystemSampler, TreeSampler};

fn main() {
    let samples: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let t = Instant::now();
    let (src, status, _notes) = gpu::open_gpu();
    println!(
        "open_gpu: {:.2} ms -> {} ({})",
        t.elapsed().as_secs_f64() * 1e3,
        if src.is_some() { "source" } else { "none" },
        status
    );

    let mut sys = SystemSampler::new();
    let mut out = Vec::new();
    let t = Instant::now();
    for _ in 0..samples {
        out.clear();
        sys.sample_into(&mut out);
    }
    println!(
        "SystemSampler::sample_into: {:.1} µs/sample ({} values)",
        t.elapsed().as_secs_f64() * 1e6 / f64::from(samples),
        out.len()
    );

    println!("\n{samples} samples each; µs per process");
    println!(
        "{:>5} {:>10} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "procs", "cold", "total", "find", "read", "floor-open", "floor-pread"
    );
    for n in [1usize, 10, 50] {
        let mut kids: Vec<Child> = (0..n)
            .map(|_| {
                Command::new("sleep")
                    .arg("1000")
                    .stdin(Stdio::null())
                    .spawn()
                    .expect("spawn sleep")
            })
            .collect();
        let pids: Vec<u32> = kids.iter().map(|c| c.id()).collect();
        let mut s = TreeSampler::new(std::process::id());

        let t = Instant::now();
        let snap = s.sample();
        let cold = t.elapsed().as_secs_f64() * 1e6;
        assert_eq!(snap.procs.len(), n, "tree should be exactly the children");

        let (mut find, mut read) = (0u64, 0u64);
        let t = Instant::now();
        for _ in 0..samples {
            let snap = s.sample();
            std::hint::black_box(&snap);
            let c = s.last_cost();
            find += c.find_ns;
            read += c.read_ns;
        }
        let total = t.elapsed().as_secs_f64() * 1e6;

        let per = |x: f64| x / (f64::from(samples) * n as f64);
        let t = Instant::now();
        let mut buf = vec![0u8; 8192];
        for _ in 0..samples {
            for pid in &pids {
                for f in ["stat", "io", "status"] {
                    let v = std::fs::read(format!("/proc/{pid}/{f}")).unwrap_or_default();
                    std::hint::black_box(&v);
                }
            }
        }
        let floor_open = t.elapsed().as_secs_f64() * 1e6;
        let files: Vec<File> = pids
            .iter()
            .flat_map(|pid| {
                ["stat", "io", "status"]
                    .map(|f| File::open(format!("/proc/{pid}/{f}")).expect("open proc file"))
            })
            .collect();
        let t = Instant::now();
        for _ in 0..samples {
            for f in &files {
                let n = f.read_at(&mut buf, 0).unwrap_or(0);
                std::hint::black_box(n);
            }
        }
        let floor_pread = t.elapsed().as_secs_f64() * 1e6;

        println!(
            "{:>5} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>12.1} {:>12.1}",
            n,
            cold / n as f64,
            per(total),
            per(find as f64 / 1e3),
            per(read as f64 / 1e3),
            per(floor_open),
            per(floor_pread),
        );
        for k in &mut kids {
            let _ = k.kill();
            let _ = k.wait();
        }
    }
}
