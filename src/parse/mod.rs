//! Reads the command's output lines: the `@perfmon` line protocol (timers, progress, marks) and
//! recognizers of the progress that libraries print without it. Knows nothing of processes,
//! storage or the CLI: lines in, timers/series/marks out.
//!
//! INTERFACE (filled in by the parse work; the runner relies on exactly these signatures):
//! - [`ParseConfig`], [`Stream`], [`Parser::new`], [`Parser::feed_line`], [`Parser::latest_progress`],
//!   [`Parser::finish`], [`is_protocol_line`], [`MAX_LINE`].

use crate::model::{Mark, ParseDiagnostics, Series, TimerSpan};

/// Longest line prefix the parser looks at; the rest of a longer line is forwarded but not parsed.
pub const MAX_LINE: usize = 64 * 1024;

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// What to recognize.
#[derive(Debug, Clone, Default)]
pub struct ParseConfig {
    /// Recognize library progress formats with no option given (`--no-auto-progress` clears it).
    pub auto: bool,
    /// User regexes (`--progress`), with named captures `iter` and value names.
    pub regexes: Vec<String>,
    /// Keep a per-line account of what each line was taken as (`--explain-progress`, `perfmon parse`).
    pub explain: bool,
}

/// What the parser made of one line, for `--explain-progress`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainLine {
    pub line_no: u64,
    pub stream: Stream,
    /// For example `protocol timer start`, `auto:table`, `regex:0`, `ignored`.
    pub taken_as: String,
    pub line: String,
}

/// Everything read from the output of one run.
#[derive(Debug, Clone, Default)]
pub struct ParseResult {
    pub timers: Vec<TimerSpan>,
    pub series: Vec<Series>,
    pub marks: Vec<Mark>,
    pub diagnostics: ParseDiagnostics,
    pub explain: Vec<ExplainLine>,
}

/// Error building a parser (a bad `--progress` regex).
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("cannot read the output: {0}")]
    Io(#[from] std::io::Error),
    #[error("bad --progress regex {pattern:?}: {reason}")]
    BadRegex { pattern: String, reason: String },
}

/// Stateful line parser for one run.
pub struct Parser {
    _cfg: ParseConfig,
}

impl Parser {
    pub fn new(cfg: &ParseConfig) -> Result<Parser, ParseError> {
        Ok(Parser { _cfg: cfg.clone() })
    }

    /// Feeds one line (without its `\n`; a trailing `\r` may remain; at most [`MAX_LINE`] bytes,
    /// `truncated` when the line was longer) that arrived `t_s` seconds after the run started.
    pub fn feed_line(&mut self, _stream: Stream, _t_s: f64, _line: &[u8], _truncated: bool) {}

    /// The latest value of the main progress series so far, for the live status line.
    pub fn latest_progress(&self) -> Option<(String, f64)> {
        None
    }

    /// Closes timers still open (flagged `closed_at_exit`), picks the main series, and returns all.
    pub fn finish(self, _end_s: f64) -> ParseResult {
        ParseResult::default()
    }
}

/// True when the line is a `@perfmon` protocol line (hidden by `--strip`).
pub fn is_protocol_line(line: &[u8]) -> bool {
    line.starts_with(b"@perfmon ")
}

/// Parses a whole captured output (`perfmon parse FILE`), every line as arriving at t=line number.
pub fn parse_reader<R: std::io::BufRead>(
    _input: R,
    _stream: Stream,
    cfg: &ParseConfig,
) -> Result<ParseResult, ParseError> {
    Ok(Parser::new(cfg)?.finish(0.0))
}

/// A human-readable account of what was taken from the output (`--explain-progress`).
pub fn explain_text(_result: &ParseResult) -> String {
    String::new()
}
