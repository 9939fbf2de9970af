//! Asks git which of some files it tracks (rule 9: a token file in a repository is a leak
//! waiting to happen). Two git processes per run, whatever the number of files; no git, or no
//! repository, means nothing is tracked.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::model::FilePath;

/// The files among `files` that the git repository around `dir` tracks.
pub(super) fn tracked<'a>(dir: &Path, files: &[&'a FilePath]) -> Vec<&'a FilePath> {
    if files.is_empty() {
        return Vec::new();
    }
    let Some(top) = git(dir, &["rev-parse", "--show-toplevel"]).and_then(|out| out.lines().next().map(PathBuf::from)) else {
        return Vec::new();
    };
    let Ok(top) = top.canonicalize() else { return Vec::new() };
    // Ask only about files inside the repository: git refuses a pathspec outside it.
    let inside: Vec<(&FilePath, PathBuf)> = files
        .iter()
        .filter_map(|f| f.resolved.canonicalize().ok().map(|abs| (*f, abs)))
        .filter(|(_, abs)| abs.starts_with(&top))
        .collect();
    if inside.is_empty() {
        return Vec::new();
    }
    let mut args: Vec<String> = vec!["ls-files".into(), "-z".into(), "--full-name".into(), "--".into()];
    args.extend(inside.iter().map(|(_, abs)| abs.to_string_lossy().into_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let Some(listed) = git(&top, &args) else { return Vec::new() };
    let tracked: HashSet<PathBuf> = listed.split('\0').filter(|s| !s.is_empty()).map(|s| top.join(s)).collect();
    inside.into_iter().filter(|(_, abs)| tracked.contains(abs)).map(|(f, _)| f).collect()
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git").arg("-C").arg(dir).args(args).stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}
