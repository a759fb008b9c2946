//! Facts about the host and the git work tree, recorded with each run.
//!
//! INTERFACE (filled in by the collect work): [`host_info`], [`git_info`].

use std::path::Path;

use crate::model::{GitInfo, HostInfo};

/// Hostname, OS, kernel, CPU model, cores and memory. GPU fields are left to the caller.
pub fn host_info() -> HostInfo {
    HostInfo::default()
}

/// The commit, branch and dirty flag of the work tree containing `dir`, if any.
pub fn git_info(_dir: &Path) -> Option<GitInfo> {
    None
}
