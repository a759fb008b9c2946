//! Reads the command's output lines: the `@perfmon` line protocol (timers, progress, marks) and
//! recognizers of the progress that libraries print without it. Knows nothing of processes,
//! storage or the CLI: lines in, timers/series/marks out.
//!
//! INTERFACE (the runner relies on exactly these signatures):
//! - [`ParseConfig`], [`Stream`], [`Parser::new`], [`Parser::feed_line`], [`Parser::feed_states`],
//!   [`Parser::latest_progress`],
//!   [`Parser::finish`], [`is_protocol_line`], [`MAX_LINE`], [`parse_reader`], [`explain_text`].
//!
//! Layout: [`protocol`] (the `@perfmon` grammar, documented there), [`recognize`] (automatic
//! recognizers), [`series`] (per-name confirmation, main-series choice), [`names`] (the
//! vocabularies of objective-like names), [`lex`] (numbers, pairs, iteration words),
//! [`counters`] (`#N` and progress-bar counts), [`term`] (a line as a terminal shows it),
//! [`explain`] (the per-line account).
//!
//! Per line, in order: a trailing `\r` is dropped; the text after the last inner `\r` (what a
//! terminal shows last) is read as a `@perfmon ` line (protocol, nowhere else) or by each
//! `--progress` regex (the first that matches takes the line); then, when `auto` is on, the
//! recognizers read each state the terminal showed ([`term`]: every `\r`-separated state,
//! ANSI control sequences removed). Lines are bytes: invalid UTF-8 never matches a name and is
//! replaced in names/texts that are kept.

mod block;
pub mod counters;
pub mod explain;
pub mod lex;
pub mod names;
pub mod protocol;
pub mod recognize;
pub mod series;
pub mod term;

use crate::model::{Mark, ParseDiagnostics, Series, TimerSpan};

pub use explain::explain_text;

/// Longest line prefix the parser looks at; the rest of a longer line is forwarded but not parsed.
pub const MAX_LINE: usize = 64 * 1024;

/// Seconds between lines in [`parse_reader`]: line `k` (0-based) arrives at `k * REPLAY_STEP_S`.
pub const REPLAY_STEP_S: f64 = 0.001;

pub use crate::model::Stream;

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
    /// For example `protocol timer start`, `auto:table row`, `regex:0`, `ignored`.
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
    /// Lines not kept in `explain` because of its bounds ([`explain::MAX_TAKEN`],
    /// [`explain::MAX_IGNORED`]).
    pub explain_omitted: u64,
}

/// What the parser has read so far, for a live display (the status line).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The likeliest main series' latest point: (series, iteration, value).
    pub latest: Option<(String, i64, f64)>,
    /// The innermost open timer: (name, start in seconds since the run started).
    pub open_timer: Option<(String, f64)>,
    pub lines_seen: u64,
}

/// Error building a parser (a bad `--progress` regex).
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("cannot read the output: {0}")]
    Io(#[from] std::io::Error),
    #[error("bad --progress regex {pattern:?}: {reason}")]
    BadRegex { pattern: String, reason: String },
}

/// A compiled `--progress` regex.
struct UserRegex {
    re: regex::bytes::Regex,
    source: String,
    iter: Option<usize>,
    values: Vec<(usize, String)>,
}

fn compile(k: usize, pattern: &str) -> Result<UserRegex, ParseError> {
    let bad = |reason: String| ParseError::BadRegex {
        pattern: pattern.to_string(),
        reason,
    };
    let re = regex::bytes::Regex::new(pattern).map_err(|e| bad(e.to_string()))?;
    let mut iter = None;
    let mut values = Vec::new();
    for (i, name) in re.capture_names().enumerate() {
        match name {
            Some("iter") => iter = Some(i),
            Some(n) => values.push((i, n.to_string())),
            None => {}
        }
    }
    if values.is_empty() {
        return Err(bad(format!(
            "no named capture for a value; name one, e.g. `loss=(?P<loss>[-+0-9.eE]+)` (regex {k})"
        )));
    }
    Ok(UserRegex {
        re,
        source: format!("regex:{pattern}"),
        iter,
        values,
    })
}

/// Stateful line parser for one run.
pub struct Parser {
    auto: Option<recognize::Auto>,
    regexes: Vec<UserRegex>,
    protocol: protocol::Protocol,
    store: series::Store,
    diag: ParseDiagnostics,
    explain: Option<explain::Recorder>,
    line_no: u64,
    /// [`block::for_each_line`]'s masks (16 KiB at most).
    scratch: Vec<block::Masks>,
    /// A line without its control sequences ([`term::clean`]).
    term: Vec<u8>,
}

impl Parser {
    pub fn new(cfg: &ParseConfig) -> Result<Parser, ParseError> {
        let regexes = cfg
            .regexes
            .iter()
            .enumerate()
            .map(|(k, p)| compile(k, p))
            .collect::<Result<_, _>>()?;
        Ok(Parser {
            auto: cfg.auto.then(recognize::Auto::default),
            regexes,
            protocol: protocol::Protocol::default(),
            store: series::Store::default(),
            diag: ParseDiagnostics::default(),
            explain: cfg.explain.then(explain::Recorder::default),
            line_no: 0,
            scratch: Vec::new(),
            term: Vec::new(),
        })
    }

    /// Feeds one line (without its `\n`; a trailing `\r` may remain; at most [`MAX_LINE`] bytes,
    /// `truncated` when the line was longer) that arrived `t_s` seconds after the run started.
    pub fn feed_line(&mut self, stream: Stream, t_s: f64, line: &[u8], truncated: bool) {
        self.line_no += 1;
        self.diag.lines_seen += 1;
        if truncated {
            self.diag.truncated_lines += 1;
        }
        let mut s = &line[..line.len().min(MAX_LINE)];
        if let Some(b) = s.strip_suffix(b"\r") {
            s = b;
        }
        let full = s;
        // one scan for the bytes of a redrawn line (`\r`) or control sequences (ESC, BS); a
        // protocol line needs only its last `\r`
        let last_cr = |s: &[u8]| memchr::memrchr(b'\r', s);
        let (unusual, cr) = if s.starts_with(b"@perfmon ") {
            let cr = last_cr(s);
            (cr.is_some(), cr)
        } else if term::unusual(s) {
            (true, last_cr(s))
        } else {
            (false, None)
        };
        if let Some(p) = cr {
            s = &s[p + 1..];
        }
        let mut group = None;
        let mut header = None;
        let taken: &str = if let Some(body) = s.strip_prefix(b"@perfmon ") {
            self.protocol
                .feed(body, t_s, &mut self.store, &mut self.diag, s)
        } else if let Some(k) = self.user_regex(s, t_s) {
            k
        } else if let Some(o) = self.feed_auto(full, unusual, t_s) {
            group = o.group;
            header = o.header_line;
            o.taken
        } else {
            "ignored"
        };
        if taken == "ignored"
            && self.store.stated.is_none()
            && self.line_no <= names::STATED_WINDOW_LINES
        {
            self.store.stated = names::stated_direction(s);
        }
        if let Some(ex) = &mut self.explain {
            if let Some(h) = header {
                ex.mark_header(h, group);
            }
            ex.record(self.line_no, stream, taken, group, s);
        }
    }

    /// The recognizers on each state a terminal shows of `line` (see [`term`]): one call for an
    /// ordinary line; for a line redrawn with `\r` or holding control sequences, one per
    /// `\r`-separated state, sequences removed. Returns the last state's outcome that took
    /// something.
    #[inline]
    fn feed_auto(&mut self, line: &[u8], unusual: bool, t_s: f64) -> Option<recognize::Outcome> {
        let a = self.auto.as_mut()?;
        if !unusual {
            return a.feed(line, self.line_no, t_s, &mut self.store);
        }
        let controls = term::has_controls(line);
        let mut buf = std::mem::take(&mut self.term);
        let text = if controls {
            term::clean(line, &mut buf);
            &buf[..]
        } else {
            line
        };
        let mut last = None;
        term::states(text, |st| {
            // (a protocol line is the protocol's, also as an earlier state)
            if st.starts_with(b"@perfmon ") {
                return;
            }
            if let Some(o) = a.feed(st, self.line_no, t_s, &mut self.store) {
                last = Some(o);
            }
        });
        self.term = buf;
        last
    }

    /// Feeds the complete `\r`-terminated states of a line longer than [`MAX_LINE`], before
    /// the rest of the line comes to [`Parser::feed_line`] (a progress bar redrawn for long
    /// without a `\n`): the recognizers read each state; no line is counted, and the protocol
    /// and `--progress` regexes, which read a line's last state, wait for the rest.
    pub fn feed_states(&mut self, t_s: f64, states: &[u8]) {
        self.feed_auto(states, true, t_s);
    }

    /// Feeds the complete lines of `block`, each ending in `\n` (bytes after the last `\n` are
    /// not read), all arrived at `t_s`: the same as [`Parser::feed_line`] on each line (cut at
    /// [`MAX_LINE`]), but an ordinary line costs a few bit operations. The runner's forwarding
    /// threads hand each chunk's whole lines here.
    ///
    /// A 64-byte-window scan ([`block`]) finds the line ends and whether a line holds `\r`, `=`
    /// or `:`. A line without them that starts with a letter (and is no `Epoch 3/10` line) is
    /// *plain*: no recognizer takes it, and only the last of a run of plain lines is shown to the
    /// table recognizer (each plain line replaces what the one before left there). Every other
    /// line goes through [`Parser::feed_line`]. With `--progress` regexes or `--explain-progress`
    /// every line does.
    pub fn feed_lines(&mut self, stream: Stream, t_s: f64, block: &[u8]) {
        if !self.regexes.is_empty() || self.explain.is_some() {
            let mut rest = block;
            while let Some(i) = memchr::memchr(b'\n', rest) {
                let line = &rest[..i];
                self.feed_line(stream, t_s, line, line.len() > MAX_LINE);
                rest = &rest[i + 1..];
            }
            return;
        }
        // plain lines not yet counted, and the last of them (not yet shown to the table
        // recognizer)
        let mut plain_run = 0u64;
        let mut last_plain: &[u8] = &[];
        let auto = self.auto.is_some();
        let mut scratch = std::mem::take(&mut self.scratch);
        block::for_each_line(block, &mut scratch, |line, special| {
            let plain = line.len() <= MAX_LINE
                && if auto {
                    recognize::Auto::plain(line, special)
                } else {
                    // with auto off only `@perfmon ` lines (maybe after a `\r`) are read
                    !special && line.first() != Some(&b'@')
                };
            if plain {
                plain_run += 1;
                last_plain = line;
            } else {
                self.end_plain_run(plain_run, last_plain);
                plain_run = 0;
                self.feed_line_out_of_line(stream, t_s, line);
            }
        });
        self.end_plain_run(plain_run, last_plain);
        self.scratch = scratch;
    }

    /// Counts `n` plain lines of [`Parser::feed_lines`], the last of which was `last`.
    #[inline]
    fn end_plain_run(&mut self, n: u64, last: &[u8]) {
        if n == 0 {
            return;
        }
        self.line_no += n;
        self.diag.lines_seen += n;
        if let Some(a) = &mut self.auto {
            a.skip(last, self.line_no);
        }
    }

    /// [`Parser::feed_line`] kept out of the block scan's loop, so that the loop stays small.
    #[inline(never)]
    fn feed_line_out_of_line(&mut self, stream: Stream, t_s: f64, line: &[u8]) {
        self.feed_line(stream, t_s, line, line.len() > MAX_LINE);
    }

    /// Applies the `--progress` regexes; returns `regex:K` for the first that matched a value.
    fn user_regex(&mut self, s: &[u8], t_s: f64) -> Option<&'static str> {
        for (k, r) in self.regexes.iter().enumerate() {
            let Some(caps) = r.re.captures(s) else {
                continue;
            };
            let iter = r
                .iter
                .and_then(|i| caps.get(i))
                .and_then(|m| lex::parse_int(m.as_bytes().trim_ascii()));
            let mut any = false;
            for (vk, (i, name)) in r.values.iter().enumerate() {
                if let Some(v) = caps
                    .get(*i)
                    .and_then(|m| lex::parse_num(m.as_bytes().trim_ascii()))
                {
                    self.store.add_keyed(
                        64 + vk.min(63),
                        series::Class::Regex,
                        &r.source,
                        None,
                        name.as_bytes(),
                        iter,
                        t_s,
                        v,
                        None,
                    );
                    any = true;
                }
            }
            if any {
                return Some(explain::regex_label(k));
            }
        }
        None
    }

    /// The latest value of the main progress series so far, for the live status line.
    pub fn latest_progress(&self) -> Option<(String, f64)> {
        self.store.latest()
    }

    /// Refreshes `snap` with what has been read so far (allocates only when the main series or
    /// the open timer changed name).
    pub fn snapshot_into(&self, snap: &mut Snapshot) {
        snap.lines_seen = self.diag.lines_seen;
        match self.store.latest_point() {
            Some((name, p)) => match &mut snap.latest {
                Some((n, i, v)) if n == name => (*i, *v) = (p.iter, p.value),
                _ => snap.latest = Some((name.to_string(), p.iter, p.value)),
            },
            None => snap.latest = None,
        }
        match self.protocol.innermost_open() {
            Some((name, start)) => match &mut snap.open_timer {
                Some((n, s)) if n == name => *s = start,
                _ => snap.open_timer = Some((name.to_string(), start)),
            },
            None => snap.open_timer = None,
        }
    }

    /// Closes timers still open (flagged `closed_at_exit`), picks the main series, and returns all.
    pub fn finish(mut self, end_s: f64) -> ParseResult {
        self.protocol.finish(end_s);
        let (explain, explain_omitted) = match self.explain {
            Some(ex) => ex.finish(&self.store),
            None => (Vec::new(), 0),
        };
        ParseResult {
            timers: self.protocol.timers,
            series: self.store.finish(),
            marks: self.protocol.marks,
            diagnostics: self.diag,
            explain,
            explain_omitted,
        }
    }
}

/// True when the line is a `@perfmon` protocol line (hidden by `--strip`).
pub fn is_protocol_line(line: &[u8]) -> bool {
    line.starts_with(b"@perfmon ")
}

/// Parses a whole captured output (`perfmon parse FILE`): line `k` (0-based) is taken as arriving
/// at `k` × [`REPLAY_STEP_S`] seconds, and the run as ending one step after the last line. Lines
/// longer than [`MAX_LINE`] are cut there and counted as truncated.
pub fn parse_reader<R: std::io::BufRead>(
    mut input: R,
    stream: Stream,
    cfg: &ParseConfig,
) -> Result<ParseResult, ParseError> {
    let mut p = Parser::new(cfg)?;
    let mut buf = Vec::new();
    let mut k: u64 = 0;
    loop {
        buf.clear();
        let t_s = k as f64 * REPLAY_STEP_S;
        let n = read_line_bounded(&mut input, &mut buf, |st| p.feed_states(t_s, st))?;
        if n == 0 {
            break;
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        let truncated = buf.len() > MAX_LINE;
        p.feed_line(stream, t_s, &buf, truncated);
        k += 1;
    }
    Ok(p.finish(k as f64 * REPLAY_STEP_S))
}

/// Reads one line keeping at most `MAX_LINE + 1` bytes of it in `buf`; returns the bytes consumed.
/// When the line grows past [`MAX_LINE`], its complete `\r`-terminated states so far go to
/// `states` (see [`Parser::feed_states`]) and leave `buf`.
fn read_line_bounded<R: std::io::BufRead>(
    input: &mut R,
    buf: &mut Vec<u8>,
    mut states: impl FnMut(&[u8]),
) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(total);
        }
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let mut piece = &chunk[..take];
        if buf.len() <= MAX_LINE && buf.len() + take > MAX_LINE + 1 {
            // (a `\r` that ends the line is no state boundary: the last state stays the line's)
            let states_end = piece.len() - if done { 2.min(piece.len()) } else { 0 };
            if let Some(i) = memchr::memrchr(b'\r', &piece[..states_end]) {
                buf.extend_from_slice(&piece[..=i]);
                states(buf);
                buf.clear();
                piece = &piece[i + 1..];
            }
        }
        let room = (MAX_LINE + 1).saturating_sub(buf.len());
        buf.extend_from_slice(&piece[..piece.len().min(room)]);
        if done && piece.len() > room {
            buf.push(b'\n');
        }
        input.consume(take);
        total += take;
        if done {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests;
