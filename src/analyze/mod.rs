//! analyze

pub mod changepoint;
pub mod stats;
