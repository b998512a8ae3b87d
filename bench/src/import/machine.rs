//! Descriptions of the measured build and of the machine: the commit, the server binary
//! and the load.

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

/// Describes the checked-out commit of `workspace`, with `+ uncommitted changes` when
/// the working tree differs from it.
pub fn commit(workspace: &Path) -> String {
    let git = |args: &[&str]| -> Option<String> {
        let output = Command::new("git").arg("-C").arg(workspace).args(args).output().ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let Some(head) = git(&["log", "-1", "--format=%h %s (%cI)"]) else {
        return "unknown (git log failed)".to_owned();
    };
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|status| !status.is_empty());
    if dirty { format!("{head} + uncommitted changes") } else { head }
}

/// Returns the commit time of the last commit of `workspace` that changed one of `paths`.
pub fn last_change(workspace: &Path, paths: &[&str]) -> Option<SystemTime> {
    let output = Command::new("git")
        .arg("-C")
        .arg(workspace)
        .args(["log", "-1", "--format=%ct", "--"])
        .args(paths)
        .output()
        .ok()?;
    let seconds: u64 = String::from_utf8_lossy(&output.stdout).trim().parse().ok()?;
    Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(seconds))
}

/// Describes the server binary: its path and when it was built.
pub fn binary(path: &Path) -> String {
    let modified = std::fs::metadata(path).and_then(|metadata| metadata.modified());
    match modified {
        Ok(modified) => {
            let built: chrono::DateTime<chrono::Utc> = modified.into();
            format!("{}, built {}", path.display(), built.format("%Y-%m-%d %H:%M:%S UTC"))
        }
        Err(error) => format!("{} ({error})", path.display()),
    }
}

/// Returns the 1, 5 and 15 minute load averages of `/proc/loadavg`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|error| format!("unknown ({error})"))
}
