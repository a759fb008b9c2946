//! NVIDIA GPU sampling behind a small trait, so the logic is tested with recorded values.
//!
//! INTERFACE (filled in by the collect work): [`GpuSource`], [`GpuSample`], [`open_gpu`].
//!
//! [`NvmlGpu`] reads NVML through `nvml-wrapper`, which loads `libnvidia-ml.so.1` at run time:
//! without a driver, [`open_gpu`] fails quietly with a one-line reason. NVML is initialised once
//! per process (a `OnceLock`) and never shut down. [`RecordedGpu`] replays samples from a JSON
//! file (see `fixtures/gpu/h100-recorded.json`).

use std::path::Path;
use std::sync::OnceLock;

use nvml_wrapper::enum_wrappers::device::{Clock, TemperatureSensor};
use nvml_wrapper::enums::device::UsedGpuMemory;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::struct_wrappers::device::ProcessInfo;
use nvml_wrapper::{Device, Nvml};
use serde::{Deserialize, Serialize};

use crate::model::GpuDevice;

/// One device at one sample. `None` where the device does not report the figure.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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

impl GpuSample {
    /// The figures of [`GpuSample::figures`], as `gpuN.<figure>` metric names.
    pub const FIGURES: [&'static str; 6] = [
        "util_pct",
        "mem_used_bytes",
        "power_mw",
        "temp_c",
        "sm_clock_mhz",
        "tree_mem_bytes",
    ];

    /// The sample's figures as integers, in the order of [`GpuSample::FIGURES`]; `None` where
    /// the device does not report one.
    pub fn figures(&self) -> [Option<i64>; 6] {
        let i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        [
            self.util_pct.map(i64::from),
            self.mem_used_bytes.map(i),
            self.power_mw.map(i64::from),
            self.temp_c.map(i64::from),
            self.sm_clock_mhz.map(i64::from),
            self.tree_mem_bytes.map(i),
        ]
    }
}

/// A source of GPU samples: NVML on a real machine, recorded values in tests.
pub trait GpuSource: Send {
    fn devices(&self) -> Vec<GpuDevice>;
    fn driver_version(&self) -> Option<String>;
    /// Samples every device; `pids` are the processes of the tree.
    fn sample(&mut self, pids: &[u32]) -> Vec<GpuSample>;
}

/// Why GPU sampling is unavailable, or a recording could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GpuError {
    #[error("no NVIDIA driver found (libnvidia-ml.so.1 could not be loaded)")]
    NoLibrary,
    #[error("no NVIDIA driver found: no /dev/nvidiactl, /dev/dxg or /proc/driver/nvidia")]
    NoDevice,
    #[error("NVIDIA driver not loaded")]
    DriverNotLoaded,
    #[error("no permission to use the NVIDIA driver")]
    NoPermission,
    #[error("NVIDIA driver present but no GPU")]
    NoGpu,
    #[error("NVML error: {0}")]
    Nvml(String),
    #[error("cannot read GPU recording {path}: {msg}")]
    Recording { path: String, msg: String },
}

impl From<&NvmlError> for GpuError {
    fn from(e: &NvmlError) -> GpuError {
        match e {
            NvmlError::LibloadingError(_) | NvmlError::LibraryNotFound => GpuError::NoLibrary,
            NvmlError::DriverNotLoaded => GpuError::DriverNotLoaded,
            NvmlError::NoPermission => GpuError::NoPermission,
            other => GpuError::Nvml(other.to_string()),
        }
    }
}

/// Opens NVML at run time. Returns the source (None without driver or GPU) and a one-line
/// status for the report, such as `no NVIDIA driver found (libnvidia-ml.so.1 not loadable)`.
pub fn open_gpu() -> (Option<Box<dyn GpuSource>>, String, Vec<String>) {
    match NvmlGpu::open() {
        Ok(g) => {
            let status = status_line(g.devices.len(), g.driver.as_deref(), &g.notes);
            let notes = g.notes.clone();
            (Some(Box::new(g)), status, notes)
        }
        Err(e) => (None, e.to_string(), Vec::new()),
    }
}

/// The run's `gpu_status`: the devices and driver, then every device fact NVML would not give
/// (so a device left out, or a name or memory size missing from the report, says why).
fn status_line(devices: usize, driver: Option<&str>, notes: &[String]) -> String {
    let mut s = format!(
        "{devices} NVIDIA GPU(s), driver {}",
        driver.unwrap_or("unknown")
    );
    for n in notes {
        s.push_str("; ");
        s.push_str(n);
    }
    s
}

/// A device fact, or its type's empty value and a note saying why (see [`status_line`]).
fn fact<T: Default>(index: u32, what: &str, r: Result<T, NvmlError>, notes: &mut Vec<String>) -> T {
    r.unwrap_or_else(|e| {
        notes.push(format!("GPU {index}: {what} unknown ({e})"));
        T::default()
    })
}

/// Paths of which one exists wherever NVML can work: the driver's control device (Linux, and
/// containers given the GPU), the WSL2 GPU device, or the loaded kernel module's proc entry.
const DRIVER_PATHS: [&str; 3] = ["/dev/nvidiactl", "/dev/dxg", "/proc/driver/nvidia"];

/// The process-wide NVML handle, initialised on first use. Without any of [`DRIVER_PATHS`] the
/// library is not looked for: loading it would fail anyway, after searching some 35 directories
/// (about 0.1 ms, paid by every `perfmon run` on a machine without a GPU).
fn nvml() -> Result<&'static Nvml, GpuError> {
    static NVML: OnceLock<Result<Nvml, GpuError>> = OnceLock::new();
    NVML.get_or_init(|| {
        if !DRIVER_PATHS
            .iter()
            .any(|p| std::path::Path::new(p).exists())
        {
            return Err(GpuError::NoDevice);
        }
        Nvml::init().map_err(|e| GpuError::from(&e))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// GPUs read through NVML.
pub struct NvmlGpu {
    devices: Vec<(GpuDevice, Device<'static>)>,
    driver: Option<String>,
    pids: Vec<u32>,
    /// What NVML would not tell at open: devices left out, facts unknown.
    notes: Vec<String>,
}

impl NvmlGpu {
    /// Initialises NVML (once per process) and lists the devices. Devices NVML cannot open
    /// (lost, or hidden from this container) are left out, and a fact it will not give stays
    /// empty (0 bytes of memory: unknown, shown as such); each is a note in the run's
    /// `gpu_status` and a warning.
    pub fn open() -> Result<NvmlGpu, GpuError> {
        let nvml = nvml()?;
        let count = nvml.device_count().map_err(|e| GpuError::from(&e))?;
        let mut devices = Vec::new();
        let mut notes = Vec::new();
        for index in 0..count {
            let d = match nvml.device_by_index(index) {
                Ok(d) => d,
                Err(e) => {
                    notes.push(format!(
                        "GPU {index} not sampled: NVML cannot open it ({e})"
                    ));
                    continue;
                }
            };
            let info = GpuDevice {
                index,
                name: fact(index, "name", d.name(), &mut notes),
                uuid: fact(index, "UUID", d.uuid(), &mut notes),
                memory_total_bytes: fact(
                    index,
                    "memory size",
                    d.memory_info().map(|m| m.total),
                    &mut notes,
                ),
            };
            devices.push((info, d));
        }
        if devices.is_empty() {
            return Err(if notes.is_empty() {
                GpuError::NoGpu
            } else {
                GpuError::Nvml(notes.join("; "))
            });
        }
        Ok(NvmlGpu {
            devices,
            // None: shown as "driver unknown" (a label, not a measured figure).
            driver: nvml.sys_driver_version().ok(),
            pids: Vec::new(),
            notes,
        })
    }
}

impl GpuSource for NvmlGpu {
    fn devices(&self) -> Vec<GpuDevice> {
        self.devices.iter().map(|(g, _)| g.clone()).collect()
    }

    fn driver_version(&self) -> Option<String> {
        self.driver.clone()
    }

    fn sample(&mut self, pids: &[u32]) -> Vec<GpuSample> {
        self.pids.clear();
        self.pids.extend_from_slice(pids);
        self.pids.sort_unstable();
        let tree = &self.pids;
        // A figure NVML does not give (NotSupported on many boards, or a device lost mid-run)
        // is None: stored as a missing value (null), never as 0.
        self.devices
            .iter()
            .map(|(info, d)| GpuSample {
                index: info.index,
                util_pct: d.utilization_rates().ok().map(|u| u.gpu),
                mem_used_bytes: d.memory_info().ok().map(|m| m.used),
                power_mw: d.power_usage().ok(),
                temp_c: d.temperature(TemperatureSensor::Gpu).ok(),
                sm_clock_mhz: d.clock_info(Clock::SM).ok(),
                tree_mem_bytes: tree_mem(d, tree),
            })
            .collect()
    }
}

/// GPU memory of the processes in `tree` (sorted), over the compute and graphics lists (a pid
/// in both counts once, with its larger figure). None when neither list can be read (the `_v3`
/// queries need driver 510 or later; the `_v2` ones sit behind nvml-wrapper's
/// `legacy-functions` feature, not enabled); one list alone is enough (a compute-only board
/// does not support the graphics list).
fn tree_mem(d: &Device<'static>, tree: &[u32]) -> Option<u64> {
    let compute = d.running_compute_processes();
    let graphics = d.running_graphics_processes();
    if compute.is_err() && graphics.is_err() {
        return None;
    }
    let lists = [compute.unwrap_or_default(), graphics.unwrap_or_default()];
    sum_tree_mem(lists.iter().flatten(), tree)
}

/// The sum over the tree's pids; None when the driver lists a tree process without its memory
/// (`Unavailable`, as under WSL2 and Windows drivers): the figure is then unknown, not 0.
fn sum_tree_mem<'a>(procs: impl Iterator<Item = &'a ProcessInfo>, tree: &[u32]) -> Option<u64> {
    let mut per_pid: Vec<(u32, Option<u64>)> = Vec::new();
    for p in procs {
        if tree.binary_search(&p.pid).is_err() {
            continue;
        }
        let used = match p.used_gpu_memory {
            UsedGpuMemory::Used(b) => Some(b),
            UsedGpuMemory::Unavailable => None,
        };
        match per_pid.iter_mut().find(|(pid, _)| *pid == p.pid) {
            Some(e) => e.1 = e.1.max(used),
            None => per_pid.push((p.pid, used)),
        }
    }
    per_pid.iter().map(|(_, b)| *b).sum()
}

/// A recording: devices, driver and one list of device samples per tick.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    pub driver_version: Option<String>,
    pub devices: Vec<GpuDevice>,
    pub samples: Vec<Vec<GpuSample>>,
}

/// Replays recorded samples in order; after the last one, the last is repeated.
#[derive(Debug, Clone)]
pub struct RecordedGpu {
    rec: Recording,
    next: usize,
}

impl RecordedGpu {
    pub fn new(rec: Recording) -> RecordedGpu {
        RecordedGpu { rec, next: 0 }
    }

    /// Loads a recording from a JSON file.
    pub fn load(path: &Path) -> Result<RecordedGpu, GpuError> {
        let err = |msg: String| GpuError::Recording {
            path: path.display().to_string(),
            msg,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let rec = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
        Ok(RecordedGpu::new(rec))
    }
}

impl GpuSource for RecordedGpu {
    fn devices(&self) -> Vec<GpuDevice> {
        self.rec.devices.clone()
    }

    fn driver_version(&self) -> Option<String> {
        self.rec.driver_version.clone()
    }

    fn sample(&mut self, _pids: &[u32]) -> Vec<GpuSample> {
        let Some(last) = self.rec.samples.len().checked_sub(1) else {
            return Vec::new();
        };
        let i = self.next.min(last);
        self.next += 1;
        self.rec.samples[i].clone()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fixture() -> RecordedGpu {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gpu/h100-recorded.json");
        RecordedGpu::load(&p).unwrap()
    }

    #[test]
    fn recorded_gpu_replays_fixture() {
        let mut g = fixture();
        let devs = g.devices();
        assert_eq!(devs.len(), 1);
        assert!(devs[0].name.contains("H100"));
        assert!(devs[0].memory_total_bytes > 80_000_000_000);
        assert!(g.driver_version().is_some());
        let mut all = Vec::new();
        for _ in 0..12 {
            all.push(g.sample(&[1, 2]));
        }
        assert_eq!(all[10], all[11], "the last sample repeats");
        assert!(all.iter().all(|s| s.len() == 1 && s[0].index == 0));
        // A NotSupported power figure is null in the recording and absent from the figures.
        let power = GpuSample::FIGURES
            .iter()
            .position(|f| *f == "power_mw")
            .unwrap();
        let util = GpuSample::FIGURES
            .iter()
            .position(|f| *f == "util_pct")
            .unwrap();
        let no_power = all.iter().find(|s| s[0].power_mw.is_none()).unwrap();
        let m = no_power[0].figures();
        assert!(m[power].is_none());
        assert!(m[util].is_some());
        let full = all[0][0].figures();
        assert!(full.iter().all(Option::is_some), "{full:?}");
        // Memory of the tree never exceeds the device's used memory.
        for s in &all {
            assert!(s[0].tree_mem_bytes <= s[0].mem_used_bytes);
        }
    }

    #[test]
    fn tree_memory_counts_tree_pids_once() {
        let p = |pid, b| ProcessInfo {
            pid,
            used_gpu_memory: UsedGpuMemory::Used(b),
            gpu_instance_id: None,
            compute_instance_id: None,
        };
        let procs = [p(10, 100), p(11, 50), p(99, 1000), p(10, 80)];
        assert_eq!(sum_tree_mem(procs.iter(), &[10, 11, 12]), Some(150));
        assert_eq!(sum_tree_mem(procs.iter(), &[]), Some(0));
    }

    /// A tree process listed without its memory (WSL2, Windows drivers) makes the figure
    /// unknown: it was summed as 0, so the tree's GPU memory read 0 bytes on such drivers.
    #[test]
    fn tree_memory_of_an_unavailable_figure_is_unknown_not_zero() {
        let p = |pid, used_gpu_memory| ProcessInfo {
            pid,
            used_gpu_memory,
            gpu_instance_id: None,
            compute_instance_id: None,
        };
        let unknown = [
            p(10, UsedGpuMemory::Unavailable),
            p(11, UsedGpuMemory::Used(50)),
        ];
        assert_eq!(sum_tree_mem(unknown.iter(), &[10, 11]), None);
        // Outside the tree it does not matter; a figure in the other list is enough.
        assert_eq!(sum_tree_mem(unknown.iter(), &[11]), Some(50));
        let both = [
            p(10, UsedGpuMemory::Unavailable),
            p(10, UsedGpuMemory::Used(70)),
        ];
        assert_eq!(sum_tree_mem(both.iter(), &[10]), Some(70));
    }

    /// Facts NVML would not give are notes in the run's `gpu_status`, not silent blanks.
    #[test]
    fn device_facts_nvml_refuses_are_noted_in_the_status() {
        let mut notes = Vec::new();
        let total: u64 = fact(1, "memory size", Err(NvmlError::NotSupported), &mut notes);
        assert_eq!(total, 0);
        let name: String = fact(1, "name", Ok("H200".to_string()), &mut notes);
        assert_eq!(name, "H200");
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].starts_with("GPU 1: memory size unknown ("),
            "{notes:?}"
        );
        let s = status_line(2, Some("550.1"), &notes);
        assert!(s.starts_with("2 NVIDIA GPU(s), driver 550.1; GPU 1: memory size unknown"));
        assert_eq!(status_line(1, None, &[]), "1 NVIDIA GPU(s), driver unknown");
    }

    #[test]
    fn missing_recording_is_an_error() {
        let e = RecordedGpu::load(Path::new("/nonexistent/gpu.json")).unwrap_err();
        assert!(matches!(e, GpuError::Recording { .. }));
    }

    #[test]
    fn open_gpu_without_driver_is_quick_and_quiet() {
        let t = std::time::Instant::now();
        let (src, status, _notes) = open_gpu();
        let dt = t.elapsed();
        if src.is_none() {
            assert!(!status.is_empty());
            assert!(dt.as_millis() < 500, "open_gpu took {dt:?}");
            // Cached: a second call answers at once with the same reason.
            let t = std::time::Instant::now();
            assert_eq!(open_gpu().1, status);
            assert!(t.elapsed().as_millis() < 5);
        } else {
            assert!(status.contains("NVIDIA GPU(s)"));
        }
    }
}
