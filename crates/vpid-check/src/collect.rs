//! The collect pass: kind facts from the items of one file (signatures,
//! annotations, struct fields, consts), and the list of function bodies.

use std::rc::Rc;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

use crate::annot::{self, Annotation};
use crate::facts::{FnSig, ItemFact, Role, Scope, Table};
use crate::kind::Kind;

/// Wrappers whose kind is the kind of their (first) type argument; names
/// ending in `Set` or `Heap` count too, and maps (names ending in `Map`) take
/// the kind of their value type.
const WRAPPERS: &[&str] = &[
    "Option", "Result", "Box", "Rc", "Arc", "Vec", "VecDeque", "Cell", "RefCell", "Mutex",
    "RwLock", "Reverse",
];

/// The kind and name of one element of a tuple type.
pub type Part = (Kind, Option<String>);

/// What a type says: its kind, its name (for field access) and, for a
/// tuple, its elements.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeInfo {
    /// The kind a value of this type carries.
    pub kind: Kind,
    /// The last path segment, through references, wrappers and maps.
    pub name: Option<String>,
    /// The elements of a tuple type.
    pub parts: Option<Vec<Part>>,
}

fn type_args(args: &syn::PathArguments) -> Vec<&syn::Type> {
    match args {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// What a type says about PID kinds: `RealPid`, `Option<&VirtPid>`,
/// `Vec<RealPid>`, `HashMap<RawPid, RealPid>` (the value), `(usize, VirtPid)` …
#[must_use]
pub fn type_info(ty: &syn::Type, self_ty: Option<&str>) -> TypeInfo {
    match ty {
        syn::Type::Reference(r) => type_info(&r.elem, self_ty),
        syn::Type::Paren(p) => type_info(&p.elem, self_ty),
        syn::Type::Group(g) => type_info(&g.elem, self_ty),
        syn::Type::Slice(s) => type_info(&s.elem, self_ty),
        syn::Type::Array(a) => type_info(&a.elem, self_ty),
        syn::Type::Tuple(t) if !t.elems.is_empty() => TypeInfo {
            parts: Some(
                t.elems
                    .iter()
                    .map(|e| {
                        let i = type_info(e, self_ty);
                        (i.kind, i.name)
                    })
                    .collect(),
            ),
            ..TypeInfo::default()
        },
        syn::Type::Path(p) => {
            let Some(last) = p.path.segments.last() else {
                return TypeInfo::default();
            };
            let name = last.ident.to_string();
            let name = if name == "Self" {
                self_ty.unwrap_or("").to_owned()
            } else {
                name
            };
            let args = type_args(&last.arguments);
            match name.as_str() {
                "RealPid" => TypeInfo {
                    kind: Kind::Real,
                    name: Some(name),
                    parts: None,
                },
                "VirtPid" => TypeInfo {
                    kind: Kind::Virtual,
                    name: Some(name),
                    parts: None,
                },
                w if (WRAPPERS.contains(&w) || w.ends_with("Set") || w.ends_with("Heap"))
                    && !args.is_empty() =>
                {
                    type_info(args[0], self_ty)
                }
                m if m.ends_with("Map") && args.len() >= 2 => type_info(args[1], self_ty),
                "" => TypeInfo::default(),
                _ => TypeInfo {
                    kind: Kind::Unknown,
                    name: Some(name),
                    parts: None,
                },
            }
        }
        // `impl Iterator<Item = T>` (and other traits with an `Item`): what
        // the iterator gives.
        syn::Type::ImplTrait(t) => t
            .bounds
            .iter()
            .find_map(|b| match b {
                syn::TypeParamBound::Trait(tb) => {
                    let last = tb.path.segments.last()?;
                    let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
                        return None;
                    };
                    a.args.iter().find_map(|arg| match arg {
                        syn::GenericArgument::AssocType(at) if at.ident == "Item" => {
                            Some(type_info(&at.ty, self_ty))
                        }
                        _ => None,
                    })
                }
                _ => None,
            })
            .unwrap_or_default(),
        _ => TypeInfo::default(),
    }
}

/// The kind a type carries (see [`type_info`]).
#[must_use]
pub fn type_kind(ty: &syn::Type, self_ty: Option<&str>) -> Kind {
    type_info(ty, self_ty).kind
}

/// The name of a type for field access (see [`type_info`]).
#[must_use]
pub fn type_name(ty: &syn::Type, self_ty: Option<&str>) -> Option<String> {
    type_info(ty, self_ty).name
}

/// The name of the type an `impl` block is for.
fn impl_self(item: &syn::ItemImpl) -> Option<String> {
    type_name(&item.self_ty, None)
}

/// A malformed annotation: its message and where.
pub type AnnotationError = (String, Span);

/// A function body to analyze.
#[derive(Clone)]
pub struct FnItem<'a> {
    /// Its attributes (annotations).
    pub attrs: &'a [syn::Attribute],
    /// Its signature.
    pub sig: &'a syn::Signature,
    /// Its body.
    pub body: &'a syn::Block,
    /// The impl type, for methods and associated functions.
    pub self_ty: Option<Rc<str>>,
}

/// Everything the collect pass finds in one file.
#[derive(Default)]
pub struct Collected<'a> {
    /// The kind facts, with [`Scope::Local`].
    pub table: Table,
    /// The function bodies, in source order.
    pub fns: Vec<FnItem<'a>>,
    /// Consts and statics with a declared kind and an initializer to check.
    pub consts: Vec<(Kind, &'a syn::Expr, Option<Rc<str>>)>,
    /// Malformed annotations.
    pub errors: Vec<AnnotationError>,
}

struct Collector<'a> {
    out: Collected<'a>,
    self_stack: Vec<Option<Rc<str>>>,
}

/// Collects the facts and bodies of a parsed file.
#[must_use]
pub fn collect(file: &syn::File) -> Collected<'_> {
    let mut c = Collector {
        out: Collected::default(),
        self_stack: Vec::new(),
    };
    c.visit_file(file);
    c.out
}

impl<'a> Collector<'a> {
    fn self_ty(&self) -> Option<Rc<str>> {
        self.self_stack.last().cloned().flatten()
    }

    fn annotation(&mut self, attrs: &[syn::Attribute]) -> Annotation {
        match annot::parse(attrs) {
            Ok(a) => a,
            Err(e) => {
                self.out.errors.push(e);
                Annotation::default()
            }
        }
    }

    fn add_fn(
        &mut self,
        attrs: &'a [syn::Attribute],
        sig: &'a syn::Signature,
        body: Option<&'a syn::Block>,
    ) {
        let owner = self.self_ty();
        let self_ty = owner.as_deref();
        let ann = self.annotation(attrs);
        let mut params = Vec::new();
        let mut names = Vec::new();
        let mut has_self = false;
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(_) => has_self = true,
                syn::FnArg::Typed(pt) => {
                    let name = match &*pt.pat {
                        syn::Pat::Ident(i) => i.ident.to_string(),
                        _ => String::new(),
                    };
                    let kind = ann
                        .param(&name)
                        .unwrap_or_else(|| type_kind(&pt.ty, self_ty));
                    params.push(kind);
                    names.push(name);
                }
            }
        }
        for (name, _) in &ann.pairs {
            let known =
                name == "return" || (name == "self" && has_self) || names.iter().any(|n| n == name);
            if !known {
                self.out.errors.push((
                    format!(
                        "vpid-check annotation names `{name}`, which is not a parameter of `{}`",
                        sig.ident
                    ),
                    sig.ident.span(),
                ));
            }
        }
        if ann.kind.is_some() {
            self.out.errors.push((
                format!(
                    "a bare kind annotates a field, const or static; on fn `{}` write `return=…`",
                    sig.ident
                ),
                sig.ident.span(),
            ));
        }
        let (ret, ret_ty, ret_parts) = match &sig.output {
            syn::ReturnType::Default => (Kind::Unknown, None, None),
            syn::ReturnType::Type(_, ty) => {
                let info = type_info(ty, self_ty);
                (info.kind, info.name, info.parts)
            }
        };
        let declared = ann
            .param("return")
            .or(ann.user_facing.then_some(Kind::Virtual));
        let self_kind = ann.param("self").unwrap_or(match self_ty {
            Some("RealPid") => Kind::Real,
            Some("VirtPid") => Kind::Virtual,
            _ => Kind::Unknown,
        });
        self.out.table.add_fn(FnSig {
            name: sig.ident.to_string(),
            self_ty: self_ty.map(str::to_owned),
            has_self,
            self_kind,
            params,
            ret: declared.unwrap_or(ret),
            ret_ty,
            ret_parts,
            declared_ret: declared.is_some() || ret.is_definite(),
            ret_partial: false,
            role: Role::Plain,
            scope: Scope::Local,
        });
        if let Some(body) = body {
            self.out.fns.push(FnItem {
                attrs,
                sig,
                body,
                self_ty: owner.clone(),
            });
        }
    }

    fn add_item(
        &mut self,
        map: Map,
        name: String,
        owner: Option<&str>,
        kind: Kind,
        ty: Option<String>,
    ) {
        self.add_item_parts(map, name, owner, kind, ty, None);
    }

    fn add_item_parts(
        &mut self,
        map: Map,
        name: String,
        owner: Option<&str>,
        kind: Kind,
        ty: Option<String>,
        parts: Option<Vec<Part>>,
    ) {
        let table = &mut self.out.table;
        let map = match map {
            Map::Field => &mut table.fields,
            Map::Const => &mut table.consts,
            Map::Variant => &mut table.variants,
        };
        map.entry(name).or_default().push(ItemFact {
            owner: owner.map(str::to_owned),
            kind,
            ty,
            parts,
            scope: Scope::Local,
        });
    }

    fn add_const(
        &mut self,
        attrs: &[syn::Attribute],
        ident: &syn::Ident,
        ty: &syn::Type,
        expr: &'a syn::Expr,
    ) {
        let owner = self.self_ty();
        let ann = self.annotation(attrs);
        let kind = ann.kind.unwrap_or_else(|| type_kind(ty, owner.as_deref()));
        self.add_item(
            Map::Const,
            ident.to_string(),
            owner.as_deref(),
            kind,
            type_name(ty, owner.as_deref()),
        );
        if kind.is_definite() {
            self.out.consts.push((kind, expr, owner));
        }
    }
}

#[derive(Copy, Clone)]
enum Map {
    Field,
    Const,
    Variant,
}

impl<'a> Visit<'a> for Collector<'a> {
    /// Function bodies hold no facts except the items nested in them: the
    /// expressions are left to the flow analysis.
    fn visit_block(&mut self, block: &'a syn::Block) {
        for stmt in &block.stmts {
            if let syn::Stmt::Item(item) = stmt {
                self.visit_item(item);
            }
        }
    }

    fn visit_item_impl(&mut self, item: &'a syn::ItemImpl) {
        let name = impl_self(item).map(Rc::from);
        self.self_stack.push(name);
        visit::visit_item_impl(self, item);
        self.self_stack.pop();
    }

    fn visit_item_trait(&mut self, item: &'a syn::ItemTrait) {
        self.self_stack.push(None);
        visit::visit_item_trait(self, item);
        self.self_stack.pop();
    }

    fn visit_item_fn(&mut self, item: &'a syn::ItemFn) {
        self.self_stack.push(None);
        self.add_fn(&item.attrs, &item.sig, Some(&item.block));
        visit::visit_item_fn(self, item);
        self.self_stack.pop();
    }

    fn visit_impl_item_fn(&mut self, item: &'a syn::ImplItemFn) {
        self.add_fn(&item.attrs, &item.sig, Some(&item.block));
        self.self_stack.push(None);
        visit::visit_impl_item_fn(self, item);
        self.self_stack.pop();
    }

    fn visit_trait_item_fn(&mut self, item: &'a syn::TraitItemFn) {
        if let Some(body) = &item.default {
            self.add_fn(&item.attrs, &item.sig, Some(body));
        }
        visit::visit_trait_item_fn(self, item);
    }

    fn visit_item_struct(&mut self, item: &'a syn::ItemStruct) {
        let owner = item.ident.to_string();
        for (i, field) in item.fields.iter().enumerate() {
            let ann = self.annotation(&field.attrs);
            let kind = ann
                .kind
                .unwrap_or_else(|| type_kind(&field.ty, Some(&owner)));
            let name = field
                .ident
                .as_ref()
                .map_or_else(|| i.to_string(), ToString::to_string);
            if ann.user_facing || !ann.pairs.is_empty() {
                self.out.errors.push((
                    format!("field `{name}` takes a bare `real`, `virtual` or `view` annotation"),
                    field.span(),
                ));
            }
            let info = type_info(&field.ty, Some(&owner));
            self.add_item_parts(Map::Field, name, Some(&owner), kind, info.name, info.parts);
        }
        visit::visit_item_struct(self, item);
    }

    fn visit_item_enum(&mut self, item: &'a syn::ItemEnum) {
        let owner = item.ident.to_string();
        for variant in &item.variants {
            if let syn::Fields::Unnamed(fields) = &variant.fields {
                if let [field] = fields.unnamed.iter().collect::<Vec<_>>().as_slice() {
                    let ann = self.annotation(&field.attrs);
                    let kind = ann
                        .kind
                        .unwrap_or_else(|| type_kind(&field.ty, Some(&owner)));
                    self.add_item(
                        Map::Variant,
                        variant.ident.to_string(),
                        Some(&owner),
                        kind,
                        type_name(&field.ty, Some(&owner)),
                    );
                }
            }
        }
        visit::visit_item_enum(self, item);
    }

    fn visit_item_const(&mut self, item: &'a syn::ItemConst) {
        self.add_const(&item.attrs, &item.ident, &item.ty, &item.expr);
        visit::visit_item_const(self, item);
    }

    fn visit_item_static(&mut self, item: &'a syn::ItemStatic) {
        self.add_const(&item.attrs, &item.ident, &item.ty, &item.expr);
        visit::visit_item_static(self, item);
    }

    fn visit_impl_item_const(&mut self, item: &'a syn::ImplItemConst) {
        self.add_const(&item.attrs, &item.ident, &item.ty, &item.expr);
        visit::visit_impl_item_const(self, item);
    }
}
