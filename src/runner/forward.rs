//! Forwarding the command's stdout and stderr to perfmon's own, byte for byte and without delay,
//! while complete lines are timestamped and handed to a line consumer (the parser).
//!
//! Each stream has its own thread. A chunk is written out as soon as it is read, then handed to
//! the line consumer, so recognition never delays output. Only `--strip` (hide protocol lines) makes the
//! thread hold a partial line until its newline arrives (or the stream goes quiet for 50 ms).

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::event::{poll, PollFd, PollFlags, Timespec};

use crate::model::Stream;

/// Decides which complete lines (without their end of line) are hidden from the caller: the
/// runner is handed this (`--strip` hides the `@perfmon` protocol lines) and knows no parser.
pub type LineFilter = fn(&[u8]) -> bool;

/// A partial line longer than this is released even with a filter: it is longer than any line a
/// filter is meant to hide.
const HOLD_MAX: usize = 64 * 1024;

const CHUNK: usize = 64 * 1024;
/// How long a stream may stay quiet after the command exited before perfmon stops reading it
/// (a daemon left behind may hold the pipe open forever).
const DRAIN_QUIET: Duration = Duration::from_millis(100);
/// Longest drain after the command exited, even if a leftover process keeps writing.
const DRAIN_MAX: Duration = Duration::from_secs(2);
/// With `--strip`, a partial line is released after this much quiet (a prompt with no newline).
const STRIP_HOLD: Duration = Duration::from_millis(50);

/// Receives the output as it is forwarded. Called from the forwarding threads once per chunk read.
pub trait LineSink: Send + Sync {
    /// A chunk of `stream`, read `t_s` seconds after the start, already forwarded.
    fn chunk(&self, stream: Stream, t_s: f64, chunk: &[u8]);
    /// `stream` has ended (EOF, or the drain after the command exited gave up on it).
    fn end(&self, stream: Stream, t_s: f64);
}

/// Writes the forwarded output where a live status line shares the terminal, so the line can
/// clear itself first and know where the cursor is; it also hears of job control and resizes.
pub trait OutputGuard: Send + Sync {
    /// Writes all of `data` to perfmon's `fd` (1 or 2).
    fn write(&self, fd: i32, data: &[u8]) -> io::Result<()>;
    /// The terminal window changed size.
    fn resized(&self) {}
    /// perfmon is about to stop (Ctrl-Z).
    fn suspending(&self) {}
    /// perfmon continues after a stop.
    fn resumed(&self) {}
}

/// Shared state of the forwarding threads.
pub struct ForwardCtl {
    /// Set by the main thread when the command has exited: drain, then stop.
    pub draining: AtomicBool,
    drain_started: std::sync::Mutex<Option<Instant>>,
    /// An eventfd made readable by [`ForwardCtl::start_drain`], so the forwarding threads can
    /// wait for output with no timeout instead of waking up to look at `draining`: each idle
    /// wake-up cost about 50 µs of CPU here. None if no eventfd could be made (then they wake
    /// every 200 ms).
    wake: Option<OwnedFd>,
}

impl ForwardCtl {
    pub fn new() -> Arc<ForwardCtl> {
        use rustix::event::{eventfd, EventfdFlags};
        let wake = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK).ok();
        Arc::new(ForwardCtl {
            draining: AtomicBool::new(false),
            drain_started: std::sync::Mutex::new(None),
            wake,
        })
    }

    pub fn start_drain(&self) {
        if let Ok(mut g) = self.drain_started.lock() {
            *g = Some(Instant::now());
        }
        self.draining.store(true, Ordering::SeqCst);
        if let Some(w) = &self.wake {
            // Cannot fail short of a closed fd: the threads then wake on their 200 ms tick.
            let _woken = rustix::io::write(w, &1u64.to_ne_bytes());
        }
    }

    fn drain_expired(&self) -> bool {
        match self.drain_started.lock() {
            Ok(g) => g.is_some_and(|t| t.elapsed() > DRAIN_MAX),
            Err(_) => true,
        }
    }
}

/// What one forwarding thread saw.
#[derive(Debug, Default, Clone)]
pub struct ForwardStats {
    pub stream: Option<Stream>,
    /// Why forwarding stopped before the end of the stream, if it did for an error: output after
    /// that point was neither shown nor read.
    pub error: Option<String>,
    pub bytes: u64,
    /// The reader of perfmon's output went away (EPIPE); the command's pipe was closed.
    pub broken_pipe: bool,
    /// Stopped by the drain limit while a leftover process still held the stream open.
    pub cut_off: bool,
}

pub struct ForwardConfig {
    pub stream: Stream,
    /// Where to write: 1 or 2.
    pub dst_fd: i32,
    /// Lines to hide from the caller (`--strip`), if any.
    pub hide: Option<LineFilter>,
    pub start: Instant,
}

/// Forwards `src` to `cfg.dst_fd` until EOF (or the drain ends), feeding lines to `sink`.
pub fn forward(
    src: File,
    cfg: ForwardConfig,
    sink: Arc<dyn LineSink>,
    guard: Option<Arc<dyn OutputGuard>>,
    ctl: Arc<ForwardCtl>,
) -> ForwardStats {
    let mut stats = ForwardStats {
        stream: Some(cfg.stream),
        ..ForwardStats::default()
    };
    // One page to start with: most commands print little, and zeroing (and faulting in) 64 KiB
    // per stream was a measurable part of `run -- true`. A read that fills it grows it.
    let mut buf = vec![0u8; 4096];
    let mut held: Vec<u8> = Vec::new(); // with `hide` only: a partial line not yet written
    let fd = src.as_fd();
    loop {
        let draining = ctl.draining.load(Ordering::SeqCst);
        // Until the drain starts, wait for output or for the drain's wake-up, with no timeout.
        // (The wake fd stays readable once written, so it is left out while draining.)
        let wake = ctl.wake.as_ref().map(|w| w.as_fd()).filter(|_| !draining);
        let timeout = if !held.is_empty() {
            Some(STRIP_HOLD)
        } else if draining {
            Some(DRAIN_QUIET)
        } else if wake.is_some() {
            None
        } else {
            Some(Duration::from_millis(200))
        };
        match poll_in(fd, wake, timeout) {
            Ok(true) => {}
            Ok(false) => {
                if !held.is_empty() {
                    if !write_out(cfg.dst_fd, &held, guard.as_deref()) {
                        stats.broken_pipe = true;
                        break;
                    }
                    held.clear();
                    continue;
                }
                if draining {
                    break;
                }
                continue;
            }
            Err(e) => {
                stats.error = Some(format!("waiting for output failed: {e}"));
                break;
            }
        }
        let n = match read_fd(fd, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            // EIO from a pseudo-terminal's master once every slave descriptor is closed: EOF.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(e) => {
                stats.error = Some(format!("reading the output failed: {e}"));
                break;
            }
        };
        let grow = n == buf.len() && buf.len() < CHUNK;
        let chunk = &buf[..n];
        stats.bytes += n as u64;
        let t_s = cfg.start.elapsed().as_secs_f64();
        if let Some(hide) = cfg.hide {
            if !write_filtered(cfg.dst_fd, chunk, hide, &mut held, guard.as_deref()) {
                stats.broken_pipe = true;
                break;
            }
        } else if !write_out(cfg.dst_fd, chunk, guard.as_deref()) {
            stats.broken_pipe = true;
            break;
        }
        sink.chunk(cfg.stream, t_s, chunk);
        if grow {
            buf.resize(CHUNK, 0);
        }
        // A leftover process that keeps writing cannot hold perfmon forever.
        if draining && ctl.drain_expired() {
            stats.cut_off = true;
            break;
        }
    }
    if !held.is_empty() && !stats.broken_pipe {
        write_out(cfg.dst_fd, &held, guard.as_deref());
    }
    sink.end(cfg.stream, cfg.start.elapsed().as_secs_f64());
    drop(src);
    stats
}

/// Writes the lines of `chunk` that `hide` keeps; a trailing partial line goes to `held`.
fn write_filtered(
    dst: i32,
    chunk: &[u8],
    hide: LineFilter,
    held: &mut Vec<u8>,
    guard: Option<&dyn OutputGuard>,
) -> bool {
    let mut rest = chunk;
    while let Some(i) = memchr::memchr(b'\n', rest) {
        let (line, tail) = rest.split_at(i + 1);
        rest = tail;
        if held.is_empty() {
            if !hide(trim_eol(line)) && !write_out(dst, line, guard) {
                return false;
            }
        } else {
            held.extend_from_slice(line);
            let keep = !hide(trim_eol(prefix(held)));
            if keep && !write_out(dst, held, guard) {
                return false;
            }
            held.clear();
        }
    }
    if !rest.is_empty() {
        held.extend_from_slice(rest);
        if held.len() > HOLD_MAX {
            // Too long to be a line the filter hides: release it.
            let ok = write_out(dst, held, guard);
            held.clear();
            return ok;
        }
    }
    true
}

fn prefix(line: &[u8]) -> &[u8] {
    &line[..line.len().min(HOLD_MAX)]
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Waits until `fd` is readable (or hung up): true. False when `timeout` passed or `wake`
/// became readable first. No timeout waits for ever.
fn poll_in(
    fd: BorrowedFd<'_>,
    wake: Option<BorrowedFd<'_>>,
    timeout: Option<Duration>,
) -> io::Result<bool> {
    let ts = timeout.map(|t| Timespec {
        tv_sec: t.as_secs() as i64,
        tv_nsec: i64::from(t.subsec_nanos()),
    });
    loop {
        // A fixed pair, not a Vec: this runs once per chunk forwarded.
        let mut fds = [
            PollFd::new(&fd, PollFlags::IN),
            PollFd::new(wake.as_ref().unwrap_or(&fd), PollFlags::IN),
        ];
        let n = if wake.is_some() { 2 } else { 1 };
        match poll(&mut fds[..n], ts.as_ref()) {
            Ok(_) => return Ok(!fds[0].revents().is_empty()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

fn read_fd(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    Ok(rustix::io::read(fd, buf)?)
}

/// Writes all of `data` to perfmon's `fd` (1 or 2); false when the reader went away (EPIPE) or
/// another error.
fn write_out(fd: i32, data: &[u8], guard: Option<&dyn OutputGuard>) -> bool {
    match guard {
        Some(g) => g.write(fd, data).is_ok(),
        None => write_all_fd(std_fd(fd), data).is_ok(),
    }
}

/// perfmon's own stdout (1) or stderr (anything else).
pub fn std_fd(fd: i32) -> BorrowedFd<'static> {
    match fd {
        1 => rustix::stdio::stdout(),
        _ => rustix::stdio::stderr(),
    }
}

/// Writes all of `data` to `fd`, waiting while a non-blocking descriptor is full.
pub fn write_all_fd(fd: BorrowedFd<'_>, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match rustix::io::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(rustix::io::Errno::AGAIN) => {
                let mut fds = [PollFd::new(&fd, PollFlags::OUT)];
                let second = Timespec {
                    tv_sec: 1,
                    tv_nsec: 0,
                };
                // Woken by room, or after a second to try again.
                let _ready = poll(&mut fds, Some(&second));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Lines the filter hides are not written, also when cut across chunks.
    #[test]
    fn a_filter_hides_its_lines_only() {
        let hide: LineFilter = |l| l.starts_with(b"@perfmon ");
        let (r, w) = rustix::pipe::pipe().unwrap();
        let guard: Arc<dyn OutputGuard> = Arc::new(OnePipe(w));
        let mut held = Vec::new();
        assert!(write_filtered(
            9,
            b"a\n@perfmon mark x\nb\n@perf",
            hide,
            &mut held,
            Some(&*guard)
        ));
        assert!(write_filtered(
            9,
            b"mon mark y\nc",
            hide,
            &mut held,
            Some(&*guard)
        ));
        assert_eq!(held, b"c");
        drop(guard);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut File::from(r), &mut out).unwrap();
        assert_eq!(out, "a\nb\n");
    }

    /// Writes everything to one pipe, whatever fd it is asked for.
    struct OnePipe(OwnedFd);

    impl OutputGuard for OnePipe {
        fn write(&self, _fd: i32, data: &[u8]) -> io::Result<()> {
            write_all_fd(self.0.as_fd(), data)
        }
    }
}
