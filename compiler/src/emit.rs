//! emit: puts a rendered build where it belongs. A tree is written atomically: everything goes
//! into a sibling temporary folder, which then takes the output folder's place in one rename, so
//! a failed or killed build leaves the previous output untouched. A folder meshgen did not write
//! is never replaced.
//!
//! The decision of what the files contain was made before; emit neither changes nor re-reads
//! content. Files that hold a Secret are created readable by their owner only.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::diagnostics::{codes, Diagnostic};
use crate::render::{Content, Rendered};

/// Writes the whole tree to `out`, replacing a previous meshgen output there.
pub fn write_tree(out: &Path, rendered: &Rendered) -> Result<(), Diagnostic> {
    let existing = match fs::symlink_metadata(out) {
        Ok(meta) if meta.is_dir() => {
            if !is_meshgen_output(out) {
                return Err(Diagnostic::new(codes::OUTPUT_NOT_OURS, format!("{} exists and was not written by meshgen", out.display()))
                    .help("meshgen replaces its output folder as a whole; choose an empty or new folder with -o, or one a previous build wrote (it holds index.json)"));
            }
            true
        }
        Ok(_) => {
            return Err(Diagnostic::new(codes::OUTPUT_NOT_OURS, format!("{} exists and is not a folder", out.display()))
                .help("choose another output path with -o"));
        }
        Err(_) => false,
    };
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".to_string());
    fs::create_dir_all(&parent).map_err(|e| write_failed(&parent, &e))?;
    let staging = parent.join(format!(".{name}.meshgen-{}", std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(|e| write_failed(&staging, &e))?;
    }
    if let Err(err) = write_files(&staging, rendered) {
        let _ = fs::remove_dir_all(&staging);
        return Err(err);
    }
    let swapped = if existing { exchange(&staging, out) } else { fs::rename(&staging, out) };
    match swapped {
        Ok(()) => {
            // After an exchange the staging folder holds the previous output.
            if existing {
                let _ = fs::remove_dir_all(&staging);
            }
            Ok(())
        }
        Err(err) => {
            let _ = fs::remove_dir_all(&staging);
            Err(write_failed(out, &err))
        }
    }
}

/// A folder meshgen wrote holds `index.json`; an empty folder is fair game too.
fn is_meshgen_output(dir: &Path) -> bool {
    if dir.join("index.json").is_file() {
        return true;
    }
    fs::read_dir(dir).map(|mut entries| entries.next().is_none()).unwrap_or(false)
}

fn write_files(root: &Path, rendered: &Rendered) -> Result<(), Diagnostic> {
    fs::create_dir(root).map_err(|e| write_failed(root, &e))?;
    for (path, content) in rendered.files() {
        let target = root.join(&path);
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).map_err(|e| write_failed(dir, &e))?;
        }
        write_file(&target, content).map_err(|e| write_failed(&target, &e))?;
    }
    Ok(())
}

fn write_file(path: &Path, content: &Content) -> std::io::Result<()> {
    let secret = content.objects.iter().any(|o| o.kind == "Secret");
    let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(if secret { 0o600 } else { 0o644 }).open(path)?;
    file.write_all(&content.bytes)
}

/// Swaps two folders in one step (Linux `renameat2(RENAME_EXCHANGE)`), falling back to two
/// renames where the file system cannot exchange.
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both pointers are valid NUL-terminated paths for the duration of the call.
    let rc = unsafe { libc::renameat2(libc::AT_FDCWD, ca.as_ptr(), libc::AT_FDCWD, cb.as_ptr(), libc::RENAME_EXCHANGE) };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    if !matches!(err.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP)) {
        return Err(err);
    }
    let aside = a.with_extension("previous");
    fs::rename(b, &aside)?;
    if let Err(err) = fs::rename(a, b) {
        let _ = fs::rename(&aside, b);
        return Err(err);
    }
    fs::rename(&aside, a)
}

fn write_failed(path: &Path, err: &std::io::Error) -> Diagnostic {
    Diagnostic::new(codes::WRITE_FAILED, format!("cannot write {}: {}", path.display(), crate::syntax::io_reason(err)))
        .help("check that the output folder's parent exists and is writable; the previous output, if any, is unchanged")
}
