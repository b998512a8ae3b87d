//! Importers by slug, loaded from the plugins directory.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::Serialize;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

use super::bindings::{CONTRACT_PACKAGE, ImporterWorldPre, SUPPORTED_CONTRACTS};
use super::description::Description;
use super::instance::{GuestState, ImporterInstance, add_to_linker};
use super::{HostServices, LoadedImporter, NoHostServices};
use crate::config::SandboxLimits;

/// Why a file could not become an importer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: cannot read or compile the component: {message}")]
    Compile { file: String, message: String },
    #[error(
        "{file}: built against {found}, but this host supports {CONTRACT_PACKAGE}@{}; rebuild it with a supported SDK",
        SUPPORTED_CONTRACTS.join(", ")
    )]
    UnsupportedContract { file: String, found: String },
    #[error("{file}: its describe call failed: {message}")]
    Describe { file: String, message: String },
    #[error("{file}: invalid description: {message}")]
    InvalidDescription { file: String, message: String },
    #[error("{file}: slug {slug} is already served by {other}; give one of them another slug")]
    DuplicateSlug { file: String, slug: String, other: String },
}

/// A file in the plugins directory that failed to load.
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    pub file: String,
    pub error: String,
}

/// The importers a server serves. Loads and unloads happen on one thread at a time
/// (start-up, then the directory watcher); readers take a snapshot under a short lock.
pub struct Registry {
    engine: Engine,
    linker: Linker<GuestState>,
    limits: SandboxLimits,
    entries: RwLock<Entries>,
}

#[derive(Default)]
struct Entries {
    by_slug: HashMap<String, Arc<LoadedImporter>>,
    /// Files whose last load failed, with the error. A slug whose file is here keeps
    /// serving the version it had.
    failures: BTreeMap<PathBuf, String>,
}

impl Registry {
    pub fn new(engine: Engine, limits: SandboxLimits) -> anyhow::Result<Self> {
        let mut linker = Linker::new(&engine);
        add_to_linker(&mut linker)?;
        Ok(Self { engine, linker, limits, entries: RwLock::default() })
    }

    pub fn get(&self, slug: &str) -> Option<Arc<LoadedImporter>> {
        self.entries.read().expect("registry lock poisoned").by_slug.get(slug).cloned()
    }

    /// Every registered importer, by slug.
    pub fn all(&self) -> Vec<Arc<LoadedImporter>> {
        let entries = self.entries.read().expect("registry lock poisoned");
        let mut importers: Vec<_> = entries.by_slug.values().cloned().collect();
        importers.sort_by(|left, right| left.description.slug.cmp(&right.description.slug));
        importers
    }

    /// The error of the last load of the file `importer` was loaded from, when that load
    /// failed and `importer` kept serving.
    pub fn last_error(&self, importer: &LoadedImporter) -> Option<String> {
        self.entries.read().expect("registry lock poisoned").failures.get(&importer.file).cloned()
    }

    /// Files in the plugins directory whose last load failed.
    pub fn rejected(&self) -> Vec<Rejected> {
        let entries = self.entries.read().expect("registry lock poisoned");
        entries
            .failures
            .iter()
            .map(|(file, error)| Rejected { file: file.display().to_string(), error: error.clone() })
            .collect()
    }

    /// Loads every `.wasm` file of `dir`, in name order; a slug claimed by an earlier
    /// file makes a later file's load fail.
    pub fn load_dir(&self, dir: &Path) -> std::io::Result<()> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| is_importer_file(path))
            .collect();
        files.sort();
        for file in files {
            let _ = self.load_file(&file);
        }
        Ok(())
    }

    /// Compiles, checks and registers one file, replacing the version it served before.
    /// On failure the version served before stays, and the error is kept for
    /// `GET /importers`. Logs the outcome.
    pub fn load_file(&self, file: &Path) -> Result<Arc<LoadedImporter>, LoadError> {
        let started = std::time::Instant::now();
        let loaded = self.compile(file).and_then(|importer| self.register(Arc::new(importer)));
        let load_ms = started.elapsed().as_millis() as u64;
        match &loaded {
            Ok(importer) => tracing::info!(
                importer = %importer.description.slug,
                version = %importer.description.version,
                file = %file.display(),
                load_ms,
                "importer loaded"
            ),
            Err(error) => {
                tracing::warn!(file = %file.display(), %error, "importer rejected");
                let mut entries = self.entries.write().expect("registry lock poisoned");
                entries.failures.insert(file.to_path_buf(), error.to_string());
            }
        }
        loaded
    }

    /// Unregisters the slug served from `file`, which was removed; runs holding that
    /// version finish on it.
    pub fn unload_file(&self, file: &Path) {
        let mut entries = self.entries.write().expect("registry lock poisoned");
        entries.failures.remove(file);
        let slugs: Vec<String> = entries
            .by_slug
            .iter()
            .filter(|(_, importer)| importer.file == file)
            .map(|(slug, _)| slug.clone())
            .collect();
        for slug in slugs {
            entries.by_slug.remove(&slug);
            tracing::info!(importer = %slug, file = %file.display(), "importer removed");
        }
    }

    fn register(&self, importer: Arc<LoadedImporter>) -> Result<Arc<LoadedImporter>, LoadError> {
        let slug = importer.description.slug.clone();
        let mut entries = self.entries.write().expect("registry lock poisoned");
        if let Some(other) = entries.by_slug.get(&slug).filter(|other| other.file != importer.file) {
            return Err(LoadError::DuplicateSlug {
                file: importer.file.display().to_string(),
                slug,
                other: other.file.display().to_string(),
            });
        }
        // A file that now describes another slug no longer serves its old one.
        entries.by_slug.retain(|_, other| other.file != importer.file);
        entries.failures.remove(&importer.file);
        entries.by_slug.insert(slug, importer.clone());
        Ok(importer)
    }

    fn compile(&self, file: &Path) -> Result<LoadedImporter, LoadError> {
        let label = file.display().to_string();
        let compile_error = |error: wasmtime::Error| LoadError::Compile { file: label.clone(), message: format!("{error:#}") };

        let component = Component::from_file(&self.engine, file).map_err(compile_error)?;
        check_contract(&self.engine, &component, &label)?;
        let pre = self.linker.instantiate_pre(&component).map_err(compile_error)?;
        let pre = ImporterWorldPre::new(pre).map_err(compile_error)?;

        let description = describe(&pre, self.limits, &label)?;
        description
            .validate()
            .map_err(|message| LoadError::InvalidDescription { file: label.clone(), message })?;

        Ok(LoadedImporter {
            description,
            pre,
            file: file.to_path_buf(),
            loaded_at: chrono::Utc::now(),
        })
    }
}

/// Whether a directory entry is an importer: a `.wasm` file whose name does not start
/// with a dot, so writers can stage `.name.wasm` files and rename them into place.
pub fn is_importer_file(path: &Path) -> bool {
    let visible = path.file_name().and_then(|name| name.to_str()).is_some_and(|name| !name.starts_with('.'));
    visible && path.extension().is_some_and(|extension| extension == "wasm")
}

/// Rejects a component that exports another version of the importer interface, which
/// would otherwise fail later with wasmtime's less helpful linking error.
fn check_contract(engine: &Engine, component: &Component, file: &str) -> Result<(), LoadError> {
    let prefix = format!("{CONTRACT_PACKAGE}/importer@");
    let exported: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .filter(|name| name.starts_with(&prefix))
        .collect();
    let supported = exported.iter().any(|name| SUPPORTED_CONTRACTS.contains(&&name[prefix.len()..]));
    if supported {
        return Ok(());
    }
    let found = exported.first().cloned().unwrap_or_else(|| format!("no {CONTRACT_PACKAGE}/importer export"));
    Err(LoadError::UnsupportedContract { file: file.to_owned(), found })
}

fn describe(pre: &ImporterWorldPre<GuestState>, limits: SandboxLimits, file: &str) -> Result<Description, LoadError> {
    // A placeholder importer so the instance machinery can run `describe` before the
    // description exists.
    let probe = Arc::new(LoadedImporter {
        description: Description::placeholder(file),
        pre: pre.clone(),
        file: PathBuf::from(file),
        loaded_at: chrono::Utc::now(),
    });
    let services: Arc<dyn HostServices> = Arc::new(NoHostServices);
    let mut instance = ImporterInstance::new(probe, limits, services);
    match instance.describe() {
        Ok(Ok(description)) => Ok(description),
        Ok(Err(message)) => Err(LoadError::InvalidDescription { file: file.to_owned(), message }),
        Err(fault) => Err(LoadError::Describe { file: file.to_owned(), message: fault.to_string() }),
    }
}
