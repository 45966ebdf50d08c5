//! Finding the Rust files under the given paths.
//!
//! Folders are walked with the `ignore` crate: `.gitignore` rules apply
//! (whether or not the tree is a git checkout), hidden files and every
//! `target/` folder are skipped, and so is anything matched by a
//! `.vpid-check-ignore` file (gitignore syntax). vpid-check's own UI
//! fixtures are excluded that way. A file named on the command line is always
//! checked.

use std::path::{Path, PathBuf};

use crate::SourceFile;

/// The name of vpid-check's own ignore files.
pub const IGNORE_FILE: &str = ".vpid-check-ignore";

/// A path that could not be walked or read.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    /// The path does not exist.
    #[error("{0}: no such file or directory")]
    Missing(PathBuf),
    /// Walking a folder failed.
    #[error("cannot walk {path}: {source}")]
    Walk {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: ignore::Error,
    },
    /// A file could not be read (or is not UTF-8).
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The `.rs` files under `paths`, in a stable order.
///
/// # Errors
/// A missing path or a walk error.
pub fn rust_files(paths: &[impl AsRef<Path>]) -> Result<Vec<PathBuf>, WalkError> {
    let mut out = Vec::new();
    for path in paths {
        let path = path.as_ref();
        if !path.exists() {
            return Err(WalkError::Missing(path.to_owned()));
        }
        if path.is_file() {
            out.push(path.to_owned());
            continue;
        }
        let walker = ignore::WalkBuilder::new(path)
            .require_git(false)
            .add_custom_ignore_filename(IGNORE_FILE)
            .filter_entry(|e| {
                !(e.file_type().is_some_and(|t| t.is_dir()) && e.file_name() == "target")
            })
            .sort_by_file_path(Path::cmp)
            .build();
        for entry in walker {
            let entry = entry.map_err(|source| WalkError::Walk {
                path: path.to_owned(),
                source,
            })?;
            let p = entry.path();
            if entry.file_type().is_some_and(|t| t.is_file())
                && p.extension().is_some_and(|x| x == "rs")
            {
                out.push(p.to_owned());
            }
        }
    }
    Ok(out)
}

/// Reads the `.rs` files under `paths`.
///
/// # Errors
/// A missing path, a walk error, or a file that cannot be read as UTF-8.
pub fn read_sources(paths: &[impl AsRef<Path>]) -> Result<Vec<SourceFile>, WalkError> {
    rust_files(paths)?
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|source| WalkError::Read {
                path: p.clone(),
                source,
            })?;
            Ok(SourceFile::new(p.to_string_lossy().into_owned(), text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_target_gitignored_and_vpid_check_ignored_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for p in [
            "src/a.rs",
            "target/debug/b.rs",
            "gen/c.rs",
            "ui/d.rs",
            "src/e.txt",
            "src/inner/target/f.rs",
        ] {
            let p = root.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "fn x() {}").unwrap();
        }
        std::fs::write(root.join(".gitignore"), "/gen\n").unwrap();
        std::fs::write(root.join("ui").join(IGNORE_FILE), "*\n").unwrap();
        let files = rust_files(&[root]).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["src/a.rs"]);
        // A file named explicitly is checked even if ignored.
        assert_eq!(rust_files(&[root.join("ui/d.rs")]).unwrap().len(), 1);
        assert!(matches!(
            rust_files(&[root.join("nope")]),
            Err(WalkError::Missing(_))
        ));
    }
}
