//! Every descendant of a process, read once from `/proc/PID/task/TID/children` (every thread's:
//! a child belongs to the thread that forked it). For the moments a list is wanted rather than a
//! sample: the processes left behind when the command ends, and the ones a stop or kill must
//! reach. [`super::TreeSampler`] walks the same files with cached descriptors at every sample.

use std::collections::HashSet;

use super::procfs::parse_children;

/// All descendants of `root`, parents before children. A process that exits while it is read
/// is skipped with its children (they are reparented to perfmon, a subreaper, and found next time).
pub fn descendants(root: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut seen = HashSet::from([root]);
    let mut queue = vec![root];
    let mut kids = Vec::new();
    while let Some(pid) = queue.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read(t.path().join("children")) {
                kids.clear();
                parse_children(&s, &mut kids);
                for &c in &kids {
                    if seen.insert(c) {
                        queue.push(c);
                        out.push(c);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    /// A child and its grandchild are found, the child first.
    #[test]
    fn finds_children_and_grandchildren() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 5 & echo $!; wait"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        let grandchild: u32 = line.trim().parse().unwrap();
        let found = super::descendants(std::process::id());
        let _ = child.kill();
        let _ = std::process::Command::new("kill")
            .arg(grandchild.to_string())
            .status();
        let _ = child.wait();
        let c = found.iter().position(|&p| p == child.id());
        let g = found.iter().position(|&p| p == grandchild);
        assert!(c.is_some() && g.is_some() && c < g, "{found:?}");
    }
}
