//! Low-level helpers for reading Linux /proc: whole-file `pread` into a reused buffer,
//! `openat` relative to a directory fd, directory listing with `getdents64`, and
//! allocation-free parsers for `stat`, `io`, `status` and `children`. The system calls go
//! through rustix's safe wrappers (no `unsafe` here); on Linux they are the same single system
//! calls as before, made inline.
//!
//! Every /proc file read here is a kernel `seq_file`, which fills the caller's buffer as far as
//! it can: a read shorter than the buffer is therefore the end of the file, and one `pread` at
//! offset 0 regenerates the contents, so an open fd is reused for every sample.

use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::mem::MaybeUninit;
use std::os::unix::fs::FileExt;

use rustix::fs::{Mode, OFlags, RawDir, SeekFrom};

/// Reads the whole file from offset 0 into `buf` (kept at its full length, grown as needed) and
/// returns the number of bytes read.
pub(crate) fn pread_all(f: &File, buf: &mut Vec<u8>) -> io::Result<usize> {
    if buf.len() < 4096 {
        buf.resize(4096, 0);
    }
    let mut n = 0;
    loop {
        match f.read_at(&mut buf[n..], n as u64) {
            Ok(0) => return Ok(n),
            Ok(r) => {
                n += r;
                if n < buf.len() {
                    return Ok(n);
                }
                let len = buf.len();
                buf.resize(len * 2, 0);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// `openat(dir, rel, O_RDONLY | O_CLOEXEC | extra)`.
pub(crate) fn openat(dir: &File, rel: &CStr, extra: OFlags) -> io::Result<File> {
    let fd = rustix::fs::openat(
        dir,
        rel,
        OFlags::RDONLY | OFlags::CLOEXEC | extra,
        Mode::empty(),
    )?;
    Ok(File::from(fd))
}

/// Opens `/proc/<pid>` as an `O_PATH` directory fd (a base for [`openat`]).
pub(crate) fn open_pid_dir(pid: u32) -> io::Result<File> {
    let mut path = PathBuf32::new();
    path.push(b"/proc/");
    path.push_u32(pid);
    let fd = rustix::fs::open(
        path.as_cstr(),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    Ok(File::from(fd))
}

/// A small stack buffer for building NUL-terminated relative paths such as `123/children`.
pub(crate) struct PathBuf32 {
    buf: [u8; 48],
    len: usize,
}

impl PathBuf32 {
    pub(crate) fn new() -> PathBuf32 {
        PathBuf32 {
            buf: [0; 48],
            len: 0,
        }
    }

    pub(crate) fn push(&mut self, s: &[u8]) {
        let n = s.len().min(self.buf.len() - 1 - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }

    pub(crate) fn push_u32(&mut self, v: u32) {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        let mut v = v;
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }

    pub(crate) fn as_cstr(&mut self) -> &CStr {
        self.buf[self.len] = 0;
        // The buffer holds no interior NUL (only digits and path bytes were pushed), and one
        // terminates it; fall back to the empty string rather than panic.
        CStr::from_bytes_until_nul(&self.buf[..=self.len]).unwrap_or(c"")
    }
}

/// The buffer [`list_numeric_dir`] reads directory entries into (reused between listings).
pub(crate) fn dir_buffer() -> Vec<MaybeUninit<u8>> {
    vec![MaybeUninit::uninit(); 4096]
}

/// Lists the numeric entries (pids or tids) of an open directory fd, from its start, into `out`.
/// `buf` is a [`dir_buffer`]: the `getdents64` batches are read into it.
pub(crate) fn list_numeric_dir(
    dir: &File,
    buf: &mut [MaybeUninit<u8>],
    out: &mut Vec<u32>,
) -> io::Result<()> {
    out.clear();
    // The fd is kept between listings: rewind it so that the kernel lists it afresh.
    rustix::fs::seek(dir, SeekFrom::Start(0))?;
    let mut entries = RawDir::new(dir, buf);
    while let Some(entry) = entries.next() {
        if let Some(v) = parse_u64(entry?.file_name().to_bytes()) {
            out.push(v as u32);
        }
    }
    Ok(())
}

/// The fields of `/proc/PID/stat` that perfmon uses (raw kernel units: ticks, pages, bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Stat {
    pub state: u8,
    pub ppid: u32,
    pub minflt: i64,
    pub cminflt: i64,
    pub majflt: i64,
    pub cmajflt: i64,
    pub utime: i64,
    pub stime: i64,
    pub cutime: i64,
    pub cstime: i64,
    pub num_threads: i64,
    pub starttime: u64,
    pub vsize: u64,
    pub rss_pages: i64,
}

/// Parses `/proc/PID/stat`; returns the fields and the byte range of the name (comm).
pub(crate) fn parse_stat(buf: &[u8]) -> Option<(Stat, std::ops::Range<usize>)> {
    let open = memchr::memchr(b'(', buf)?;
    // The name may itself contain ')' and spaces: it ends at the last ')'.
    let close = memchr::memrchr(b')', buf)?;
    if close < open {
        return None;
    }
    let mut st = Stat::default();
    // Fields after the name, numbered as in proc(5): field 3 (state) is index 0 here.
    for (i, tok) in buf[close + 1..]
        .split(|&b| b == b' ' || b == b'\n')
        .filter(|t| !t.is_empty())
        .enumerate()
    {
        match i + 3 {
            3 => st.state = tok[0],
            4 => st.ppid = parse_u64(tok)? as u32,
            10 => st.minflt = parse_i64(tok)?,
            11 => st.cminflt = parse_i64(tok)?,
            12 => st.majflt = parse_i64(tok)?,
            13 => st.cmajflt = parse_i64(tok)?,
            14 => st.utime = parse_i64(tok)?,
            15 => st.stime = parse_i64(tok)?,
            16 => st.cutime = parse_i64(tok)?,
            17 => st.cstime = parse_i64(tok)?,
            20 => st.num_threads = parse_i64(tok)?,
            22 => st.starttime = parse_u64(tok)?,
            23 => st.vsize = parse_u64(tok)?,
            24 => {
                st.rss_pages = parse_i64(tok)?;
                return Some((st, open + 1..close));
            }
            _ => {}
        }
    }
    None
}

/// `read_bytes` and `write_bytes` of `/proc/PID/io`.
pub(crate) fn parse_io(buf: &[u8]) -> Option<(i64, i64)> {
    Some((
        field_after(buf, b"read_bytes:")?,
        field_after(buf, b"write_bytes:")?,
    ))
}

/// Voluntary and involuntary context switches of `/proc/PID/status` (summed over the threads).
/// They are its last two lines, so the lines are scanned from the end.
pub(crate) fn parse_status_ctxsw(buf: &[u8]) -> Option<(i64, i64)> {
    let (mut vol, mut invol) = (None, None);
    for line in buf.rsplit(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(b"voluntary_ctxt_switches:") {
            vol = leading_number(rest);
        } else if let Some(rest) = line.strip_prefix(b"nonvoluntary_ctxt_switches:") {
            invol = leading_number(rest);
        }
        if vol.is_some() && invol.is_some() {
            break;
        }
    }
    Some((vol?, invol?))
}

/// The value of the first line that starts with `key`, as in `MemAvailable:   8000 kB` or
/// `read_bytes: 4096`: a line-by-line prefix test (these files are a few dozen short lines).
pub(crate) fn field_after(buf: &[u8], key: &[u8]) -> Option<i64> {
    let mut rest = buf;
    loop {
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        if let Some(value) = rest[..end].strip_prefix(key) {
            return leading_number(value);
        }
        rest = rest.get(end + 1..).filter(|r| !r.is_empty())?;
    }
}

/// The number after optional blanks at the start of `s` (`\t  1024 kB` gives 1024).
fn leading_number(s: &[u8]) -> Option<i64> {
    let s = &s[s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len())..];
    let end = s
        .iter()
        .position(|b| !(b.is_ascii_digit() || *b == b'-'))
        .unwrap_or(s.len());
    parse_i64(&s[..end])
}

/// Appends the pids listed in a `children` file (space-separated) to `out`.
pub(crate) fn parse_children(buf: &[u8], out: &mut Vec<u32>) {
    for tok in buf.split(|b| b.is_ascii_whitespace()) {
        if let Some(v) = parse_u64(tok) {
            out.push(v as u32);
        }
    }
}

pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    match s.split_first() {
        Some((b'-', rest)) => parse_u64(rest)
            .and_then(|v| i64::try_from(v).ok())
            .map(|v| -v),
        _ => parse_u64(s).and_then(|v| i64::try_from(v).ok()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const STAT: &[u8] = b"4242 (my (odd) name) S 4200 4242 4200 0 -1 4194304 1500 30 2 1 \
        250 40 12 3 20 0 3 0 987654 123456789 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 \
        17 1 0 0 0 0 0\n";

    #[test]
    fn stat_fields_and_odd_name() {
        let (st, name) = parse_stat(STAT).unwrap();
        assert_eq!(&STAT[name], b"my (odd) name");
        assert_eq!(st.state, b'S');
        assert_eq!(st.ppid, 4200);
        assert_eq!(
            (st.minflt, st.cminflt, st.majflt, st.cmajflt),
            (1500, 30, 2, 1)
        );
        assert_eq!((st.utime, st.stime, st.cutime, st.cstime), (250, 40, 12, 3));
        assert_eq!(st.num_threads, 3);
        assert_eq!(st.starttime, 987654);
        assert_eq!(st.vsize, 123456789);
        assert_eq!(st.rss_pages, 2560);
        assert!(parse_stat(b"12 (trunc) S 1 2").is_none());
    }

    #[test]
    fn io_and_status() {
        let io = b"rchar: 100\nwchar: 200\nsyscr: 3\nsyscw: 4\nread_bytes: 4096\n\
            write_bytes: 8192\ncancelled_write_bytes: 0\n";
        assert_eq!(parse_io(io), Some((4096, 8192)));
        let status = b"Name:\tcat\nState:\tS (sleeping)\nVmRSS:\t  1024 kB\n\
            voluntary_ctxt_switches:\t17\nnonvoluntary_ctxt_switches:\t3\n";
        assert_eq!(parse_status_ctxsw(status), Some((17, 3)));
        assert_eq!(field_after(status, b"VmRSS:"), Some(1024));
        assert_eq!(parse_status_ctxsw(b"Name:\tx\n"), None);
        // Only whole keys at a line start count, wherever the line is.
        assert_eq!(field_after(status, b"ctxt_switches:"), None);
        assert_eq!(field_after(status, b"State:"), None);
        assert_eq!(field_after(b"a: 1\nb: 2", b"b:"), Some(2));
        assert_eq!(field_after(b"", b"b:"), None);
    }

    #[test]
    fn children_and_numbers() {
        let mut v = vec![];
        parse_children(b"12 345 6789 ", &mut v);
        assert_eq!(v, vec![12, 345, 6789]);
        assert_eq!(parse_i64(b"-5"), Some(-5));
        assert_eq!(parse_u64(b"x1"), None);
        let mut p = PathBuf32::new();
        p.push_u32(0);
        p.push(b"/");
        p.push_u32(4_294_967_295);
        assert_eq!(p.as_cstr().to_bytes(), b"0/4294967295");
    }

    #[test]
    fn reads_own_proc_files() {
        let f = File::open("/proc/self/stat").unwrap();
        let mut buf = vec![0; 16]; // grows
        let n = pread_all(&f, &mut buf).unwrap();
        let (st, _) = parse_stat(&buf[..n]).unwrap();
        assert!(st.num_threads >= 1);
        let dir = open_pid_dir(std::process::id()).unwrap();
        let task = openat(&dir, c"task", OFlags::DIRECTORY).unwrap();
        let mut tids = vec![];
        list_numeric_dir(&task, &mut dir_buffer(), &mut tids).unwrap();
        assert!(tids.contains(&std::process::id()));
    }
}

/// Longest command line read (the rest is cut).
const MAX_CMDLINE: u64 = 4096;

/// `/proc/PID/cmdline` as one line: arguments joined by spaces, secret-looking values redacted
/// ([`crate::redact::redact_args`]). None when it cannot be read or is empty (a kernel thread, a
/// zombie).
pub fn read_cmdline(pid: u32) -> Option<String> {
    use std::io::Read;
    let mut raw = Vec::new();
    File::open(format!("/proc/{pid}/cmdline"))
        .ok()?
        .take(MAX_CMDLINE)
        .read_to_end(&mut raw)
        .ok()?;
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    (!args.is_empty()).then(|| crate::redact::redact_args(&args).join(" "))
}

#[cfg(test)]
mod cmdline_tests {
    #[test]
    fn own_command_line_is_read_and_redacted() {
        let own = super::read_cmdline(std::process::id()).unwrap_or_default();
        let first = std::env::args().next().unwrap_or_default();
        assert!(own.starts_with(&first), "{own:?} vs {first:?}");
        assert_eq!(super::read_cmdline(u32::MAX), None);
        let args: Vec<String> = ["tool", "--api-key=hunter2"].map(String::from).to_vec();
        assert!(!crate::redact::redact_args(&args)
            .join(" ")
            .contains("hunter2"));
    }
}
