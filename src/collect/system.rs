//! System-wide metrics: per-core CPU, load average, available memory, network bytes.
//!
//! INTERFACE (filled in by the collect work): [`SystemSampler::new`], [`SystemSampler::sample_into`].
//!
//! Values are raw cumulative counters (jiffies, bytes) or gauges as the kernel reports them.
//! `/proc/stat`, `/proc/loadavg`, `/proc/meminfo` and `/proc/net/dev` are opened once and
//! re-read with `pread`; a file that cannot be opened or parsed just contributes no values.

use std::fs::File;

use super::procfs::{field_after, parse_i64, pread_all};
use crate::model::metric;

/// Reads system-wide counters at each sample.
#[derive(Debug, Default)]
pub struct SystemSampler {
    stat: Option<File>,
    loadavg: Option<File>,
    meminfo: Option<File>,
    netdev: Option<File>,
    buf: Vec<u8>,
    /// `sys.cpuN.busy` and `sys.cpuN.total` by core, built once.
    core_names: Vec<(&'static str, &'static str)>,
}

impl SystemSampler {
    pub fn new() -> SystemSampler {
        let open = |p: &str| File::open(p).ok();
        SystemSampler {
            stat: open("/proc/stat"),
            loadavg: open("/proc/loadavg"),
            meminfo: open("/proc/meminfo"),
            netdev: open("/proc/net/dev"),
            buf: vec![0; 16384],
            core_names: Vec::new(),
        }
    }

    /// Appends this sample's raw system counters (names from [`crate::model::metric`]:
    /// `sys.cpuN.busy`/`sys.cpuN.total` jiffies, `sys.load1_x100`, `sys.mem_available_kib`,
    /// `sys.net_rx_bytes`, `sys.net_tx_bytes`). This runs at every sample: it allocates nothing
    /// once every core has been seen.
    pub fn sample_into(&mut self, out: &mut Vec<(&'static str, i64)>) {
        if let Some(n) = self
            .stat
            .as_ref()
            .and_then(|f| pread_all(f, &mut self.buf).ok())
        {
            let names = &mut self.core_names;
            parse_cpu_lines(&self.buf[..n], |core, busy, total| {
                while names.len() <= core {
                    let c = names.len();
                    names.push((
                        metric::interned(metric::core_busy(c)),
                        metric::interned(metric::core_total(c)),
                    ));
                }
                out.push((names[core].0, busy));
                out.push((names[core].1, total));
            });
        }
        if let Some(v) = read_with(&self.loadavg, &mut self.buf, parse_load1_x100) {
            out.push((metric::LOAD1_X100, v));
        }
        if let Some(v) = read_with(&self.meminfo, &mut self.buf, |b| {
            field_after(b, b"MemAvailable:")
        }) {
            out.push((metric::MEM_AVAILABLE_KIB, v));
        }
        if let Some((rx, tx)) = read_with(&self.netdev, &mut self.buf, parse_net_dev) {
            out.push((metric::NET_RX_BYTES, rx));
            out.push((metric::NET_TX_BYTES, tx));
        }
    }
}

fn read_with<T>(
    f: &Option<File>,
    buf: &mut Vec<u8>,
    parse: impl Fn(&[u8]) -> Option<T>,
) -> Option<T> {
    let n = pread_all(f.as_ref()?, buf).ok()?;
    parse(&buf[..n])
}

/// The `cpuN user nice system idle iowait irq softirq steal guest guest_nice` lines at the top
/// of /proc/stat, as `each(N, busy, total)`: total = user..steal (guest time is already inside
/// user/nice), busy = total - idle - iowait. Stops at the first line after them (the long
/// `intr` line is never scanned).
fn parse_cpu_lines(buf: &[u8], mut each: impl FnMut(usize, i64, i64)) {
    for line in buf.split(|&b| b == b'\n') {
        let Some(rest) = line.strip_prefix(b"cpu") else {
            break;
        };
        // The aggregate `cpu ` line has no number: skip it.
        if !rest.first().is_some_and(u8::is_ascii_digit) {
            continue;
        }
        let mut it = rest.split(|&b| b == b' ').filter(|t| !t.is_empty());
        let Some(n) = it.next().and_then(parse_i64) else {
            continue;
        };
        let mut f = [0i64; 8];
        let mut got = 0;
        for (slot, v) in f.iter_mut().zip(it.map_while(parse_i64)) {
            *slot = v;
            got += 1;
        }
        if got < 4 || n < 0 {
            continue;
        }
        let total: i64 = f.iter().sum();
        each(n as usize, total - f[3] - f[4], total);
    }
}

/// The 1-minute load average ×100 (`0.52 ...` → 52), parsed without floats.
fn parse_load1_x100(buf: &[u8]) -> Option<i64> {
    let tok = buf.split(|&b| b == b' ').next()?;
    let mut parts = tok.splitn(2, |&b| b == b'.');
    let int = parse_i64(parts.next()?)?;
    let frac = parts.next().unwrap_or(b"0");
    let mut f2 = [b'0'; 2];
    for (d, s) in f2.iter_mut().zip(frac) {
        *d = *s;
    }
    Some(int * 100 + parse_i64(&f2)?)
}

/// Received and transmitted bytes summed over every interface except `lo`.
fn parse_net_dev(buf: &[u8]) -> Option<(i64, i64)> {
    let (mut rx, mut tx, mut any) = (0, 0, false);
    // Two header lines, then `  eth0: rx_bytes packets errs drop fifo frame compressed
    // multicast tx_bytes ...`.
    for line in buf.split(|&b| b == b'\n').skip(2) {
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        if line[..colon].trim_ascii() == b"lo" {
            any = true;
            continue;
        }
        let mut fields = line[colon + 1..]
            .split(|&b| b == b' ')
            .filter(|t| !t.is_empty())
            .map_while(parse_i64);
        // Field 0 is received bytes, field 8 transmitted bytes.
        if let (Some(r), Some(t)) = (fields.next(), fields.nth(7)) {
            rx += r;
            tx += t;
            any = true;
        }
    }
    any.then_some((rx, tx))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const STAT: &[u8] = b"cpu  300 10 200 5000 40 5 5 0 0 0\n\
cpu0 100 5 100 2500 20 3 2 0 7 0\n\
cpu1 200 5 100 2500 20 2 3 0 0 0\n\
intr 12345 0 0\nctxt 999\nbtime 1700000000\n";

    const NETDEV: &[u8] = b"Inter-|   Receive                                                |  Transmit\n \
face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
lo: 5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0\n  \
eth0: 123456    100    0    0    0     0          0         0    65432      90    0    0    0     0       0          0\n  \
wlan0: 1000      10    0    0    0     0          0         0      500       5    0    0    0     0       0          0\n";

    #[test]
    fn per_core_busy_and_total() {
        let mut out = vec![];
        parse_cpu_lines(STAT, |n, busy, total| out.push((n, busy, total)));
        assert_eq!(out, vec![(0, 210, 2730), (1, 310, 2830)]);
        // Lines after the cpu block are not read: a cpu-like line there is ignored.
        let mut late = vec![];
        parse_cpu_lines(b"cpu  1 1 1 1\nintr 5\ncpu7 1 2 3 4\n", |n, b, t| {
            late.push((n, b, t))
        });
        assert!(late.is_empty());
    }

    #[test]
    fn load_mem_net() {
        assert_eq!(parse_load1_x100(b"0.52 0.40 0.30 1/234 5678\n"), Some(52));
        assert_eq!(parse_load1_x100(b"12.5 0.40 0.30 1/234 5678\n"), Some(1250));
        let mem =
            b"MemTotal:       16000000 kB\nMemFree:         1000 kB\nMemAvailable:    8000000 kB\n";
        assert_eq!(field_after(mem, b"MemAvailable:"), Some(8_000_000));
        assert_eq!(parse_net_dev(NETDEV), Some((124_456, 65_932)));
        assert_eq!(parse_net_dev(b"h1\nh2\n"), None);
    }

    #[test]
    fn samples_this_machine() {
        let mut s = SystemSampler::new();
        let mut out = vec![];
        s.sample_into(&mut out);
        s.sample_into(&mut out);
        let get = |k: &str| out.iter().find(|(n, _)| *n == k).map(|v| v.1);
        assert!(get("sys.cpu0.total").unwrap() > 0);
        assert!(get(metric::MEM_AVAILABLE_KIB).unwrap() > 0);
        assert!(get(metric::LOAD1_X100).is_some());
    }
}
