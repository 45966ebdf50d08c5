//! The built-in table stays in step with the crates it describes: every
//! function, field and const it lists exists in vpid-core's or vps's own
//! source with that arity, and where the source types a parameter or the
//! return as `RealPid`/`VirtPid`, the table gives the same kind.

use std::collections::HashMap;
use std::path::Path;

use syn::visit::{self, Visit};
use vpid_check::collect::{type_info, type_kind};
use vpid_check::spec::{API, CONSTS, FIELDS};
use vpid_check::{Kind, walk};

/// A function's shape: whether it takes `self`, its parameters' kinds, its return kind.
type Shape = (bool, Vec<Kind>, Kind);

#[derive(Default)]
struct Source {
    /// (owner, name) → shapes (overloads across impls of the same type name)
    fns: HashMap<(Option<String>, String), Vec<Shape>>,
    /// (struct, field)
    fields: Vec<(String, String)>,
    /// (owner, const)
    consts: Vec<(Option<String>, String)>,
    owner: Vec<Option<String>>,
}

impl Source {
    fn sig(&mut self, sig: &syn::Signature) {
        let owner = self.owner.last().cloned().flatten();
        let mut has_self = false;
        let mut params = Vec::new();
        for i in &sig.inputs {
            match i {
                syn::FnArg::Receiver(_) => has_self = true,
                syn::FnArg::Typed(t) => params.push(type_kind(&t.ty, owner.as_deref())),
            }
        }
        let ret = match &sig.output {
            syn::ReturnType::Type(_, t) => type_kind(t, owner.as_deref()),
            syn::ReturnType::Default => Kind::Unknown,
        };
        self.fns
            .entry((owner, sig.ident.to_string()))
            .or_default()
            .push((has_self, params, ret));
    }
}

impl<'a> Visit<'a> for Source {
    fn visit_item_impl(&mut self, i: &'a syn::ItemImpl) {
        self.owner.push(type_info(&i.self_ty, None).name);
        visit::visit_item_impl(self, i);
        self.owner.pop();
    }
    fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
        self.owner.push(None);
        self.sig(&f.sig);
        self.owner.pop();
    }
    fn visit_impl_item_fn(&mut self, f: &'a syn::ImplItemFn) {
        self.sig(&f.sig);
    }
    fn visit_item_struct(&mut self, s: &'a syn::ItemStruct) {
        for f in &s.fields {
            if let Some(i) = &f.ident {
                self.fields.push((s.ident.to_string(), i.to_string()));
            }
        }
    }
    fn visit_item_const(&mut self, c: &'a syn::ItemConst) {
        self.consts.push((None, c.ident.to_string()));
    }
    fn visit_impl_item_const(&mut self, c: &'a syn::ImplItemConst) {
        self.consts
            .push((self.owner.last().cloned().flatten(), c.ident.to_string()));
    }
}

fn source(krate: &str) -> Source {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("src");
    let mut s = Source::default();
    for f in walk::read_sources(&[dir]).unwrap() {
        s.visit_file(&syn::parse_file(&f.text).unwrap());
    }
    s
}

#[test]
fn every_built_in_function_exists_with_that_signature() {
    let sources: HashMap<&str, Source> =
        [("vpid-core", source("vpid-core")), ("vps", source("vps"))].into();
    for api in API {
        let src = &sources[api.krate];
        let key = (api.owner.map(str::to_owned), api.name.to_owned());
        // Trait methods (`try_from`) are implemented by a macro in vpid-core:
        // the `TryFrom` impls forward to `try_from_raw`, checked below.
        let lookup = if api.name == "try_from" {
            (key.0.clone(), "try_from_raw".to_owned())
        } else {
            key.clone()
        };
        let found = src
            .fns
            .get(&lookup)
            .unwrap_or_else(|| panic!("{}: no {key:?} in its source", api.krate));
        let matching = found.iter().find(|(has_self, params, _)| {
            *has_self == api.has_self && params.len() == api.params.len()
        });
        let (_, params, ret) = matching
            .unwrap_or_else(|| panic!("{key:?}: no overload with {} parameters", api.params.len()));
        for (i, (src_kind, table_kind)) in params.iter().zip(api.params).enumerate() {
            if src_kind.is_definite() {
                assert_eq!(src_kind, table_kind, "{key:?} parameter {i}");
            }
        }
        if ret.is_definite() {
            assert_eq!(*ret, api.ret, "{key:?} return kind");
        }
    }
}

#[test]
fn every_built_in_field_and_const_exists() {
    let sources: HashMap<&str, Source> =
        [("vpid-core", source("vpid-core")), ("vps", source("vps"))].into();
    for (krate, owner, field, _) in FIELDS {
        let found = sources[krate]
            .fields
            .iter()
            .any(|(s, f)| s == owner && f == field);
        assert!(found, "{krate}: no field {owner}.{field}");
    }
    for (owner, name, _) in CONSTS {
        let found = sources["vpid-core"]
            .consts
            .iter()
            .any(|(o, n)| o.as_deref() == *owner && n == name);
        assert!(found, "vpid-core: no const {owner:?}::{name}");
    }
}

#[test]
fn vpid_core_and_vps_check_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let report = vpid_check::check_paths(
        &vpid_check::Checker::new(),
        &[root.join("vpid-core"), root.join("vps")],
    )
    .unwrap();
    assert!(report.files > 10);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}
