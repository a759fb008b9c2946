//! analyze

pub mod budget;
pub mod changepoint;
pub mod compare;
pub mod spec;
pub mod stats;
pub mod target;
