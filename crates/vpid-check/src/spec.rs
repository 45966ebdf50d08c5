//! The built-in table: the kinds of the vpid-core and vps public APIs.
//!
//! vpid-core's typed API says its kinds in its types; the raw-number
//! functions of `vpid_core::convert` are listed here with the kinds their
//! docs give. The vps API (docs/vps-api.md) takes and returns raw numbers *as
//! the caller sees them*. The checker models that caller view as
//! [`Kind::Virtual`]: a number for user space, what `pid_to_vpid` gives. For a
//! caller on the host the mapping is the identity, exactly as OpenVZ's
//! `pid_to_vpid` is on VE0, but the number is still of the user-facing kind,
//! so a real PID taken from `TaskRef::real()` must not be passed where the API
//! wants a caller-view number. These vps facts apply only in files that name
//! the `vps` crate and are outside it (see [`Scope::VpsCallers`]).

use crate::facts::{FileContext, FnSig, ItemFact, Role, Scope, Table};
use crate::kind::Kind;

const U: Kind = Kind::Unknown;
const R: Kind = Kind::Real;
const V: Kind = Kind::Virtual;

/// One row of the built-in table.
#[derive(Copy, Clone, Debug)]
pub struct ApiFn {
    /// The crate the function is in: `vpid-core` or `vps`.
    pub krate: &'static str,
    /// The impl type, or `None` for a free function.
    pub owner: Option<&'static str>,
    /// The function's name.
    pub name: &'static str,
    /// Whether it takes `self`.
    pub has_self: bool,
    /// The receiver's expected kind.
    pub self_kind: Kind,
    /// The expected kinds of the parameters after `self`.
    pub params: &'static [Kind],
    /// The kind of the result.
    pub ret: Kind,
    /// The returned type's name, for field access.
    pub ret_ty: Option<&'static str>,
    /// What it does to kinds.
    pub role: Role,
}

const fn free(name: &'static str, params: &'static [Kind], ret: Kind, role: Role) -> ApiFn {
    ApiFn {
        krate: "vpid-core",
        owner: None,
        name,
        has_self: false,
        self_kind: U,
        params,
        ret,
        ret_ty: None,
        role,
    }
}

const fn assoc(
    owner: &'static str,
    name: &'static str,
    params: &'static [Kind],
    ret: Kind,
    role: Role,
) -> ApiFn {
    ApiFn {
        krate: "vpid-core",
        owner: Some(owner),
        name,
        has_self: false,
        self_kind: U,
        params,
        ret,
        ret_ty: Some(owner),
        role,
    }
}

const fn method(
    owner: &'static str,
    name: &'static str,
    self_kind: Kind,
    params: &'static [Kind],
    ret: Kind,
    role: Role,
) -> ApiFn {
    ApiFn {
        krate: "vpid-core",
        owner: Some(owner),
        name,
        has_self: true,
        self_kind,
        params,
        ret,
        ret_ty: None,
        role,
    }
}

const fn vps(
    owner: &'static str,
    name: &'static str,
    params: &'static [Kind],
    ret: Kind,
    ret_ty: Option<&'static str>,
) -> ApiFn {
    ApiFn {
        krate: "vps",
        owner: Some(owner),
        name,
        has_self: true,
        self_kind: U,
        params,
        ret,
        ret_ty,
        role: Role::Plain,
    }
}

const R_TO_V: Role = Role::Convert { from: R, to: V };
const V_TO_R: Role = Role::Convert { from: V, to: R };

/// The built-in functions.
pub const API: &[ApiFn] = &[
    // vpid_core::pid
    assoc("RealPid", "from_raw", &[R], R, Role::Construct(R)),
    assoc("RealPid", "try_from_raw", &[R], R, Role::Construct(R)),
    assoc("RealPid", "try_from", &[R], R, Role::Construct(R)),
    assoc("VirtPid", "from_raw", &[V], V, Role::Construct(V)),
    assoc("VirtPid", "try_from_raw", &[V], V, Role::Construct(V)),
    assoc("VirtPid", "try_from", &[V], V, Role::Construct(V)),
    method("RealPid", "as_raw", U, &[], U, Role::Transparent),
    method("VirtPid", "as_raw", U, &[], U, Role::Transparent),
    method("AnyPid", "as_raw", U, &[], U, Role::Transparent),
    method("RealPid", "as_raw_nonzero", U, &[], U, Role::Transparent),
    method("VirtPid", "as_raw_nonzero", U, &[], U, Role::Transparent),
    method("RealPid", "to_linear_virt", R, &[], V, R_TO_V),
    method("VirtPid", "linear_real", V, &[], R, V_TO_R),
    // vpid_core::convert
    assoc("LinearMapping", "new", &[R], U, Role::Plain),
    method("LinearMapping", "init", U, &[], R, Role::Plain),
    method("LinearMapping", "to_virt", U, &[R], V, R_TO_V),
    method("LinearMapping", "to_real", U, &[V], R, V_TO_R),
    free("pid_to_vpid", &[U, R, U], V, R_TO_V),
    free("comb_pid_to_vpid", &[U, R, U], V, R_TO_V),
    free("vpid_to_pid", &[U, V, U], R, V_TO_R),
    free("vpid_to_pid_strict", &[U, V, U], R, V_TO_R),
    free("comb_vpid_to_pid", &[U, V, U], R, V_TO_R),
    free("check_freeable", &[R], R, Role::Plain),
    // vpid_core::kind
    free("has_marker_bit", &[U], U, Role::Predicate),
    free("is_virtual_pid", &[U, U], U, Role::Predicate),
    // vps (docs/vps-api.md): raw numbers in the caller's view
    vps("TaskRef", "real", &[], R, Some("RealPid")),
    vps("Host", "fork", &[U, U, V], U, Some("Forked")),
    vps("Host", "waitpid", &[U, V, U], U, Some("Waited")),
    vps("Host", "getpid", &[U], V, None),
    vps("Host", "gettid", &[U], V, None),
    vps("Host", "getppid", &[U], V, None),
    vps("Host", "getpgid", &[U, V], V, None),
    vps("Host", "getsid", &[U, V], V, None),
    vps("Host", "lookup", &[U, V], U, Some("TaskRef")),
    vps("Host", "pid_of", &[U, U], V, None),
    vps("Host", "setpgid", &[U, V, V], U, None),
    vps("Host", "setsid", &[U], V, None),
    vps("Host", "kill", &[U, V, U], U, None),
    vps("Host", "enter", &[U, U], V, None),
];

/// Built-in struct fields: (crate, struct, field, kind).
pub const FIELDS: &[(&str, &str, &str, Kind)] = &[
    ("vpid-core", "LinearMapping", "init", R),
    ("vps", "Forked", "pid", V),
    ("vps", "Waited", "pid", V),
    ("vps", "PsEntry", "pid", V),
    ("vps", "PsEntry", "tgid", V),
    ("vps", "PsEntry", "ppid", V),
    ("vps", "PsEntry", "pgid", V),
    ("vps", "PsEntry", "sid", V),
    ("vps", "PsEntry", "vpid", V),
];

/// Built-in consts: (owner, name, kind).
pub const CONSTS: &[(Option<&str>, &str, Kind)] = &[
    (Some("RealPid"), "INIT", R),
    (Some("VirtPid"), "INIT", V),
    (None, "HOST_INIT_PID", R),
];

/// The names of the marker-bit constants; arithmetic with them is PID007.
pub const MARKER_CONSTS: &[&str] = &["VPID_DIV", "VPID_BIT"];

fn scope_of(krate: &str) -> Scope {
    if krate == "vps" {
        Scope::VpsCallers
    } else {
        Scope::Everywhere
    }
}

/// The table of built-in facts.
#[must_use]
pub fn builtin() -> Table {
    let mut table = Table::default();
    for f in API {
        table.add_fn(FnSig {
            name: f.name.to_owned(),
            self_ty: f.owner.map(str::to_owned),
            has_self: f.has_self,
            self_kind: f.self_kind,
            params: f.params.to_vec(),
            ret: f.ret,
            ret_ty: f.ret_ty.map(str::to_owned),
            ret_parts: None,
            declared_ret: true,
            ret_partial: false,
            role: f.role,
            scope: scope_of(f.krate),
        });
    }
    for &(krate, owner, name, kind) in FIELDS {
        table
            .fields
            .entry(name.to_owned())
            .or_default()
            .push(ItemFact {
                owner: Some(owner.to_owned()),
                kind,
                ty: None,
                parts: None,
                scope: scope_of(krate),
            });
    }
    for &(owner, name, kind) in CONSTS {
        table
            .consts
            .entry(name.to_owned())
            .or_default()
            .push(ItemFact {
                owner: owner.map(str::to_owned),
                kind,
                ty: owner.map(str::to_owned),
                parts: None,
                scope: Scope::Everywhere,
            });
    }
    for (variant, kind) in [("Real", R), ("Virtual", V)] {
        table
            .variants
            .entry(variant.to_owned())
            .or_default()
            .push(ItemFact {
                owner: Some("AnyPid".to_owned()),
                kind,
                ty: None,
                parts: None,
                scope: Scope::Everywhere,
            });
    }
    table
}

fn own_api(cx: FileContext, name: &str, arity: usize) -> impl Iterator<Item = &'static ApiFn> {
    let name = name.to_owned();
    API.iter().filter(move |f| {
        f.name == name
            && f.params.len() == arity
            && ((cx.in_vps && f.krate == "vps")
                || (cx.in_vpid_core && f.krate == "vpid-core" && f.owner.is_none()))
    })
}

/// The return kind the table gives a function defined in its own crate (a
/// vps function returning a caller-view number, a vpid-core converter),
/// checked there on the join of all return paths only: on the host the
/// conversion is the identity, so a merge of both kinds is how such a
/// function looks inside.
#[must_use]
pub fn own_api_return(cx: FileContext, name: &str, arity: usize) -> Option<Kind> {
    own_api(cx, name, arity)
        .map(|f| f.ret)
        .find(|k| k.is_definite())
}

/// The kinds the table gives the parameters of an API function, inside the
/// crate that defines it: a vps parameter in the caller's view may be either
/// kind there (host or VPS caller: [`Kind::Conflict`], as a `view`
/// annotation); a vpid-core converter's parameter has the kind it converts
/// from. Only parameters of a definite kind in the table are listed.
#[must_use]
pub fn own_api_params(cx: FileContext, name: &str, sig: &syn::Signature) -> Vec<(String, Kind)> {
    let names: Vec<String> = sig
        .inputs
        .iter()
        .filter_map(|i| match i {
            syn::FnArg::Typed(t) => Some(match &*t.pat {
                syn::Pat::Ident(p) => p.ident.to_string(),
                _ => String::new(),
            }),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let Some(api) = own_api(cx, name, names.len()).next() else {
        return Vec::new();
    };
    names
        .into_iter()
        .zip(api.params)
        .filter(|(_, k)| k.is_definite())
        .map(|(n, &k)| {
            (
                n,
                if api.krate == "vps" {
                    Kind::Conflict
                } else {
                    k
                },
            )
        })
        .collect()
}

/// The kind of a field of a vps API struct (`PsEntry.pid` …).
#[must_use]
pub fn vps_field(owner: &str, field: &str) -> Option<Kind> {
    FIELDS
        .iter()
        .find(|f| f.0 == "vps" && f.1 == owner && f.2 == field)
        .map(|f| f.3)
}
