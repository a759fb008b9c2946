//! Recording a run: the owners of what is read and sampled while the command runs (the sampling
//! loop, the parse thread), the run's start metadata, its totals and status, and the final save.
//! Each part is handed back by value when the command ends. Knows nothing of the CLI.

pub mod lines;
pub mod meta;
pub mod parse_thread;
pub mod sampler;
pub mod save;
pub mod session;
pub mod totals;

pub use meta::{MetaInput, ENV_ALLOWLIST};
pub use parse_thread::{ParseFeed, ParseThread, ParserLost};
pub use session::{record, start_git_probe, Execution, RecordConfig, Recorded};
