//! analyze

pub mod budget;
pub mod changepoint;
pub mod spec;
pub mod stats;
