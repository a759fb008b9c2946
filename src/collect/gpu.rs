//! NVIDIA GPU sampling behind a small trait, so the logic is tested with recorded values.
