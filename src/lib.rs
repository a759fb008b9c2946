//! perfmon: a transparent profiler for optimization workloads.
//!
//! Data flows one way: `runner` spawns the command and forwards its output, `collect` samples the
//! process tree, system and GPUs, `parse` reads timers and progress from the output, `record`
//! owns what is read and sampled while the command runs, `store`
//! writes the run to SQLite, `analyze` derives statistics, `report` renders them. `commands`
//! wires these together for each subcommand; `cli` holds the clap definitions.

pub mod analyze;
pub mod cli;
pub mod collect;
pub mod commands;
pub mod config;
/// The cargo-fuzz entry points: built for the fuzz crate (feature `fuzzing`) and for the tests
/// (their stable twins in `fuzz_smoke`), never into the release library.
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod model;
pub mod parse;
pub mod record;
pub mod redact;
pub mod report;
pub mod runner;
pub mod store;

#[cfg(test)]
mod fuzz_smoke;
