//! Forwarding the command's stdout and stderr to perfmon's own, byte for byte and without delay,
//! while complete lines are timestamped and handed to a line consumer (the parser).
//!
//! Each stream has its own thread. A chunk is written out as soon as it is read, then handed to
//! the line consumer, so recognition never delays output. Only `--strip` (hide protocol lines) makes the
//! thread hold a partial line until its newline arrives (or the stream goes quiet for 50 ms).

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
    let mut stats = ForwardStats {
        stream: Some(cfg.stream),
        ..ForwardStats::default()
    };
    // One page to start with: most commands print little, and zeroing (and faulting in) 64 KiB
    // per stream was a measurable part of `run -- true`. A read that fills it grows it.
    let mut buf = vec![0u8; 4096];
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
        if cfg.strip {
            if !write_stripped(cfg.dst_fd, chunk, &mut held, guard.as_deref()) {
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
    match guard {
        Some(g) => g.write(fd, data).is_ok(),
        None => write_all_fd(fd, data).is_ok(),
    }
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
