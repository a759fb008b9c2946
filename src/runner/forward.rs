//! Forwarding the command's stdout and stderr to perfmon's own, byte for byte and without delay,
//! while complete lines are timestamped and handed to a line consumer (the parser).
//!
//! Each stream has its own thread. A chunk is written out as soon as it is read, before any line is
//! looked at, so recognition never delays output. Only `--strip` (hide protocol lines) makes the
//! thread hold a partial line until its newline arrives (or the stream goes quiet for 50 ms).
//! A line longer than [`MAX_LINE`] is forwarded whole but only its start is parsed, so any line
//! costs bounded memory.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::parse::{is_protocol_line, Stream, MAX_LINE};

const CHUNK: usize = 64 * 1024;
/// How long a stream may stay quiet after the command exited before perfmon stops reading it
/// (a daemon left behind may hold the pipe open forever).
const DRAIN_QUIET: Duration = Duration::from_millis(100);
/// Longest drain after the command exited, even if a leftover process keeps writing.
const DRAIN_MAX: Duration = Duration::from_secs(2);
/// With `--strip`, a partial line is released after this much quiet (a prompt with no newline).
const STRIP_HOLD: Duration = Duration::from_millis(50);

/// Receives complete lines. Called from the forwarding threads once per chunk read.
pub trait LineSink: Send + Sync {
    /// Feeds the complete lines of `chunk` (use `splitter.for_each_line`), all arrived at `t_s`.
    fn chunk(&self, stream: Stream, t_s: f64, chunk: &[u8], splitter: &mut LineSplitter);
    /// The last line of a stream, which had no newline.
    fn last_line(&self, stream: Stream, t_s: f64, line: &[u8], truncated: bool);
}

/// Wraps writes to the terminal so a live status line can clear itself first.
pub trait OutputGuard: Send + Sync {
    fn with_output(&self, f: &mut dyn FnMut());
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
    wake: Option<std::os::fd::OwnedFd>,
}

impl ForwardCtl {
    pub fn new() -> Arc<ForwardCtl> {
        use std::os::fd::FromRawFd;
        // SAFETY: eventfd with flags only; a valid fd is owned by the OwnedFd.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        let wake = (fd >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) });
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
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a valid u64 to an eventfd we own.
            unsafe { libc::write(w.as_raw_fd(), (&one as *const u64).cast(), 8) };
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
#[derive(Debug, Default, Clone, Copy)]
pub struct ForwardStats {
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
    pub strip: bool,
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
    let mut stats = ForwardStats::default();
    // One page to start with: most commands print little, and zeroing (and faulting in) 64 KiB
    // per stream was a measurable part of `run -- true`. A read that fills it grows it.
    let mut buf = vec![0u8; 4096];
    let mut splitter = LineSplitter::default();
    let mut held: Vec<u8> = Vec::new(); // --strip only: a partial line not yet written
    let fd = src.as_raw_fd();
    loop {
        let draining = ctl.draining.load(Ordering::SeqCst);
        // Until the drain starts, wait for output or for the drain's wake-up, with no timeout.
        // (The wake fd stays readable once written, so it is left out while draining.)
        let wake = ctl
            .wake
            .as_ref()
            .map(|w| w.as_raw_fd())
            .filter(|_| !draining);
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
            Err(_) => break,
        }
        let n = match read_fd(fd, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(_) => break, // EIO from a pty master once the slave side is closed: EOF
        };
        let grow = n == buf.len() && buf.len() < CHUNK;
        let chunk = &buf[..n];
        stats.bytes += n as u64;
        let t_s = cfg.start.elapsed().as_secs_f64();
        if cfg.strip {
            if !write_stripped(cfg.dst_fd, chunk, &mut held, guard.as_deref()) {
                stats.broken_pipe = true;
                break;
            }
        } else if !write_out(cfg.dst_fd, chunk, guard.as_deref()) {
            stats.broken_pipe = true;
            break;
        }
        sink.chunk(cfg.stream, t_s, chunk, &mut splitter);
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
    // The last line had no newline: it still counts.
    if let Some((line, truncated)) = splitter.finish() {
        let t_s = cfg.start.elapsed().as_secs_f64();
        sink.last_line(cfg.stream, t_s, &line, truncated);
    }
    drop(src);
    stats
}

/// Writes the non-protocol lines of `chunk`; a trailing partial line goes to `held`.
fn write_stripped(
    dst: i32,
    chunk: &[u8],
    held: &mut Vec<u8>,
    guard: Option<&dyn OutputGuard>,
) -> bool {
    let mut rest = chunk;
    while let Some(i) = memchr::memchr(b'\n', rest) {
        let (line, tail) = rest.split_at(i + 1);
        rest = tail;
        if held.is_empty() {
            if !is_protocol_line(trim_eol(line)) && !write_out(dst, line, guard) {
                return false;
            }
        } else {
            held.extend_from_slice(line);
            let keep = !is_protocol_line(trim_eol(prefix(held)));
            if keep && !write_out(dst, held, guard) {
                return false;
            }
            held.clear();
        }
    }
    if !rest.is_empty() {
        held.extend_from_slice(rest);
        if held.len() > MAX_LINE {
            // Too long to be a protocol line we would hide: release it.
            let ok = write_out(dst, held, guard);
            held.clear();
            return ok;
        }
    }
    true
}

fn prefix(line: &[u8]) -> &[u8] {
    &line[..line.len().min(MAX_LINE)]
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// What [`LineSplitter::for_each_block`] hands on.
pub enum Lines<'a> {
    /// One complete line without its `\n`, at most [`MAX_LINE`] bytes of it, and whether it was
    /// longer.
    One(&'a [u8], bool),
    /// Complete lines, each ending in `\n` (a line here may exceed [`MAX_LINE`] only when the
    /// chunk did).
    Block(&'a [u8]),
}

/// Splits chunks into complete lines, carrying a partial line (at most [`MAX_LINE`] bytes of it)
/// across chunks.
#[derive(Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
    truncated: bool,
}

impl LineSplitter {
    /// Calls `f(line, truncated)` for each complete line of `chunk` (the first one joined with
    /// the partial line carried from earlier chunks); keeps the unterminated rest. The
    /// line-at-a-time reference that [`LineSplitter::for_each_block`], which forwarding uses, is
    /// tested against.
    #[cfg(test)]
    pub fn for_each_line(&mut self, chunk: &[u8], mut f: impl FnMut(&[u8], bool)) {
        let mut rest = chunk;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            let line = &rest[..i];
            rest = &rest[i + 1..];
            if self.partial.is_empty() && !self.truncated {
                f(&line[..line.len().min(MAX_LINE)], line.len() > MAX_LINE);
            } else {
                self.carry(line);
                f(&self.partial, self.truncated);
                self.partial.clear();
                self.truncated = false;
            }
        }
        if !rest.is_empty() {
            self.carry(rest);
        }
    }

    /// Like [`LineSplitter::for_each_line`], but hands the complete lines that lie whole in
    /// `chunk` to `f` as one [`Lines::Block`] instead of one call per line; only a line joined
    /// with the partial line carried from earlier chunks comes as [`Lines::One`]. The parser
    /// classifies a block's lines faster than it can take them one by one (see
    /// `Parser::feed_lines`).
    pub fn for_each_block(&mut self, chunk: &[u8], mut f: impl FnMut(Lines<'_>)) {
        let mut rest = chunk;
        if !self.partial.is_empty() || self.truncated {
            let Some(i) = memchr::memchr(b'\n', rest) else {
                self.carry(rest);
                return;
            };
            self.carry(&rest[..i]);
            f(Lines::One(&self.partial, self.truncated));
            self.partial.clear();
            self.truncated = false;
            rest = &rest[i + 1..];
        }
        match memchr::memrchr(b'\n', rest) {
            Some(i) => {
                f(Lines::Block(&rest[..=i]));
                if i + 1 < rest.len() {
                    self.carry(&rest[i + 1..]);
                }
            }
            None => {
                if !rest.is_empty() {
                    self.carry(rest);
                }
            }
        }
    }

    /// The unterminated last line, if any.
    pub fn finish(&mut self) -> Option<(Vec<u8>, bool)> {
        if self.partial.is_empty() && !self.truncated {
            return None;
        }
        let line = std::mem::take(&mut self.partial);
        let t = std::mem::replace(&mut self.truncated, false);
        Some((line, t))
    }

    fn carry(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.partial.len());
        if bytes.len() > room {
            self.truncated = true;
        }
        self.partial
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

/// Waits until `fd` is readable (or hung up): true. False when `timeout` passed or `wake`
/// became readable first. No timeout waits for ever.
fn poll_in(fd: i32, wake: Option<i32>, timeout: Option<Duration>) -> io::Result<bool> {
    let pfd = |fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let mut fds = [pfd(fd), pfd(wake.unwrap_or(-1))];
    let n = if wake.is_some() { 2 } else { 1 };
    let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
    loop {
        // SAFETY: fds holds n valid pollfds for the duration of the call.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), n, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(fds[0].revents != 0);
    }
}

fn read_fd(fd: i32, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: buf is valid for buf.len() bytes.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// Writes all of `data` to `fd`; false when the reader went away (EPIPE) or another error.
fn write_out(fd: i32, data: &[u8], guard: Option<&dyn OutputGuard>) -> bool {
    let mut ok = true;
    let mut write = || ok = write_all_fd(fd, data).is_ok();
    match guard {
        Some(g) => g.with_output(&mut write),
        None => write(),
    }
    ok
}

pub fn write_all_fd(fd: i32, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        // SAFETY: data is valid for data.len() bytes.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    let mut pfd = libc::pollfd {
                        fd,
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    // SAFETY: valid pollfd.
                    unsafe { libc::poll(&mut pfd, 1, 1000) };
                    continue;
                }
                _ => return Err(e),
            }
        }
        data = &data[n as usize..];
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn collect(s: &mut LineSplitter, chunk: &[u8]) -> Vec<(Vec<u8>, bool)> {
        let mut v = Vec::new();
        s.for_each_line(chunk, |l, t| v.push((l.to_vec(), t)));
        v
    }

    #[test]
    fn splits_across_chunks() {
        let mut s = LineSplitter::default();
        assert_eq!(collect(&mut s, b"ab"), vec![]);
        assert_eq!(
            collect(&mut s, b"c\nd\ne"),
            vec![(b"abc".to_vec(), false), (b"d".to_vec(), false)]
        );
        assert_eq!(s.finish(), Some((b"e".to_vec(), false)));
        assert_eq!(s.finish(), None);
    }

    /// `for_each_block` yields the same lines as `for_each_line`, however the stream is cut.
    #[test]
    fn blocks_hold_the_same_lines() {
        let mut data = Vec::new();
        for k in 0..200 {
            data.extend(std::iter::repeat_n(b'a' + (k % 26) as u8, k * 7 % 150));
            data.push(b'\n');
        }
        data.extend_from_slice(b"tail");
        for size in [1, 2, 5, 64, 100, 1000, data.len()] {
            let mut a = LineSplitter::default();
            let mut b = LineSplitter::default();
            let (mut va, mut vb) = (Vec::new(), Vec::new());
            for c in data.chunks(size) {
                a.for_each_line(c, |l, t| va.push((l.to_vec(), t)));
                b.for_each_block(c, |lines| match lines {
                    Lines::One(l, t) => vb.push((l.to_vec(), t)),
                    Lines::Block(blk) => {
                        assert_eq!(blk.last(), Some(&b'\n'));
                        for l in blk[..blk.len() - 1].split(|&c| c == b'\n') {
                            vb.push((l.to_vec(), false));
                        }
                    }
                });
            }
            assert_eq!(va, vb, "chunks of {size}");
            assert_eq!(a.finish(), b.finish());
        }
    }

    #[test]
    fn long_lines_are_truncated_not_buffered() {
        let mut s = LineSplitter::default();
        let big = vec![b'x'; MAX_LINE * 3];
        for _ in 0..4 {
            assert!(collect(&mut s, &big).is_empty());
        }
        assert!(s.partial.len() <= MAX_LINE);
        let out = collect(&mut s, b"yy\nz\n");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0.len(), MAX_LINE);
        assert!(out[0].1);
        assert_eq!(out[1], (b"z".to_vec(), false));
    }

    #[test]
    fn strip_hides_protocol_lines_only() {
        let mut fds = [0; 2];
        // SAFETY: test-only pipe creation into a valid array.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let (r, w) = (fds[0], fds[1]);
        let mut held = Vec::new();
        assert!(write_stripped(
            w,
            b"a\n@perfmon mark x\nb\n@perf",
            &mut held,
            None
        ));
        assert!(write_stripped(w, b"mon mark y\nc", &mut held, None));
        assert_eq!(held, b"c");
        // SAFETY: test-only close of the write end we own.
        unsafe { libc::close(w) };
        let mut out = String::new();
        // SAFETY: r is the read end we own.
        let mut f = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(r) };
        std::io::Read::read_to_string(&mut f, &mut out).unwrap();
        assert_eq!(out, "a\nb\n");
    }
}
