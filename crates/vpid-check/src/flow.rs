//! The kind inference over one function body, and the rules it checks.
//!
//! An abstract interpreter over the syn tree: every expression gets a `Val`
//! (its [`Kind`], where the kind was born, its type name where known), an
//! environment maps locals and field paths (`t.pid`) to values, `if`/`match`
//! arms are evaluated on copies of the environment and joined, and loops are
//! run twice so loop-carried kinds reach a fixed point. Sinks (parameters of
//! known kind, comparisons, conversions, returns, fields) are checked as the
//! values reach them. A call that passes a closure to a function of the same
//! file is analyzed with that function specialized for the call (what it
//! passes the closure, what it makes of the closure's result).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;

use crate::annot;
use crate::collect::{Collected, FnItem, Part, type_info, type_kind, type_name};
use crate::facts::{FileContext, FnSig, Role, Table};
use crate::kind::Kind;
use crate::rules::Rule;
use crate::spec::{self, MARKER_CONSTS};

/// A finding before it is given a file: rule, span and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFinding {
    /// The rule.
    pub rule: Rule,
    /// 1-based start line and 0-based start column (in characters).
    pub start: (usize, usize),
    /// 1-based end line and 0-based end column, exclusive.
    pub end: (usize, usize),
    /// The message.
    pub message: String,
}

/// Marker-bit constants seen in an expression.
#[derive(Copy, Clone, Eq, PartialEq, Debug, Default)]
enum Marker {
    #[default]
    None,
    /// `VPID_DIV`, `1 << VPID_BIT`, 1024.
    Bit,
    /// `!VPID_DIV`.
    NotBit,
}

/// The abstract value of an expression.
#[derive(Clone, Debug, Default)]
struct Val {
    kind: Kind,
    /// Where the kind was born (line, column).
    origin: Option<(usize, usize)>,
    /// The type name, where known (for field access and method resolution).
    ty: Option<Rc<str>>,
    marker: Marker,
    /// The kind holds on some paths only; on others nothing is known. Such a
    /// value is never reported (no evidence on every path).
    partial: bool,
    /// A literal: kind-neutral (0, -1, 1 …), the identity of `join`.
    neutral: bool,
    /// The elements of a tuple value.
    parts: Option<Rc<[Val]>>,
    /// Declared a number in the caller's view (`view`): either kind, but
    /// never to be compared with a real PID.
    view: bool,
}

impl Val {
    fn of(kind: Kind, at: Span) -> Self {
        let origin = kind.is_definite().then(|| line_col(at));
        Self {
            kind,
            origin,
            ..Self::default()
        }
    }

    fn neutral() -> Self {
        Self {
            neutral: true,
            ..Self::default()
        }
    }

    /// Whether a sink should judge this value.
    fn evident(&self) -> bool {
        !self.partial && self.kind != Kind::Unknown
    }

    fn with_ty(mut self, ty: Option<Rc<str>>) -> Self {
        self.ty = ty;
        self
    }

    /// A value of a declared type, born at `at`.
    fn typed(kind: Kind, at: Span, ty: Option<&str>, parts: Option<&[Part]>) -> Self {
        Self {
            parts: parts.map(|ps| {
                ps.iter()
                    .map(|(k, t)| Val::of(*k, at).with_ty(t.as_deref().map(Rc::from)))
                    .collect()
            }),
            view: kind == Kind::Conflict,
            ..Self::of(kind, at).with_ty(ty.map(Rc::from))
        }
    }

    fn join(&self, other: &Self) -> Self {
        if self.neutral {
            return other.clone();
        }
        if other.neutral {
            return self.clone();
        }
        Self {
            partial: self.partial
                || other.partial
                || ((self.kind == Kind::Unknown) != (other.kind == Kind::Unknown)),
            neutral: false,
            kind: self.kind.join(other.kind),
            origin: if self.kind.is_definite() {
                self.origin
            } else {
                other.origin
            },
            ty: if self.ty == other.ty {
                self.ty.clone()
            } else {
                None
            },
            marker: if self.marker == other.marker {
                self.marker
            } else {
                Marker::None
            },
            parts: match (&self.parts, &other.parts) {
                (Some(a), Some(b)) if a.len() == b.len() => {
                    Some(a.iter().zip(b.iter()).map(|(x, y)| x.join(y)).collect())
                }
                _ => None,
            },
            view: self.view && other.view,
        }
    }
}

/// A finding at a span.
#[must_use]
pub fn raw_at(rule: Rule, span: Span, message: String) -> RawFinding {
    let (s, e) = (span.start(), span.end());
    RawFinding {
        rule,
        start: (s.line, s.column),
        end: (e.line, e.column),
        message,
    }
}

/// Whether a function's return kind is declared rather than to be inferred.
fn declares_return(f: &FnItem<'_>) -> bool {
    let ann = annot::parse(f.attrs).unwrap_or_default();
    ann.user_facing
        || ann.param("return").is_some()
        || matches!(&f.sig.output, syn::ReturnType::Type(_, ty) if type_kind(ty, f.self_ty.as_deref()).is_definite())
}

/// Types that never hold a PID: a function returning one needs no inference.
const NOT_A_PID: &[&str] = &[
    "bool", "String", "str", "char", "f32", "f64", "Ordering", "Duration", "Path", "PathBuf",
];

/// Whether a function's return value may carry a PID kind that is not declared.
fn infers_return(f: &FnItem<'_>) -> bool {
    match &f.sig.output {
        syn::ReturnType::Default => false,
        syn::ReturnType::Type(_, ty) => {
            let info = type_info(ty, f.self_ty.as_deref());
            !info.name.as_deref().is_some_and(|n| NOT_A_PID.contains(&n)) && !declares_return(f)
        }
    }
}

fn line_col(span: Span) -> (usize, usize) {
    let s = span.start();
    (s.line, s.column)
}

/// The environment: bindings, innermost last; `dead` after a `return`.
#[derive(Clone, Debug, Default)]
struct Env {
    vars: Vec<(Rc<str>, Val)>,
    dead: bool,
}

impl Env {
    fn get(&self, name: &str) -> Option<&Val> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v)
    }

    fn bind(&mut self, name: &str, val: Val) {
        self.vars.push((Rc::from(name), val));
    }

    /// A strong update of the innermost binding, or a new one.
    fn assign(&mut self, name: &str, val: Val) {
        match self.vars.iter_mut().rev().find(|(n, _)| &**n == name) {
            Some((_, v)) => *v = val,
            None => self.bind(name, val),
        }
    }

    /// Whether both environments give every binding the same kind.
    fn same_kinds(&self, other: &Env) -> bool {
        self.vars.len() == other.vars.len()
            && self
                .vars
                .iter()
                .zip(&other.vars)
                .all(|((_, a), (_, b))| a.kind == b.kind && a.partial == b.partial)
    }

    fn get_ident(&self, ident: &proc_macro2::Ident) -> Option<&Val> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| ident == &**n)
            .map(|(_, v)| v)
    }

    fn join(a: Env, b: Env) -> Env {
        match (a.dead, b.dead) {
            (true, _) => b,
            (_, true) => a,
            _ => {
                let n = a.vars.len().min(b.vars.len());
                let vars = a
                    .vars
                    .into_iter()
                    .zip(b.vars)
                    .take(n)
                    .map(|((name, x), (_, y))| (name, x.join(&y)))
                    .collect();
                Env { vars, dead: false }
            }
        }
    }
}

/// Variables (or field paths) and the kind a condition gives them.
/// `Kind::Unknown` narrows to a kind-neutral sentinel (`x <= 0`, `x == 0`).
type Narrowing = Vec<(String, Kind)>;

/// Whether an expression's value is the function's return value.
#[derive(Copy, Clone, Eq, PartialEq)]
enum Pos {
    Value,
    Return,
}

pub use crate::facts::FnKey;

/// The inferred return kind of a local function: the kind, and whether it
/// holds on some return paths only; `None` while it is being inferred (a
/// recursive call sees no evidence).
type InferredKind = Option<(Kind, bool)>;

/// Analyzes the functions of one file.
pub struct FileAnalysis<'t, 'f> {
    /// The facts (built-in plus collected).
    pub table: &'t Table,
    /// Which facts apply here.
    pub cx: FileContext,
    /// The file's functions whose return kind is inferred, by key.
    undeclared: HashMap<FnKey, Vec<&'f FnItem<'f>>>,
    /// Return kinds inferred so far, on demand (memoized).
    inferred: RefCell<HashMap<FnKey, InferredKind>>,
    /// When set, the final pass records the value of every expression here.
    pub probe: Option<RefCell<Vec<Probe>>>,
    /// The file's functions by key, where the key names one function only
    /// (higher-order helpers are specialized per call).
    local_fns: HashMap<FnKey, &'f FnItem<'f>>,
    /// How many specializations are under way (bounds recursion).
    depth: Cell<u32>,
}

/// The result of analyzing one function.
#[derive(Debug, Default)]
pub struct FnResult {
    /// The join of its return values: kind, and whether it holds on some paths only.
    pub ret: (Kind, bool),
    /// Its findings.
    pub findings: Vec<RawFinding>,
    /// Whether it used another file's inferred return kind.
    pub cross_file: bool,
}

/// Per function of a file, in order: its findings from the first pass and
/// whether it must be analyzed again.
#[derive(Debug, Default)]
pub struct FirstPass {
    per_fn: Vec<(Vec<RawFinding>, bool)>,
}

/// The kind the analysis gave one expression (for the evaluation's mutants).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// 1-based line and 0-based column of the expression's start.
    pub start: (usize, usize),
    /// 1-based line and 0-based column of its end (exclusive).
    pub end: (usize, usize),
    /// Its kind.
    pub kind: Kind,
    /// Whether the kind holds on every path (a sink would judge it).
    pub evident: bool,
    /// Whether it is a `RealPid` or `VirtPid` rather than a raw number.
    pub typed: bool,
}

struct Body<'a, 't, 'f> {
    file: &'a FileAnalysis<'t, 'f>,
    self_ty: Option<Rc<str>>,
    fn_name: String,
    /// The declared return kind and the rule that checks it.
    ret_expect: Option<(Kind, Rule)>,
    /// The expectation is the vps API's caller view, checked inside vps
    /// itself: a merge of both kinds (host and VPS callers) is fine there.
    caller_view: bool,
    ret_join: Option<Val>,
    emit: bool,
    silent: u32,
    findings: Vec<RawFinding>,
    /// Whether another file's inferred return kind was used.
    cross_file: bool,
    /// In a call-site specialization of a higher-order function: its
    /// closure parameter.
    callback: Option<Callback>,
}

/// How deep specializations of higher-order functions nest (a helper that
/// passes a closure to itself ends here).
const MAX_SPECIALIZATION_DEPTH: u32 = 3;

/// A call-site specialization of a local higher-order function.
struct Special<'v> {
    /// The values of the call's arguments (the closure's is unknown).
    args: &'v [Val],
    /// The name of the closure parameter.
    callback: &'v str,
    /// The value the closure gives, once known.
    result: Option<Val>,
}

/// The closure parameter of a specialized higher-order function.
struct Callback {
    name: String,
    /// What a call of it gives.
    result: Option<Val>,
    /// The join of the first arguments it is called with.
    seen: Option<Val>,
}

const TRANSPARENT_METHODS: &[&str] = &[
    "as_raw",
    "as_raw_nonzero",
    "into",
    "clone",
    "to_owned",
    "unwrap",
    "expect",
    "unwrap_or_default",
    "ok",
    "copied",
    "cloned",
    "abs",
    "unsigned_abs",
    "as_ref",
    "as_mut",
    "checked_neg",
    "wrapping_neg",
    "iter",
    "into_iter",
    "iter_mut",
    "next",
    "next_back",
    "first",
    "last",
    "rev",
    "peekable",
    "ok_or",
    "ok_or_else",
    "map_err",
    "borrow",
    "get_or_insert",
    "unwrap_or_else",
    "try_into",
    "flatten",
    "collect",
    "to_vec",
    "chain",
];
const ZERO_ARG_ONLY: &[&str] = &["get", "min", "max", "values", "values_mut", "keys"];
/// Lookups in a collection: the element's kind (the key's kind is not tracked).
const ONE_ARG_LOOKUPS: &[&str] = &["get", "get_mut", "remove", "take", "range"];
/// Names of the standard collections' methods: on a receiver of unknown
/// type they are taken to be a collection's, not a crate type's namesake.
const COLLECTION_METHODS: &[&str] = &[
    "contains",
    "contains_key",
    "get",
    "get_mut",
    "insert",
    "remove",
    "take",
    "range",
    "entry",
];
/// Insertions into a collection: the (last) argument must have the element's kind.
const INSERTIONS: &[&str] = &["push", "push_back", "push_front", "insert"];
const CLOSURE_METHODS: &[&str] = &[
    "then",
    "map",
    "and_then",
    "filter_map",
    "find_map",
    "is_some_and",
    "map_or",
];
const KEEP_WITH_CLOSURE: &[&str] = &["filter", "find", "inspect", "take_while", "skip_while"];
const COMPARE_METHODS: &[&str] = &["eq", "ne", "cmp", "partial_cmp", "lt", "le", "gt", "ge"];
const TRANSPARENT_WRAPPERS: &[&str] = &[
    "Box", "Rc", "Arc", "Cell", "RefCell", "Wrapping", "Mutex", "RwLock", "Reverse",
];

fn is_pid_type(name: &str) -> bool {
    name == "RealPid" || name == "VirtPid"
}

fn qualifier(path: &syn::Path) -> Option<String> {
    let n = path.segments.len();
    (n >= 2).then(|| path.segments[n - 2].ident.to_string())
}

fn is_type_name(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}

fn int_value(e: &syn::Expr) -> Option<i128> {
    match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse().ok(),
        syn::Expr::Paren(p) => int_value(&p.expr),
        _ => None,
    }
}

/// `x`, `self.f`, `a.b.c` as an environment key.
fn path_key(e: &syn::Expr) -> Option<String> {
    match e {
        syn::Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(ToString::to_string),
        syn::Expr::Field(f) => field_key(f),
        syn::Expr::Paren(p) => path_key(&p.expr),
        syn::Expr::Reference(r) => path_key(&r.expr),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Deref(_),
            expr,
            ..
        }) => path_key(expr),
        _ => None,
    }
}

fn arity(sig: &syn::Signature) -> usize {
    sig.inputs
        .iter()
        .filter(|i| matches!(i, syn::FnArg::Typed(_)))
        .count()
}

fn field_key(f: &syn::ExprField) -> Option<String> {
    let base = path_key(&f.base)?;
    Some(match &f.member {
        syn::Member::Named(i) => format!("{base}.{i}"),
        syn::Member::Unnamed(i) => format!("{base}.{}", i.index),
    })
}

impl<'t, 'f> FileAnalysis<'t, 'f> {
    /// An analysis of a file's functions against `table`.
    #[must_use]
    pub fn new(table: &'t Table, cx: FileContext, fns: &'f [FnItem<'f>]) -> Self {
        let mut undeclared: HashMap<FnKey, Vec<&'f FnItem<'f>>> = HashMap::new();
        for f in fns.iter().filter(|f| infers_return(f)) {
            let key = (
                f.self_ty.as_deref().map(str::to_owned),
                f.sig.ident.to_string(),
            );
            undeclared.entry(key).or_default().push(f);
        }
        let mut by_key: HashMap<FnKey, Vec<&'f FnItem<'f>>> = HashMap::new();
        for f in fns {
            let key = (
                f.self_ty.as_deref().map(str::to_owned),
                f.sig.ident.to_string(),
            );
            by_key.entry(key).or_default().push(f);
        }
        let local_fns = by_key
            .into_iter()
            .filter_map(|(k, v)| match v.as_slice() {
                [one] => Some((k, *one)),
                _ => None,
            })
            .collect();
        Self {
            table,
            cx,
            undeclared,
            inferred: RefCell::default(),
            probe: None,
            local_fns,
            depth: Cell::new(0),
        }
    }

    /// The inferred return kind of every function whose return kind is not declared.
    #[must_use]
    pub fn infer_all(&self) -> Vec<(FnKey, (Kind, bool))> {
        self.undeclared
            .keys()
            .map(|k| (k.clone(), self.infer(k)))
            .collect()
    }

    /// Every finding of a collected file: malformed annotations, function
    /// bodies, const initializers.
    #[must_use]
    pub fn findings(&self, collected: &Collected<'_>) -> Vec<RawFinding> {
        let first = self.first_pass(collected);
        self.final_findings(collected, first)
    }

    /// Analyzes every function once, reporting, and records which ones used
    /// another file's inferred return kinds (those are analyzed again by
    /// [`FileAnalysis::final_findings`] once every file's kinds are known).
    /// A function whose return kind is inferred gets it from this same run.
    #[must_use]
    pub fn first_pass(&self, collected: &Collected<'_>) -> FirstPass {
        let mut per_fn = Vec::with_capacity(collected.fns.len());
        for f in &collected.fns {
            let key = (
                f.self_ty.as_deref().map(str::to_owned),
                f.sig.ident.to_string(),
            );
            let alone = self.undeclared.get(&key).is_some_and(|v| v.len() == 1)
                && !self.inferred.borrow().contains_key(&key);
            if alone {
                self.inferred.borrow_mut().insert(key.clone(), None);
            }
            let r = self.function(f, true);
            if alone {
                self.inferred.borrow_mut().insert(key, Some(r.ret));
            }
            per_fn.push((r.findings, r.cross_file));
        }
        FirstPass { per_fn }
    }

    /// The findings of a file after [`FileAnalysis::first_pass`]: functions
    /// that used other files' inferred kinds are analyzed again against the
    /// current table.
    #[must_use]
    pub fn final_findings(&self, collected: &Collected<'_>, first: FirstPass) -> Vec<RawFinding> {
        let mut raw: Vec<RawFinding> = collected
            .errors
            .iter()
            .map(|(msg, span)| raw_at(Rule::BadInput, *span, msg.clone()))
            .collect();
        for (f, (findings, cross_file)) in collected.fns.iter().zip(first.per_fn) {
            raw.extend(if cross_file {
                self.function(f, true).findings
            } else {
                findings
            });
        }
        for (kind, expr, owner) in &collected.consts {
            raw.extend(self.constant(*kind, expr, owner.clone()));
        }
        raw
    }

    /// The return kind of a local function, inferred from its body on first
    /// use: the join of its return values.
    fn infer(&self, key: &FnKey) -> (Kind, bool) {
        if let Some(known) = self.inferred.borrow().get(key) {
            return known.unwrap_or_default();
        }
        let Some(items) = self.undeclared.get(key) else {
            return (Kind::Unknown, false);
        };
        self.inferred.borrow_mut().insert(key.clone(), None);
        let mut acc: Option<(Kind, bool)> = None;
        for f in items {
            let (kind, partial) = self.function(f, false).ret;
            acc = Some(match acc {
                None => (kind, partial),
                Some((k, p)) => (
                    k.join(kind),
                    p || partial || ((k == Kind::Unknown) != (kind == Kind::Unknown)),
                ),
            });
        }
        let result = acc.unwrap_or_default();
        self.inferred.borrow_mut().insert(key.clone(), Some(result));
        result
    }

    /// Analyzes one function: the join of its return values and, when
    /// `emit` is set, its findings.
    pub fn function(&self, f: &FnItem<'_>, emit: bool) -> FnResult {
        self.run(f, emit, None).0
    }

    /// Analyzes a local higher-order function for one call (silently): its
    /// parameters of no declared kind get the call's argument values, and
    /// its calls of the closure parameter give `closure` (unknown when
    /// `None`). Returns the join of its return values, and the join of the
    /// first arguments it passes to the closure parameter.
    fn specialized(
        &self,
        f: &FnItem<'_>,
        args: &[Val],
        closure_param: &str,
        closure: Option<Val>,
    ) -> (Val, Option<Val>) {
        let special = Special {
            args,
            callback: closure_param,
            result: closure,
        };
        let (r, seen) = self.run(f, false, Some(&special));
        let (kind, partial) = r.ret;
        let ret = Val {
            kind,
            partial,
            ..Val::default()
        };
        (ret, seen)
    }

    /// Analyzes one function, specialized for one call when `special` is
    /// set: its result, and what it passed to the closure parameter.
    fn run(
        &self,
        f: &FnItem<'_>,
        emit: bool,
        special: Option<&Special<'_>>,
    ) -> (FnResult, Option<Val>) {
        let ann = annot::parse(f.attrs).unwrap_or_default();
        let self_ty = f.self_ty.clone();
        let mut body = Body {
            file: self,
            self_ty: self_ty.clone(),
            fn_name: f.sig.ident.to_string(),
            ret_expect: None,
            caller_view: false,
            ret_join: None,
            emit,
            silent: 0,
            findings: Vec::new(),
            cross_file: false,
            callback: special.map(|s| Callback {
                name: s.callback.to_owned(),
                result: s.result.clone(),
                seen: None,
            }),
        };
        let st = self_ty.as_deref();
        let mut env = Env::default();
        // Inside the crate that defines an API function of the table, its
        // parameters have the table's kinds (a vps parameter in the caller's
        // view may be either kind: a host or a VPS caller).
        let api_params = spec::own_api_params(self.cx, &body.fn_name, f.sig);
        let mut position = 0;
        for input in &f.sig.inputs {
            match input {
                syn::FnArg::Receiver(r) => {
                    let kind = ann.param("self").unwrap_or(match st {
                        Some("RealPid") => Kind::Real,
                        Some("VirtPid") => Kind::Virtual,
                        _ => Kind::Unknown,
                    });
                    env.bind("self", Val::of(kind, r.span()).with_ty(self_ty.clone()));
                }
                syn::FnArg::Typed(pt) => {
                    let name = match &*pt.pat {
                        syn::Pat::Ident(i) => i.ident.to_string(),
                        _ => String::new(),
                    };
                    let info = type_info(&pt.ty, st);
                    let mut kind = ann.param(&name).unwrap_or(info.kind);
                    if kind == Kind::Unknown {
                        if let Some((_, k)) = api_params.iter().find(|(n, _)| *n == name) {
                            kind = *k;
                        }
                    }
                    let mut val = Val::typed(
                        kind,
                        pt.pat.span(),
                        info.name.as_deref(),
                        info.parts.as_deref(),
                    );
                    // A call-site specialization: what the caller passes
                    // stands for a parameter of no declared kind.
                    if let Some(arg) = special
                        .and_then(|s| s.args.get(position))
                        .filter(|_| kind == Kind::Unknown)
                    {
                        val = Val {
                            ty: val.ty.clone().or_else(|| arg.ty.clone()),
                            ..arg.clone()
                        };
                    }
                    position += 1;
                    body.bind_pat(&pt.pat, val, &mut env);
                }
            }
        }
        let typed_ret = match &f.sig.output {
            syn::ReturnType::Type(_, ty) => type_kind(ty, st),
            syn::ReturnType::Default => Kind::Unknown,
        };
        body.ret_expect = if ann.user_facing {
            Some((Kind::Virtual, Rule::RealPidToUser))
        } else if let Some(k) = ann.param("return") {
            Some((k, Rule::ReturnKindMismatch))
        } else if typed_ret.is_definite() {
            Some((typed_ret, Rule::ReturnKindMismatch))
        } else if let Some(kind) = spec::own_api_return(self.cx, &body.fn_name, arity(f.sig)) {
            body.caller_view = true;
            Some((kind, Rule::ReturnKindMismatch))
        } else {
            None
        };
        body.block(f.body, &mut env, Pos::Return);
        let ret = body.ret_join.unwrap_or_default();
        let seen = body.callback.and_then(|c| c.seen);
        (
            FnResult {
                ret: (ret.kind, ret.partial),
                findings: body.findings,
                cross_file: body.cross_file,
            },
            seen,
        )
    }

    /// Checks the initializer of a const or static of declared kind.
    pub fn constant(
        &self,
        kind: Kind,
        expr: &syn::Expr,
        self_ty: Option<Rc<str>>,
    ) -> Vec<RawFinding> {
        let mut body = Body {
            file: self,
            self_ty,
            fn_name: String::new(),
            ret_expect: None,
            caller_view: false,
            ret_join: None,
            emit: true,
            silent: 0,
            findings: Vec::new(),
            cross_file: false,
            callback: None,
        };
        let mut env = Env::default();
        let val = body.expr(expr, &mut env, Pos::Value);
        body.sink(&val, kind, expr.span(), Rule::FieldKindMismatch, || {
            "this const or static".to_owned()
        });
        body.findings
    }
}

impl Body<'_, '_, '_> {
    fn report(&mut self, rule: Rule, span: Span, message: String) {
        if !self.emit || self.silent > 0 {
            return;
        }
        let (s, e) = (span.start(), span.end());
        self.findings.push(RawFinding {
            rule,
            start: (s.line, s.column),
            end: (e.line, e.column),
            message,
        });
    }

    fn origin_note(val: &Val, span: Span) -> String {
        match val.origin {
            Some((line, _)) if line != span.start().line => {
                format!(" (it became {} at line {line})", val.kind)
            }
            _ => String::new(),
        }
    }

    /// Checks a value reaching a place that expects `expected`; `what`
    /// describes the place for the message.
    fn sink(
        &mut self,
        val: &Val,
        expected: Kind,
        span: Span,
        rule: Rule,
        what: impl FnOnce() -> String,
    ) {
        if expected == Kind::Conflict {
            // A number in the caller's view: either kind will do, but one
            // that is real on every path was never converted for the caller.
            if val.evident() && val.kind == Kind::Real {
                let note = Self::origin_note(val, span);
                let msg = format!(
                    "{} expects a number in the caller's view, but is given a real pid on every path{note}",
                    what()
                );
                self.report(rule, span, msg);
            }
            return;
        }
        if !expected.is_definite() || !val.evident() {
            return;
        }
        if val.view && expected == Kind::Virtual {
            // A number in the caller's view is what a place for a user's
            // (virtual) number takes: `vpid_to_pid` resolves it.
            return;
        }
        if val.kind == expected.opposite() {
            let note = Self::origin_note(val, span);
            let msg = match rule {
                Rule::BadConversion => format!(
                    "{} converts a {expected} pid, but this value is already {}{note}",
                    what(),
                    val.kind
                ),
                Rule::Laundering => format!(
                    "{} makes a {} pid from a {} value{note}",
                    what(),
                    val.kind.opposite(),
                    val.kind
                ),
                Rule::RealPidToUser => format!(
                    "real pid returned from user-facing function `{}`{note}",
                    self.fn_name
                ),
                Rule::ReturnKindMismatch => format!(
                    "`{}` is declared to return a {expected} pid, but returns a {} one{note}",
                    self.fn_name, val.kind
                ),
                Rule::FieldKindMismatch => format!(
                    "{} is declared {expected}, but is given a {} pid{note}",
                    what(),
                    val.kind
                ),
                _ => format!(
                    "incorrect pid kind in {} (expected {expected}, got {}){note}",
                    what(),
                    val.kind
                ),
            };
            self.report(rule, span, msg);
        } else if val.kind == Kind::Conflict {
            let value = if val.view {
                "a number in the caller's view (real or virtual)"
            } else {
                "a value that may be real or virtual"
            };
            let msg = format!("{value} reaches {}, which expects a {expected} pid", what());
            self.report(Rule::MaybeEitherKind, span, msg);
        }
    }

    fn compare(&mut self, a: &Val, b: &Val, span: Span) {
        let view_with_real = |x: &Val, y: &Val| {
            x.view && x.kind == Kind::Conflict && y.evident() && y.kind == Kind::Real
        };
        if view_with_real(a, b) || view_with_real(b, a) {
            let note = Self::origin_note(if a.view { b } else { a }, span);
            self.report(
                Rule::MixedComparison,
                span,
                format!("comparison of a number in the caller's view with a real pid{note}"),
            );
            return;
        }
        if a.evident() && b.evident() && a.kind.is_definite() && b.kind == a.kind.opposite() {
            let note = [a, b]
                .iter()
                .find_map(|v| Some(Self::origin_note(v, span)).filter(|n| !n.is_empty()))
                .unwrap_or_default();
            self.report(
                Rule::MixedComparison,
                span,
                format!("comparison of a {} pid with a {} pid{note}", a.kind, b.kind),
            );
        }
    }

    fn ret(&mut self, val: &Val, span: Span) {
        self.ret_join = Some(match &self.ret_join {
            Some(acc) => acc.join(val),
            None => val.clone(),
        });
        if self.caller_view && val.kind == Kind::Conflict {
            return;
        }
        if let Some((kind, rule)) = self.ret_expect {
            let name = self.fn_name.clone();
            self.sink(val, kind, span, rule, || {
                format!("the return value of `{name}`")
            });
        }
    }

    // ---- statements and blocks ----

    fn block(&mut self, b: &syn::Block, env: &mut Env, pos: Pos) -> Val {
        let mark = env.vars.len();
        let mut last = Val::default();
        let n = b.stmts.len();
        for (i, stmt) in b.stmts.iter().enumerate() {
            let tail = i + 1 == n;
            last = Val::default();
            match stmt {
                syn::Stmt::Local(local) => self.local(local, env),
                syn::Stmt::Item(_) => {}
                syn::Stmt::Expr(e, semi) => {
                    let p = if tail && semi.is_none() {
                        pos
                    } else {
                        Pos::Value
                    };
                    let v = self.expr(e, env, p);
                    if semi.is_none() {
                        last = v;
                    }
                }
                syn::Stmt::Macro(m) => {
                    self.mac(&m.mac, env);
                }
            }
        }
        env.vars.truncate(mark);
        if env.dead { Val::default() } else { last }
    }

    fn local(&mut self, local: &syn::Local, env: &mut Env) {
        let val = match &local.init {
            Some(init) => {
                let v = self.expr(&init.expr, env, Pos::Value);
                if let Some((_, diverge)) = &init.diverge {
                    let mut else_env = env.clone();
                    self.expr(diverge, &mut else_env, Pos::Value);
                }
                v
            }
            None => Val::default(),
        };
        self.bind_pat(&local.pat, val, env);
    }

    fn bind_all_unknown(&mut self, pat: &syn::Pat, env: &mut Env) {
        match pat {
            syn::Pat::Ident(i)
                if i.subpat.is_none() && i.ident.to_string().starts_with(char::is_uppercase) => {}
            syn::Pat::Ident(i) => {
                env.bind(&i.ident.to_string(), Val::default());
                if let Some((_, sub)) = &i.subpat {
                    self.bind_all_unknown(sub, env);
                }
            }
            syn::Pat::Reference(r) => self.bind_all_unknown(&r.pat, env),
            syn::Pat::Paren(p) => self.bind_all_unknown(&p.pat, env),
            syn::Pat::Type(t) => self.bind_all_unknown(&t.pat, env),
            syn::Pat::Tuple(t) => t.elems.iter().for_each(|p| self.bind_all_unknown(p, env)),
            syn::Pat::TupleStruct(t) => t.elems.iter().for_each(|p| self.bind_all_unknown(p, env)),
            syn::Pat::Slice(s) => s.elems.iter().for_each(|p| self.bind_all_unknown(p, env)),
            syn::Pat::Struct(s) => s
                .fields
                .iter()
                .for_each(|f| self.bind_all_unknown(&f.pat, env)),
            syn::Pat::Or(o) => {
                if let Some(first) = o.cases.first() {
                    self.bind_all_unknown(first, env);
                }
            }
            _ => {}
        }
    }

    fn bind_pat(&mut self, pat: &syn::Pat, val: Val, env: &mut Env) {
        match pat {
            // `None`, `MAX`: a unit variant or a const, not a binding.
            syn::Pat::Ident(i)
                if i.subpat.is_none() && i.ident.to_string().starts_with(char::is_uppercase) => {}
            syn::Pat::Ident(i) => {
                if let Some((_, sub)) = &i.subpat {
                    self.bind_pat(sub, val.clone(), env);
                }
                env.bind(&i.ident.to_string(), val);
            }
            syn::Pat::Reference(r) => self.bind_pat(&r.pat, val, env),
            syn::Pat::Paren(p) => self.bind_pat(&p.pat, val, env),
            syn::Pat::Or(o) => {
                if let Some(first) = o.cases.first() {
                    self.bind_pat(first, val, env);
                }
            }
            syn::Pat::Type(t) => {
                let st = self.self_ty.clone();
                let declared = type_kind(&t.ty, st.as_deref());
                let name = match &*t.pat {
                    syn::Pat::Ident(i) => i.ident.to_string(),
                    _ => "_".to_owned(),
                };
                self.sink(
                    &val,
                    declared,
                    t.pat.span(),
                    Rule::WrongKindArgument,
                    || format!("binding `{name}`"),
                );
                let ty = type_name(&t.ty, st.as_deref()).map(Rc::from);
                let mut val = if declared.is_definite() {
                    Val::of(declared, t.span())
                } else {
                    val
                };
                // A declared tuple (or an Option/Result of one) gives its
                // elements their kinds where the value did not know them.
                if val.parts.is_none() {
                    val.parts = tuple_parts(&t.ty, st.as_deref(), t.span());
                }
                self.bind_pat(&t.pat, val.with_ty(ty), env);
            }
            syn::Pat::TupleStruct(ts) => {
                let name = ts
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default();
                let owner = self.owner_of(&ts.path);
                let inner = match name.as_str() {
                    "Some" | "Ok" => Some(val),
                    _ if ts.elems.len() == 1 => self
                        .file
                        .table
                        .variant(&name, owner.as_deref(), self.file.cx)
                        .map(|f| Val {
                            kind: f.kind,
                            ty: f.ty.as_deref().map(Rc::from),
                            ..Val::default()
                        }),
                    _ => None,
                };
                match (inner, ts.elems.first()) {
                    (Some(v), Some(p)) if ts.elems.len() == 1 => self.bind_pat(p, v, env),
                    _ => self.bind_all_unknown(pat, env),
                }
            }
            syn::Pat::Tuple(t) if val.parts.as_ref().is_some_and(|p| p.len() == t.elems.len()) => {
                let parts = val.parts.clone().unwrap_or_else(|| Rc::from(Vec::new()));
                for (p, v) in t.elems.iter().zip(parts.iter()) {
                    self.bind_pat(p, v.clone(), env);
                }
            }
            syn::Pat::Struct(ps) => {
                let owner = self
                    .owner_of(&ps.path)
                    .or_else(|| ps.path.segments.last().map(|s| s.ident.to_string()));
                for fp in &ps.fields {
                    let member = match &fp.member {
                        syn::Member::Named(i) => i.to_string(),
                        syn::Member::Unnamed(i) => i.index.to_string(),
                    };
                    let v = match self
                        .file
                        .table
                        .field(&member, owner.as_deref(), self.file.cx)
                    {
                        Some(f) => Val {
                            kind: f.kind,
                            ty: f.ty.as_deref().map(Rc::from),
                            ..Val::default()
                        },
                        None => Val::default(),
                    };
                    self.bind_pat(&fp.pat, v, env);
                }
            }
            _ => self.bind_all_unknown(pat, env),
        }
    }

    /// The type a path names as its owner (`Self::X`, `AnyPid::Real`).
    fn owner_of(&self, path: &syn::Path) -> Option<String> {
        let q = qualifier(path)?;
        if q == "Self" {
            return self.self_ty.as_deref().map(str::to_owned);
        }
        is_type_name(&q).then_some(q)
    }

    // ---- expressions ----

    fn expr(&mut self, e: &syn::Expr, env: &mut Env, pos: Pos) -> Val {
        match e {
            syn::Expr::If(i) => return self.expr_if(i, env, pos),
            syn::Expr::Match(m) => return self.expr_match(m, env, pos),
            syn::Expr::Block(b) => return self.block(&b.block, env, pos),
            syn::Expr::Unsafe(b) => return self.block(&b.block, env, pos),
            syn::Expr::Paren(p) => return self.expr(&p.expr, env, pos),
            syn::Expr::Group(g) => return self.expr(&g.expr, env, pos),
            _ => {}
        }
        let val = self.value(e, env);
        if let Some(probe) = self
            .file
            .probe
            .as_ref()
            .filter(|_| self.emit && self.silent == 0)
        {
            let (s, t) = (e.span().start(), e.span().end());
            probe.borrow_mut().push(Probe {
                start: (s.line, s.column),
                end: (t.line, t.column),
                kind: val.kind,
                evident: val.evident(),
                typed: val.ty.as_deref().is_some_and(is_pid_type),
            });
        }
        if pos == Pos::Return && !env.dead {
            self.ret(&val, e.span());
        }
        val
    }

    fn exprs<'e>(
        &mut self,
        es: impl IntoIterator<Item = &'e syn::Expr>,
        env: &mut Env,
    ) -> Vec<(Val, Span)> {
        es.into_iter()
            .map(|e| (self.expr(e, env, Pos::Value), e.span()))
            .collect()
    }

    fn value(&mut self, e: &syn::Expr, env: &mut Env) -> Val {
        match e {
            syn::Expr::Lit(_) => Val::neutral(),
            syn::Expr::Path(p) => self.path(p, env),
            syn::Expr::Call(c) => self.call(c, env),
            syn::Expr::MethodCall(m) => self.method_call(m, env),
            syn::Expr::Field(f) => self.field(f, env),
            syn::Expr::Binary(b) => self.binary(b, env),
            syn::Expr::Unary(u) => {
                let v = self.expr(&u.expr, env, Pos::Value);
                match u.op {
                    syn::UnOp::Neg(_) | syn::UnOp::Deref(_) => Val {
                        marker: Marker::None,
                        ..v
                    },
                    syn::UnOp::Not(_) if v.marker == Marker::Bit => Val {
                        marker: Marker::NotBit,
                        ..Val::default()
                    },
                    _ => Val::default(),
                }
            }
            syn::Expr::Cast(c) => {
                let v = self.expr(&c.expr, env, Pos::Value);
                let st = self.self_ty.clone();
                v.with_ty(type_name(&c.ty, st.as_deref()).map(Rc::from))
            }
            syn::Expr::Reference(r) => self.expr(&r.expr, env, Pos::Value),
            syn::Expr::Try(t) => self.expr(&t.expr, env, Pos::Value),
            syn::Expr::Await(a) => self.expr(&a.base, env, Pos::Value),
            syn::Expr::Assign(a) => {
                let v = self.expr(&a.right, env, Pos::Value);
                self.assign(&a.left, v, a.right.span(), env);
                Val::default()
            }
            syn::Expr::Return(r) => {
                match &r.expr {
                    Some(x) => {
                        self.expr(x, env, Pos::Return);
                    }
                    None => self.ret(&Val::neutral(), r.span()),
                }
                env.dead = true;
                Val::default()
            }
            syn::Expr::Break(b) => {
                if let Some(x) = &b.expr {
                    self.expr(x, env, Pos::Value);
                }
                env.dead = true;
                Val::default()
            }
            syn::Expr::Continue(_) => {
                env.dead = true;
                Val::default()
            }
            syn::Expr::Struct(s) => self.struct_lit(s, env),
            syn::Expr::Tuple(t) => {
                let vals = self.exprs(&t.elems, env);
                Val {
                    parts: Some(vals.into_iter().map(|(v, _)| v).collect()),
                    ..Val::default()
                }
            }
            syn::Expr::Array(a) => {
                let vals = self.exprs(&a.elems, env);
                vals.iter().skip(1).fold(
                    vals.first().map(|v| v.0.clone()).unwrap_or_default(),
                    |acc, (v, _)| acc.join(v),
                )
            }
            syn::Expr::Repeat(r) => {
                self.expr(&r.len, env, Pos::Value);
                self.expr(&r.expr, env, Pos::Value)
            }
            syn::Expr::Index(i) => {
                let v = self.expr(&i.expr, env, Pos::Value);
                self.expr(&i.index, env, Pos::Value);
                v
            }
            syn::Expr::Range(r) => {
                for x in [&r.start, &r.end].into_iter().flatten() {
                    self.expr(x, env, Pos::Value);
                }
                Val::default()
            }
            syn::Expr::Let(l) => {
                let v = self.expr(&l.expr, env, Pos::Value);
                self.bind_pat(&l.pat, v, env);
                Val::default()
            }
            syn::Expr::Closure(c) => self.closure(c, None, env),
            syn::Expr::Async(a) => {
                self.nested_body(|this, env| this.block(&a.block, env, Pos::Value), env)
            }
            syn::Expr::TryBlock(t) => self.block(&t.block, env, Pos::Value),
            syn::Expr::Const(c) => self.block(&c.block, env, Pos::Value),
            syn::Expr::Loop(l) => {
                self.looped(env, |this, env| {
                    this.block(&l.body, env, Pos::Value);
                });
                Val::default()
            }
            syn::Expr::While(w) => {
                self.looped(env, |this, env| {
                    let mark = env.vars.len();
                    this.condition(&w.cond, env);
                    this.block(&w.body, env, Pos::Value);
                    env.vars.truncate(mark);
                });
                Val::default()
            }
            syn::Expr::ForLoop(f) => {
                let it = self.expr(&f.expr, env, Pos::Value);
                self.looped(env, |this, env| {
                    let mark = env.vars.len();
                    this.bind_pat(
                        &f.pat,
                        Val {
                            ty: None,
                            ..it.clone()
                        },
                        env,
                    );
                    this.block(&f.body, env, Pos::Value);
                    env.vars.truncate(mark);
                });
                Val::default()
            }
            syn::Expr::Macro(m) => self.mac(&m.mac, env),
            syn::Expr::If(_)
            | syn::Expr::Match(_)
            | syn::Expr::Block(_)
            | syn::Expr::Unsafe(_)
            | syn::Expr::Paren(_)
            | syn::Expr::Group(_) => self.expr(e, env, Pos::Value),
            _ => Val::default(),
        }
    }

    /// Runs a loop body twice: once silently to reach the loop-carried
    /// kinds, once more on the joined environment to report.
    /// Runs a loop body to a fixed point: once, and, if the kinds at the
    /// loop head changed (a loop-carried kind), once more on the joined
    /// environment, keeping only that run's findings.
    fn looped(&mut self, env: &mut Env, mut body: impl FnMut(&mut Self, &mut Env)) {
        let entry = env.clone();
        let mark = self.findings.len();
        let mut first = env.clone();
        body(self, &mut first);
        first.dead = false;
        let head = Env::join(entry.clone(), first);
        if head.same_kinds(&entry) {
            *env = head;
            return;
        }
        self.findings.truncate(mark);
        let mut again = head.clone();
        body(self, &mut again);
        again.dead = false;
        *env = Env::join(head, again);
    }

    /// Evaluates a closure or async body: its `return`s are not the function's.
    fn nested_body(&mut self, f: impl FnOnce(&mut Self, &mut Env) -> Val, env: &mut Env) -> Val {
        let saved = (self.ret_expect.take(), self.ret_join.take());
        let mut inner = env.clone();
        inner.dead = false;
        let v = f(self, &mut inner);
        (self.ret_expect, self.ret_join) = saved;
        v
    }

    fn closure(&mut self, c: &syn::ExprClosure, arg: Option<&Val>, env: &mut Env) -> Val {
        self.nested_body(
            |this, env| {
                for (i, p) in c.inputs.iter().enumerate() {
                    match arg.filter(|_| i == 0) {
                        Some(v) => this.bind_pat(p, v.clone(), env),
                        None => this.bind_all_unknown(p, env),
                    }
                }
                this.expr(&c.body, env, Pos::Value)
            },
            env,
        )
    }

    fn path(&mut self, p: &syn::ExprPath, env: &Env) -> Val {
        if let Some(ident) = p.path.get_ident() {
            if let Some(v) = env.get_ident(ident) {
                return v.clone();
            }
            if ident == "None" {
                return Val::neutral();
            }
            let name = ident.to_string();
            if MARKER_CONSTS.contains(&name.as_str()) {
                return Val {
                    marker: Marker::Bit,
                    ..Val::default()
                };
            }
            return self.konst(&name, None, p.span());
        }
        let Some(last) = p.path.segments.last() else {
            return Val::default();
        };
        let name = last.ident.to_string();
        if MARKER_CONSTS.contains(&name.as_str()) {
            return Val {
                marker: Marker::Bit,
                ..Val::default()
            };
        }
        let owner = self.owner_of(&p.path);
        self.konst(&name, owner.as_deref(), p.span())
    }

    fn konst(&self, name: &str, owner: Option<&str>, span: Span) -> Val {
        match self.file.table.konst(name, owner, self.file.cx) {
            Some(f) => Val::of(f.kind, span).with_ty(f.ty.as_deref().map(Rc::from)),
            None => Val::default(),
        }
    }

    fn field(&mut self, f: &syn::ExprField, env: &mut Env) -> Val {
        if let Some(v) = field_key(f).and_then(|key| env.get(&key)) {
            return v.clone();
        }
        let base = self.expr(&f.base, env, Pos::Value);
        let member = match &f.member {
            syn::Member::Named(i) => i.to_string(),
            syn::Member::Unnamed(i) => i.index.to_string(),
        };
        if member == "0" && base.ty.as_deref().is_some_and(is_pid_type) {
            return Val { ty: None, ..base };
        }
        if let (Some(parts), syn::Member::Unnamed(i)) = (&base.parts, &f.member) {
            return parts.get(i.index as usize).cloned().unwrap_or_default();
        }
        match self
            .file
            .table
            .field(&member, base.ty.as_deref(), self.file.cx)
        {
            Some(fact) => Val::typed(
                fact.kind,
                f.span(),
                fact.ty.as_deref(),
                fact.parts.as_deref(),
            ),
            None => Val::default(),
        }
    }

    fn struct_lit(&mut self, s: &syn::ExprStruct, env: &mut Env) -> Val {
        let owner = if s.path.is_ident("Self") {
            self.self_ty.as_deref().map(str::to_owned)
        } else {
            s.path.segments.last().map(|x| x.ident.to_string())
        };
        for fv in &s.fields {
            let v = self.expr(&fv.expr, env, Pos::Value);
            let member = match &fv.member {
                syn::Member::Named(i) => i.to_string(),
                syn::Member::Unnamed(i) => i.index.to_string(),
            };
            if let Some(owner) = owner.as_deref() {
                let mut kind = self
                    .file
                    .table
                    .field(&member, Some(owner), self.file.cx)
                    .map(|f| f.kind);
                if self.file.cx.in_vps && kind.is_none_or(|k| k == Kind::Unknown) {
                    // Inside vps, its API structs hold caller-view numbers,
                    // which may be either kind (host or VPS viewer).
                    kind = spec::vps_field(owner, &member).filter(|_| v.kind != Kind::Conflict);
                }
                if let Some(kind) = kind {
                    self.sink(&v, kind, fv.expr.span(), Rule::FieldKindMismatch, || {
                        format!("field `{member}` of `{owner}`")
                    });
                }
            }
        }
        if let Some(rest) = &s.rest {
            self.expr(rest, env, Pos::Value);
        }
        Val {
            ty: owner.map(Rc::from),
            ..Val::default()
        }
    }

    fn assign(&mut self, left: &syn::Expr, v: Val, span: Span, env: &mut Env) {
        match left {
            syn::Expr::Path(p) if p.path.get_ident().is_some() => {
                let name = p
                    .path
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                if env.get(&name).is_none() {
                    if let Some(fact) = self.file.table.konst(&name, None, self.file.cx) {
                        let kind = fact.kind;
                        self.sink(&v, kind, span, Rule::FieldKindMismatch, || {
                            format!("static `{name}`")
                        });
                    }
                }
                env.assign(&name, v);
            }
            syn::Expr::Field(f) => {
                let base = self.expr(&f.base, env, Pos::Value);
                let member = match &f.member {
                    syn::Member::Named(i) => i.to_string(),
                    syn::Member::Unnamed(i) => i.index.to_string(),
                };
                if let Some(fact) = self
                    .file
                    .table
                    .field(&member, base.ty.as_deref(), self.file.cx)
                {
                    let (kind, owner) = (fact.kind, fact.owner.clone().unwrap_or_default());
                    self.sink(&v, kind, span, Rule::FieldKindMismatch, || {
                        format!("field `{member}` of `{owner}`")
                    });
                }
                if let Some(key) = path_key(left) {
                    env.assign(&key, v);
                }
            }
            other => {
                self.expr(other, env, Pos::Value);
            }
        }
    }

    fn binary(&mut self, b: &syn::ExprBinary, env: &mut Env) -> Val {
        use syn::BinOp as B;
        let l = self.expr(&b.left, env, Pos::Value);
        let r = self.expr(&b.right, env, Pos::Value);
        let span = b.span();
        match b.op {
            B::Eq(_) | B::Ne(_) | B::Lt(_) | B::Le(_) | B::Gt(_) | B::Ge(_) => {
                self.compare(&l, &r, span);
                Val::default()
            }
            B::BitOr(_)
            | B::BitAnd(_)
            | B::BitXor(_)
            | B::Add(_)
            | B::Sub(_)
            | B::BitOrAssign(_)
            | B::BitAndAssign(_)
            | B::BitXorAssign(_)
            | B::AddAssign(_)
            | B::SubAssign(_) => {
                let v = self.marker_arith(b, &l, &r, span);
                if matches!(
                    b.op,
                    B::BitOrAssign(_)
                        | B::BitAndAssign(_)
                        | B::BitXorAssign(_)
                        | B::AddAssign(_)
                        | B::SubAssign(_)
                ) {
                    if let Some(key) = path_key(&b.left) {
                        env.assign(&key, v);
                    }
                    return Val::default();
                }
                v
            }
            B::Shl(_) if l.marker == Marker::Bit || r.marker == Marker::Bit => Val {
                marker: Marker::Bit,
                ..Val::default()
            },
            B::MulAssign(_)
            | B::DivAssign(_)
            | B::RemAssign(_)
            | B::ShlAssign(_)
            | B::ShrAssign(_) => {
                if let Some(key) = path_key(&b.left) {
                    env.assign(&key, Val::default());
                }
                Val::default()
            }
            _ => Val::default(),
        }
    }

    /// `x | VPID_DIV` and friends: PID007 outside vpid-core; the result
    /// gets the kind the operation makes.
    fn marker_arith(&mut self, b: &syn::ExprBinary, l: &Val, r: &Val, span: Span) -> Val {
        use syn::BinOp as B;
        let literal_bit =
            |e: &syn::Expr, other: &Val| other.kind.is_definite() && int_value(e) == Some(1024);
        let (marker, other) = if r.marker != Marker::None || literal_bit(&b.right, l) {
            (
                if r.marker == Marker::None {
                    Marker::Bit
                } else {
                    r.marker
                },
                l,
            )
        } else if l.marker != Marker::None || literal_bit(&b.left, r) {
            (
                if l.marker == Marker::None {
                    Marker::Bit
                } else {
                    l.marker
                },
                r,
            )
        } else {
            return Val::default();
        };
        let (kind, advice) = match (b.op, marker) {
            (B::BitOr(_) | B::BitOrAssign(_) | B::Add(_) | B::AddAssign(_), Marker::Bit) => (
                Kind::Virtual,
                "use `RealPid::to_linear_virt`, `LinearMapping::to_virt` or `pid_to_vpid`",
            ),
            (B::BitAnd(_) | B::BitAndAssign(_), Marker::NotBit)
            | (B::Sub(_) | B::SubAssign(_), Marker::Bit) => (
                Kind::Real,
                "use `VirtPid::linear_real`, `LinearMapping::to_real` or `vpid_to_pid`",
            ),
            (B::BitXor(_) | B::BitXorAssign(_), Marker::Bit) => {
                (other.kind.opposite(), "use the conversions of vpid-core")
            }
            (B::BitAnd(_) | B::BitAndAssign(_), Marker::Bit) => {
                (Kind::Unknown, "use `has_marker_bit` or `is_virtual_pid`")
            }
            _ => return Val::default(),
        };
        if !(self.file.cx.in_vpid_core || self.file.cx.in_vps) {
            self.report(
                Rule::ManualMarkerBit,
                span,
                format!("marker-bit arithmetic by hand: {advice}"),
            );
        }
        let kind = if kind == Kind::Unknown || kind.is_definite() {
            kind
        } else {
            Kind::Unknown
        };
        Val::of(kind, span)
    }

    fn condition(&mut self, cond: &syn::Expr, env: &mut Env) -> (Narrowing, Narrowing) {
        match cond {
            syn::Expr::Let(l) => {
                let v = self.expr(&l.expr, env, Pos::Value);
                self.bind_pat(&l.pat, v, env);
                (Vec::new(), Vec::new())
            }
            syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                let (mut t1, _) = self.condition(&b.left, env);
                self.narrow(env, &t1);
                let (t2, _) = self.condition(&b.right, env);
                t1.extend(t2);
                (t1, Vec::new())
            }
            syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::Or(_)) => {
                let (t1, mut e1) = self.condition(&b.left, &mut env.clone());
                let (t2, e2) = self.condition(&b.right, &mut env.clone());
                e1.extend(e2);
                (Self::either_narrowing(&t1, &t2), e1)
            }
            syn::Expr::Unary(syn::ExprUnary {
                op: syn::UnOp::Not(_),
                expr,
                ..
            }) => {
                let (t, e) = self.condition(expr, env);
                (e, t)
            }
            syn::Expr::Paren(p) => self.condition(&p.expr, env),
            _ => {
                self.expr(cond, env, Pos::Value);
                if let Some(key) = Self::sentinel_test(cond) {
                    return (vec![(key, Kind::Unknown)], Vec::new());
                }
                match self.predicate_arg(cond) {
                    Some(key) => (vec![(key.clone(), Kind::Virtual)], vec![(key, Kind::Real)]),
                    None => (Vec::new(), Vec::new()),
                }
            }
        }
    }

    /// The variable of a test that makes it a literal or a sentinel:
    /// `x == 1` (any integer literal, on either side), `x <= 0` (or
    /// `0 >= x`). Where it holds, `x` is that literal, or 0 or a
    /// non-positive error value: kind-neutral like the literals.
    fn sentinel_test(cond: &syn::Expr) -> Option<String> {
        let syn::Expr::Binary(b) = cond else {
            return None;
        };
        let (var, literal, flipped) = match (int_value(&b.left), int_value(&b.right)) {
            (None, Some(n)) => (&*b.left, n, false),
            (Some(n), None) => (&*b.right, n, true),
            _ => return None,
        };
        let neutral = match b.op {
            syn::BinOp::Eq(_) => true,
            syn::BinOp::Le(_) => !flipped && literal == 0,
            syn::BinOp::Ge(_) => flipped && literal == 0,
            _ => false,
        };
        neutral.then(|| path_key(var)).flatten()
    }

    /// What holds where `a || b` holds: a variable narrowed by both sides
    /// gets the join of the two (a sentinel joins as a literal does).
    fn either_narrowing(a: &Narrowing, b: &Narrowing) -> Narrowing {
        a.iter()
            .filter_map(|(key, ka)| {
                let (_, kb) = b.iter().find(|(k, _)| k == key)?;
                let kind = match (*ka, *kb) {
                    (Kind::Unknown, k) | (k, Kind::Unknown) => k,
                    (x, y) => x.join(y),
                };
                (kind != Kind::Conflict).then(|| (key.clone(), kind))
            })
            .collect()
    }

    /// The variable tested by a marker-bit predicate call (`is_virtual_pid(x, ctx)`).
    fn predicate_arg(&self, cond: &syn::Expr) -> Option<String> {
        let syn::Expr::Call(c) = cond else {
            return None;
        };
        let syn::Expr::Path(p) = &*c.func else {
            return None;
        };
        let name = p.path.segments.last()?.ident.to_string();
        let r = self
            .file
            .table
            .resolve(&name, None, false, c.args.len(), self.file.cx)?;
        (r.sig.role == Role::Predicate)
            .then(|| path_key(c.args.first()?))
            .flatten()
    }

    fn narrow(&self, env: &mut Env, facts: &[(String, Kind)]) {
        for (key, kind) in facts {
            if let Some(old) = env.get(key) {
                if *kind == Kind::Unknown {
                    let v = Val::neutral().with_ty(old.ty.clone());
                    env.assign(key, v);
                    continue;
                }
                let v = Val {
                    kind: *kind,
                    origin: old.origin,
                    ty: old.ty.clone(),
                    ..Val::default()
                };
                env.assign(key, v);
            }
        }
    }

    fn expr_if(&mut self, i: &syn::ExprIf, env: &mut Env, pos: Pos) -> Val {
        let mark = env.vars.len();
        let mut then_env = env.clone();
        let (t, e) = self.condition(&i.cond, &mut then_env);
        self.narrow(&mut then_env, &t);
        let then_val = self.block(&i.then_branch, &mut then_env, pos);
        then_env.vars.truncate(mark);
        let mut else_env = env.clone();
        self.narrow(&mut else_env, &e);
        let else_val = match &i.else_branch {
            Some((_, x)) => self.expr(x, &mut else_env, pos),
            None => Val::default(),
        };
        let val = match (then_env.dead, else_env.dead) {
            (true, _) => else_val,
            (_, true) => then_val,
            _ => {
                // Both paths go on: the narrowing ends with the `if` (unless
                // a branch assigned the variable meanwhile).
                self.unnarrow(&mut then_env, env, &t);
                self.unnarrow(&mut else_env, env, &e);
                then_val.join(&else_val)
            }
        };
        *env = Env::join(then_env, else_env);
        val
    }

    fn unnarrow(&self, branch: &mut Env, before: &Env, facts: &[(String, Kind)]) {
        for (key, kind) in facts {
            if let (Some(now), Some(old)) = (branch.get(key), before.get(key)) {
                if now.kind == *kind {
                    let old = old.clone();
                    branch.assign(key, old);
                }
            }
        }
    }

    fn expr_match(&mut self, m: &syn::ExprMatch, env: &mut Env, pos: Pos) -> Val {
        let scrut = self.expr(&m.expr, env, Pos::Value);
        let mark = env.vars.len();
        let mut out: Option<(Env, Val)> = None;
        for arm in &m.arms {
            let mut arm_env = env.clone();
            self.bind_pat(&arm.pat, scrut.clone(), &mut arm_env);
            if let Some((_, guard)) = &arm.guard {
                // The guard narrows like an `if` condition, for the arm.
                let (holds, _) = self.condition(guard, &mut arm_env);
                self.narrow(&mut arm_env, &holds);
            }
            let v = self.expr(&arm.body, &mut arm_env, pos);
            arm_env.vars.truncate(mark);
            out = Some(match out {
                None => (arm_env, v),
                Some((acc_env, acc_v)) => {
                    let val = match (acc_env.dead, arm_env.dead) {
                        (true, _) => v,
                        (_, true) => acc_v,
                        _ => acc_v.join(&v),
                    };
                    (Env::join(acc_env, arm_env), val)
                }
            });
        }
        match out {
            Some((e, v)) => {
                *env = e;
                v
            }
            None => {
                env.dead = true;
                Val::default()
            }
        }
    }

    // ---- calls ----

    fn call(&mut self, c: &syn::ExprCall, env: &mut Env) -> Val {
        if let Some(v) = self.higher_order_call(c, env) {
            return v;
        }
        let args = self.exprs(&c.args, env);
        let syn::Expr::Path(p) = &*c.func else {
            self.expr(&c.func, env, Pos::Value);
            return Val::default();
        };
        if let Some(cb) = self
            .callback
            .as_mut()
            .filter(|cb| p.path.is_ident(cb.name.as_str()))
        {
            let first = args.first().map(|a| a.0.clone()).unwrap_or_default();
            cb.seen = Some(match cb.seen.take() {
                Some(acc) => acc.join(&first),
                None => first,
            });
            return cb.result.clone().unwrap_or_default();
        }
        let Some(last) = p.path.segments.last() else {
            return Val::default();
        };
        let name = last.ident.to_string();
        let qual = qualifier(&p.path);
        let owner = self.owner_of(&p.path);
        let first = || args.first().map(|a| a.0.clone()).unwrap_or_default();
        match (qual.as_deref(), name.as_str(), args.len()) {
            (None, "Some" | "Ok", 1) => return first(),
            (Some(q), "new", 1) if TRANSPARENT_WRAPPERS.contains(&q) => return first(),
            (Some(q), "from" | "try_from", 1) if !is_pid_type(q) && q != "Self" => return first(),
            (_, "max" | "min", 2) if qual.as_deref().is_none_or(|q| q == "cmp") => {
                self.compare(&args[0].0, &args[1].0, c.span());
                return if args[0].0.kind == args[1].0.kind {
                    first()
                } else {
                    Val::default()
                };
            }
            (None, "RealPid" | "VirtPid", 1) => {
                let kind = if name == "RealPid" {
                    Kind::Real
                } else {
                    Kind::Virtual
                };
                self.sink(&args[0].0, kind, args[0].1, Rule::Laundering, || {
                    format!("`{name}(..)`")
                });
                return Val::of(kind, c.span()).with_ty(Some(Rc::from(name.as_str())));
            }
            _ => {}
        }
        let method = false;
        let Some(resolved) =
            self.file
                .table
                .resolve(&name, owner.as_deref(), method, args.len(), self.file.cx)
        else {
            return Val::default();
        };
        let callee = match &owner {
            Some(o) => format!("{o}::{name}"),
            None => name.clone(),
        };
        self.apply(
            &callee,
            &resolved.sig,
            &resolved.local_keys,
            None,
            &args,
            c.span(),
        )
    }

    /// A call of a local function that takes a closure (`combined(raw, |m|
    /// pid_to_vpid(id, m, map))`): the function is analyzed for this call,
    /// with the call's argument values, to learn what it passes to the
    /// closure; the closure runs on that; the function is analyzed again
    /// with the closure's result, which gives the call's value.
    fn higher_order_call(&mut self, c: &syn::ExprCall, env: &mut Env) -> Option<Val> {
        let syn::Expr::Path(p) = &*c.func else {
            return None;
        };
        let name = p.path.segments.last()?.ident.to_string();
        let owner = self.owner_of(&p.path);
        self.higher_order(owner, &name, &c.args, None, c.span(), env)
    }

    /// A closure passed to a local function (`higher_order_call`), or to a
    /// method of the receiver's own type (`recv`: its value and span).
    fn higher_order(
        &mut self,
        owner: Option<String>,
        name: &str,
        call_args: &Punctuated<syn::Expr, syn::Token![,]>,
        recv: Option<(&Val, Span)>,
        span: Span,
        env: &mut Env,
    ) -> Option<Val> {
        let mut closures = call_args.iter().enumerate().filter_map(|(i, a)| match a {
            syn::Expr::Closure(cl) => Some((i, cl)),
            _ => None,
        });
        let (at, closure) = closures.next()?;
        if closures.next().is_some() || self.file.depth.get() >= MAX_SPECIALIZATION_DEPTH {
            return None;
        }
        let f = *self.file.local_fns.get(&(owner.clone(), name.to_owned()))?;
        let has_self = f
            .sig
            .inputs
            .iter()
            .any(|i| matches!(i, syn::FnArg::Receiver(_)));
        let params: Vec<Option<String>> = f
            .sig
            .inputs
            .iter()
            .filter_map(|i| match i {
                syn::FnArg::Typed(pt) => Some(match &*pt.pat {
                    syn::Pat::Ident(id) => Some(id.ident.to_string()),
                    _ => None,
                }),
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        if params.len() != call_args.len() || has_self != recv.is_some() {
            return None;
        }
        let callback = params[at].clone()?;
        let mut args = Vec::with_capacity(call_args.len());
        for (i, a) in call_args.iter().enumerate() {
            let v = if i == at {
                Val::default()
            } else {
                self.expr(a, env, Pos::Value)
            };
            args.push((v, a.span()));
        }
        let vals: Vec<Val> = args.iter().map(|a| a.0.clone()).collect();
        let file = self.file;
        file.depth.set(file.depth.get() + 1);
        let (_, seen) = file.specialized(f, &vals, &callback, None);
        let result = self.closure(closure, seen.as_ref(), env);
        let (ret, _) = file.specialized(f, &vals, &callback, Some(result));
        file.depth.set(file.depth.get() - 1);
        let resolved = file
            .table
            .resolve(name, owner.as_deref(), has_self, args.len(), file.cx);
        let declared = resolved.map(|r| {
            let callee = match &owner {
                Some(o) => format!("{o}::{name}"),
                None => name.to_owned(),
            };
            let v = self.apply(&callee, &r.sig, &[], recv, &args, span);
            (v, r.sig.declared_ret)
        });
        Some(match declared {
            Some((v, true)) => v,
            _ => Val {
                origin: ret.kind.is_definite().then(|| line_col(span)),
                ..ret
            },
        })
    }

    fn apply(
        &mut self,
        callee: &str,
        sig: &FnSig,
        local_keys: &[(Option<String>, String)],
        recv: Option<(&Val, Span)>,
        args: &[(Val, Span)],
        span: Span,
    ) -> Val {
        let rule_for = |expected: Kind| match sig.role {
            Role::Convert { from, .. } if from == expected => Rule::BadConversion,
            Role::Construct(_) => Rule::Laundering,
            _ => Rule::WrongKindArgument,
        };
        if let Some((v, s)) = recv {
            let rule = rule_for(sig.self_kind);
            self.sink(v, sig.self_kind, s, rule, || match rule {
                Rule::WrongKindArgument => format!("the receiver of `{callee}`"),
                _ => format!("`{callee}`"),
            });
        }
        for (i, ((v, s), &expected)) in args.iter().zip(&sig.params).enumerate() {
            let rule = rule_for(expected);
            self.sink(v, expected, *s, rule, || match rule {
                Rule::WrongKindArgument => format!("argument {} of `{callee}`", i + 1),
                _ => format!("`{callee}`"),
            });
        }
        let ty = sig.ret_ty.as_deref().map(Rc::from);
        match sig.role {
            Role::Transparent => Val {
                ty: None,
                marker: Marker::None,
                ..recv.map(|r| r.0.clone()).unwrap_or_default()
            },
            Role::Predicate => Val::default(),
            _ => {
                let mut kind = sig.ret;
                let mut partial = sig.ret_partial;
                if !sig.declared_ret && !local_keys.is_empty() {
                    // The file's own functions: inferred now; others: as the
                    // table says (inferred in their own files).
                    let file = self.file;
                    let mut cross_file = false;
                    let inferred: Vec<(Kind, bool)> = local_keys
                        .iter()
                        .map(|k| {
                            if file.undeclared.contains_key(k) {
                                file.infer(k)
                            } else {
                                cross_file = true;
                                (sig.ret, sig.ret_partial)
                            }
                        })
                        .collect();
                    self.cross_file |= cross_file;
                    let first = inferred.first().copied().unwrap_or_default();
                    (kind, partial) = if inferred.iter().all(|k| *k == first) {
                        first
                    } else {
                        (Kind::Unknown, false)
                    };
                }
                let parts = sig.ret_parts.as_ref().map(|ps| {
                    ps.iter()
                        .map(|(k, t)| Val::of(*k, span).with_ty(t.as_deref().map(Rc::from)))
                        .collect()
                });
                Val {
                    partial,
                    view: sig.declared_ret && kind == Kind::Conflict,
                    parts,
                    ..Val::of(kind, span).with_ty(ty)
                }
            }
        }
    }

    fn method_call(&mut self, m: &syn::ExprMethodCall, env: &mut Env) -> Val {
        let recv = self.expr(&m.receiver, env, Pos::Value);
        let name = m.method.to_string();
        let n = m.args.len();
        let span = m.span();
        if CLOSURE_METHODS.contains(&name.as_str()) || KEEP_WITH_CLOSURE.contains(&name.as_str()) {
            if let Some(arg) = m.args.last() {
                let keep = KEEP_WITH_CLOSURE.contains(&name.as_str());
                for a in m.args.iter().take(n - 1) {
                    self.expr(a, env, Pos::Value);
                }
                let v = self.callback(arg, &recv, env);
                return if keep { recv } else { v };
            }
        }
        if let Some(ty) = recv.ty.clone() {
            let at = (&recv, m.receiver.span());
            if let Some(v) =
                self.higher_order(Some(ty.to_string()), &name, &m.args, Some(at), span, env)
            {
                return v;
            }
        }
        let args = self.exprs(&m.args, env);
        if COMPARE_METHODS.contains(&name.as_str()) && n == 1 {
            self.compare(&recv, &args[0].0, span);
            return Val::default();
        }
        if (name == "max" || name == "min") && n == 1 {
            self.compare(&recv, &args[0].0, span);
            return if recv.kind == args[0].0.kind {
                recv
            } else {
                Val::default()
            };
        }
        if name == "unwrap_or" && n == 1 {
            return recv.join(&args[0].0);
        }
        if name == "then_some" && n == 1 {
            return args[0].0.clone();
        }
        if INSERTIONS.contains(&name.as_str()) && (n == 1 || (n == 2 && name == "insert")) {
            if recv.kind.is_definite() {
                let (v, s) = &args[n - 1];
                let expected = recv.kind;
                self.sink(v, expected, *s, Rule::WrongKindArgument, || {
                    format!("argument {n} of `{name}` into a collection of {expected} pids")
                });
            }
            return Val::default();
        }
        // A collection lookup, unless the receiver's own type defines the
        // method (`Tasks::get`).
        if ONE_ARG_LOOKUPS.contains(&name.as_str())
            && n == 1
            && (recv.ty.is_some() || recv.parts.is_some())
            && !recv.ty.as_deref().is_some_and(|o| {
                self.file
                    .table
                    .resolve(&name, Some(o), true, n, self.file.cx)
                    .is_some()
            })
        {
            return Val {
                marker: Marker::None,
                ..recv
            };
        }
        let owner = recv.ty.as_deref();
        let table = self.file.table;
        let cx = self.file.cx;
        // A receiver of known type resolves among that type's methods; one
        // of unknown type (or a PID type calling the other PID type's
        // method: `real.linear_real()`), among every method of that name
        // and arity, unless the name is a collection's (`contains`, `get`,
        // ...): an untyped local set is far likelier than a crate type.
        let collection_name = COLLECTION_METHODS.contains(&name.as_str());
        let resolved = owner
            .and_then(|o| table.resolve(&name, Some(o), true, n, cx))
            .or_else(|| {
                (owner.is_some_and(is_pid_type) || (owner.is_none() && !collection_name))
                    .then(|| table.resolve(&name, None, true, n, cx))
                    .flatten()
            });
        if let Some(r) = resolved {
            let callee = match &r.sig.self_ty {
                Some(t) => format!("{t}::{name}"),
                None => name.clone(),
            };
            return self.apply(
                &callee,
                &r.sig,
                &r.local_keys,
                Some((&recv, m.receiver.span())),
                &args,
                span,
            );
        }
        if TRANSPARENT_METHODS.contains(&name.as_str())
            || (ZERO_ARG_ONLY.contains(&name.as_str()) && n == 0)
        {
            return Val {
                marker: Marker::None,
                ..recv
            };
        }
        Val::default()
    }

    /// The argument of `map`/`and_then`/…: a closure run on the receiver's
    /// kind, or a path to a known function applied to it.
    fn callback(&mut self, arg: &syn::Expr, recv: &Val, env: &mut Env) -> Val {
        match arg {
            syn::Expr::Closure(c) => self.closure(c, Some(recv), env),
            syn::Expr::Path(p) => {
                let Some(last) = p.path.segments.last() else {
                    return Val::default();
                };
                let name = last.ident.to_string();
                if matches!(name.as_str(), "Some" | "Ok" | "from" | "into" | "clone") {
                    return recv.clone();
                }
                let owner = self.owner_of(&p.path);
                let table = self.file.table;
                let cx = self.file.cx;
                let span = arg.span();
                if let Some(r) = table.resolve(&name, owner.as_deref(), true, 0, cx) {
                    return self.apply(&name, &r.sig, &r.local_keys, Some((recv, span)), &[], span);
                }
                if let Some(r) = table.resolve(&name, owner.as_deref(), false, 1, cx) {
                    return self.apply(
                        &name,
                        &r.sig,
                        &r.local_keys,
                        None,
                        &[(recv.clone(), span)],
                        span,
                    );
                }
                Val::default()
            }
            other => {
                self.expr(other, env, Pos::Value);
                Val::default()
            }
        }
    }

    // ---- macros ----

    fn mac(&mut self, mac: &syn::Macro, env: &mut Env) -> Val {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let Ok(args) =
            mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        else {
            return Val::default();
        };
        let vals = self.exprs(&args, env);
        match name.as_str() {
            "assert_eq" | "assert_ne" | "debug_assert_eq" | "debug_assert_ne"
                if vals.len() >= 2 =>
            {
                self.compare(&vals[0].0, &vals[1].0, mac.span());
                Val::default()
            }
            "vec" => vals.iter().skip(1).fold(
                vals.first().map(|v| v.0.clone()).unwrap_or_default(),
                |a, (v, _)| a.join(v),
            ),
            _ => Val::default(),
        }
    }
}

/// The elements of a declared tuple type, or of the tuple inside an
/// `Option`, `Result` or `Box`, with the kinds and type names their types
/// give: `Option<(RealPid, WaitStatus)>` gives a real element and an unknown.
fn tuple_parts(ty: &syn::Type, self_ty: Option<&str>, at: Span) -> Option<Rc<[Val]>> {
    match ty {
        syn::Type::Tuple(t) => Some(
            t.elems
                .iter()
                .map(|e| {
                    Val::of(type_kind(e, self_ty), at).with_ty(type_name(e, self_ty).map(Rc::from))
                })
                .collect(),
        ),
        syn::Type::Paren(p) => tuple_parts(&p.elem, self_ty, at),
        syn::Type::Path(p) => {
            let last = p.path.segments.last()?;
            if !matches!(last.ident.to_string().as_str(), "Option" | "Result" | "Box") {
                return None;
            }
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            match args.args.first()? {
                syn::GenericArgument::Type(inner) => tuple_parts(inner, self_ty, at),
                _ => None,
            }
        }
        _ => None,
    }
}
