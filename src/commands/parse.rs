//! `perfmon parse FILE`: replays a captured output file through the same parser `perfmon run`
//! uses and shows which lines were taken as what, so a user can check and fix recognition.

use std::fs::File;
use std::io::{BufReader, Read};

use anyhow::{Context, Result};

use crate::cli::ParseArgs;
use crate::parse::{explain_text, parse_reader, ParseConfig, Stream};

pub fn parse(a: &ParseArgs) -> Result<i32> {
    let cfg = ParseConfig {
        auto: !a.no_auto_progress,
        regexes: a.progress.clone(),
        explain: !a.summary,
    };
    let input: Box<dyn Read> = if a.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(File::open(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?)
    };
    let result = parse_reader(BufReader::new(input), Stream::Stdout, &cfg)?;
    super::write_stdout(&explain_text(&result))?;
    Ok(0)
}
