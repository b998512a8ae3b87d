//! Importers by slug, loaded from the plugins directory.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};

use super::bindings::{CONTRACT_PACKAGE, ImporterWorldPre, SUPPORTED_CONTRACTS};
use super::description::Description;
use super::engine::WasmEngine;
use super::instance::ImporterInstance;
use super::sandbox::{GuestState, add_to_linker};
use super::{Compilation, HostServices, LoadStats, LoadedImporter, NoHostServices};
use crate::config::SandboxLimits;

/// The reason a file could not become an importer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: cannot read the file: {message}")]
    Read { file: String, message: String },
    #[error("{file}: the file changed while it was read; it is loaded once it stops changing")]
    StillWriting { file: String },
    #[error("{file}: cannot compile the component: {message}")]
    Compile { file: String, message: String },
    #[error(
        "{file}: it exports the importer interface of {CONTRACT_PACKAGE}@{found}, but this host supports only {}; rebuild it with an SDK for a supported version",
        supported_contracts()
    )]
    UnsupportedContract { file: String, found: String },
    #[error(
        "{file}: it does not export the {CONTRACT_PACKAGE}/importer interface, so it is not an importer; this host supports {}",
        supported_contracts()
    )]
    NotAnImporter { file: String },
    #[error("{file}: calling describe failed because the importer {reason}")]
    DescribeFault { file: String, reason: String },
    #[error("{file}: describe returned an error: {message}")]
    DescribeError { file: String, message: String },
    #[error("{file}: invalid description: {message}")]
    InvalidDescription { file: String, message: String },
    #[error("{file}: slug {slug} is already served by {other}; give one of them another slug")]
    DuplicateSlug { file: String, slug: String, other: String },
}

fn supported_contracts() -> String {
    SUPPORTED_CONTRACTS.iter().map(|version| format!("{CONTRACT_PACKAGE}@{version}")).collect::<Vec<_>>().join(", ")
}

/// A file in the plugins directory that failed to load.
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    pub file: String,
    pub error: String,
}

/// The importers a server serves. Loads and unloads run one at a time. Readers take a
/// snapshot under a short lock and keep the `Arc` of the version they got.
pub struct Registry {
    engine: WasmEngine,
    linker: Linker<GuestState>,
    limits: SandboxLimits,
    entries: RwLock<Entries>,
    /// Held for the whole of a load or unload, so that they never interleave.
    loading: Mutex<()>,
    /// Compiled components of the versions served now, by the SHA-256 of their bytes, so
    /// that the same bytes under another file name are not compiled again.
    compiled: Mutex<HashMap<[u8; 32], Component>>,
}

#[derive(Default)]
struct Entries {
    by_slug: HashMap<String, Arc<LoadedImporter>>,
    /// Files whose last load failed, with the error. A slug whose file is here keeps
    /// serving the version it had.
    failures: BTreeMap<PathBuf, LoadError>,
}

impl Registry {
    pub fn new(engine: WasmEngine, limits: SandboxLimits) -> anyhow::Result<Self> {
        let mut linker = Linker::new(&engine.engine);
        add_to_linker(&mut linker)?;
        Ok(Self {
            engine,
            linker,
            limits,
            entries: RwLock::default(),
            loading: Mutex::new(()),
            compiled: Mutex::default(),
        })
    }

    pub fn get(&self, slug: &str) -> Option<Arc<LoadedImporter>> {
        self.entries.read().expect("registry lock poisoned").by_slug.get(slug).cloned()
    }

    /// Lists every registered importer, by slug.
    pub fn all(&self) -> Vec<Arc<LoadedImporter>> {
        let entries = self.entries.read().expect("registry lock poisoned");
        let mut importers: Vec<_> = entries.by_slug.values().cloned().collect();
        importers.sort_by(|left, right| left.description.slug.cmp(&right.description.slug));
        importers
    }

    /// The error of the last load of the file `importer` was loaded from, when that load
    /// failed and `importer` kept serving.
    pub fn last_error(&self, importer: &LoadedImporter) -> Option<String> {
        let entries = self.entries.read().expect("registry lock poisoned");
        entries.failures.get(&importer.file).map(LoadError::to_string)
    }

    /// Files in the plugins directory whose last load failed.
    pub fn rejected(&self) -> Vec<Rejected> {
        let entries = self.entries.read().expect("registry lock poisoned");
        entries
            .failures
            .iter()
            .map(|(file, error)| Rejected { file: file.display().to_string(), error: error.to_string() })
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
    /// A file whose bytes are those of the version it already serves is not loaded
    /// again. On failure the version served before stays, and the error is kept for
    /// `GET /importers`, except [`LoadError::StillWriting`], which a later change of the
    /// file resolves. Logs the outcome.
    pub fn load_file(&self, file: &Path) -> Result<Arc<LoadedImporter>, LoadError> {
        let _loading = self.loading.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.load_locked(file)
    }

    /// Unregisters the slug served from `file`, which was removed. Runs that have that
    /// version finish on it. A file rejected because it claimed the same slug is loaded
    /// again.
    pub fn unload_file(&self, file: &Path) {
        let _loading = self.loading.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let freed = {
            let mut entries = self.entries.write().expect("registry lock poisoned");
            entries.failures.remove(file);
            let freed: Vec<String> = entries
                .by_slug
                .iter()
                .filter(|(_, importer)| importer.file == file)
                .map(|(slug, _)| slug.clone())
                .collect();
            for slug in &freed {
                entries.by_slug.remove(slug);
                tracing::info!(importer = %slug, file = %file.display(), "importer removed");
            }
            freed
        };
        self.forget_unserved_components();
        self.retry_claimants(&freed);
    }

    fn load_locked(&self, file: &Path) -> Result<Arc<LoadedImporter>, LoadError> {
        let started = Instant::now();
        let label = file.display().to_string();
        let bytes = read_whole_file(file, &label)?;
        let sha256: [u8; 32] = Sha256::digest(&bytes).into();

        if let Some(current) = self.served_from(file).filter(|current| current.sha256 == sha256) {
            self.entries.write().expect("registry lock poisoned").failures.remove(file);
            tracing::debug!(importer = %current.label(), file = %label, "importer file unchanged");
            return Ok(current);
        }

        let loaded = self.compile(file, &bytes, sha256, started).and_then(|importer| self.register(importer));
        match loaded {
            Ok((importer, freed)) => {
                tracing::info!(
                    importer = %importer.description.slug,
                    version = %importer.description.version,
                    file = %label,
                    load_ms = importer.load.duration.as_millis() as u64,
                    compilation = importer.load.compilation.as_str(),
                    "importer loaded"
                );
                self.forget_unserved_components();
                self.retry_claimants(&freed);
                Ok(importer)
            }
            Err(error) => {
                tracing::warn!(file = %label, %error, "importer rejected");
                crate::metrics::record_importer_load_failure();
                let mut entries = self.entries.write().expect("registry lock poisoned");
                entries.failures.insert(file.to_path_buf(), error.clone());
                Err(error)
            }
        }
    }

    fn served_from(&self, file: &Path) -> Option<Arc<LoadedImporter>> {
        let entries = self.entries.read().expect("registry lock poisoned");
        entries.by_slug.values().find(|importer| importer.file == file).cloned()
    }

    /// Registers `importer` under its slug and returns it with the slugs its file no
    /// longer serves.
    fn register(&self, importer: LoadedImporter) -> Result<(Arc<LoadedImporter>, Vec<String>), LoadError> {
        let importer = Arc::new(importer);
        let slug = importer.description.slug.clone();
        let mut entries = self.entries.write().expect("registry lock poisoned");
        // A slug served from a file that no longer exists is free: the file was renamed
        // or removed, and its event has not been handled yet.
        if let Some(other) = entries.by_slug.get(&slug).filter(|other| other.file != importer.file && other.file.exists())
        {
            return Err(LoadError::DuplicateSlug {
                file: importer.file.display().to_string(),
                slug,
                other: other.file.display().to_string(),
            });
        }
        let freed: Vec<String> = entries
            .by_slug
            .iter()
            .filter(|(other_slug, other)| other.file == importer.file && **other_slug != slug)
            .map(|(other_slug, _)| other_slug.clone())
            .collect();
        for other_slug in &freed {
            entries.by_slug.remove(other_slug);
        }
        entries.failures.remove(&importer.file);
        entries.by_slug.insert(slug, importer.clone());
        self.compiled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(importer.sha256, importer.pre.instance_pre().component().clone());
        Ok((importer, freed))
    }

    /// Loads again, in name order, the files rejected because one of `slugs` was taken.
    fn retry_claimants(&self, slugs: &[String]) {
        if slugs.is_empty() {
            return;
        }
        let claimants: BTreeSet<PathBuf> = {
            let entries = self.entries.read().expect("registry lock poisoned");
            entries
                .failures
                .iter()
                .filter(|(_, error)| matches!(error, LoadError::DuplicateSlug { slug, .. } if slugs.contains(slug)))
                .map(|(file, _)| file.clone())
                .collect()
        };
        for file in claimants {
            tracing::info!(file = %file.display(), "loading an importer again because the slug it claimed is free");
            let _ = self.load_locked(&file);
        }
    }

    /// Drops compiled components that no registered version uses. Runs in flight keep
    /// theirs through their own `Arc`.
    fn forget_unserved_components(&self) {
        let served: BTreeSet<[u8; 32]> = {
            let entries = self.entries.read().expect("registry lock poisoned");
            entries.by_slug.values().map(|importer| importer.sha256).collect()
        };
        self.compiled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|sha256, _| served.contains(sha256));
    }

    fn compile(&self, file: &Path, bytes: &[u8], sha256: [u8; 32], started: Instant) -> Result<LoadedImporter, LoadError> {
        let label = file.display().to_string();
        // wasmtime's messages may span lines (wasmparser prints byte arrays one per line).
        let compile_error = |error: wasmtime::Error| LoadError::Compile {
            file: label.clone(),
            message: format!("{error:#}").split_whitespace().collect::<Vec<_>>().join(" "),
        };

        let (component, compilation) = self.component(bytes, sha256).map_err(compile_error)?;
        check_contract(&self.engine.engine, &component, &label)?;
        let pre = self.linker.instantiate_pre(&component).map_err(compile_error)?;
        let pre = ImporterWorldPre::new(pre).map_err(compile_error)?;

        let description = describe(&pre, self.limits, file)?;
        description
            .validate()
            .map_err(|message| LoadError::InvalidDescription { file: label.clone(), message })?;

        Ok(LoadedImporter {
            description,
            pre,
            file: file.to_path_buf(),
            loaded_at: chrono::Utc::now(),
            sha256,
            load: LoadStats { duration: started.elapsed(), compilation },
        })
    }

    /// Returns the compiled component of `bytes`, from memory, from the disk cache, or
    /// compiled now.
    fn component(&self, bytes: &[u8], sha256: [u8; 32]) -> wasmtime::Result<(Component, Compilation)> {
        let cached = self.compiled.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&sha256).cloned();
        if let Some(component) = cached {
            return Ok((component, Compilation::MemoryCache));
        }
        let disk_hits = self.engine.disk_cache.as_ref().map(wasmtime::Cache::cache_hits);
        let component = Component::from_binary(&self.engine.engine, bytes)?;
        // Loads never overlap, so a hit counted since the call above is this component's.
        let from_disk = self.engine.disk_cache.as_ref().map(wasmtime::Cache::cache_hits) > disk_hits;
        Ok((component, if from_disk { Compilation::DiskCache } else { Compilation::Compiled }))
    }
}

/// Whether a directory entry is an importer: a `.wasm` file whose name does not start
/// with a dot, so writers can stage `.name.wasm` files and rename them into place.
pub fn is_importer_file(path: &Path) -> bool {
    let visible = path.file_name().and_then(|name| name.to_str()).is_some_and(|name| !name.starts_with('.'));
    visible && path.extension().is_some_and(|extension| extension == "wasm")
}

/// Reads `file`, and fails with [`LoadError::StillWriting`] when its size or
/// modification time changed while it was read, or when the bytes read are not its size.
fn read_whole_file(file: &Path, label: &str) -> Result<Vec<u8>, LoadError> {
    let read_error = |error: std::io::Error| LoadError::Read { file: label.to_owned(), message: error.to_string() };
    let before = std::fs::metadata(file).map_err(read_error)?;
    let bytes = std::fs::read(file).map_err(read_error)?;
    let after = std::fs::metadata(file).map_err(read_error)?;
    let unchanged = before.len() == after.len()
        && before.modified().ok() == after.modified().ok()
        && bytes.len() as u64 == after.len();
    if !unchanged {
        return Err(LoadError::StillWriting { file: label.to_owned() });
    }
    Ok(bytes)
}

/// Rejects a component that exports another version of the importer interface, or none,
/// which would otherwise fail later with wasmtime's less helpful linking error.
fn check_contract(engine: &wasmtime::Engine, component: &Component, file: &str) -> Result<(), LoadError> {
    let prefix = format!("{CONTRACT_PACKAGE}/importer@");
    let exported: Vec<String> = component
        .component_type()
        .exports(engine)
        .filter_map(|(name, _)| name.strip_prefix(&prefix).map(str::to_owned))
        .collect();
    if exported.iter().any(|version| SUPPORTED_CONTRACTS.contains(&version.as_str())) {
        return Ok(());
    }
    match exported.into_iter().next() {
        Some(found) => Err(LoadError::UnsupportedContract { file: file.to_owned(), found }),
        None => Err(LoadError::NotAnImporter { file: file.to_owned() }),
    }
}

fn describe(pre: &ImporterWorldPre<GuestState>, limits: SandboxLimits, file: &Path) -> Result<Description, LoadError> {
    let label = file.display().to_string();
    let file_name = file.file_name().map_or_else(|| label.clone(), |name| name.to_string_lossy().into_owned());
    // The instance machinery needs a loaded importer, so a placeholder serves until the
    // description exists.
    let probe = Arc::new(LoadedImporter {
        description: Description::placeholder(&file_name),
        pre: pre.clone(),
        file: file.to_path_buf(),
        loaded_at: chrono::Utc::now(),
        sha256: [0; 32],
        load: LoadStats { duration: Duration::ZERO, compilation: Compilation::Compiled },
    });
    let services: Arc<dyn HostServices> = Arc::new(NoHostServices);
    let mut instance = ImporterInstance::new(probe, limits, services).with_label(file_name);
    match instance.describe() {
        Ok(Ok(description)) => Ok(description),
        Ok(Err(message)) => Err(LoadError::DescribeError { file: label, message }),
        Err(fault) => Err(LoadError::DescribeFault { file: label, reason: fault.reason() }),
    }
}
