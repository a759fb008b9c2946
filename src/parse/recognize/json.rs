//! JSON-lines recognizer: a line that is one JSON object (`{"step": 10, "loss": 0.3}`). Numeric
//! members become values, nested objects one level deep become `outer.inner`, strings, booleans,
//! nulls, arrays and deeper nesting are skipped. A hand-written scanner: no allocation, no
//! `serde_json` tree per line. Invalid JSON yields nothing.

use crate::parse::lex::scan_num;
use crate::parse::series::Rec;

struct Cur<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\r' | b'\n') {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    /// A string; returns its raw contents (escapes left as they are).
    fn string(&mut self) -> Option<&'a [u8]> {
        self.ws();
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.i + 1;
        let mut j = start;
        while j < self.s.len() {
            match self.s[j] {
                b'\\' => j += 2,
                b'"' => {
                    self.i = j + 1;
                    return Some(&self.s[start..j]);
                }
                _ => j += 1,
            }
        }
        None
    }
    /// Skips any value.
    fn skip(&mut self, depth: u32) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' => {
                if depth > 32 {
                    return None;
                }
                let close = if self.peek() == Some(b'{') {
                    b'}'
                } else {
                    b']'
                };
                let obj = close == b'}';
                self.i += 1;
                if self.eat(close) {
                    return Some(());
                }
                loop {
                    if obj {
                        self.string()?;
                        if !self.eat(b':') {
                            return None;
                        }
                    }
                    self.skip(depth + 1)?;
                    if self.eat(close) {
                        return Some(());
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            _ => {
                let st = self.i;
                while self.i < self.s.len()
                    && !matches!(self.s[self.i], b',' | b'}' | b']' | b' ' | b'\t')
                {
                    self.i += 1;
                }
                (self.i > st).then_some(())
            }
        }
    }
    fn number(&mut self) -> Option<f64> {
        self.ws();
        let (v, end) = scan_num(self.s, self.i)?;
        if !matches!(self.s.get(end), Some(b',' | b'}' | b']' | b' ' | b'\t')) {
            return None;
        }
        self.i = end;
        Some(v)
    }
    /// Members of an object whose `{` was just eaten.
    fn members(&mut self, prefix: Option<&[u8]>, rec: &mut Rec) -> Option<()> {
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            let key = self.string()?;
            if !self.eat(b':') {
                return None;
            }
            self.ws();
            match self.peek()? {
                b'-' | b'0'..=b'9' => {
                    let v = self.number()?;
                    if key
                        .first()
                        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                    {
                        match prefix {
                            Some(p) => rec.push_dotted(p, key, v),
                            None => rec.push(key, v),
                        }
                    }
                }
                b'{' if prefix.is_none() => {
                    self.i += 1;
                    self.members(Some(key), rec)?;
                }
                _ => self.skip(1)?,
            }
            if self.eat(b'}') {
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }
}

/// Reads a JSON object line into `rec` (values only; the caller picks the iteration).
pub fn read(line: &[u8], rec: &mut Rec) -> bool {
    rec.clear();
    let mut c = Cur { s: line, i: 0 };
    if !c.eat(b'{') {
        return false;
    }
    if c.members(None, rec).is_none() {
        rec.clear();
        return false;
    }
    c.ws();
    if c.i != line.len() {
        rec.clear();
        return false;
    }
    !rec.is_empty()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn names(s: &str) -> Vec<(String, f64)> {
        let mut r = Rec::default();
        read(s.as_bytes(), &mut r);
        (0..r.len())
            .map(|k| (String::from_utf8_lossy(r.name(k)).into_owned(), r.values[k]))
            .collect()
    }

    #[test]
    fn objects() {
        assert_eq!(
            names(r#"{"step": 10, "loss": 0.3}"#),
            vec![("step".into(), 10.0), ("loss".into(), 0.3)]
        );
        assert_eq!(
            names(
                r#"{"e": "x", "a": [1, {"b": 2}], "t": {"eval": 0.1, "d": {"x": 1}}, "ok": true, "n": null}"#
            ),
            vec![("t.eval".into(), 0.1)]
        );
        assert!(names(r#"{"step": 10, "loss": 0.3"#).is_empty());
        assert!(names(r#"{"step": 10} trailing"#).is_empty());
        assert!(names("{}").is_empty());
    }
}
