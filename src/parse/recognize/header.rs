//! Naming a table row's columns from its header line (issue 13, class 3: headers of several
//! words such as `Train Loss`, `OOB Improve`, `Remaining Time`, `function value`).
//!
//! Same number of header words as cells: by order. Otherwise, for fixed-width columns, header
//! words are matched to cells by position, in this order, the first that names every cell and
//! places every word: (1) the cell each word overlaps most (headers written over their numbers,
//! CMA-ES); (2) right-aligned columns (a word belongs to the cell whose span, from after the cell
//! before it to the cell's end, holds the word's end: `%16s` formats, scikit-learn); (3)
//! left-aligned columns (the span from the cell's start to the next cell's start holds the
//! word's start). Then (1) again, accepting words that overlap no cell. Cells named by several
//! words join them with a space; a repeated name gets `#2`, `#3`.

/// Names for the row's cells `rtoks` from header tokens `htoks` of `h`, or None.
pub fn map(
    h: &[u8],
    htoks: &[(usize, usize)],
    rtoks: &[(usize, usize)],
    fixed_width: bool,
) -> Option<Vec<String>> {
    let width = rtoks.len();
    if htoks.len() == width {
        return Some(htoks.iter().map(|&(a, b)| name(&h[a..b])).collect());
    }
    if !fixed_width {
        return None;
    }
    let strategies: [&dyn Fn(usize, usize) -> Option<usize>; 3] = [
        &|x, y| overlap(rtoks, x, y),
        &|_, y| (0..width).find(|&k| y <= rtoks[k].1 + 1),
        &|x, _| (0..width).rev().find(|&k| k == 0 || rtoks[k].0 <= x + 1),
    ];
    for place in strategies {
        if let Some(names) = assign(h, htoks, width, place, true) {
            return dedup(names);
        }
    }
    assign(h, htoks, width, |x, y| overlap(rtoks, x, y), false).and_then(dedup)
}

fn name(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

/// The cell that word `x..y` overlaps most (the first on a tie).
fn overlap(rtoks: &[(usize, usize)], x: usize, y: usize) -> Option<usize> {
    rtoks
        .iter()
        .enumerate()
        .map(|(k, &(a, b))| (k, b.min(y).saturating_sub(a.max(x))))
        .filter(|&(_, o)| o > 0)
        .max_by_key(|&(k, o)| (o, usize::MAX - k))
        .map(|(k, _)| k)
}

/// Names from placing each header word with `place`; None when a cell stays unnamed, or (with
/// `every_word`) when a word has no cell or the words' cells go backwards.
fn assign(
    h: &[u8],
    htoks: &[(usize, usize)],
    width: usize,
    place: impl Fn(usize, usize) -> Option<usize>,
    every_word: bool,
) -> Option<Vec<String>> {
    let mut names = vec![String::new(); width];
    let mut last = 0;
    for &(x, y) in htoks {
        match place(x, y) {
            Some(k) if !every_word || k >= last => {
                last = k;
                if !names[k].is_empty() {
                    names[k].push(' ');
                }
                names[k].push_str(&name(&h[x..y]));
            }
            _ if every_word => return None,
            _ => {}
        }
    }
    (!names.iter().any(String::is_empty)).then_some(names)
}

fn dedup(names: Vec<String>) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for base in names {
        let dup = out
            .iter()
            .filter(|n| n.split('#').next() == Some(base.as_str()))
            .count();
        out.push(if dup == 0 {
            base
        } else {
            format!("{base}#{}", dup + 1)
        });
    }
    Some(out)
}
