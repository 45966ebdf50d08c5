//! Kind facts about functions, fields and consts, and name-based resolution.
//!
//! The checker has no type inference: a call is matched to the functions of
//! that name (and arity, and impl type where it is known). Facts come from the
//! built-in table of the vpid-core and vps APIs ([`crate::spec`]) and from the
//! signatures and annotations of the checked code ([`crate::collect`]).

use std::collections::HashMap;

use crate::kind::Kind;

/// What a function does to PID kinds, beyond its parameter and return kinds.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum Role {
    /// An ordinary function: arguments of the wrong kind are PID001.
    Plain,
    /// A conversion `from` → `to`: an argument already of kind `to` is PID003.
    Convert {
        /// The kind the converted argument must have.
        from: Kind,
        /// The kind of the result.
        to: Kind,
    },
    /// A typed constructor of this kind: an argument of the other kind is PID005.
    Construct(Kind),
    /// A marker-bit test (`is_virtual_pid`): narrows its first argument in an `if`.
    Predicate,
    /// Returns its receiver's kind (`as_raw`).
    Transparent,
}

/// Where a fact applies.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum Scope {
    /// In every checked file.
    Everywhere,
    /// Only to callers of the vps crate: files outside crates/vps that name `vps`.
    VpsCallers,
    /// Collected from the checked code itself.
    Local,
}

/// The kind signature of one function or method.
#[derive(Clone, Debug)]
pub struct FnSig {
    /// The function's name.
    pub name: String,
    /// The type of the `impl` block it is in, or `None` for a free function.
    pub self_ty: Option<String>,
    /// Whether it takes `self`.
    pub has_self: bool,
    /// The kind the receiver must have.
    pub self_kind: Kind,
    /// The expected kind of each parameter after `self`.
    pub params: Vec<Kind>,
    /// The kind of the return value.
    pub ret: Kind,
    /// The name of the returned type, when it is a plain path (for field access).
    pub ret_ty: Option<String>,
    /// The elements of the returned type, when it is a tuple (or an
    /// `Option`/`Result` of one).
    pub ret_parts: Option<Vec<crate::collect::Part>>,
    /// Whether `ret` is declared (an annotation or a typed return), not to be inferred.
    pub declared_ret: bool,
    /// For an inferred `ret`: it holds on some return paths only.
    pub ret_partial: bool,
    /// What it does to kinds.
    pub role: Role,
    /// Where the fact applies.
    pub scope: Scope,
}

/// A struct field, const or static with a declared kind or a known type.
#[derive(Clone, Debug)]
pub struct ItemFact {
    /// The struct (or impl type, for an associated const) it belongs to.
    pub owner: Option<String>,
    /// Its declared kind.
    pub kind: Kind,
    /// The name of its type, when it is a plain path (for field chains).
    pub ty: Option<String>,
    /// The elements of its type, when it is a tuple.
    pub parts: Option<Vec<crate::collect::Part>>,
    /// Where the fact applies.
    pub scope: Scope,
}

/// Facts gathered from many files, looked up by bare name.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Functions and methods by name.
    pub fns: HashMap<String, Vec<FnSig>>,
    /// Struct fields by field name.
    pub fields: HashMap<String, Vec<ItemFact>>,
    /// Consts and statics by name.
    pub consts: HashMap<String, Vec<ItemFact>>,
    /// Enum variants (tuple variants with one field) by variant name.
    pub variants: HashMap<String, Vec<ItemFact>>,
}

/// Which facts apply to the file being checked.
#[derive(Copy, Clone, Debug, Default)]
pub struct FileContext {
    /// The file is part of vpid-core: marker-bit arithmetic is its job.
    pub in_vpid_core: bool,
    /// The file is part of the vps crate: it defines the vps API, so the
    /// caller-view facts of that API do not apply inside it.
    pub in_vps: bool,
    /// The file names the vps crate (`vps::…`).
    pub uses_vps: bool,
}

impl FileContext {
    fn admits(self, scope: Scope) -> bool {
        match scope {
            Scope::Everywhere | Scope::Local => true,
            Scope::VpsCallers => self.uses_vps && !self.in_vps,
        }
    }
}

/// A function of the checked code: (impl type, name).
pub type FnKey = (Option<String>, String);

/// How a call was resolved.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The merged signature of every match.
    pub sig: FnSig,
    /// The (impl type, name) of the checked code's own functions that matched,
    /// whose inferred return kinds apply when `sig.ret` is not declared.
    pub local_keys: Vec<(Option<String>, String)>,
}

fn merge_kind(a: Kind, b: Kind) -> Kind {
    if a == b { a } else { Kind::Unknown }
}

fn merge(mut a: FnSig, b: &FnSig) -> FnSig {
    a.self_kind = merge_kind(a.self_kind, b.self_kind);
    for (x, y) in a.params.iter_mut().zip(&b.params) {
        *x = merge_kind(*x, *y);
    }
    a.ret_partial |= b.ret_partial;
    a.ret = merge_kind(a.ret, b.ret);
    if a.ret_ty != b.ret_ty {
        a.ret_ty = None;
    }
    if a.ret_parts != b.ret_parts {
        a.ret_parts = None;
    }
    a.declared_ret &= b.declared_ret;
    if a.role != b.role {
        a.role = Role::Plain;
    }
    if a.self_ty != b.self_ty {
        a.self_ty = None;
    }
    a
}

/// Fills what `base` does not know from `extra`.
fn fill(mut base: FnSig, extra: &FnSig) -> FnSig {
    if base.self_kind == Kind::Unknown {
        base.self_kind = extra.self_kind;
    }
    for (x, y) in base.params.iter_mut().zip(&extra.params) {
        if *x == Kind::Unknown {
            *x = *y;
        }
    }
    if base.ret == Kind::Unknown {
        base.ret = extra.ret;
        base.ret_partial = extra.ret_partial;
        base.declared_ret = extra.declared_ret;
    }
    if base.ret_ty.is_none() {
        base.ret_ty.clone_from(&extra.ret_ty);
    }
    if base.ret_parts.is_none() {
        base.ret_parts.clone_from(&extra.ret_parts);
    }
    base
}

impl Table {
    /// Adds a function signature.
    pub fn add_fn(&mut self, sig: FnSig) {
        self.fns.entry(sig.name.clone()).or_default().push(sig);
    }

    /// Records the inferred return kinds of the checked code's own
    /// functions, keyed by (impl type, name); kinds inferred for the same key
    /// in several files are joined.
    pub fn apply_inferred(&mut self, inferred: impl IntoIterator<Item = (FnKey, (Kind, bool))>) {
        let mut merged: HashMap<FnKey, (Kind, bool)> = HashMap::new();
        for (key, (kind, partial)) in inferred {
            merged
                .entry(key)
                .and_modify(|(k, p)| {
                    *p |= partial || ((*k == Kind::Unknown) != (kind == Kind::Unknown));
                    *k = k.join(kind);
                })
                .or_insert((kind, partial));
        }
        for ((owner, name), (kind, partial)) in merged {
            for sig in self.fns.get_mut(&name).into_iter().flatten() {
                if sig.scope == Scope::Local && !sig.declared_ret && sig.self_ty == owner {
                    sig.ret = kind;
                    sig.ret_partial = partial;
                }
            }
        }
    }

    /// Adds every fact of `other`.
    pub fn extend(&mut self, other: Table) {
        for (k, v) in other.fns {
            self.fns.entry(k).or_default().extend(v);
        }
        for (k, v) in other.fields {
            self.fields.entry(k).or_default().extend(v);
        }
        for (k, v) in other.consts {
            self.consts.entry(k).or_default().extend(v);
        }
        for (k, v) in other.variants {
            self.variants.entry(k).or_default().extend(v);
        }
    }

    /// Resolves a call or method call by name.
    ///
    /// `owner` is the impl type named by the call (`RealPid::from_raw`, or the
    /// receiver's type when known); `method` says whether the function takes
    /// `self`; `arity` counts the arguments after `self`.
    #[must_use]
    pub fn resolve(
        &self,
        name: &str,
        owner: Option<&str>,
        method: bool,
        arity: usize,
        cx: FileContext,
    ) -> Option<Resolved> {
        let candidates = self.fns.get(name)?;
        let matches = |s: &&FnSig| {
            cx.admits(s.scope)
                && s.params.len() == arity
                && (!method || s.has_self)
                && match owner {
                    Some(o) => s.self_ty.as_deref() == Some(o),
                    None => method || s.self_ty.is_none(),
                }
        };
        let mut builtin: Option<FnSig> = None;
        let mut local: Option<FnSig> = None;
        let mut local_keys = Vec::new();
        for sig in candidates.iter().filter(matches) {
            let slot = if sig.scope == Scope::Local {
                local_keys.push((sig.self_ty.clone(), sig.name.clone()));
                &mut local
            } else {
                &mut builtin
            };
            *slot = Some(match slot.take() {
                None => sig.clone(),
                Some(acc) => merge(acc, sig),
            });
        }
        let sig = match (builtin, &local) {
            (Some(b), Some(l)) => fill(b, l),
            (Some(b), None) => b,
            (None, Some(l)) => l.clone(),
            (None, None) => return None,
        };
        Some(Resolved { sig, local_keys })
    }

    fn item<'m>(
        map: &'m HashMap<String, Vec<ItemFact>>,
        name: &str,
        owner: Option<&str>,
        cx: FileContext,
    ) -> Option<&'m ItemFact> {
        let facts = map.get(name)?;
        let mut admitted = facts.iter().filter(|f| cx.admits(f.scope));
        match owner {
            Some(o) => admitted.find(|f| f.owner.as_deref() == Some(o)),
            None => {
                let first = admitted.next()?;
                admitted
                    .all(|f| f.kind == first.kind && f.ty == first.ty)
                    .then_some(first)
            }
        }
    }

    /// The fact of field `name` of struct `owner`, or, when the owner is not
    /// known, of every struct with such a field if they all agree.
    #[must_use]
    pub fn field(&self, name: &str, owner: Option<&str>, cx: FileContext) -> Option<&ItemFact> {
        Self::item(&self.fields, name, owner, cx)
    }

    /// The fact of a const or static (`owner` for an associated const).
    #[must_use]
    pub fn konst(&self, name: &str, owner: Option<&str>, cx: FileContext) -> Option<&ItemFact> {
        Self::item(&self.consts, name, owner, cx)
    }

    /// The kind of the single field of enum variant `name` (`AnyPid::Real(p)`).
    #[must_use]
    pub fn variant(&self, name: &str, owner: Option<&str>, cx: FileContext) -> Option<&ItemFact> {
        Self::item(&self.variants, name, owner, cx)
    }
}
