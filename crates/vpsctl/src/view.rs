//! The `ps` view for people (aligned columns, a tree) and for programs (JSON).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;
use vpid_core::RawPid;

/// One task as a viewer sees it: a `ps` line.
#[derive(Clone, Eq, PartialEq, Debug, Serialize)]
pub struct PsRow {
    /// Its thread ID, in the viewer's numbers.
    pub pid: RawPid,
    /// Its thread-group ID.
    pub tgid: RawPid,
    /// Its parent's TGID (0 where the parent is not visible).
    pub ppid: RawPid,
    /// Its process group.
    pub pgid: RawPid,
    /// Its session.
    pub sid: RawPid,
    /// `R`, `T` or `Z`.
    pub stat: char,
    /// The VPS it is in (host view only; 0 = a host task).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vps: Option<u32>,
    /// Its virtual PID (host view only, tasks in a VPS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpid: Option<RawPid>,
    /// The name a script gave it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A whole `ps` view.
#[derive(Clone, Eq, PartialEq, Debug, Serialize)]
pub struct PsTable {
    /// Whether this is the host's view (with VPS and VPID columns).
    pub host_view: bool,
    /// The rows, sorted by PID.
    pub rows: Vec<PsRow>,
}

fn dash(value: Option<impl ToString>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

impl PsTable {
    /// The view as aligned columns: `PID PPID PGID SID STAT`, then `VPS
    /// VPID` in the host's view, then `NAME` when any row has a name.
    ///
    /// ```
    /// use vpsctl::view::{PsRow, PsTable};
    /// let row = PsRow { pid: 1, tgid: 1, ppid: 0, pgid: 1, sid: 1, stat: 'R', vps: None, vpid: None, name: None };
    /// let table = PsTable { host_view: false, rows: vec![row] };
    /// assert_eq!(table.columns(), "PID PPID PGID SID STAT\n  1    0    1   1 R\n");
    /// ```
    #[must_use]
    pub fn columns(&self) -> String {
        let named = self.rows.iter().any(|r| r.name.is_some());
        let mut header = vec!["PID", "PPID", "PGID", "SID", "STAT"];
        if self.host_view {
            header.extend(["VPS", "VPID"]);
        }
        if named {
            header.push("NAME");
        }
        let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
        for r in &self.rows {
            let mut cells = vec![
                r.pid.to_string(),
                r.ppid.to_string(),
                r.pgid.to_string(),
                r.sid.to_string(),
                r.stat.to_string(),
            ];
            if self.host_view {
                cells.push(r.vps.unwrap_or(0).to_string());
                cells.push(dash(r.vpid));
            }
            if named {
                cells.push(dash(r.name.as_deref()));
            }
            lines.push(cells);
        }
        let widths: Vec<usize> = (0..header.len())
            .map(|i| lines.iter().map(|l| l[i].len()).max().unwrap_or(0))
            .collect();
        let left = |i: usize| header[i] == "STAT" || header[i] == "NAME";
        let mut out = String::new();
        for cells in &lines {
            let mut line = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    line.push(' ');
                }
                if left(i) {
                    let _ = write!(line, "{cell:<w$}", w = widths[i]);
                } else {
                    let _ = write!(line, "{cell:>w$}", w = widths[i]);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// The view as a process tree: each task under its parent (by PPID),
    /// tasks whose parent is not in the view at the top.
    #[must_use]
    pub fn tree(&self) -> String {
        let pids: BTreeSet<RawPid> = self.rows.iter().map(|r| r.pid).collect();
        let mut children: BTreeMap<RawPid, Vec<&PsRow>> = BTreeMap::new();
        let mut roots = Vec::new();
        for row in &self.rows {
            // A thread hangs under its group leader; a process under its parent.
            let up = if row.tgid != row.pid && pids.contains(&row.tgid) {
                row.tgid
            } else {
                row.ppid
            };
            if up != row.pid && pids.contains(&up) {
                children.entry(up).or_default().push(row);
            } else {
                roots.push(row);
            }
        }
        let mut out = String::new();
        for root in roots {
            self.tree_lines(root, &children, "", None, &mut out);
        }
        out
    }

    fn tree_lines(
        &self,
        row: &PsRow,
        children: &BTreeMap<RawPid, Vec<&PsRow>>,
        prefix: &str,
        last: Option<bool>,
        out: &mut String,
    ) {
        let (branch, next_prefix) = match last {
            None => (String::new(), String::new()),
            Some(true) => (format!("{prefix}└─ "), format!("{prefix}   ")),
            Some(false) => (format!("{prefix}├─ "), format!("{prefix}│  ")),
        };
        let _ = writeln!(out, "{branch}{}", self.label(row));
        let kids = children.get(&row.pid).map_or(&[][..], Vec::as_slice);
        for (i, kid) in kids.iter().enumerate() {
            self.tree_lines(kid, children, &next_prefix, Some(i + 1 == kids.len()), out);
        }
    }

    fn label(&self, row: &PsRow) -> String {
        let mut label = row.pid.to_string();
        if let Some(name) = &row.name {
            let _ = write!(label, " {name}");
        }
        let _ = write!(label, " [{}", row.stat);
        if row.tgid != row.pid {
            let _ = write!(label, " thread of {}", row.tgid);
        }
        if self.host_view {
            if let Some(vps) = row.vps.filter(|&v| v != 0) {
                let _ = write!(label, " vps {vps} vpid {}", dash(row.vpid));
            }
        }
        label.push(']');
        label
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pid: RawPid, ppid: RawPid, vps: Option<u32>, vpid: Option<RawPid>, name: &str) -> PsRow {
        PsRow {
            pid,
            tgid: pid,
            ppid,
            pgid: pid,
            sid: pid,
            stat: 'R',
            vps,
            vpid,
            name: Some(name.to_owned()),
        }
    }

    fn sample() -> PsTable {
        PsTable {
            host_view: true,
            rows: vec![
                row(1, 0, None, None, "host"),
                row(300, 1, Some(101), Some(1), "init101"),
                row(301, 300, Some(101), Some(1025), "web"),
                row(302, 300, Some(101), Some(1026), "db"),
            ],
        }
    }

    #[test]
    fn columns_are_aligned() {
        let text = sample().columns();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "PID PPID PGID SID STAT VPS VPID NAME");
        assert_eq!(lines[1], "  1    0    1   1 R      0    - host");
        assert_eq!(lines[3], "301  300  301 301 R    101 1025 web");
    }

    #[test]
    fn tree_nests_children_under_parents() {
        assert_eq!(
            sample().tree(),
            "1 host [R]\n└─ 300 init101 [R vps 101 vpid 1]\n   ├─ 301 web [R vps 101 vpid 1025]\n   └─ 302 db [R vps 101 vpid 1026]\n"
        );
    }
}
