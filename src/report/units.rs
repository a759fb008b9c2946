//! Number formatting for people (durations, byte sizes, rates) and escaping of workload text.

/// A duration in seconds: `850 ms`, `12.34 s`, `3 min 07 s`, `2 h 05 min`.
pub fn fmt_secs(s: f64) -> String {
    if !s.is_finite() {
        return "-".into();
    }
    if s == 0.0 {
        "0 s".into()
    } else if s < 1e-3 {
        format!("{:.0} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else if s < 60.0 {
        format!("{s:.2} s")
    } else if s < 3600.0 {
        format!("{} min {:02} s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!(
            "{} h {:02} min",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        )
    }
}

/// Bytes in binary units: `512 B`, `1.5 KiB`, `12.3 MiB`, `2.00 GiB`.
pub fn fmt_bytes(b: u64) -> String {
    const U: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < U.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else if v < 10.0 {
        format!("{v:.2} {}", U[i])
    } else {
        format!("{v:.1} {}", U[i])
    }
}

/// A value with up to 6 significant digits, in scientific notation when very large or small.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e7).contains(&a) {
        format!("{v:.4e}")
    } else {
        let s = format!("{v:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".into()
        } else {
            s.to_string()
        }
    }
}

/// `Some` formatted with `f`, else `-`.
pub fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| "-".into())
}

/// At most `n` characters, with `…` when cut.
pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Control characters replaced so workload text cannot move the terminal cursor.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '�' } else { c })
        .collect()
}

/// HTML text and attribute escaping.
pub fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '/' => o.push_str("&#47;"),
            c if c.is_control() => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// Markdown escaping for table cells and text: only what Markdown (CommonMark and GitHub's
/// tables) would act on is backslash-escaped, so the source stays readable: emphasis, code,
/// links, raw HTML and entities (`\\ ` * _ [ ] < & ~`), cell separators (`|`), and a block marker
/// at the start (`# `, `> `, `- `, `+ `, `==`, `1. `). Line breaks become spaces.
pub fn md_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '&' | '|' | '~' => {
                o.push('\\');
                o.push(c);
            }
            // A block marker only when a blank, the end or a repeat follows (`# x`, `- x`, `---`).
            '#' | '-' | '+' | '=' if first && chars.peek().is_none_or(|n| *n == ' ' || *n == c) => {
                o.push('\\');
                o.push(c);
            }
            '>' if first => {
                o.push('\\');
                o.push(c);
            }
            '\n' | '\r' | '\t' => o.push(' '),
            c if c.is_control() => o.push('\u{FFFD}'),
            c => o.push(c),
        }
        // `1.` or `1)` opening the text would start an ordered list.
        if first && c.is_ascii_digit() {
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                o.push(d);
            }
            let mut rest = chars.clone();
            if matches!(rest.next(), Some('.' | ')')) && matches!(rest.next(), None | Some(' ')) {
                o.push('\\');
                o.extend(chars.next());
            }
        }
        first = false;
    }
    o
}

/// `s` as a Markdown code span: fenced by more backticks than it holds in a row (a code span
/// takes no escapes), line breaks as spaces.
pub fn md_code(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut run = 0;
    let mut longest = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// `COMMIT on BRANCH`, then ` (dirty)`, or ` (dirty: unknown)` when git did not tell in time
/// (see `collect::host::DIRTY_GRACE`); every text from the repository passed through `esc`.
pub fn git_summary(g: &crate::model::GitInfo, esc: fn(&str) -> String) -> String {
    let mut v = esc(&g.commit);
    if let Some(b) = &g.branch {
        v.push_str(" on ");
        v.push_str(&esc(b));
    }
    match g.dirty {
        Some(true) => v.push_str(" (dirty)"),
        Some(false) => {}
        None => v.push_str(" (dirty: unknown)"),
    }
    v
}

/// A value of the metric named `metric` (as `--fail-on` and `--budget` name them) in its unit,
/// for people: `12.3 s`, `4.00 GiB`, `1.50 cores`, `80%`, or up to 6 significant digits.
pub fn fmt_metric(metric: &str, v: f64) -> String {
    use crate::analyze::spec::{Metric, Unit};
    match Metric::parse(metric).map(|m| m.unit()) {
        Ok(Unit::Seconds) => fmt_secs(v),
        Ok(Unit::Bytes) => fmt_bytes(v.max(0.0).round() as u64),
        Ok(Unit::Cores) => format!("{v:.2} cores"),
        Ok(Unit::Percent) => format!("{v:.0}%"),
        _ => fmt_significant(v),
    }
}

/// Up to 6 significant digits; float noise such as 8.7e-15 reads as 0.
pub fn fmt_significant(v: f64) -> String {
    if v.abs() < 1e-9 {
        return "0".into();
    }
    if !(1e-4..1e7).contains(&v.abs()) {
        return format!("{v:.4e}");
    }
    let digits = (5 - v.abs().log10().floor() as i32).clamp(0, 10) as usize;
    let s = format!("{v:.digits$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_summary_says_dirty_clean_or_unknown() {
        let g = |branch: Option<&str>, dirty| crate::model::GitInfo {
            commit: "abc".into(),
            branch: branch.map(str::to_string),
            dirty,
        };
        let p = |s: &str| s.to_string();
        assert_eq!(
            git_summary(&g(Some("main"), Some(true)), p),
            "abc on main (dirty)"
        );
        assert_eq!(git_summary(&g(Some("main"), Some(false)), p), "abc on main");
        assert_eq!(git_summary(&g(None, None), p), "abc (dirty: unknown)");
    }

    #[test]
    fn units() {
        assert_eq!(fmt_secs(0.25), "250 ms");
        assert_eq!(fmt_secs(12.345), "12.35 s");
        assert_eq!(fmt_secs(187.0), "3 min 07 s");
        assert_eq!(fmt_secs(7500.0), "2 h 05 min");
        assert_eq!(fmt_bytes(512), "512 B");
        assert_eq!(fmt_bytes(1536), "1.50 KiB");
        assert_eq!(fmt_bytes(300 * 1024 * 1024), "300.0 MiB");
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(1.0), "1");
        assert_eq!(fmt_num(1.5e-7), "1.5000e-7");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }

    #[test]
    fn escapes() {
        assert_eq!(
            html_escape("<a href='x'>&"),
            "&lt;a href=&#39;x&#39;&gt;&amp;"
        );
        assert_eq!(md_escape("a|b *c* <s>"), "a\\|b \\*c\\* \\<s>");
        assert_eq!(
            md_escape("gate: FAILED: wall +5.0% (> 5%)"),
            "gate: FAILED: wall +5.0% (> 5%)"
        );
        assert_eq!(md_escape("# 1. - x"), "\\# 1. - x");
        assert_eq!(md_escape("12. a_b"), "12\\. a\\_b");
        assert_eq!(md_escape("6.8.0 -x #1"), "6.8.0 -x #1");
        assert_eq!(md_escape("---"), "\\---");
        assert_eq!(md_code("a`b"), "``a`b``");
        assert_eq!(md_code("`a"), "`` `a ``");
        assert_eq!(printable("a\x1b[2Jb"), "a�[2Jb");
    }
}
