//! Sampled metrics in columnar form: one time column and one integer column per metric.
//!
//! Every value is a raw integer as the kernel reports it (cumulative CPU microseconds, cumulative
//! IO bytes, RSS in KiB, ...): such counters compress far better than derived floats, and rates are
//! derived on reading. A value that was not collected in a sample is [`MISSING`], never zero.

use std::collections::BTreeMap;

/// Marks a value that was not collected in a sample (a vanished GPU, an unreadable file).
pub const MISSING: i64 = i64::MIN;

/// Metric names. The names are part of the JSON output (`--samples`) and of the storage format.
pub mod metric {
    /// Tree CPU user time, cumulative, µs (live processes + everything they and perfmon reaped).
    pub const CPU_USER_US: &str = "tree.cpu_user_us";
    /// Tree CPU system time, cumulative, µs.
    pub const CPU_SYSTEM_US: &str = "tree.cpu_system_us";
    /// Sum of RSS over the live tree, KiB.
    pub const RSS_KIB: &str = "tree.rss_kib";
    /// Sum of virtual size over the live tree, KiB.
    pub const VSIZE_KIB: &str = "tree.vsize_kib";
    pub const PROCS: &str = "tree.procs";
    pub const THREADS: &str = "tree.threads";
    /// Storage-layer bytes read/written, cumulative over the live tree and reaped processes.
    pub const READ_BYTES: &str = "tree.read_bytes";
    pub const WRITE_BYTES: &str = "tree.write_bytes";
    /// Page faults, cumulative (including those of reaped children).
    pub const MINFLT: &str = "tree.minflt";
    pub const MAJFLT: &str = "tree.majflt";
    /// Context switches of the live tree, cumulative per live process.
    pub const VCTXSW: &str = "tree.vctxsw";
    pub const IVCTXSW: &str = "tree.ivctxsw";
    /// System load average ×100.
    pub const LOAD1_X100: &str = "sys.load1_x100";
    pub const MEM_AVAILABLE_KIB: &str = "sys.mem_available_kib";
    /// Network bytes over all interfaces except loopback, cumulative.
    pub const NET_RX_BYTES: &str = "sys.net_rx_bytes";
    pub const NET_TX_BYTES: &str = "sys.net_tx_bytes";

    /// Per-core busy and total time in clock ticks, cumulative: `sys.cpuN.busy`, `sys.cpuN.total`.
    pub fn core_busy(n: usize) -> String {
        format!("sys.cpu{n}.busy")
    }
    pub fn core_total(n: usize) -> String {
        format!("sys.cpu{n}.total")
    }

    /// `name` as a `&'static str` kept for the rest of the process, each distinct name once: the
    /// sampler builds every per-core and per-GPU name once and reuses it at each sample instead
    /// of formatting a String there. A run has a few dozen names; `--repeat` reuses them.
    pub fn interned(name: String) -> &'static str {
        use std::collections::BTreeSet;
        use std::sync::Mutex;
        static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
        let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = names.get(name.as_str()) {
            return n;
        }
        let n: &'static str = Box::leak(name.into_boxed_str());
        names.insert(n);
        n
    }

    /// Per-GPU metrics: `gpuN.util_pct`, `gpuN.mem_used_bytes`, `gpuN.power_mw`, `gpuN.temp_c`,
    /// `gpuN.sm_clock_mhz`, `gpuN.tree_mem_bytes` (memory used by processes of the tree).
    pub fn gpu(n: u32, what: &str) -> String {
        format!("gpu{n}.{what}")
    }
}

/// Samples of one run: `t_us[i]` is the time of sample `i` in µs since the run started, and each
/// column holds one value per sample.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SampleSet {
    pub t_us: Vec<i64>,
    pub columns: BTreeMap<String, Vec<i64>>,
}

impl SampleSet {
    pub fn len(&self) -> usize {
        self.t_us.len()
    }

    pub fn is_empty(&self) -> bool {
        self.t_us.is_empty()
    }

    /// Appends one sample. Columns absent from `values` get [`MISSING`]; a column seen for the
    /// first time is back-filled with [`MISSING`].
    pub fn push<K: AsRef<str>>(&mut self, t_us: i64, values: &[(K, i64)]) {
        let n = self.t_us.len();
        self.t_us.push(t_us);
        for (name, v) in values {
            // Look the column up by &str: only a column seen for the first time allocates its
            // name (this runs for every value of every sample).
            match self.columns.get_mut(name.as_ref()) {
                Some(col) => col.push(*v),
                None => {
                    let mut col = vec![MISSING; n];
                    col.push(*v);
                    self.columns.insert(name.as_ref().to_string(), col);
                }
            }
        }
        for col in self.columns.values_mut() {
            if col.len() < n + 1 {
                col.push(MISSING);
            }
        }
    }

    pub fn column(&self, name: &str) -> Option<&[i64]> {
        self.columns.get(name).map(|v| v.as_slice())
    }

    /// Number of stored values (time column included).
    pub fn value_count(&self) -> usize {
        self.t_us.len() * (1 + self.columns.len())
    }

    /// The intervals `(from, to)` over which the cumulative counters `cols` can be turned into
    /// rates: every column present at both ends and not gone backwards (a missing value or a
    /// step back starts afresh). An interval shorter than half the median sampling interval is
    /// merged into the next one: the last sample is taken the moment the command exits, and a
    /// few ms of CPU over that sliver would read as an absurd rate (the totals still count it).
    pub fn rate_intervals(&self, cols: &[&[i64]]) -> Vec<(usize, usize)> {
        let mut dts: Vec<i64> = self.t_us.windows(2).map(|w| w[1] - w[0]).collect();
        dts.sort_unstable();
        let min_dt = dts.get(dts.len() / 2).map(|m| m / 2).unwrap_or(0).max(1);
        let mut out = Vec::new();
        let mut a = 0;
        for i in 1..self.t_us.len() {
            let ok = cols.iter().all(|c| {
                c.get(a).is_some_and(|v| *v != MISSING)
                    && c.get(i).is_some_and(|v| *v != MISSING)
                    && c[i] >= c[a]
            });
            if !ok {
                a = i;
                continue;
            }
            if self.t_us[i] - self.t_us[a] < min_dt {
                continue;
            }
            out.push((a, i));
            a = i;
        }
        out
    }

    /// Per-second rate of a cumulative counter over [`SampleSet::rate_intervals`], as
    /// (t_s, rate) pairs.
    pub fn rate(&self, name: &str) -> Vec<(f64, f64)> {
        let Some(col) = self.column(name) else {
            return Vec::new();
        };
        self.rate_intervals(&[col])
            .into_iter()
            .map(|(a, i)| {
                let dt = (self.t_us[i] - self.t_us[a]) as f64 / 1e6;
                (self.t_us[i] as f64 / 1e6, (col[i] - col[a]) as f64 / dt)
            })
            .collect()
    }

    /// Gauge values with their times, skipping missing ones.
    pub fn gauge(&self, name: &str) -> Vec<(f64, i64)> {
        let Some(col) = self.column(name) else {
            return Vec::new();
        };
        col.iter()
            .zip(&self.t_us)
            .filter(|(v, _)| **v != MISSING)
            .map(|(v, t)| (*t as f64 / 1e6, *v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_backfills_new_and_absent_columns() {
        let mut s = SampleSet::default();
        s.push(0, &[("a", 1)]);
        s.push(100, &[("b", 2)]);
        assert_eq!(s.column("a"), Some(&[1, MISSING][..]));
        assert_eq!(s.column("b"), Some(&[MISSING, 2][..]));
        assert_eq!(s.value_count(), 6);
    }

    #[test]
    fn rate_skips_missing_and_backwards() {
        let mut s = SampleSet::default();
        for (t, v) in [
            (0, 0),
            (500_000, 1000),
            (1_000_000, MISSING),
            (1_500_000, 3000),
            (2_000_000, 2000),
        ] {
            s.push(t, &[("c", v)]);
        }
        assert_eq!(s.rate("c"), vec![(0.5, 2000.0)]);
    }

    #[test]
    fn a_sliver_interval_is_merged_not_turned_into_a_spike() {
        let mut s = SampleSet::default();
        // 100 ms sampling, then a last sample 2 ms after the previous one.
        for (t, v) in [(0, 0), (100_000, 100), (200_000, 200), (202_000, 210)] {
            s.push(t, &[("c", v)]);
        }
        // 100 units/100 ms = 1000/s; the 10 units of the 2 ms sliver would read 5000/s.
        assert_eq!(s.rate("c"), vec![(0.1, 1000.0), (0.2, 1000.0)]);
        // A counter that starts afresh (a step back) is measured again from there.
        let mut s = SampleSet::default();
        for (t, v) in [(0, 0), (100_000, 100), (200_000, 5), (300_000, 105)] {
            s.push(t, &[("c", v)]);
        }
        assert_eq!(s.rate("c"), vec![(0.1, 1000.0), (0.3, 1000.0)]);
    }
}
