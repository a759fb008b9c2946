//! The live status line of `perfmon run` in a terminal: elapsed time, the tree's CPU and RSS,
//! the GPU, and the main series' latest iteration and value (or the open timer), on one row of
//! stderr, refreshed at most 4 times a second and erased at the end.
//!
//! The command's output shares the terminal, so the line must never split or cover it. All the
//! forwarded output is written through [`StatusLine`] (it is the runner's [`OutputGuard`]), which
//! erases the line before any of it and follows what the output did to the screen ([`Screen`]).
//! The line is drawn only on a fresh row: after the command's last newline, never after a partial
//! line (a prompt, or a `\r` progress bar as tqdm draws), never while the command uses the
//! alternate screen or moved the cursor in the last 2 s (full-screen and multi-line displays),
//! only while perfmon is the terminal's foreground job, and only while the terminal is in the
//! line mode a shell leaves it in (a command reading keys or a password changes that).
//!
//! Written by hand rather than with indicatif: a progress bar library draws where the cursor is
//! after a suspend, and cannot know that the command left a partial line or took the screen.

use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::parse::Snapshot;
use crate::report::units::{fmt_bytes, fmt_secs};
use crate::runner::forward::{std_fd, write_all_fd};
use crate::runner::terminal;
use crate::runner::OutputGuard;

/// Fastest refresh of the figures.
const REFRESH: Duration = Duration::from_millis(250);
/// After the command moved the cursor, the line keeps off the screen this long.
const CURSOR_QUIET: Duration = Duration::from_secs(2);
/// A command that ends sooner is never shown a status line (no flash for short commands).
const SHOW_AFTER_S: f64 = 0.5;
/// Erase from the start of the row the cursor is on: the status row, where the cursor waits
/// (see `redraw`). From the start of the status row to the end of the screen: also the rows a terminal that
/// rewraps lines on a resize (tmux, VTE, kitty) has wrapped the status row onto, below it.
const ERASE: &[u8] = b"\r\x1b[J";

/// The figures the line shows.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub elapsed_s: f64,
    pub cpu_pct: f64,
    pub rss_bytes: u64,
    pub gpu_util_pct: Option<f64>,
}

/// The status text (without the terminal's width taken into account).
pub fn status_text(f: &Figures, snap: &Snapshot) -> String {
    let mut s = format!(
        "perfmon: {}  CPU {:.0}%  RSS {}",
        fmt_secs(f.elapsed_s),
        f.cpu_pct,
        fmt_bytes(f.rss_bytes)
    );
    if let Some(g) = f.gpu_util_pct {
        s.push_str(&format!("  GPU {g:.0}%"));
    }
    if let Some((name, iter, v)) = &snap.latest {
        s.push_str(&format!("  {name} #{iter} = {}", fmt_value(*v)));
    }
    if let Some((name, start)) = &snap.open_timer {
        let open = fmt_secs((f.elapsed_s - start).max(0.0));
        s.push_str(&format!("  [{name} {open}]"));
    }
    s
}

/// A value with up to 6 significant digits, no trailing zeros.
fn fmt_value(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e7).contains(&a) {
        return format!("{v:.4e}");
    }
    let digits = if a >= 1.0 {
        5usize.saturating_sub(a.log10().floor() as usize)
    } else {
        6
    };
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Cuts `text` to at most `cols` display columns.
fn fit(text: &str, cols: usize) -> &str {
    let mut width = 0;
    for (i, c) in text.char_indices() {
        width += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if width > cols {
            return &text[..i];
        }
    }
    text
}

/// What the command's output did to the terminal, as far as the status line cares.
#[derive(Debug, Clone)]
pub struct Screen {
    /// The cursor is at the start of a fresh row (the last byte written was a newline).
    pub at_line_start: bool,
    /// The command switched to the alternate screen (a full-screen program).
    pub alt_screen: bool,
    /// When the command last moved the cursor by an escape sequence.
    pub cursor_moved: Option<Instant>,
    /// An escape sequence cut by the end of the last write.
    pending: Vec<u8>,
}

impl Default for Screen {
    fn default() -> Screen {
        Screen {
            at_line_start: true,
            alt_screen: false,
            cursor_moved: None,
            pending: Vec::new(),
        }
    }
}

impl Screen {
    /// Follows `data` written to the terminal at `now`.
    pub fn wrote(&mut self, data: &[u8], now: Instant) {
        let Some(&last) = data.last() else {
            return;
        };
        self.at_line_start = last == b'\n';
        if self.pending.is_empty() && memchr::memchr(0x1b, data).is_none() {
            return;
        }
        let mut buf = std::mem::take(&mut self.pending);
        buf.extend_from_slice(data);
        let mut i = 0;
        while let Some(k) = memchr::memchr(0x1b, &buf[i..]) {
            let at = i + k;
            match escape_at(&buf[at..]) {
                Escape::Incomplete => {
                    if buf.len() - at <= 32 {
                        self.pending = buf[at..].to_vec();
                    }
                    return;
                }
                Escape::Other(n) => i = at + n,
                Escape::Cursor(n) => {
                    self.cursor_moved = Some(now);
                    i = at + n;
                }
                Escape::AltScreen(on, n) => {
                    self.alt_screen = on;
                    i = at + n;
                }
            }
        }
    }

    /// True when a status line may go on the cursor's row now.
    pub fn row_free(&self, now: Instant) -> bool {
        self.at_line_start
            && !self.alt_screen
            && self
                .cursor_moved
                .is_none_or(|t| now.duration_since(t) >= CURSOR_QUIET)
    }
}

enum Escape {
    Incomplete,
    /// Length of a sequence that does not matter here (colours, erasing, titles).
    Other(usize),
    /// A cursor movement or position save/restore, and its length.
    Cursor(usize),
    /// The alternate screen on or off, and the length.
    AltScreen(bool, usize),
}

/// Classifies the escape sequence at the start of `s` (`s[0]` is ESC).
fn escape_at(s: &[u8]) -> Escape {
    match s.get(1) {
        None => Escape::Incomplete,
        Some(b'[') => csi(s),
        // save/restore cursor, reverse index, index, next line
        Some(b'7' | b'8' | b'M' | b'D' | b'E') => Escape::Cursor(2),
        Some(_) => Escape::Other(2),
    }
}

fn csi(s: &[u8]) -> Escape {
    let Some(end) = s[2..].iter().position(|c| (0x40..=0x7e).contains(c)) else {
        return Escape::Incomplete;
    };
    let params = &s[2..2 + end];
    let fin = s[2 + end];
    let len = end + 3;
    match fin {
        b'h' | b'l' if matches!(params, b"?1049" | b"?1047" | b"?47") => {
            Escape::AltScreen(fin == b'h', len)
        }
        b'A' | b'B' | b'C' | b'D' | b'E' | b'F' | b'G' | b'H' | b'f' | b'd' | b's' | b'u' => {
            Escape::Cursor(len)
        }
        _ => Escape::Other(len),
    }
}

struct State {
    screen: Screen,
    /// The status text is on the screen now.
    shown: bool,
    /// Between Ctrl-Z and the continue, and after the end: draw nothing.
    stopped: bool,
    finished: bool,
    text: String,
    last_refresh: Option<Instant>,
    /// The terminal's width, read at the start and on every SIGWINCH ([`OutputGuard::resized`]),
    /// not per chunk of output. Foreground and line mode are still read at each redraw: they
    /// change without a signal to perfmon.
    cols: usize,
}

/// The status line on perfmon's stderr (fd 2), a terminal.
pub struct StatusLine {
    /// stdout is the same terminal: its output moves the same cursor.
    stdout_shares_rows: bool,
    state: Mutex<State>,
}

impl StatusLine {
    /// A status line, or None when stderr is not a terminal.
    pub fn for_stderr() -> Option<StatusLine> {
        if !terminal::is_tty(2) {
            return None;
        }
        Some(StatusLine {
            stdout_shares_rows: terminal::same_terminal(1, 2),
            state: Mutex::new(State {
                screen: Screen::default(),
                shown: false,
                stopped: false,
                finished: false,
                text: String::new(),
                last_refresh: None,
                cols: width(),
            }),
        })
    }

    /// New figures; drawn at most every 250 ms.
    pub fn update(&self, figures: &Figures, snap: &Snapshot) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        let now = Instant::now();
        if figures.elapsed_s < SHOW_AFTER_S
            || st
                .last_refresh
                .is_some_and(|t| now.duration_since(t) < REFRESH)
        {
            return;
        }
        st.last_refresh = Some(now);
        st.text = status_text(figures, snap);
        self.redraw(&mut st, now);
    }

    /// A message of perfmon's during the run (a budget warning): on a row of its own.
    pub fn message(&self, line: &str) {
        let Ok(mut st) = self.state.lock() else {
            eprintln!("{line}");
            return;
        };
        self.erase(&mut st);
        let mut out = Vec::with_capacity(line.len() + 2);
        if !st.screen.at_line_start {
            out.push(b'\n');
        }
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
        if write_all_fd(std_fd(2), &out).is_ok() {
            st.screen.at_line_start = true;
        }
        self.redraw(&mut st, Instant::now());
    }

    /// Erases the line for good (the command has ended).
    pub fn finish(&self) {
        if let Ok(mut st) = self.state.lock() {
            self.erase(&mut st);
            st.finished = true;
        }
    }

    fn erase(&self, st: &mut State) {
        if st.shown {
            // Nothing to keep if the terminal went away: the line goes with it.
            let _gone = write_all_fd(std_fd(2), ERASE);
            st.shown = false;
        }
    }

    fn redraw(&self, st: &mut State, now: Instant) {
        let drawable = !st.finished
            && !st.stopped
            && !st.text.is_empty()
            && st.screen.row_free(now)
            && terminal::fd_in_foreground(2)
            && terminal::line_mode(2);
        if !drawable {
            self.erase(st);
            return;
        }
        let text = fit(&st.text, st.cols.saturating_sub(1));
        let mut out = Vec::with_capacity(text.len() + 8);
        out.extend_from_slice(if st.shown { ERASE } else { b"" });
        out.extend_from_slice(text.as_bytes());
        // The cursor waits at the start of the row, not after the text: when the window narrows
        // and the terminal rewraps the row, the cursor stays at its first part, so ERASE clears
        // every part (after the text, a rewrap would leave it on the last one, with the first
        // parts left on the screen for good).
        out.push(b'\r');
        st.shown = write_all_fd(std_fd(2), &out).is_ok();
    }
}

/// The width of the terminal on stderr (80 when it cannot be read).
fn width() -> usize {
    terminal::window_size(2).map_or(80, |(_, c)| c as usize)
}

impl OutputGuard for StatusLine {
    fn write(&self, fd: i32, data: &[u8]) -> io::Result<()> {
        // Output to another place (stdout redirected) never waits for the status line's lock.
        let ours = fd == 2 || self.stdout_shares_rows;
        if !ours {
            return write_all_fd(std_fd(fd), data);
        }
        let Ok(mut st) = self.state.lock() else {
            return write_all_fd(std_fd(fd), data);
        };
        self.erase(&mut st);
        let r = write_all_fd(std_fd(fd), data);
        let now = Instant::now();
        st.screen.wrote(data, now);
        if r.is_ok() {
            self.redraw(&mut st, now);
        }
        r
    }

    fn resized(&self) {
        // A wider line may be cut or wrapped by the new width: draw it again.
        if let Ok(mut st) = self.state.lock() {
            st.cols = width();
            self.erase(&mut st);
            self.redraw(&mut st, Instant::now());
        }
    }

    fn suspending(&self) {
        if let Ok(mut st) = self.state.lock() {
            self.erase(&mut st);
            st.stopped = true;
        }
    }

    fn resumed(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.stopped = false;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_row_is_free_only_after_a_newline() {
        let now = Instant::now();
        let mut s = Screen::default();
        assert!(s.row_free(now));
        s.wrote(b"line\n", now);
        assert!(s.row_free(now));
        s.wrote(b"\r 37%|###   | 37/100", now);
        assert!(!s.row_free(now), "a tqdm bar holds the row");
        s.wrote(b"\r100%|######| 100/100\n", now);
        assert!(s.row_free(now));
        s.wrote(b"Name: ", now);
        assert!(!s.row_free(now), "a prompt holds the row");
        s.wrote(b"", now);
        assert!(!s.row_free(now), "an empty write changes nothing");
    }

    #[test]
    fn full_screen_and_cursor_movement_keep_the_line_off() {
        let now = Instant::now();
        let mut s = Screen::default();
        s.wrote(b"\x1b[?1049h\x1b[H\x1b[2Jtext\n", now);
        assert!(!s.row_free(now));
        // the sequence cut between two writes
        s.wrote(b"bye\x1b[?10", now);
        s.wrote(b"49l\n", now);
        assert!(!s.alt_screen);
        assert!(!s.row_free(now), "the cursor moved within the last 2 s");
        assert!(s.row_free(now + CURSOR_QUIET));
        let mut c = Screen::default();
        c.wrote(b"\x1b[31mred\x1b[0m\n", now);
        assert!(c.row_free(now), "colours move no cursor");
        c.wrote(b"\x1b[1A\x1b[2Kredrawn\n", now);
        assert!(!c.row_free(now));
    }

    #[test]
    fn text_shows_the_figures_and_progress() {
        let f = Figures {
            elapsed_s: 12.34,
            cpu_pct: 98.4,
            rss_bytes: 45 << 20,
            gpu_util_pct: None,
        };
        let snap = Snapshot {
            latest: Some(("fitness".into(), 17, 0.812345678)),
            open_timer: Some(("Evaluation".into(), 10.0)),
            lines_seen: 3,
        };
        let t = status_text(&f, &snap);
        assert!(t.starts_with("perfmon: 12.3"), "{t}");
        assert!(t.contains("CPU 98%") && t.contains("RSS 45"), "{t}");
        assert!(t.contains("fitness #17 = 0.812346"), "{t}");
        assert!(t.contains("[Evaluation 2.3"), "{t}");
        assert_eq!(fit("perfmon: 日日 x", 12), "perfmon: 日");
        assert_eq!(fmt_value(1234.5678), "1234.57");
        assert_eq!(fmt_value(2.0), "2");
        assert_eq!(fmt_value(1.5e-7), "1.5000e-7");
    }
}
