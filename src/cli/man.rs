//! The man pages, generated from the clap definitions (clap_mangen) plus the tables of `help`:
//! perfmon.1 with FORMATS, ENVIRONMENT and EXIT STATUS sections, and perfmon-SUBCOMMAND.1.

use std::io;
use std::path::{Path, PathBuf};

use clap_mangen::roff::{bold, roman, Roff};
use clap_mangen::Man;

use super::help;

/// perfmon.1: clap_mangen's sections, then the formats, the environment and the exit codes (in
/// place of clap_mangen's EXTRA section, which would repeat them as plain lines).
pub fn main_page() -> io::Result<Vec<u8>> {
    let man = Man::new(command());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    man.render_subcommands_section(&mut out)?;
    let mut roff = Roff::new();
    section(&mut roff, "FORMATS", &help::format_rows());
    section(&mut roff, "ENVIRONMENT", &help::env_read_rows());
    roff.control("PP", []);
    roff.text([roman(help::recorded_text())]);
    roff.control("PP", []);
    let set: Vec<(String, String)> = help::env_set()
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    roff.text([roman("perfmon run sets for the command:")]);
    tagged(&mut roff, &set);
    let exits: Vec<(String, String)> = help::EXIT_CODES
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    section(&mut roff, "EXIT STATUS", &exits);
    roff.to_writer(&mut out)?;
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// Writes perfmon.1 and one page per subcommand into `dir`; returns the paths written.
pub fn write_pages(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut cmd = command();
    cmd.build();
    let mut written = Vec::new();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let man = Man::new(sub.clone()).source(format!("perfmon {}", env!("CARGO_PKG_VERSION")));
        written.push(man.generate_to(dir)?);
    }
    let main = dir.join("perfmon.1");
    std::fs::write(&main, main_page()?)?;
    written.insert(0, main);
    Ok(written)
}

/// The command the pages describe: without clap's `help` subcommand (`--help` is on every page).
fn command() -> clap::Command {
    super::command().disable_help_subcommand(true)
}

fn section(roff: &mut Roff, title: &str, rows: &[(String, String)]) {
    roff.control("SH", [title]);
    tagged(roff, rows);
}

/// Rows as tagged paragraphs: the name in bold, its text indented below.
fn tagged(roff: &mut Roff, rows: &[(String, String)]) {
    for (name, text) in rows {
        roff.control("TP", []);
        roff.text([bold(name.as_str())]);
        roff.text([roman(text.as_str())]);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_main_page_has_every_subcommand_and_the_extra_sections() {
        let page = String::from_utf8(main_page().unwrap()).unwrap();
        for sub in command().get_subcommands() {
            assert!(
                page.contains(&format!("perfmon\\-{}(1)", sub.get_name())),
                "{}",
                sub.get_name()
            );
        }
        for s in [
            ".SH FORMATS",
            ".SH ENVIRONMENT",
            ".SH \"EXIT STATUS\"",
            "PERFMON_DB",
        ] {
            assert!(page.contains(s), "{s} missing");
        }
    }
}
