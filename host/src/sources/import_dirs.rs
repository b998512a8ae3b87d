//! Files in the operator's import directories (`INGEST_IMPORT_DIRS`), which importers
//! whose source is the filesystem name by a relative path.
//!
//! A location is a relative path without `..` components. It is looked up in each import
//! directory in the configured order, and the first directory that has it wins. Both the
//! directory and the file are canonicalized (every symbolic link resolved), and the file
//! must stay inside the directory, so neither `..` nor a symbolic link can reach a file
//! outside the import directories. The file must be a regular file.
//!
//! The caller copies the file into the storage directory when the run is triggered. A run
//! then reads the same bytes from its first chunk to its last, and after a restart, even
//! when the original file changes in the meantime.

use std::fs::File;
use std::io;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ImportPathError {
    #[error(
        "no import directory is configured; set INGEST_IMPORT_DIRS to the directories that filesystem sources may read"
    )]
    NoImportDirs,

    #[error("the location {location:?} is not a relative path; name the file relative to an import directory")]
    NotRelative { location: String },

    #[error(
        "the location {location:?} contains \"..\"; name the file relative to an import directory, without leaving it"
    )]
    ParentComponent { location: String },

    #[error(
        "the file {location} was not found in the import directories {}; put the file there or fix the importer's location",
        display_dirs(searched)
    )]
    NotFound { location: String, searched: Vec<PathBuf> },

    #[error("the file {location} leads outside the import directory {} through a symbolic link; only files inside the import directories can be imported", dir.display())]
    OutsideImportDir { location: String, dir: PathBuf },

    #[error("the path {location} in the import directory {} is not a regular file", dir.display())]
    NotAFile { location: String, dir: PathBuf },

    #[error("the file {location} in the import directory {} could not be read: {source}", dir.display())]
    Unreadable {
        location: String,
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn display_dirs(dirs: &[PathBuf]) -> String {
    dirs.iter().map(|dir| dir.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// A file found in an import directory, opened.
#[derive(Debug)]
pub struct ImportFile {
    /// The canonical path of the file.
    pub path: PathBuf,
    /// The file, opened at its canonical path right after the prefix check.
    pub file: File,
}

/// Finds `location` in the first import directory that has it and opens it.
///
/// NOTE: the directory is checked, then the file is opened by its canonical path. A
/// process that can write inside an import directory and swaps a directory on that path
/// for a symbolic link between the two steps can still redirect the open. Opening each
/// component with `O_NOFOLLOW` (or `openat2` with `RESOLVE_BENEATH` on Linux) would close
/// that gap.
pub fn open(import_dirs: &[PathBuf], location: &str) -> Result<ImportFile, ImportPathError> {
    let relative = checked_relative_path(location)?;
    if import_dirs.is_empty() {
        return Err(ImportPathError::NoImportDirs);
    }

    for dir in import_dirs {
        let Ok(dir) = dir.canonicalize() else {
            tracing::warn!(dir = %dir.display(), "an import directory does not exist or cannot be read; skipping it");
            continue;
        };
        let unreadable =
            |source| ImportPathError::Unreadable { location: location.to_owned(), dir: dir.clone(), source };
        let path = match dir.join(&relative).canonicalize() {
            Ok(path) => path,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(unreadable(error)),
        };
        if !path.starts_with(&dir) {
            tracing::warn!(location, dir = %dir.display(), resolved = %path.display(), "a filesystem source leads outside its import directory");
            return Err(ImportPathError::OutsideImportDir { location: location.to_owned(), dir });
        }

        let file = File::open(&path).map_err(unreadable)?;
        let metadata = file.metadata().map_err(unreadable)?;
        if !metadata.is_file() {
            return Err(ImportPathError::NotAFile { location: location.to_owned(), dir });
        }
        return Ok(ImportFile { path, file });
    }
    Err(ImportPathError::NotFound { location: location.to_owned(), searched: import_dirs.to_vec() })
}

/// Checks that `location` is a non-empty relative path without `..` and returns it
/// without `.` components.
fn checked_relative_path(location: &str) -> Result<PathBuf, ImportPathError> {
    let mut relative = PathBuf::new();
    for component in Path::new(location.trim()).components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(ImportPathError::ParentComponent { location: location.to_owned() }),
            Component::RootDir | Component::Prefix(_) => {
                return Err(ImportPathError::NotRelative { location: location.to_owned() });
            }
        }
    }
    if relative.as_os_str().is_empty() {
        return Err(ImportPathError::NotRelative { location: location.to_owned() });
    }
    Ok(relative)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A directory tree under the temporary directory, removed when dropped.
    struct Tree {
        root: PathBuf,
    }

    impl Tree {
        fn new() -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let unique = NEXT.fetch_add(1, Ordering::Relaxed);
            let root = std::env::temp_dir().join(format!("ingest-import-dirs-{}-{unique}", std::process::id()));
            std::fs::create_dir_all(&root).unwrap();
            Self { root }
        }

        fn file(&self, relative: &str, text: &str) -> PathBuf {
            let path = self.root.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        }

        fn dir(&self, relative: &str) -> PathBuf {
            let path = self.root.join(relative);
            std::fs::create_dir_all(&path).unwrap();
            path
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    fn read(found: ImportFile) -> String {
        std::io::read_to_string(found.file).unwrap()
    }

    #[test]
    fn open_prefers_first_dir() {
        let tree = Tree::new();
        let first = tree.dir("first");
        let second = tree.dir("second");
        tree.file("first/shared.csv", "first");
        tree.file("second/shared.csv", "second");
        tree.file("second/nested/only.csv", "nested");

        let dirs = [first, second];
        assert_eq!(read(open(&dirs, "shared.csv").unwrap()), "first");
        assert_eq!(read(open(&dirs, "./nested/only.csv").unwrap()), "nested");
    }

    #[test]
    fn open_rejects_absolute_and_parent_paths() {
        let tree = Tree::new();
        let dirs = [tree.dir("imports")];
        tree.file("secret.csv", "secret");

        for location in ["/etc/passwd", "", "  ", "."] {
            let error = open(&dirs, location).unwrap_err();
            assert!(matches!(error, ImportPathError::NotRelative { .. }), "{location:?}: {error:?}");
        }
        for location in ["../secret.csv", "a/../../secret.csv", "a/.."] {
            let error = open(&dirs, location).unwrap_err();
            assert!(matches!(error, ImportPathError::ParentComponent { .. }), "{location:?}: {error:?}");
        }
    }

    #[test]
    fn open_rejects_symlink_escape() {
        let tree = Tree::new();
        let imports = tree.dir("imports");
        let outside = tree.file("outside/secret.csv", "secret");
        std::os::unix::fs::symlink(&outside, imports.join("link.csv")).unwrap();
        std::os::unix::fs::symlink(outside.parent().unwrap(), imports.join("linked-dir")).unwrap();

        for location in ["link.csv", "linked-dir/secret.csv"] {
            let error = open(std::slice::from_ref(&imports), location).unwrap_err();
            assert!(matches!(error, ImportPathError::OutsideImportDir { .. }), "{location}: {error:?}");
            assert!(!error.to_string().contains("outside/secret.csv"), "the target stays unnamed: {error}");
        }
    }

    #[test]
    fn open_follows_symlink_inside_dir() {
        let tree = Tree::new();
        let imports = tree.dir("imports");
        let target = tree.file("imports/archive/2024.csv", "inside");
        std::os::unix::fs::symlink(&target, imports.join("latest.csv")).unwrap();

        let found = open(&[imports], "latest.csv").unwrap();
        assert!(found.path.ends_with("archive/2024.csv"), "{}", found.path.display());
        assert_eq!(read(found), "inside");
    }

    #[test]
    fn open_missing_file_and_directory() {
        let tree = Tree::new();
        let dirs = [tree.dir("imports"), tree.root.join("missing-dir")];
        tree.dir("imports/folder.csv");

        let error = open(&dirs, "absent.csv").unwrap_err();
        assert!(matches!(error, ImportPathError::NotFound { .. }), "{error:?}");
        assert!(error.to_string().contains("missing-dir"), "{error}");

        let error = open(&dirs, "folder.csv").unwrap_err();
        assert!(matches!(error, ImportPathError::NotAFile { .. }), "{error:?}");

        let error = open(&[], "stocks.csv").unwrap_err();
        assert!(matches!(error, ImportPathError::NoImportDirs), "{error:?}");
    }
}
