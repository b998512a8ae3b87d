//! The built importers the benchmark loads, and the scratch directories it works in.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;

/// Returns the cargo workspace: the parent of this crate's directory.
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the bench crate lives in the workspace").to_path_buf()
}

/// Returns the example importers built by `scripts/build-plugins`, in name order.
pub fn example_importers() -> anyhow::Result<Vec<PathBuf>> {
    let dir = workspace_dir().join("target/plugins");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}; run scripts/build-plugins first", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "wasm"))
        .collect();
    files.sort();
    anyhow::ensure!(!files.is_empty(), "{} contains no .wasm files; run scripts/build-plugins first", dir.display());
    Ok(files)
}

/// Returns the built component of the example importer `slug`.
pub fn example_importer(slug: &str) -> anyhow::Result<PathBuf> {
    built(workspace_dir().join("target/plugins").join(format!("{}.wasm", slug.replace('-', "_"))))
}

/// Returns the built component of the test importer crate `name` of `tests/importers/`.
pub fn test_importer(name: &str) -> anyhow::Result<PathBuf> {
    built(workspace_dir().join("target/test-importers").join(format!("{}.wasm", name.replace('-', "_"))))
}

fn built(path: PathBuf) -> anyhow::Result<PathBuf> {
    anyhow::ensure!(path.is_file(), "{} does not exist; run scripts/build-plugins first", path.display());
    Ok(path)
}

/// Returns the shared test data file `name` (`<workspace>/../shared/data/<name>`).
pub fn data_file(name: &str) -> anyhow::Result<PathBuf> {
    built(workspace_dir().join("../shared/data").join(name))
}

/// Returns the directory of this run's scratch directories, `ingest-bench-<pid>` under
/// the system temporary directory.
fn scratch_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| std::env::temp_dir().join(format!("ingest-bench-{}", std::process::id())))
}

/// Removes every scratch directory of this run. wasmtime's cache worker threads write
/// bookkeeping files into cache directories shortly after a load, even into directories
/// already removed, so this waits for them first.
pub fn remove_scratch_root() {
    std::thread::sleep(Duration::from_millis(500));
    let _ = std::fs::remove_dir_all(scratch_root());
}

/// A new directory under [`scratch_root`], removed on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> anyhow::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = scratch_root().join(format!("{label}-{}", COUNTER.fetch_add(1, Ordering::Relaxed)));
        std::fs::create_dir_all(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Self { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Writes `bytes` as `dir/name` the way deployment tools do: to a hidden file first,
/// then renamed into place.
pub fn install(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let staged = dir.join(format!(".{name}.tmp"));
    std::fs::write(&staged, bytes).with_context(|| format!("cannot write {}", staged.display()))?;
    std::fs::rename(&staged, dir.join(name)).with_context(|| format!("cannot rename {}", staged.display()))?;
    Ok(())
}

/// Returns `component` with a custom section appended, which changes its bytes (and so
/// wasmtime's cache key) without changing what it does.
pub fn with_custom_section(component: &[u8], payload: &[u8]) -> Vec<u8> {
    const NAME: &[u8] = b"ingest-bench";
    let mut content = leb128(NAME.len());
    content.extend_from_slice(NAME);
    content.extend_from_slice(payload);

    let mut bytes = component.to_vec();
    bytes.push(0); // custom section id
    bytes.extend(leb128(content.len()));
    bytes.extend(content);
    bytes
}

fn leb128(mut value: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            bytes.push(byte);
            return bytes;
        }
        bytes.push(byte | 0x80);
    }
}

/// Describes the machine and the build: the CPU and the number of CPUs, the wasmtime
/// version and the profile.
pub fn machine_summary() -> String {
    format!("{}, wasmtime 48, release build", crate::cpu::describe())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_encodes_multibyte_values() {
        assert_eq!(leb128(0), [0]);
        assert_eq!(leb128(127), [0x7f]);
        assert_eq!(leb128(128), [0x80, 0x01]);
        assert_eq!(leb128(624_485), [0xe5, 0x8e, 0x26]);
    }

    #[test]
    fn custom_section_is_appended() {
        let bytes = with_custom_section(b"head", b"42");

        assert_eq!(&bytes[..4], b"head");
        assert_eq!(bytes[4], 0);
        assert_eq!(bytes[5] as usize, 1 + 12 + 2);
        assert_eq!(&bytes[7..19], b"ingest-bench");
        assert_eq!(&bytes[19..], b"42");
    }
}
