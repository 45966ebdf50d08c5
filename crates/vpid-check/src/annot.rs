//! `/// vpid-check: …` annotations in doc comments.

use crate::kind::Kind;

/// What one item's `vpid-check:` doc lines say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annotation {
    /// `user-facing`: the function's return value crosses to user space.
    pub user_facing: bool,
    /// A bare `real`, `virtual` or `view` (fields, consts, statics); `view`
    /// is [`Kind::Conflict`]: a number in the caller's view.
    pub kind: Option<Kind>,
    /// `name=kind` pairs (function parameters, `self`, `return`).
    pub pairs: Vec<(String, Kind)>,
}

impl Annotation {
    /// The kind given to parameter (or `return`) `name`.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<Kind> {
        self.pairs.iter().find(|(n, _)| n == name).map(|&(_, k)| k)
    }

    /// Whether nothing was annotated.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        !self.user_facing && self.kind.is_none() && self.pairs.is_empty()
    }
}

/// The marker that starts an annotation line.
pub const MARKER: &str = "vpid-check:";

/// Reads the annotation out of an item's attributes. An error names what is
/// wrong, with the attribute it was found in.
pub fn parse(attrs: &[syn::Attribute]) -> Result<Annotation, (String, proc_macro2::Span)> {
    let mut out = Annotation::default();
    for attr in attrs {
        let syn::Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        if !nv.path.is_ident("doc") {
            continue;
        }
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) = &nv.value
        else {
            continue;
        };
        let text = text.value();
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix(MARKER) else {
                continue;
            };
            parse_items(rest, &mut out).map_err(|e| (e, syn::spanned::Spanned::span(&nv.value)))?;
        }
    }
    Ok(out)
}

fn parse_items(rest: &str, out: &mut Annotation) -> Result<(), String> {
    for item in rest.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if item == "user-facing" {
            out.user_facing = true;
        } else if let Some(kind) = Kind::parse(item) {
            out.kind = Some(kind);
        } else if let Some((name, kind)) = item.split_once('=') {
            let (name, kind_word) = (name.trim(), kind.trim());
            let kind = Kind::parse(kind_word).ok_or_else(|| {
                format!("malformed vpid-check annotation: `{kind_word}` is not `real`, `virtual` or `view`")
            })?;
            if name.is_empty() {
                return Err("malformed vpid-check annotation: `=` without a name".to_owned());
            }
            out.pairs.push((name.to_owned(), kind));
        } else {
            return Err(format!(
                "malformed vpid-check annotation: `{item}` (expected `real`, `virtual`, `view`, `user-facing` or `name=real|virtual|view`)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(src: &str) -> Result<Annotation, String> {
        let item: syn::ItemFn = syn::parse_str(&format!("{src}\nfn f() {{}}")).expect("parses");
        parse(&item.attrs).map_err(|(e, _)| e)
    }

    #[test]
    fn reads_pairs_kinds_and_user_facing() {
        let a = ann("/// Finds a task.\n/// vpid-check: pid=real, target=virtual, return=virtual")
            .unwrap();
        assert_eq!(a.param("pid"), Some(Kind::Real));
        assert_eq!(a.param("target"), Some(Kind::Virtual));
        assert_eq!(a.param("return"), Some(Kind::Virtual));
        assert!(!a.user_facing);
        let b = ann("/// vpid-check: user-facing").unwrap();
        assert!(b.user_facing && b.pairs.is_empty());
        assert_eq!(ann("/// vpid-check: real").unwrap().kind, Some(Kind::Real));
        let view = ann("/// vpid-check: pid=view, return=view").unwrap();
        assert_eq!(view.param("pid"), Some(Kind::Conflict));
        assert_eq!(view.param("return"), Some(Kind::Conflict));
        assert!(ann("/// nothing here").unwrap().is_empty());
    }

    #[test]
    fn rejects_malformed_annotations() {
        assert!(
            ann("/// vpid-check: pid=reel")
                .unwrap_err()
                .contains("`reel`")
        );
        assert!(
            ann("/// vpid-check: realish")
                .unwrap_err()
                .contains("`realish`")
        );
        assert!(ann("/// vpid-check: =real").is_err());
    }
}
