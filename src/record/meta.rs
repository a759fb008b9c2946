//! The metadata a run starts with: its command (secrets redacted), working directory, start
//! time, tags, the recorded environment variables. Host and GPU facts and the git state are added
//! once the command has started, off the path between perfmon starting and the command starting.

use std::ffi::OsString;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::model::{HostInfo, RunMeta, RunStatus};

/// Environment variables recorded with every run (when set); `--env NAME` adds more.
pub const ENV_ALLOWLIST: &[&str] = &[
    "CUDA_VISIBLE_DEVICES",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "PYTHONHASHSEED",
    "CI",
    "GITHUB_SHA",
    "GITHUB_REF",
    "GITHUB_RUN_ID",
];

/// What the caller knows of the run before it starts.
pub struct MetaInput<'a> {
    pub argv: &'a [OsString],
    pub name: Option<&'a str>,
    pub tags: &'a [(String, String)],
    /// `--env` names recorded besides [`ENV_ALLOWLIST`].
    pub env: &'a [String],
    pub interval: Duration,
    pub group_id: Option<i64>,
}

/// The run's metadata as it starts (status `incomplete`, no host facts yet), and warnings for
/// what could not be known.
pub fn start_meta(input: &MetaInput<'_>) -> (RunMeta, Vec<String>) {
    let mut warnings = Vec::new();
    let cwd = match std::env::current_dir() {
        Ok(p) => p.display().to_string(),
        Err(e) => {
            warnings.push(format!("the working directory is unknown ({e})"));
            String::new()
        }
    };
    // A clock before 1970 is no real case: 0 then.
    let started_at_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let argv: Vec<String> = input
        .argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let tags = input
        .tags
        .iter()
        .map(|(k, v)| {
            let key = crate::redact::redact_text(k);
            (key, crate::redact::redact_named(k, v))
        })
        .collect();
    let meta = RunMeta {
        id: 0,
        uuid: uuid::Uuid::new_v4().to_string(),
        name: input.name.map(crate::redact::redact_text),
        tags,
        command: crate::redact::redact_args(&argv),
        cwd,
        started_at_ms,
        wall_s: None,
        exit_code: None,
        signal: None,
        status: RunStatus::Incomplete,
        host: HostInfo::default(),
        git: None,
        perfmon_version: env!("CARGO_PKG_VERSION").to_string(),
        interval_ms: input.interval.as_millis() as u64,
        env: recorded_env(input.env),
        group_id: input.group_id,
    };
    (meta, warnings)
}

fn recorded_env(extra: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in ENV_ALLOWLIST
        .iter()
        .copied()
        .chain(extra.iter().map(|s| s.as_str()))
    {
        if out.iter().any(|(n, _): &(String, String)| n == name) {
            continue;
        }
        if let Some(v) = std::env::var_os(name) {
            let v = crate::redact::redact_named(name, &v.to_string_lossy());
            out.push((name.to_string(), v));
        }
    }
    out
}
