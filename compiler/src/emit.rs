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

/// What `build --check` found: files the build would add, remove or change in the output folder.
#[derive(Debug, Default)]
pub struct Drift {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Each changed file with a unified diff in which Secret values are redacted.
    pub changed: Vec<(String, String)>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// The report `build --check` prints: a summary, one line per file, then the diffs.
    pub fn report(&self, out: &Path) -> String {
        if self.is_empty() {
            return format!("{} is up to date\n", out.display());
        }
        let mut text = format!(
            "{} differs from the topology: {} added, {} removed, {} changed\n",
            out.display(),
            self.added.len(),
            self.removed.len(),
            self.changed.len()
        );
        text.extend(self.added.iter().map(|p| format!("added:   {p}\n")));
        text.extend(self.removed.iter().map(|p| format!("removed: {p}\n")));
        text.extend(self.changed.iter().map(|(p, _)| format!("changed: {p}\n")));
        for (_, diff) in &self.changed {
            text.push('\n');
            text.push_str(diff);
        }
        text
    }
}

/// Compares a rendered build with what is in `out`, reading but writing nothing.
pub fn compare(out: &Path, rendered: &Rendered) -> Result<Drift, Diagnostic> {
    let mut on_disk = std::collections::BTreeSet::new();
    if out.is_dir() {
        list_files(out, out, &mut on_disk).map_err(|e| read_failed(out, &e))?;
    }
    let mut drift = Drift::default();
    let built = rendered.files();
    for (path, content) in &built {
        if !on_disk.remove(path.as_str()) {
            drift.added.push(path.clone());
            continue;
        }
        let target = out.join(path);
        let existing = fs::read(&target).map_err(|e| read_failed(&target, &e))?;
        if existing != *content.bytes {
            let secret = content.objects.iter().any(|o| o.kind == "Secret");
            let old = String::from_utf8_lossy(&existing);
            let new = String::from_utf8_lossy(&content.bytes);
            let (old, new) = if secret { (redact_secrets(&old), redact_secrets(&new)) } else { (old.into_owned(), new.into_owned()) };
            let diff = similar::TextDiff::from_lines(&old, &new).unified_diff().context_radius(3).header(&format!("a/{path}"), &format!("b/{path}")).to_string();
            drift.changed.push((path.clone(), diff));
        }
    }
    drift.removed = on_disk.into_iter().collect();
    Ok(drift)
}

fn list_files(root: &Path, dir: &Path, found: &mut std::collections::BTreeSet<String>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            list_files(root, &path, found)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            found.insert(relative.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// Replaces every value under a Secret's `data` or `stringData` with a short digest, so a diff
/// shows which keys changed but never what they hold.
pub fn redact_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_data = false;
    let mut block: Option<(String, usize, String)> = None; // key line prefix, indent, content
    let flush = |out: &mut String, block: &mut Option<(String, usize, String)>| {
        if let Some((prefix, _, content)) = block.take() {
            out.push_str(&format!("{prefix} <redacted, sha256 {}>\n", short_digest(&content)));
        }
    };
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some((_, key_indent, content)) = block.as_mut() {
            if line.trim().is_empty() || indent > *key_indent {
                content.push_str(line);
                content.push('\n');
                continue;
            }
            flush(&mut out, &mut block);
        }
        if indent == 0 {
            in_data = matches!(line.trim_end(), "data:" | "stringData:");
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if in_data
            && let Some((key, value)) = line.split_once(':') {
                let value = value.trim();
                if value.starts_with('|') || value.starts_with('>') {
                    block = Some((format!("{key}:"), indent, String::new()));
                } else {
                    out.push_str(&format!("{key}: <redacted, sha256 {}>\n", short_digest(value)));
                }
                continue;
            }
        out.push_str(line);
        out.push('\n');
    }
    flush(&mut out, &mut block);
    out
}

fn short_digest(text: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    digest.as_ref()[..6].iter().map(|b| format!("{b:02x}")).collect()
}

fn read_failed(path: &Path, err: &std::io::Error) -> Diagnostic {
    Diagnostic::new(codes::WRITE_FAILED, format!("cannot read {}: {}", path.display(), crate::syntax::io_reason(err)))
        .help("--check compares the build with the output folder, which must be readable")
}

/// One cluster's manifests as a single YAML stream, in the kustomization's order: what an Argo CD
/// config management plugin prints. Header comments are left out; documents are separated by
/// `---`.
pub fn stream(rendered: &Rendered, cluster: &str) -> Option<String> {
    let cluster = rendered.clusters.iter().find(|c| c.name == cluster)?;
    let mut text = String::new();
    for file in cluster.files.iter().filter(|f| f.manifest) {
        for document in file.content.document_texts() {
            if !text.is_empty() {
                text.push_str("---\n");
            }
            text.push_str(document);
            text.push('\n');
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_are_redacted_but_keys_stay() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: c2VjcmV0\n  b: |\n    line one\n    line two\nstringData:\n  c: plain\n";
        let redacted = redact_secrets(text);
        assert!(!redacted.contains("c2VjcmV0") && !redacted.contains("line one") && !redacted.contains("plain"), "{redacted}");
        assert!(redacted.contains("  a: <redacted, sha256 ") && redacted.contains("  b: <redacted, sha256 ") && redacted.contains("  c: <redacted, sha256 "), "{redacted}");
        assert!(redacted.contains("metadata:\n  name: s\n"), "{redacted}");
        assert_ne!(redact_secrets("data:\n  a: x\n"), redact_secrets("data:\n  a: y\n"), "a changed value still shows as changed");
    }
}
