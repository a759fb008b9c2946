//! Recording a run: the owners of what is read and sampled while the command runs. Knows nothing
//! of the CLI; hands finished parts back by value.

pub mod lines;
pub mod parse_thread;

pub use parse_thread::{ParseFeed, ParseThread, ParserLost};
