//! Integration tests: drive the real perfmon binary on fixture workloads.
