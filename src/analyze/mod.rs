//! analyze

pub mod changepoint;
pub mod spec;
pub mod stats;
