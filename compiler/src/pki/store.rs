//! Writing key material to disk, and comparing paths.
//!
//! A key file is created with mode 0600 from its first byte (never written and then chmod-ed, which
//! would leave a window where others can read it), under a temporary name in its own folder, then
//! renamed into place, so a reader never sees half a file and a crash never leaves one.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

pub(crate) const KEY_MODE: u32 = 0o600;
pub(crate) const CERT_MODE: u32 = 0o644;

/// A write that failed, with the path that failed (never the content).
#[derive(Debug)]
pub struct StoreError {
    pub path: PathBuf,
    pub error: io::Error,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write {}: {}", self.path.display(), self.error)
    }
}

impl std::error::Error for StoreError {}

fn at(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |error| StoreError { path: path.to_path_buf(), error }
}

/// Writes `contents` to a fresh temporary file next to `target`, with `mode` from creation.
fn write_temp(target: &Path, contents: &str, mode: u32) -> Result<PathBuf, StoreError> {
    let name = target.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let temp = target.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let open = || OpenOptions::new().write(true).create_new(true).mode(mode).open(&temp);
    let mut file = match open() {
        // A leftover of an earlier run that died with our process ID: create_new refused to
        // follow or reuse it; remove it and try once more.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            fs::remove_file(&temp).map_err(at(&temp))?;
            open().map_err(at(&temp))?
        }
        other => other.map_err(at(&temp))?,
    };
    let written = file.write_all(contents.as_bytes()).and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(at(&temp)(e));
    }
    Ok(temp)
}

/// Whether storing may replace files already there.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// `pki renew`: the new pair replaces the old one.
    Replace,
    /// A root, or an intermediate issued for the first time: a file that appeared meanwhile is
    /// never overwritten (the check for absence and the placing are one step).
    Keep,
}

/// Moves a finished temporary file to its place: a rename to replace, a hard link (which fails
/// when the target exists) to keep.
fn place(temp: &Path, path: &Path, existing: Existing) -> std::io::Result<()> {
    match existing {
        Existing::Replace => fs::rename(temp, path),
        Existing::Keep => {
            fs::hard_link(temp, path)?;
            let _ = fs::remove_file(temp);
            Ok(())
        }
    }
}

/// Writes a key and its certificate: both temporary files first, then the key moved into place,
/// then the certificate. If anything fails, what this call created is removed again, so that a
/// later build does not find a key without its certificate.
pub(crate) fn store_pair(key_path: &Path, key_pem: &str, cert_path: &Path, cert_pem: &str, existing: Existing) -> Result<(), StoreError> {
    for parent in [key_path.parent(), cert_path.parent()].into_iter().flatten() {
        if !parent.as_os_str().is_empty() {
            fs::create_dir_all(parent).map_err(at(parent))?;
        }
    }
    let key_temp = write_temp(key_path, key_pem, KEY_MODE)?;
    let cert_temp = match write_temp(cert_path, cert_pem, CERT_MODE) {
        Ok(t) => t,
        Err(e) => {
            let _ = fs::remove_file(&key_temp);
            return Err(e);
        }
    };
    if let Err(e) = place(&key_temp, key_path, existing) {
        let _ = fs::remove_file(&key_temp);
        let _ = fs::remove_file(&cert_temp);
        return Err(at(key_path)(e));
    }
    if let Err(e) = place(&cert_temp, cert_path, existing) {
        let _ = fs::remove_file(&cert_temp);
        if existing == Existing::Keep {
            let _ = fs::remove_file(key_path);
        }
        return Err(at(cert_path)(e));
    }
    Ok(())
}

/// An absolute path with `.` and `..` resolved by text alone (the path may not exist yet).
pub(crate) fn lexical_absolute(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The path with symbolic links resolved as far as it exists: the longest existing ancestor is
/// canonicalized and the rest appended.
pub(crate) fn resolved(path: &Path) -> PathBuf {
    let lexical = lexical_absolute(path);
    let mut existing = lexical.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = fs::canonicalize(existing) {
            let mut out = canonical;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return lexical,
        }
    }
}

/// Whether `inner` lies inside `outer` (or is it), comparing both the lexical and the resolved
/// forms so that neither `..` nor a symbolic link hides the overlap.
pub(crate) fn is_inside(inner: &Path, outer: &Path) -> bool {
    let inners = [lexical_absolute(inner), resolved(inner)];
    let outers = [lexical_absolute(outer), resolved(outer)];
    inners.iter().any(|i| outers.iter().any(|o| i.starts_with(o)))
}
