//! The rules: stable IDs, default severities and their documentation.

use std::fmt;

/// How bad a finding is.
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug)]
pub enum Severity {
    /// A likely mix-up that is worth a look; fails the run only with `--deny-warnings`.
    Warning,
    /// A mix-up: fails the run.
    Error,
}

impl Severity {
    /// `error` or `warning`, as printed and as SARIF's `level`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule of the checker. The IDs (`PID000` …) are stable: suppressions and
/// SARIF baselines refer to them.
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug)]
pub enum Rule {
    /// PID000: a file that does not parse, or a malformed `vpid-check:` annotation.
    BadInput,
    /// PID001: a PID of the wrong kind passed to a kind-typed parameter or binding.
    WrongKindArgument,
    /// PID002: a comparison or ordering of a real PID with a virtual one.
    MixedComparison,
    /// PID003: a conversion of a value already of the target kind (double conversion or wrong direction).
    BadConversion,
    /// PID004: a real PID returned from a user-facing function.
    RealPidToUser,
    /// PID005: a typed constructor (`RealPid::from_raw` …) fed a value of the other kind.
    Laundering,
    /// PID006: a field, const or static of declared kind assigned the other kind.
    FieldKindMismatch,
    /// PID007: marker-bit arithmetic by hand outside vpid-core.
    ManualMarkerBit,
    /// PID008: a value that may be either kind reaches a kind-typed sink.
    MaybeEitherKind,
    /// PID009: a function returns the other kind than it declares.
    ReturnKindMismatch,
}

/// The documentation of a rule: what it flags, why, an example and the fix.
#[derive(Copy, Clone, Debug)]
pub struct RuleDoc {
    /// A short kebab-case name (SARIF `name`).
    pub name: &'static str,
    /// One sentence: what the rule flags.
    pub what: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// A snippet that the rule flags.
    pub example: &'static str,
    /// How to fix it.
    pub fix: &'static str,
}

impl Rule {
    /// Every rule, in ID order.
    pub const ALL: [Rule; 10] = [
        Rule::BadInput,
        Rule::WrongKindArgument,
        Rule::MixedComparison,
        Rule::BadConversion,
        Rule::RealPidToUser,
        Rule::Laundering,
        Rule::FieldKindMismatch,
        Rule::ManualMarkerBit,
        Rule::MaybeEitherKind,
        Rule::ReturnKindMismatch,
    ];

    /// The stable ID, e.g. `PID001`.
    #[must_use]
    pub const fn id(self) -> &'static str {
        match self {
            Self::BadInput => "PID000",
            Self::WrongKindArgument => "PID001",
            Self::MixedComparison => "PID002",
            Self::BadConversion => "PID003",
            Self::RealPidToUser => "PID004",
            Self::Laundering => "PID005",
            Self::FieldKindMismatch => "PID006",
            Self::ManualMarkerBit => "PID007",
            Self::MaybeEitherKind => "PID008",
            Self::ReturnKindMismatch => "PID009",
        }
    }

    /// The rule with this ID or name (`PID001` or `wrong-kind-argument`).
    #[must_use]
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.id().eq_ignore_ascii_case(id) || r.doc().name == id)
    }

    /// The default severity.
    #[must_use]
    pub const fn severity(self) -> Severity {
        match self {
            Self::ManualMarkerBit | Self::MaybeEitherKind => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// The rule's documentation.
    #[must_use]
    pub const fn doc(self) -> RuleDoc {
        match self {
            Self::BadInput => RuleDoc {
                name: "bad-input",
                what: "A file that does not parse as Rust, or a `vpid-check:` annotation that is malformed or names no parameter.",
                why: "The checker cannot vouch for code it could not read, and a misspelt annotation silently checks nothing.",
                example: "/// vpid-check: pid=reel\nfn find_task(pid: i32) {}",
                fix: "Fix the syntax error, or write the annotation as `/// vpid-check: NAME=real|virtual|view, return=real|virtual|view`.",
            },
            Self::WrongKindArgument => RuleDoc {
                name: "wrong-kind-argument",
                what: "A PID of one kind passed to a parameter (or a typed binding) that expects the other kind, or a real PID (on every path) passed to one that takes a number in the caller's view (`view`).",
                why: "A virtual PID used where a real one is due finds the wrong task, or none: the OpenVZ rule is that all internal structures hold real PIDs.",
                example: "let v = pid_to_vpid(IdType::Pid, task.pid, map)?;\nfind_task(v); // find_task expects a real pid",
                fix: "Convert at the boundary: `vpid_to_pid` for a number from user space, `pid_to_vpid` for one going to it.",
            },
            Self::MixedComparison => RuleDoc {
                name: "mixed-kind-comparison",
                what: "`==`, `!=`, `<`, `cmp`, `max` … between a real and a virtual PID, or between a real PID and a number declared in the caller's view (`view`).",
                why: "Numbers from different PID spaces never mean the same task; such a comparison is always false or meaningless (Biederman: compare `struct pid`, not numbers).",
                example: "if task.pid == pid_to_vpid(IdType::Pid, other, map)? { reap(task) }",
                fix: "Convert one side so both are of the same kind, best to real.",
            },
            Self::BadConversion => RuleDoc {
                name: "bad-conversion",
                what: "A conversion applied to a value that is already of its target kind: a double conversion or the wrong direction.",
                why: "OpenVZ hits `BUG_ON(is_virtual_pid(pid))` here at run time; vpid-core returns `KindError::WrongKind`. It is a bug in the caller either way.",
                example: "let r = vpid_to_pid(IdType::Pid, arg, map)?;\nlet again = vpid_to_pid(IdType::Pid, r, map)?; // r is already real",
                fix: "Drop the extra conversion, or use the converter of the other direction.",
            },
            Self::RealPidToUser => RuleDoc {
                name: "real-pid-to-user",
                what: "A function marked `/// vpid-check: user-facing` returns a real PID.",
                why: "User space must only ever see virtual PIDs: the mainline tty bug returned `pid_nr` where `pid_vnr` was due and leaked host PIDs into containers.",
                example: "/// vpid-check: user-facing\nfn sys_getppid(t: &Task) -> i32 { t.parent_pid }",
                fix: "Return `pid_to_vpid(...)` of the value.",
            },
            Self::Laundering => RuleDoc {
                name: "laundering",
                what: "A typed constructor (`RealPid::from_raw`, `VirtPid::try_from_raw`, `RealPid::try_from` …) given a raw number of the other kind.",
                why: "Going through `as_raw` and `from_raw` defeats the newtypes: the type now claims a kind the number does not have.",
                example: "let real = RealPid::from_raw(vpid.as_raw());",
                fix: "Convert instead of re-wrapping: `map.to_real(vpid)` or `vpid_to_pid`.",
            },
            Self::FieldKindMismatch => RuleDoc {
                name: "field-kind-mismatch",
                what: "A struct field, const or static declared `/// vpid-check: real|virtual` (or typed `RealPid`/`VirtPid`) given a value of the other kind, or one declared `view` given a value that is real on every path.",
                why: "Stored PIDs outlive the code that stored them: a wrong kind in a table corrupts every later lookup.",
                example: "struct Task { /// vpid-check: real\n pid: i32 }\nTask { pid: pid_to_vpid(IdType::Pid, p, map)? }",
                fix: "Store the real PID; convert when the value leaves for user space.",
            },
            Self::ManualMarkerBit => RuleDoc {
                name: "manual-marker-bit",
                what: "`| VPID_DIV`, `& !VPID_DIV`, `^ VPID_DIV` (or 1024, `1 << VPID_BIT`) applied by hand outside vpid-core.",
                why: "The marker bit is vpid-core's implementation detail: hand-made conversions skip the VPS init (virtual PID 1) and sparse mappings.",
                example: "let v = r | VPID_DIV;",
                fix: "Use `RealPid::to_linear_virt`, `LinearMapping`, or `pid_to_vpid`/`vpid_to_pid`; test with `has_marker_bit`.",
            },
            Self::MaybeEitherKind => RuleDoc {
                name: "maybe-either-kind",
                what: "A value that is real on one path and virtual on another reaches a place that expects one kind.",
                why: "A merge like `if in_vps { vpid } else { pid }` is legitimate in a context-dependent getter, but its result must not be used as one kind.",
                example: "let p = if in_vps { pid_to_vpid(IdType::Pid, r, map)? } else { r };\nfind_task(p);",
                fix: "Keep the two paths apart, or narrow with `is_virtual_pid` before the use.",
            },
            Self::ReturnKindMismatch => RuleDoc {
                name: "return-kind-mismatch",
                what: "A function whose return kind is declared (`return=…` annotation, or a `RealPid`/`VirtPid` return type) returns the other kind (for `return=view`: a real PID).",
                why: "Callers rely on the declared kind; the mismatch spreads to every call site.",
                example: "/// vpid-check: return=real\nfn owner(v: VirtPid) -> i32 { v.as_raw() }",
                fix: "Convert before returning, or correct the annotation.",
            },
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_sorted_and_round_trip() {
        for (i, rule) in Rule::ALL.iter().enumerate() {
            assert_eq!(rule.id(), format!("PID{i:03}"));
            assert_eq!(Rule::from_id(rule.id()), Some(*rule));
            assert_eq!(Rule::from_id(rule.doc().name), Some(*rule));
        }
        assert_eq!(Rule::from_id("PID999"), None);
    }

    #[test]
    fn every_rule_is_documented() {
        for rule in Rule::ALL {
            let doc = rule.doc();
            for text in [doc.name, doc.what, doc.why, doc.example, doc.fix] {
                assert!(!text.trim().is_empty(), "{rule} has an empty doc field");
            }
        }
    }
}
