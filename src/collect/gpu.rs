//! NVIDIA GPU sampling behind a small trait, so the logic is tested with recorded values.
//!
//! INTERFACE (filled in by the collect work): [`GpuSource`], [`GpuSample`], [`open_gpu`].

use crate::model::GpuDevice;

/// One device at one sample. `None` where the device does not report the figure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GpuSample {
    pub index: u32,
    pub util_pct: Option<u32>,
    pub mem_used_bytes: Option<u64>,
    pub power_mw: Option<u32>,
    pub temp_c: Option<u32>,
    pub sm_clock_mhz: Option<u32>,
    /// GPU memory used by the given pids (the process tree) on this device.
    pub tree_mem_bytes: Option<u64>,
}

/// A source of GPU samples: NVML on a real machine, recorded values in tests.
pub trait GpuSource: Send {
    fn devices(&self) -> Vec<GpuDevice>;
    fn driver_version(&self) -> Option<String>;
    /// Samples every device; `pids` are the processes of the tree.
    fn sample(&mut self, pids: &[u32]) -> Vec<GpuSample>;
}

/// Opens NVML at run time. Returns the source (None without driver or GPU) and a one-line
/// status for the report, such as `no NVIDIA driver found (libnvidia-ml.so.1 not loadable)`.
pub fn open_gpu() -> (Option<Box<dyn GpuSource>>, String) {
    (None, "GPU sampling not available".to_string())
}
