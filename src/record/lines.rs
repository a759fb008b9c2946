//! Splitting the command's output, as it arrives in chunks, into complete lines for the parser.
//! A partial line is carried across chunks, at most [`MAX_LINE`] bytes of it, so any line costs
//! bounded memory.

use crate::parse::MAX_LINE;

/// What [`LineSplitter::for_each_block`] hands on.
pub enum Lines<'a> {
    /// One complete line without its `\n`, at most [`MAX_LINE`] bytes of it, and whether it was
    /// longer.
    One(&'a [u8], bool),
    /// Complete lines, each ending in `\n` (a line here may exceed [`MAX_LINE`] only when the
    /// chunk did).
    Block(&'a [u8]),
    /// The complete `\r`-terminated states of a line that grew past [`MAX_LINE`] without a
    /// `\n` (a progress bar redrawn for a long time): handed on early, so that its later states
    /// are read too; the line's rest follows as usual.
    States(&'a [u8]),
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
                self.carry_states(rest, false, &mut f);
                return;
            };
            self.carry_states(&rest[..i], true, &mut f);
            f(Lines::One(&self.partial, self.truncated));
            self.partial.clear();
            self.truncated = false;
            rest = &rest[i + 1..];
        }
        match memchr::memrchr(b'\n', rest) {
            Some(i) => {
                f(Lines::Block(&rest[..=i]));
                if i + 1 < rest.len() {
                    self.carry_states(&rest[i + 1..], false, &mut f);
                }
            }
            None => {
                if !rest.is_empty() {
                    self.carry_states(rest, false, &mut f);
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

    /// [`LineSplitter::carry`], but when the line would grow past [`MAX_LINE`], its complete
    /// `\r`-terminated states go to `f` first as [`Lines::States`] and only the rest is kept.
    /// When `bytes` end the line, a `\r` that is their last byte is no state boundary.
    fn carry_states(&mut self, mut bytes: &[u8], ends: bool, f: &mut impl FnMut(Lines<'_>)) {
        if !self.truncated && self.partial.len() + bytes.len() > MAX_LINE {
            let search = &bytes[..bytes.len() - usize::from(ends && !bytes.is_empty())];
            if let Some(i) = memchr::memrchr(b'\r', search) {
                self.partial.extend_from_slice(&bytes[..=i]);
                f(Lines::States(&self.partial));
                self.partial.clear();
                bytes = &bytes[i + 1..];
            }
        }
        self.carry(bytes);
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
                    Lines::States(_) => unreachable!("no line is long here"),
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

    /// A bar redrawn with `\r` for longer than [`MAX_LINE`]: every state is handed on, in
    /// order, none twice, and memory stays bounded.
    #[test]
    fn long_redrawn_lines_hand_on_their_states() {
        let mut data = Vec::new();
        for k in 0..20_000 {
            data.extend_from_slice(format!("\r{k:>6}/20000 [loss={k}]").as_bytes());
        }
        data.extend_from_slice(b"\rdone\n");
        assert!(data.len() > 4 * MAX_LINE);
        for size in [4096, 100_000] {
            let mut s = LineSplitter::default();
            let mut seen = Vec::new();
            for c in data.chunks(size) {
                s.for_each_block(c, |l| {
                    let b = match l {
                        Lines::States(b) | Lines::Block(b) => b,
                        Lines::One(b, t) => {
                            assert!(!t);
                            b
                        }
                    };
                    seen.extend_from_slice(b);
                });
                assert!(s.partial.len() <= MAX_LINE);
            }
            let seen: Vec<u8> = seen.into_iter().filter(|&c| c != b'\n').collect();
            assert_eq!(seen, data[..data.len() - 1], "chunks of {size}");
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
}
