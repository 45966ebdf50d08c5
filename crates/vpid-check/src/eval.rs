//! The evaluation: inject PID mix-ups into real source mechanically, and
//! count how many the checker finds.
//!
//! Four mutation operators, each applied at every site it fits, one mutant
//! per site:
//!
//! * **drop a conversion**: a call of a converter is replaced by the value it
//!   converts (`map.to_virt(r)` → `r`, `pid_to_vpid(id, r, m)` → `Ok(r)`,
//!   a local helper that maps a `RealPid` to a raw number → `r.as_raw()`, one
//!   that maps a raw number to a `RealPid` → `RealPid::from_raw(raw)`);
//! * **swap its direction**: a converter is replaced by its inverse
//!   (`pid_to_vpid` ↔ `vpid_to_pid`, `to_virt` ↔ `to_real`, …);
//! * **swap two PID arguments**: two arguments of a call that the clean
//!   analysis gives different kinds, or that the callee expects of different
//!   kinds, change places;
//! * **compare a real with a virtual**: in a comparison of PIDs, one side is
//!   replaced by its value in the other space (`a == b` →
//!   `a == b.to_linear_virt()`, or through `pid_to_vpid`/`vpid_to_pid`).
//!
//! A mutant counts as found when the checker reports anything on the mutated
//! file that it does not report on the clean one. Sites in `#[cfg(test)]`
//! modules and `#[test]` functions are skipped (tests assert on raw numbers).

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use syn::spanned::Spanned;
use syn::visit::{self, Visit};

use crate::collect::type_name;
use crate::flow::Probe;
use crate::kind::Kind;
use crate::{
    Checker, Finding, SourceFile, Table, check_file, file_context, probe_file, with_parsed,
};

/// A mutation operator.
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug)]
pub enum Operator {
    /// Drop a conversion.
    DropConversion,
    /// Swap a conversion's direction.
    SwapDirection,
    /// Swap two PID arguments.
    SwapArguments,
    /// Compare a real PID with a virtual one.
    MixedComparison,
}

impl Operator {
    /// Every operator.
    pub const ALL: [Operator; 4] = [
        Operator::DropConversion,
        Operator::SwapDirection,
        Operator::SwapArguments,
        Operator::MixedComparison,
    ];
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DropConversion => "drop a conversion",
            Self::SwapDirection => "swap its direction",
            Self::SwapArguments => "swap two pid arguments",
            Self::MixedComparison => "compare real with virtual",
        })
    }
}

/// One injected bug.
#[derive(Clone, Debug)]
pub struct Mutant {
    /// The operator.
    pub operator: Operator,
    /// The index of the mutated file.
    pub file: usize,
    /// The line of the change.
    pub line: usize,
    /// What changed: `before` → `after`.
    pub change: String,
    /// The mutated text of the file.
    pub text: String,
}

/// The score of one operator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Score {
    /// Mutants injected.
    pub injected: usize,
    /// Mutants the checker found.
    pub found: usize,
}

/// The result of an evaluation.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    /// Files checked.
    pub files: usize,
    /// Their lines.
    pub lines: usize,
    /// Findings on the clean source (the target is none).
    pub clean_findings: Vec<Finding>,
    /// Per operator.
    pub scores: Vec<(Operator, Score)>,
    /// The mutants not found: `file:line operator: change`.
    pub missed: Vec<String>,
}

impl Evaluation {
    /// All mutants injected.
    #[must_use]
    pub fn injected(&self) -> usize {
        self.scores.iter().map(|(_, s)| s.injected).sum()
    }

    /// All mutants found.
    #[must_use]
    pub fn found(&self) -> usize {
        self.scores.iter().map(|(_, s)| s.found).sum()
    }

    /// found / injected (1.0 when nothing was injected).
    #[must_use]
    pub fn rate(&self) -> f64 {
        let n = self.injected();
        if n == 0 {
            1.0
        } else {
            self.found() as f64 / n as f64
        }
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "files: {}, lines: {}", self.files, self.lines)?;
        writeln!(
            f,
            "findings on the clean source: {}",
            self.clean_findings.len()
        )?;
        writeln!(f, "| operator | injected | found |")?;
        writeln!(f, "|---|---:|---:|")?;
        for (op, s) in &self.scores {
            writeln!(f, "| {op} | {} | {} |", s.injected, s.found)?;
        }
        writeln!(
            f,
            "| **total** | **{}** | **{}** ({:.1}%) |",
            self.injected(),
            self.found(),
            100.0 * self.rate()
        )?;
        for m in &self.missed {
            writeln!(f, "missed: {m}")?;
        }
        Ok(())
    }
}

/// Converters of the built-in API, with the inverse of each.
const BUILTIN_FREE: &[(&str, &str)] = &[
    ("pid_to_vpid", "vpid_to_pid"),
    ("vpid_to_pid", "pid_to_vpid"),
    ("vpid_to_pid_strict", "pid_to_vpid"),
    ("comb_pid_to_vpid", "comb_vpid_to_pid"),
    ("comb_vpid_to_pid", "comb_pid_to_vpid"),
];

/// Local helpers that convert, found from their signatures.
#[derive(Default)]
struct LocalConverters {
    /// name → (arity, index of the `RealPid` parameter): `RealPid` → raw view number.
    to_view: HashMap<String, (usize, usize)>,
    /// name → (arity, index of the raw parameter, returns a `Result`): raw → `RealPid`.
    to_real: HashMap<String, (usize, usize, bool)>,
}

impl LocalConverters {
    fn add(&mut self, sig: &syn::Signature) {
        let params: Vec<Option<String>> = sig
            .inputs
            .iter()
            .filter_map(|i| match i {
                syn::FnArg::Typed(t) => Some(type_name(&t.ty, None)),
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        let syn::ReturnType::Type(_, ret) = &sig.output else {
            return;
        };
        let name = sig.ident.to_string();
        let find = |ty: &str| params.iter().position(|p| p.as_deref() == Some(ty));
        let outer = match &**ret {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        let inner = type_name(ret, None);
        match (outer.as_deref(), inner.as_deref()) {
            (Some("RawPid" | "i32"), _) => {
                if let Some(i) = find("RealPid") {
                    self.to_view.insert(name, (params.len(), i));
                }
            }
            (Some(o @ ("Option" | "Result")), Some("RealPid")) => {
                if let Some(i) = find("RawPid") {
                    self.to_real.insert(name, (params.len(), i, o == "Result"));
                }
            }
            _ => {}
        }
    }
}

fn is_test_attr(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("test")
            || (a.path().is_ident("cfg") && a.parse_args::<syn::Ident>().is_ok_and(|i| i == "test"))
    })
}

/// Byte offsets of positions in one text.
struct Offsets<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        }
    }

    fn at(&self, line: usize, col: usize) -> usize {
        let start = self
            .starts
            .get(line - 1)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..]
            .char_indices()
            .nth(col)
            .map_or(self.text.len(), |(i, _)| start + i)
    }

    fn range(&self, span: proc_macro2::Span) -> Range<usize> {
        let (s, e) = (span.start(), span.end());
        self.at(s.line, s.column)..self.at(e.line, e.column)
    }

    fn src(&self, span: proc_macro2::Span) -> &'a str {
        &self.text[self.range(span)]
    }
}

/// An expression's (start, end) as (line, column) pairs.
type SpanKey = ((usize, usize), (usize, usize));

struct Site {
    operator: Operator,
    line: usize,
    edits: Vec<(Range<usize>, String)>,
}

struct SiteFinder<'a, 'b> {
    off: &'b Offsets<'a>,
    locals: &'b LocalConverters,
    probes: HashMap<SpanKey, &'b Probe>,
    table: &'b Table,
    cx: crate::FileContext,
    sites: Vec<Site>,
}

impl SiteFinder<'_, '_> {
    fn probe(&self, e: &syn::Expr) -> Option<&Probe> {
        let (s, t) = (e.span().start(), e.span().end());
        self.probes
            .get(&((s.line, s.column), (t.line, t.column)))
            .copied()
    }

    fn site(
        &mut self,
        operator: Operator,
        span: proc_macro2::Span,
        edits: Vec<(Range<usize>, String)>,
    ) {
        self.sites.push(Site {
            operator,
            line: span.start().line,
            edits,
        });
    }

    fn replace(&mut self, operator: Operator, span: proc_macro2::Span, with: String) {
        let r = self.off.range(span);
        self.site(operator, span, vec![(r, with)]);
    }

    /// Swap-argument sites of a call: pairs the callee expects of different
    /// kinds, or that the clean analysis gives different kinds.
    fn swaps(
        &mut self,
        name: &str,
        owner: Option<&str>,
        method: bool,
        args: &[&syn::Expr],
        span: proc_macro2::Span,
    ) {
        let expected = self
            .table
            .resolve(name, owner, method, args.len(), self.cx)
            .map(|r| r.sig.params);
        let kinds: Vec<Kind> = (0..args.len())
            .map(|i| {
                let e = expected.as_ref().map_or(Kind::Unknown, |p| p[i]);
                if e.is_definite() {
                    return e;
                }
                self.probe(args[i])
                    .filter(|p| p.evident && p.kind.is_definite())
                    .map_or(Kind::Unknown, |p| p.kind)
            })
            .collect();
        for i in 0..args.len() {
            for j in i + 1..args.len() {
                let (a, b) = (kinds[i], kinds[j]);
                if a.is_definite() && b == a.opposite() {
                    let (ra, rb) = (
                        self.off.range(args[i].span()),
                        self.off.range(args[j].span()),
                    );
                    let (ta, tb) = (
                        self.off.src(args[i].span()).to_owned(),
                        self.off.src(args[j].span()).to_owned(),
                    );
                    self.site(Operator::SwapArguments, span, vec![(ra, tb), (rb, ta)]);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for SiteFinder<'_, '_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_test_attr(&m.attrs) {
            visit::visit_item_mod(self, m);
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_test_attr(&f.attrs) {
            visit::visit_item_fn(self, f);
        }
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func {
            if let Some(last) = p.path.segments.last() {
                let name = last.ident.to_string();
                let args: Vec<&syn::Expr> = c.args.iter().collect();
                if let Some((_, inverse)) = BUILTIN_FREE
                    .iter()
                    .find(|(n, _)| *n == name)
                    .filter(|_| args.len() == 3)
                {
                    let arg = self.off.src(args[1].span()).to_owned();
                    self.replace(
                        Operator::DropConversion,
                        c.span(),
                        format!("Ok::<_, vpid_core::KindError>({arg})"),
                    );
                    self.replace(
                        Operator::SwapDirection,
                        last.ident.span(),
                        (*inverse).to_owned(),
                    );
                }
                let owner = p
                    .path
                    .segments
                    .iter()
                    .rev()
                    .nth(1)
                    .map(|s| s.ident.to_string());
                self.swaps(
                    &name,
                    owner
                        .as_deref()
                        .filter(|o| o.starts_with(char::is_uppercase)),
                    false,
                    &args,
                    c.span(),
                );
            }
        }
        visit::visit_expr_call(self, c);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let name = m.method.to_string();
        let recv = self.off.src(m.receiver.span()).to_owned();
        let args: Vec<&syn::Expr> = m.args.iter().collect();
        let arg = |i: usize| self.off.src(args[i].span()).to_owned();
        let span = m.span();
        let method_span = m.method.span();
        match (name.as_str(), args.len()) {
            ("to_linear_virt", 0) => {
                self.replace(Operator::DropConversion, span, recv);
                self.replace(
                    Operator::SwapDirection,
                    method_span,
                    "linear_real".to_owned(),
                );
            }
            ("linear_real", 0) => {
                self.replace(Operator::DropConversion, span, format!("Some({recv})"));
                self.replace(
                    Operator::SwapDirection,
                    method_span,
                    "to_linear_virt".to_owned(),
                );
            }
            ("to_virt", 1) => {
                self.replace(Operator::DropConversion, span, arg(0));
                self.replace(Operator::SwapDirection, method_span, "to_real".to_owned());
            }
            ("to_real", 1) => {
                self.replace(Operator::DropConversion, span, format!("Some({})", arg(0)));
                self.replace(Operator::SwapDirection, method_span, "to_virt".to_owned());
            }
            _ => {
                if let Some(&(_, i)) = self
                    .locals
                    .to_view
                    .get(&name)
                    .filter(|(n, _)| *n == args.len())
                {
                    self.replace(
                        Operator::DropConversion,
                        span,
                        format!("{}.as_raw()", arg(i)),
                    );
                } else if let Some(&(_, i, result)) = self
                    .locals
                    .to_real
                    .get(&name)
                    .filter(|(n, ..)| *n == args.len())
                {
                    let tail = if result { ".ok_or(Errno::ESRCH)" } else { "" };
                    self.replace(
                        Operator::DropConversion,
                        span,
                        format!("RealPid::from_raw({}){tail}", arg(i)),
                    );
                }
            }
        }
        self.swaps(&name, None, true, &args, span);
        visit::visit_expr_method_call(self, m);
    }

    fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
        use syn::BinOp as B;
        if matches!(
            b.op,
            B::Eq(_) | B::Ne(_) | B::Lt(_) | B::Le(_) | B::Gt(_) | B::Ge(_)
        ) {
            let known =
                |p: Option<&Probe>| p.filter(|p| p.evident && p.kind.is_definite()).cloned();
            let (l, r) = (known(self.probe(&b.left)), known(self.probe(&b.right)));
            let literal = |e: &syn::Expr| matches!(e, syn::Expr::Lit(_) | syn::Expr::Unary(_));
            // One side is a PID of known kind K: the other side is replaced
            // by its value in the other space (converted out of K).
            let target = match (&l, &r) {
                (Some(l), _) if !literal(&b.right) => {
                    Some((&*b.right, l.kind, r.as_ref().is_some_and(|r| r.typed)))
                }
                (None, Some(r)) if !literal(&b.left) => Some((&*b.left, r.kind, false)),
                _ => None,
            };
            if let Some((side, kind, typed)) = target {
                let text = self.off.src(side.span()).to_owned();
                let converted = match (kind, typed) {
                    (Kind::Real, true) => format!("({text}).to_linear_virt()"),
                    (Kind::Virtual, true) => format!("({text}).linear_real().unwrap()"),
                    (Kind::Real, false) => format!(
                        "vpid_core::convert::pid_to_vpid(vpid_core::IdType::Pid, {text}, None).unwrap_or(0)"
                    ),
                    _ => format!(
                        "vpid_core::convert::vpid_to_pid(vpid_core::IdType::Pid, {text}, None).unwrap_or(0)"
                    ),
                };
                self.replace(Operator::MixedComparison, side.span(), converted);
            }
        }
        visit::visit_expr_binary(self, b);
    }
}

fn apply(text: &str, edits: &[(Range<usize>, String)]) -> String {
    let mut edits: Vec<&(Range<usize>, String)> = edits.iter().collect();
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = text.to_owned();
    for (r, with) in edits {
        out.replace_range(r.clone(), with);
    }
    out
}

/// Every mutant of the files, given the table of the clean files.
#[must_use]
pub fn mutants(files: &[SourceFile], table: &Table) -> Vec<Mutant> {
    let mut locals = LocalConverters::default();
    for f in files {
        with_parsed(&f.text, |parsed| {
            if let Ok(file) = parsed {
                struct Sigs<'l>(&'l mut LocalConverters);
                impl<'ast> Visit<'ast> for Sigs<'_> {
                    fn visit_signature(&mut self, s: &'ast syn::Signature) {
                        self.0.add(s);
                    }
                }
                Sigs(&mut locals).visit_file(file);
            }
        });
    }
    let mut out = Vec::new();
    for (index, f) in files.iter().enumerate() {
        let probes = probe_file(f, table);
        let off = Offsets::new(&f.text);
        let sites = with_parsed(&f.text, |parsed| {
            let Ok(file) = parsed else { return Vec::new() };
            let mut finder = SiteFinder {
                off: &off,
                locals: &locals,
                probes: probes.iter().map(|p| ((p.start, p.end), p)).collect(),
                table,
                cx: file_context(&f.path, &f.text),
                sites: Vec::new(),
            };
            finder.visit_file(file);
            finder.sites
        });
        for site in sites {
            let before: Vec<&str> = site.edits.iter().map(|(r, _)| &f.text[r.clone()]).collect();
            let after: Vec<&str> = site.edits.iter().map(|(_, w)| w.as_str()).collect();
            out.push(Mutant {
                operator: site.operator,
                file: index,
                line: site.line,
                change: format!("{} -> {}", before.join(" / "), after.join(" / ")),
                text: apply(&f.text, &site.edits),
            });
        }
    }
    out
}

/// What a finding says, without the line numbers that an edit may shift.
fn signature(f: &Finding) -> (String, String) {
    let msg = match f.message.find(" (it became") {
        Some(i) => f.message[..i].to_owned(),
        None => f.message.clone(),
    };
    (f.rule.id().to_owned(), msg)
}

/// Injects every mutant and checks each.
#[must_use]
pub fn evaluate(checker: &Checker, files: &[SourceFile]) -> Evaluation {
    let table = checker.table_for(files);
    let clean = checker.check_with_table(files, &table);
    let mut clean_by_file: HashMap<&str, Vec<(String, String)>> = HashMap::new();
    for f in &clean.findings {
        clean_by_file
            .entry(f.file.as_str())
            .or_default()
            .push(signature(f));
    }
    let mutants = mutants(files, &table);
    let results: Vec<(Operator, bool, String)> = {
        use rayon::prelude::*;
        mutants
            .par_iter()
            .map(|m| {
                let path = &files[m.file].path;
                let mutated = SourceFile::new(path.clone(), m.text.clone());
                let (findings, _, _) = check_file(&mutated, &table);
                let mut base = clean_by_file
                    .get(path.as_str())
                    .cloned()
                    .unwrap_or_default();
                let found = findings.iter().any(|f| {
                    let s = signature(f);
                    match base.iter().position(|b| *b == s) {
                        Some(i) => {
                            base.swap_remove(i);
                            false
                        }
                        None => true,
                    }
                });
                (
                    m.operator,
                    found,
                    format!("{path}:{} {}: {}", m.line, m.operator, m.change),
                )
            })
            .collect()
    };
    let mut scores: Vec<(Operator, Score)> = Operator::ALL
        .iter()
        .map(|o| (*o, Score::default()))
        .collect();
    let mut missed = Vec::new();
    for (op, found, what) in results {
        if let Some((_, s)) = scores.iter_mut().find(|(o, _)| *o == op) {
            s.injected += 1;
            s.found += usize::from(found);
        }
        if !found {
            missed.push(what);
        }
    }
    Evaluation {
        files: files.len(),
        lines: clean.lines,
        clean_findings: clean.findings,
        scores,
        missed,
    }
}
