//! The one table writer of every report: a head, rows of cells already formatted (and escaped
//! for the target format by the caller), and each column's alignment, written as aligned plain
//! text, a GitHub Markdown table or an HTML table.
//!
//! Plain text measures each cell by its display width (`unicode-width`), not its number of
//! characters, so a CJK or emoji name (two terminal columns a character) keeps the columns in
//! line.

use std::fmt::Write;

use unicode_width::UnicodeWidthStr;

/// A column's alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table: the head, its rows and the alignment of each column.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub head: Vec<String>,
    pub align: Vec<Align>,
    pub rows: Vec<Vec<String>>,
    /// Smallest width of each column in plain text (missing entries: none).
    pub min_width: Vec<usize>,
}

/// Columns per display width of `s` in a terminal.
pub fn display_width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

impl Table {
    /// A table whose first `left` columns are left-aligned and the others right-aligned.
    pub fn new(head: &[&str], left: usize) -> Table {
        Table {
            head: head.iter().map(|h| h.to_string()).collect(),
            align: (0..head.len())
                .map(|i| if i < left { Align::Left } else { Align::Right })
                .collect(),
            rows: Vec::new(),
            min_width: Vec::new(),
        }
    }

    /// The same table with these alignments (a format may align a column otherwise).
    pub fn aligned(mut self, align: &[Align]) -> Table {
        self.align = align.to_vec();
        self
    }

    /// The same table with its last column left-aligned (a verdict or a list after figures).
    pub fn last_left(mut self) -> Table {
        if let Some(a) = self.align.last_mut() {
            *a = Align::Left;
        }
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn align_of(&self, i: usize) -> Align {
        self.align.get(i).copied().unwrap_or(Align::Left)
    }

    /// Aligned plain text: each line starts with `indent` spaces, columns are two spaces apart,
    /// and no line ends with a space.
    pub fn text(&self, indent: usize) -> String {
        let n = self.head.len();
        let mut w: Vec<usize> = (0..n)
            .map(|i| {
                let cells =
                    std::iter::once(&self.head[i]).chain(self.rows.iter().filter_map(|r| r.get(i)));
                cells
                    .map(|c| display_width(c))
                    .max()
                    .unwrap_or(0)
                    .max(self.min_width.get(i).copied().unwrap_or(0))
            })
            .collect();
        w.resize(n, 0);
        let mut out = String::new();
        for cells in std::iter::once(&self.head).chain(&self.rows) {
            let mut line = " ".repeat(indent);
            for (i, c) in cells.iter().enumerate().take(n) {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = " ".repeat(w[i].saturating_sub(display_width(c)));
                match self.align_of(i) {
                    Align::Left => {
                        line.push_str(c);
                        line.push_str(&pad);
                    }
                    Align::Right => {
                        line.push_str(&pad);
                        line.push_str(c);
                    }
                }
            }
            out.push_str(line.trim_end_matches(' '));
            out.push('\n');
        }
        out
    }

    /// A GitHub Markdown table (`---:` under right-aligned columns).
    pub fn markdown(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let seps: Vec<String> = (0..self.head.len())
            .map(|i| match self.align_of(i) {
                Align::Left => "---".to_string(),
                Align::Right => "---:".to_string(),
            })
            .collect();
        let mut out = line(&self.head);
        out.push_str(&line(&seps));
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }

    /// An HTML table; right-aligned cells get `class="n"` (tabular figures).
    pub fn html(&self) -> String {
        let mut o = String::from("<table><tr>");
        for h in &self.head {
            let _ = write!(o, "<th>{h}</th>");
        }
        o.push_str("</tr>\n");
        for r in &self.rows {
            o.push_str("<tr>");
            for (i, c) in r.iter().enumerate() {
                match self.align_of(i) {
                    Align::Left => {
                        let _ = write!(o, "<td>{c}</td>");
                    }
                    Align::Right => {
                        let _ = write!(o, "<td class=\"n\">{c}</td>");
                    }
                }
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</table>\n");
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(&["NAME", "COUNT"], 1);
        t.row(vec!["load".into(), "1".into()]);
        t.row(vec!["train".into(), "12".into()]);
        t
    }

    #[test]
    fn text_aligns_left_and_right() {
        assert_eq!(
            sample().text(2),
            "  NAME   COUNT\n  load       1\n  train     12\n"
        );
    }

    /// Wide characters take two columns: the figures after them stay in line.
    #[test]
    fn wide_characters_align_by_display_width() {
        let mut t = Table::new(&["NAME", "TOTAL"], 1);
        t.row(vec!["読み込み".into(), "1.00 s".into()]);
        t.row(vec!["train".into(), "12.00 s".into()]);
        t.row(vec!["学習 epoch".into(), "3.00 s".into()]);
        let out = t.text(0);
        let lines: Vec<&str> = out.lines().collect();
        // Every line ends in the same terminal column.
        let ends: Vec<usize> = lines.iter().map(|l| display_width(l)).collect();
        assert!(ends.iter().all(|e| *e == ends[0]), "{out}\n{ends:?}");
        assert_eq!(lines[0], "NAME          TOTAL");
        assert_eq!(lines[1], "読み込み     1.00 s");
        assert_eq!(lines[3], "学習 epoch   3.00 s");
        // Counting characters instead would have padded the CJK row by 4 more columns.
        assert_ne!("読み込み".chars().count(), display_width("読み込み"));
    }

    #[test]
    fn minimum_widths_and_no_trailing_spaces() {
        let mut t =
            Table::new(&["#", "runs", ""], 0).aligned(&[Align::Right, Align::Left, Align::Left]);
        t.min_width = vec![4, 8];
        t.row(vec!["1".into(), "run 5".into(), String::new()]);
        t.row(vec!["2".into(), "run 6".into(), "<- change".into()]);
        assert_eq!(
            t.text(0),
            "   #  runs\n   1  run 5\n   2  run 6     <- change\n"
        );
    }

    #[test]
    fn markdown_and_html() {
        let t = sample();
        assert_eq!(
            t.markdown(),
            "| NAME | COUNT |\n| --- | ---: |\n| load | 1 |\n| train | 12 |\n"
        );
        assert_eq!(
            t.html(),
            "<table><tr><th>NAME</th><th>COUNT</th></tr>\n<tr><td>load</td><td class=\"n\">1</td></tr>\n<tr><td>train</td><td class=\"n\">12</td></tr>\n</table>\n"
        );
    }
}
