//! System-wide metrics: per-core CPU, load average, available memory, network bytes.
//!
//! INTERFACE (filled in by the collect work): [`SystemSampler::new`], [`SystemSampler::sample_into`].

/// Reads system-wide counters at each sample.
#[derive(Debug, Default)]
pub struct SystemSampler {}

impl SystemSampler {
    pub fn new() -> SystemSampler {
        SystemSampler {}
    }

    /// Appends this sample's raw system counters (names from [`crate::model::metric`]:
    /// `sys.cpuN.busy`/`sys.cpuN.total` jiffies, `sys.load1_x100`, `sys.mem_available_kib`,
    /// `sys.net_rx_bytes`, `sys.net_tx_bytes`).
    pub fn sample_into(&mut self, _out: &mut Vec<(String, i64)>) {}
}
