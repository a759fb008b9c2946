//! `perfmon.toml`: project settings found in the current directory or its parents, so a CI job
//! and a laptop apply the same regression thresholds, budgets and targets. Command-line options
//! override the file. Unknown keys are an error (a typo must not silently disable a gate).
//!
//! ```toml
//! [compare]
//! fail_on = "wall>5%,peak_rss>10%,timer:Data Loading>10%,best>1%"
//! alpha = 0.05          # significance level of the test
//! min_effect = 1.0      # smallest change, in %, that can be a regression or an improvement
//!
//! [run]
//! budget = "wall<10m,peak_tree_rss<4GiB"
//!
//! [targets]             # per series: the value a run must reach to count as a success
//! best = 0.01
//! "valid-rmse" = 0.3
//!
//! [directions]          # per series: which way is better, where the output does not say
//! value = "max"
//! "val loss" = "min"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::analyze::parse_direction;
use crate::analyze::spec::{parse_budget, parse_fail_on, Budget, SpecError, Threshold};
use crate::model::Direction;

/// The file name looked for.
pub const FILE_NAME: &str = "perfmon.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub compare: CompareSection,
    #[serde(default)]
    pub run: RunSection,
    /// Target value per series name (`best` or `main` means the run's main series).
    #[serde(default)]
    pub targets: BTreeMap<String, f64>,
    /// Per series name: `max` or `min` (`perfmon run --direction` wins over it).
    #[serde(default)]
    pub directions: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareSection {
    pub fail_on: Option<String>,
    pub alpha: Option<f64>,
    pub min_effect: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    pub budget: Option<String>,
}

/// A problem with the configuration file; one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
}

/// A loaded configuration and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub config: Config,
    pub path: Option<PathBuf>,
}

impl Loaded {
    /// The `[compare] fail_on` thresholds, validated.
    pub fn fail_on(&self) -> Result<Option<Vec<Threshold>>, ConfigError> {
        self.spec(self.config.compare.fail_on.as_deref(), parse_fail_on)
    }

    /// The `[run] budget`, validated.
    pub fn budget(&self) -> Result<Option<Vec<Budget>>, ConfigError> {
        self.spec(self.config.run.budget.as_deref(), parse_budget)
    }

    /// The `[directions]` table, validated: (series name, direction).
    pub fn directions(&self) -> Result<Vec<(String, Direction)>, ConfigError> {
        let mut out = Vec::new();
        for (name, d) in &self.config.directions {
            let d = parse_direction(d).ok_or_else(|| ConfigError::Invalid {
                path: self.display_path(),
                reason: format!("directions.{name} must be \"max\" or \"min\", not {d:?}"),
            })?;
            out.push((name.clone(), d));
        }
        Ok(out)
    }

    fn spec<T>(
        &self,
        s: Option<&str>,
        parse: fn(&str) -> Result<Vec<T>, SpecError>,
    ) -> Result<Option<Vec<T>>, ConfigError> {
        match s {
            None => Ok(None),
            Some(s) => parse(s).map(Some).map_err(|e| ConfigError::Invalid {
                path: self.display_path(),
                reason: e.to_string(),
            }),
        }
    }

    fn display_path(&self) -> String {
        self.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| FILE_NAME.to_string())
    }
}

/// Finds `perfmon.toml` in `start` or the nearest parent and loads it; no file is no config.
pub fn load_from(start: &Path) -> Result<Loaded, ConfigError> {
    let Some(path) = start
        .ancestors()
        .map(|d| d.join(FILE_NAME))
        // Anything by that name counts (a directory too): one that cannot be read is an error,
        // not silently no configuration.
        .find(|p| p.symlink_metadata().is_ok())
    else {
        return Ok(Loaded::default());
    };
    let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read {
        path: path.display().to_string(),
        source: e,
    })?;
    let config = parse(&text).map_err(|reason| ConfigError::Invalid {
        path: path.display().to_string(),
        reason,
    })?;
    let loaded = Loaded {
        config,
        path: Some(path),
    };
    // Validate the specs now, so a typo fails every command, not only the one that uses it.
    loaded.fail_on()?;
    loaded.budget()?;
    loaded.directions()?;
    if let Some(a) = loaded.config.compare.alpha {
        if !(a > 0.0 && a < 1.0) {
            return Err(ConfigError::Invalid {
                path: loaded.display_path(),
                reason: format!("compare.alpha must be between 0 and 1, not {a}"),
            });
        }
    }
    Ok(loaded)
}

/// Loads the configuration for the current directory.
pub fn load() -> Result<Loaded, ConfigError> {
    match std::env::current_dir() {
        Ok(d) => load_from(&d),
        // The working directory was removed: there is no perfmon.toml above it to find.
        Err(_) => Ok(Loaded::default()),
    }
}

fn parse(text: &str) -> Result<Config, String> {
    toml::from_str(text).map_err(|e| {
        // toml's messages span several lines with a source excerpt: keep the first line.
        e.message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .to_string()
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_file_in_a_parent() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE_NAME),
            "[compare]\nfail_on = \"wall>5%\"\nalpha = 0.01\n[run]\nbudget = \"wall<10m\"\n[targets]\nbest = 0.5\n[directions]\nvalue = \"max\"\n\"val loss\" = \"minimize\"\n",
        )
        .unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let l = load_from(&sub).unwrap();
        assert_eq!(l.fail_on().unwrap().unwrap().len(), 1);
        assert_eq!(l.budget().unwrap().unwrap()[0].limit, 600.0);
        assert_eq!(l.config.targets.get("best"), Some(&0.5));
        assert_eq!(l.config.compare.alpha, Some(0.01));
        assert_eq!(
            l.directions().unwrap(),
            vec![
                ("val loss".to_string(), Direction::Minimize),
                ("value".to_string(), Direction::Maximize)
            ]
        );
    }

    #[test]
    fn no_file_is_no_config() {
        let dir = tempfile::tempdir().unwrap();
        let l = load_from(dir.path()).unwrap();
        assert!(l.path.is_none() && l.fail_on().unwrap().is_none());
    }

    #[test]
    fn errors_are_one_line_and_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            "[compare]\nfail_on = \"wall>>5\"\n",
            "[compare]\nfailon = \"wall>5%\"\n",
            "[compare\n",
            "[compare]\nalpha = 2.0\n",
            "[run]\nbudget = \"wall<5parsecs\"\n",
            "[directions]\nvalue = \"up\"\n",
            "[directions]\nvalue = 1\n",
        ] {
            std::fs::write(dir.path().join(FILE_NAME), bad).unwrap();
            let e = load_from(dir.path()).expect_err(bad).to_string();
            assert!(e.contains(FILE_NAME), "{e}");
            assert!(!e.contains('\n'), "{bad}: {e}");
        }
    }
}
