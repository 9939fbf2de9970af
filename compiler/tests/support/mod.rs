//! Helpers shared by the integration tests: copies of examples in temporary folders, runs of the
//! real binary, and whole output trees read back as text.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn example_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("topology.kdl").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Copies a folder recursively (keeping file modes), so a test never writes into the repository.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of an example in a fresh temporary folder; returns the folder and the copy's path.
pub fn example_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    copy_dir(&repo().join("examples").join(name), &dir);
    (tmp, dir)
}

/// Runs the binary as a user would from `cwd`; stderr is not a terminal, so there is no colour,
/// and the report is wide enough that no help line wraps.
pub fn meshgen(args: &[&str], cwd: &Path) -> Output {
    meshgen_columns(args, cwd, 400)
}

pub fn meshgen_columns(args: &[&str], cwd: &Path, columns: usize) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshgen")).args(args).current_dir(cwd).env_remove("NO_COLOR").env("COLUMNS", columns.to_string()).output().unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every file under `root`, sorted by relative path, with its bytes.
pub fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push((path.strip_prefix(root).unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// The tree as one reviewable text: each file's path, then its content.
pub fn tree_text(root: &Path) -> String {
    tree(root).into_iter().map(|(path, bytes)| format!("=== {path}\n{}", String::from_utf8_lossy(&bytes))).collect()
}
