#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests: drive the real perfmon binary on the fixture workloads in fixtures/ and
//! check every figure against an independent source (GNU time, known workload costs, checksums).

mod bad_input;
mod cli;
mod common;
mod compare;
mod hosts;
mod meta;
mod output;
mod parse_corpus;
mod postgres;
mod postgres_tls;
mod process;
mod python_callbacks;
mod recognition;
mod redaction;
mod reliability;
mod security;
mod series;
mod storage_faults;
mod store;
mod terminal;
mod tls_server;
mod tmux;
mod totals;
