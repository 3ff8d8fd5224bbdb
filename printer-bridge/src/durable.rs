//! Small durable-file helpers: a file is either wholly there or not at all, even after a crash.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

/// Flushes a directory's entries (creations, renames) to disk.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes `bytes` to `path` through a temporary file in the same directory, fsynced and then
/// renamed over the target, and fsyncs the directory: a reader sees the old or the new content.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let file_name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("{} names no file", path.display())))?;
    let temporary = dir.join(format!(".{}.tmp", file_name.to_string_lossy()));
    {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&temporary, path)?;
    sync_dir(dir)
}

/// Writes a new file and fsyncs it (its directory is synced by the caller, once per batch).
pub fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
