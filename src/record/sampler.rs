//! The sampling loop of a recorded run: every interval it takes a snapshot of the process tree
//! (and the system and GPUs), turns it into one row of raw counters, keeps per-process tracks,
//! and flushes the run to the database at least every 5 s, so a perfmon killed with SIGKILL
//! leaves its samples up to the last flush.
//!
//! Tree counters add what perfmon already reaped (exact rusage) to the live processes' own and
//! reaped-children figures, so they never drop when a process exits.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::analyze::budget::{BudgetWatch, Figures};
use crate::collect::gpu::{GpuSample, GpuSource};
use crate::collect::system::SystemSampler;
use crate::collect::TreeSampler;
use crate::model::{metric, BudgetViolation, ProcessTrack, RunRecord};
use crate::runner::reap::{reaped_io, ReapTotals};
use crate::store::{RunWriter, Store, StoreError};

/// Longest time between two flushes to the database.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// A live view for the status line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Live {
    pub cpu_pct: f64,
    pub rss_kib: i64,
    pub gpu_util_pct: Option<f64>,
}

/// The callback run after each sample (the live status line).
pub type OnSample = Box<dyn FnMut(&Live) + Send>;
/// The callback run when a budget is crossed.
pub type OnViolation = Box<dyn FnMut(&BudgetViolation) + Send>;

/// What a sampler is built from.
pub struct SamplerConfig {
    pub tree: TreeSampler,
    pub system: SystemSampler,
    pub gpu: Option<Box<dyn GpuSource>>,
    /// Totals of the processes perfmon reaped (exact rusage), added by the main thread.
    pub reaped: Arc<ReapTotals>,
    /// Reaped IO present in /proc/self/io before the command started.
    pub io_baseline: (u64, u64),
    pub start: Instant,
    pub interval: Duration,
    /// Budgets watched on every sample.
    pub budget: BudgetWatch,
    /// Called after each sample with the live figures (status line).
    pub on_sample: Option<OnSample>,
    /// Called once for each budget crossed (warning, and `--budget-kill`).
    pub on_violation: Option<OnViolation>,
}

pub struct Sampler {
    tree: TreeSampler,
    system: SystemSampler,
    gpu: Option<Box<dyn GpuSource>>,
    reaped: Arc<ReapTotals>,
    io_baseline: (u64, u64),
    start: Instant,
    interval: Duration,
    rec: RunRecord,
    /// Where the run is flushed to; None until the run row exists (and if the database could not
    /// be opened: the final save then tries again, or writes the fallback file).
    store: Option<(Store, RunWriter)>,
    on_sample: Option<OnSample>,
    budget: BudgetWatch,
    on_violation: Option<OnViolation>,
    violations: Vec<BudgetViolation>,
    tracks: HashMap<u32, usize>,
    seen: HashSet<u32>,
    /// Pids of the latest sample.
    alive: HashSet<u32>,
    samples_taken: usize,
    reaped_io_cache: (u64, (i64, i64)),
    last_cpu: Option<(i64, i64)>,
    /// The tree's user and system CPU of the last sample, which the next cannot go below.
    cpu_floor: (i64, i64),
    /// The row being built, kept between samples so a sample allocates nothing.
    values: Vec<(&'static str, i64)>,
    /// The metric names of each GPU, in the order of [`GpuSample::FIGURES`], built once.
    gpu_names: Vec<[&'static str; GpuSample::FIGURES.len()]>,
    peak_tree_rss_kib: i64,
    peak_proc_rss_kib: i64,
    flush_errors: Vec<String>,
    /// Samples in which perfmon's reaped-children IO could not be read (the last value was kept).
    reaped_io_unread: u64,
    /// Samples in which some live process's IO, or its context switches, could not be read.
    io_partial: u64,
    ctxsw_partial: u64,
}

/// What the sampler recorded, handed back by value when it stops.
pub struct Sampled {
    /// The record with its samples and process tracks (those not yet flushed).
    pub rec: RunRecord,
    pub store: Option<(Store, RunWriter)>,
    pub violations: Vec<BudgetViolation>,
    pub flush_errors: Vec<String>,
    /// What the samples lack, as warnings (see [`Sampler::gaps`]).
    pub gaps: Vec<String>,
    pub peaks: Peaks,
}

/// What the samples saw at most.
#[derive(Debug, Clone, Copy, Default)]
pub struct Peaks {
    /// Distinct pids seen in samples.
    pub processes_seen: u64,
    pub tree_rss_kib: i64,
    /// The largest single process.
    pub proc_rss_kib: i64,
}

/// What the recording thread tells the sampling thread.
pub enum Control {
    /// The run's row exists: flush to this store from now on.
    Attach(Box<(Store, RunWriter)>),
    /// The command has ended: take a last sample and stop.
    Stop,
}

impl Sampler {
    pub fn new(cfg: SamplerConfig, rec: RunRecord) -> Sampler {
        Sampler {
            tree: cfg.tree,
            system: cfg.system,
            gpu: cfg.gpu,
            reaped: cfg.reaped,
            io_baseline: cfg.io_baseline,
            start: cfg.start,
            interval: cfg.interval,
            rec,
            store: None,
            on_sample: cfg.on_sample,
            budget: cfg.budget,
            on_violation: cfg.on_violation,
            violations: Vec::new(),
            tracks: HashMap::new(),
            seen: HashSet::new(),
            alive: HashSet::new(),
            samples_taken: 0,
            reaped_io_cache: (u64::MAX, (0, 0)),
            last_cpu: None,
            cpu_floor: (0, 0),
            values: Vec::new(),
            gpu_names: Vec::new(),
            peak_tree_rss_kib: 0,
            peak_proc_rss_kib: 0,
            flush_errors: Vec::new(),
            reaped_io_unread: 0,
            io_partial: 0,
            ctxsw_partial: 0,
        }
    }

    /// Samples every interval until [`Control::Stop`] arrives (or the sender is gone), then
    /// takes a last sample and hands everything back.
    pub fn run(mut self, control: Receiver<Control>) -> Sampled {
        let mut next = Instant::now();
        let mut last_flush = Instant::now();
        self.sample_once();
        'ticks: loop {
            next += self.interval;
            if next < Instant::now() {
                // Fell behind (a slow flush): skip the missed ticks rather than bunching samples.
                next = Instant::now() + self.interval;
            }
            loop {
                let wait = next.saturating_duration_since(Instant::now());
                match control.recv_timeout(wait) {
                    Ok(Control::Attach(sw)) => self.attach_store(sw.0, sw.1),
                    Ok(Control::Stop) | Err(RecvTimeoutError::Disconnected) => break 'ticks,
                    Err(RecvTimeoutError::Timeout) => break,
                }
            }
            self.sample_once();
            if last_flush.elapsed() >= FLUSH_EVERY {
                self.flush();
                last_flush = Instant::now();
            }
        }
        self.sample_once();
        self.into_sampled()
    }

    /// Everything recorded, by value.
    pub fn into_sampled(self) -> Sampled {
        Sampled {
            gaps: self.gaps(),
            peaks: Peaks {
                processes_seen: self.seen.len() as u64,
                tree_rss_kib: self.peak_tree_rss_kib,
                proc_rss_kib: self.peak_proc_rss_kib,
            },
            rec: self.rec,
            store: self.store,
            violations: self.violations,
            flush_errors: self.flush_errors,
        }
    }

    /// From now on the run is flushed to `store` (its row exists; `writer` writes it).
    pub fn attach_store(&mut self, store: Store, writer: RunWriter) {
        self.rec.meta.id = writer.run_id;
        self.store = Some((store, writer));
    }

    fn flush(&mut self) {
        let Some((store, writer)) = self.store.as_mut() else {
            return;
        };
        match writer.flush(store, &mut self.rec) {
            Ok(()) => self.drop_ended_tracks(),
            Err(e) => self.note_flush_error(e),
        }
    }

    /// Once written, the tracks of processes that have ended are dropped from memory (the store
    /// keeps them), so a run that forks thousands of short processes stays small.
    fn drop_ended_tracks(&mut self) {
        let alive = &self.alive;
        self.rec.processes.retain(|t| alive.contains(&t.pid));
        self.tracks = self
            .rec
            .processes
            .iter()
            .enumerate()
            .map(|(i, t)| (t.pid, i))
            .collect();
    }

    fn note_flush_error(&mut self, e: StoreError) {
        if self.flush_errors.len() < 5 {
            self.flush_errors.push(e.to_string());
        }
    }

    /// Takes one sample and appends it to the record.
    pub fn sample_once(&mut self) {
        // Reaped totals first, then the tree (parents before children): a process reaped
        // in between is then missed once (a transient undercount), never counted twice.
        let r = &self.reaped;
        let reaped_user = r.user_us.load(Ordering::SeqCst) as i64;
        let reaped_sys = r.system_us.load(Ordering::SeqCst) as i64;
        let reaped_minflt = r.minflt.load(Ordering::SeqCst) as i64;
        let reaped_majflt = r.majflt.load(Ordering::SeqCst) as i64;
        let reaped_v = r.nvcsw.load(Ordering::SeqCst) as i64;
        let reaped_iv = r.nivcsw.load(Ordering::SeqCst) as i64;
        let count = r.count.load(Ordering::SeqCst);
        if count != self.reaped_io_cache.0 {
            // Reading perfmon's own thread IO costs a few files: only when something was reaped.
            // Unreadable, the last value stays (the counters never dip) and the run says so.
            match reaped_io() {
                Some((rd, wr)) => {
                    self.reaped_io_cache = (
                        count,
                        (
                            rd.saturating_sub(self.io_baseline.0) as i64,
                            wr.saturating_sub(self.io_baseline.1) as i64,
                        ),
                    )
                }
                None => self.reaped_io_unread += 1,
            }
        }
        let (reaped_rd, reaped_wr) = self.reaped_io_cache.1;

        let t_us = self.start.elapsed().as_micros() as i64;
        let snap = self.tree.sample();
        let tot = snap.totals();
        self.io_partial += u64::from(tot.io_unknown > 0);
        self.ctxsw_partial += u64::from(tot.ctxsw_unknown > 0);

        // Counters never drop. A live process's user/system split is estimated from its ns CPU
        // clock and tick counts; once it is reaped, the kernel's exact rusage replaces the
        // estimate, which can put one part a few ms lower than the last sample said. The sample
        // then keeps the higher figure; the run's totals come from rusage alone.
        let cpu_user = (tot.cpu_user_us + reaped_user).max(self.cpu_floor.0);
        let cpu_sys = (tot.cpu_system_us + reaped_sys).max(self.cpu_floor.1);
        self.cpu_floor = (cpu_user, cpu_sys);
        let mut values = std::mem::take(&mut self.values);
        values.clear();
        values.extend_from_slice(&[
            (metric::CPU_USER_US, cpu_user),
            (metric::CPU_SYSTEM_US, cpu_sys),
            (metric::RSS_KIB, tot.rss_kib),
            (metric::VSIZE_KIB, tot.vsize_kib),
            (metric::PROCS, tot.procs),
            (metric::THREADS, tot.threads),
            (metric::READ_BYTES, tot.read_bytes + reaped_rd),
            (metric::WRITE_BYTES, tot.write_bytes + reaped_wr),
            (metric::MINFLT, tot.minflt + reaped_minflt),
            (metric::MAJFLT, tot.majflt + reaped_majflt),
            (metric::VCTXSW, tot.vctxsw + reaped_v),
            (metric::IVCTXSW, tot.ivctxsw + reaped_iv),
        ]);
        self.system.sample_into(&mut values);
        let mut live = Live {
            rss_kib: tot.rss_kib,
            ..Live::default()
        };
        let mut gpu_mem: Option<f64> = None;
        if let Some(gpu) = self.gpu.as_mut() {
            let pids: Vec<u32> = snap.procs.iter().map(|p| p.pid).collect();
            let mut util_sum = 0.0;
            let mut util_n = 0;
            for g in gpu.sample(&pids) {
                let at = g.index as usize;
                while self.gpu_names.len() <= at {
                    let n = self.gpu_names.len() as u32;
                    self.gpu_names.push(
                        GpuSample::FIGURES.map(|what| metric::interned(metric::gpu(n, what))),
                    );
                }
                for (name, v) in self.gpu_names[at].iter().zip(g.figures()) {
                    values.push((name, v.unwrap_or(crate::model::MISSING)));
                }
                // The tree's own GPU memory where the driver tells it, else the device's.
                if let Some(m) = g.tree_mem_bytes.or(g.mem_used_bytes) {
                    gpu_mem = Some(gpu_mem.unwrap_or(0.0) + m as f64);
                }
                if let Some(u) = g.util_pct {
                    util_sum += f64::from(u);
                    util_n += 1;
                }
            }
            if util_n > 0 {
                live.gpu_util_pct = Some(util_sum / util_n as f64);
            }
        }
        self.rec.samples.push(t_us, &values);
        self.values = values;

        self.peak_tree_rss_kib = self.peak_tree_rss_kib.max(tot.rss_kib);
        let idx = self.samples_taken;
        self.samples_taken += 1;
        self.alive.clear();
        for p in &snap.procs {
            self.alive.insert(p.pid);
            self.peak_proc_rss_kib = self.peak_proc_rss_kib.max(p.rss_kib);
            self.seen.insert(p.pid);
            let cpu = p.cpu_user_us + p.cpu_system_us;
            match self.tracks.get(&p.pid) {
                Some(&i) if self.rec.processes.get(i).is_some_and(|t| t.name == p.name) => {
                    let t = &mut self.rec.processes[i];
                    // Values already sealed into the database are no longer in memory.
                    let sealed = self
                        .store
                        .as_ref()
                        .map_or(0, |(_, w)| w.sealed_track_values(t.pid, t.first_sample));
                    // A process missed in a sample (a read raced its exit check) keeps its
                    // previous values there, so the track stays aligned with the samples.
                    while t.first_sample + sealed + t.cpu_us.len() < idx {
                        let (c, r) = (t.cpu_us.last().copied(), t.rss_kib.last().copied());
                        t.cpu_us.push(c.unwrap_or(cpu));
                        t.rss_kib.push(r.unwrap_or(p.rss_kib));
                    }
                    t.cpu_us.push(cpu);
                    t.rss_kib.push(p.rss_kib);
                }
                _ => {
                    self.tracks.insert(p.pid, self.rec.processes.len());
                    self.rec.processes.push(ProcessTrack {
                        pid: p.pid,
                        ppid: p.ppid,
                        name: p.name.clone(),
                        cmdline: crate::collect::read_cmdline(p.pid).unwrap_or_default(),
                        first_sample: idx,
                        cpu_us: vec![cpu],
                        rss_kib: vec![p.rss_kib],
                    });
                }
            }
        }
        if let Some((t0, c0)) = self.last_cpu {
            let dt = (t_us - t0) as f64;
            if dt > 0.0 {
                live.cpu_pct = ((cpu_user + cpu_sys - c0).max(0) as f64 / dt) * 100.0;
            }
        }
        self.last_cpu = Some((t_us, cpu_user + cpu_sys));
        if let Some(f) = self.on_sample.as_mut() {
            f(&live);
        }
        if !self.budget.is_empty() {
            let maxrss = self.reaped.command_maxrss_kib().unwrap_or(0) as f64 * 1024.0;
            let figures = Figures {
                wall_s: t_us as f64 / 1e6,
                cpu_s: (cpu_user + cpu_sys) as f64 / 1e6,
                cpu_user_s: cpu_user as f64 / 1e6,
                cpu_system_s: cpu_sys as f64 / 1e6,
                peak_rss_bytes: maxrss.max(self.peak_proc_rss_kib as f64 * 1024.0),
                peak_tree_rss_bytes: self.peak_tree_rss_kib as f64 * 1024.0,
                io_read_bytes: (tot.read_bytes + reaped_rd) as f64,
                io_write_bytes: (tot.write_bytes + reaped_wr) as f64,
                gpu_mem_bytes: gpu_mem,
                gpu_util_mean_pct: None,
            };
            for v in self.budget.check(&figures) {
                if let Some(f) = self.on_violation.as_mut() {
                    f(&v);
                }
                self.violations.push(v);
            }
        }
    }

    /// What the samples lack, as warnings for the run. A process that exits between two reads
    /// of one sample is missed once and is no reason to warn: only figures missing in at least 3
    /// samples and a tenth of them are (a setuid program in the tree, whose /proc files perfmon
    /// may not read).
    pub fn gaps(&self) -> Vec<String> {
        let n = self.samples_taken as u64;
        let often = |k: u64| k >= 3 && k * 10 >= n;
        let mut out = Vec::new();
        if self.reaped_io_unread > 0 {
            out.push(format!(
                "perfmon's /proc/self/io could not be read in {} samples: the IO of processes that had ended kept its last value there",
                self.reaped_io_unread
            ));
        }
        if often(self.io_partial) {
            out.push(format!(
                "the IO of some processes could not be read (a setuid program?) in {} of {n} samples: the tree's IO lacks theirs",
                self.io_partial
            ));
        }
        if often(self.ctxsw_partial) {
            out.push(format!(
                "the context switches of some processes could not be read in {} of {n} samples: the tree's figure lacks theirs",
                self.ctxsw_partial
            ));
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::collect::gpu::RecordedGpu;
    use crate::model::MISSING;

    fn sampler(gpu: Option<Box<dyn GpuSource>>) -> Sampler {
        let cfg = SamplerConfig {
            tree: TreeSampler::new(std::process::id()),
            system: SystemSampler::new(),
            gpu,
            reaped: Arc::new(ReapTotals::default()),
            io_baseline: (0, 0),
            start: Instant::now(),
            interval: Duration::from_millis(100),
            budget: BudgetWatch::new(Vec::new()),
            on_sample: None,
            on_violation: None,
        };
        Sampler::new(cfg, crate::analyze::testutil::empty_record())
    }

    /// Each GPU figure reaches the samples under its metric name, sample by sample as the
    /// recording (an H100) has it, and a figure the device does not report is MISSING, never 0.
    #[test]
    fn gpu_figures_are_stored_per_sample_and_missing_ones_marked() {
        let recording =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gpu/h100-recorded.json");
        let dir = tempfile::tempdir().unwrap();
        let mut s = sampler(Some(Box::new(RecordedGpu::load(&recording).unwrap())));
        s.attach_store(
            Store::open(dir.path().join("runs.db")).unwrap(),
            RunWriter::new(1),
        );
        let n = 12;
        for _ in 0..n {
            s.sample_once();
        }
        let mut expected = RecordedGpu::load(&recording).unwrap();
        let mut missing = 0;
        for i in 0..n {
            let want = expected.sample(&[]);
            assert_eq!(want.len(), 1);
            for (what, v) in GpuSample::FIGURES.iter().zip(want[0].figures()) {
                let col = s.rec.samples.column(&metric::gpu(0, what)).unwrap();
                assert_eq!(col[i], v.unwrap_or(MISSING), "gpu0.{what} at sample {i}");
                missing += usize::from(v.is_none());
            }
        }
        assert!(
            missing > 0,
            "the recording has no unreported figure to check"
        );
    }

    /// Figures the samples lack become warnings; a miss in one sample (a process that exited
    /// between two reads) does not.
    #[test]
    fn gaps_in_the_samples_are_warnings() {
        let mut s = sampler(None);
        for _ in 0..20 {
            s.sample_once();
        }
        assert!(s.gaps().is_empty(), "{:?}", s.gaps());
        s.io_partial = 1;
        assert!(
            s.gaps().is_empty(),
            "one sample's miss is a race, not a gap"
        );
        s.io_partial = 5;
        s.reaped_io_unread = 1;
        let g = s.gaps();
        assert_eq!(g.len(), 2, "{g:?}");
        assert!(g[1].contains("5 of 20 samples"), "{g:?}");
    }
}
