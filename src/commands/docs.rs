//! `perfmon completions SHELL` and `perfmon man`: the shell completion script and the man pages,
//! both generated from the clap definitions (so they cannot drift from the options).

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};

pub fn completions(a: &CompletionsArgs) -> Result<i32> {
    let mut out = Vec::new();
    clap_complete::generate(a.shell, &mut Cli::command(), "perfmon", &mut out);
    super::write_stdout(&String::from_utf8_lossy(&out))?;
    Ok(0)
}

pub fn man(a: &ManArgs) -> Result<i32> {
    match &a.dir {
        None => {
            let page = crate::cli::man::main_page().context("rendering the man page")?;
            super::write_stdout(&String::from_utf8_lossy(&page))?;
        }
        Some(dir) => {
            let written = crate::cli::man::write_pages(dir)
                .with_context(|| format!("writing the man pages into {}", dir.display()))?;
            eprintln!(
                "perfmon: wrote {} man pages into {}",
                written.len(),
                dir.display()
            );
        }
    }
    Ok(0)
}
