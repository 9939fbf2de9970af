//! No input panics or crashes meshgen. Every file under `corpus/crashes/` is an input that once
//! crashed the front end (a stack overflow, memory exhausted), found by the fuzzer (`fuzz/`) or
//! while probing what it could not reach. Those, every `corpus/bad/*.kdl` and every example
//! topology are driven exactly as the fuzz targets drive an input, as `topology.<its extension>`
//! (a `.yaml` file takes the YAML form): `driver::check_source` (syntax → lower → inputs →
//! checks), then the diagnostics rendered for people, as JSON and as GitHub workflow commands.
//! A panic in any of them fails the test, which names every input that panicked. A stack
//! overflow aborts the test process, which fails it too. (The inputs that once took exponential
//! time and memory are here as well; the test measures no time — speed belongs to benchmarks —
//! but such a regression would keep it from finishing.)
//!
//! The inputs are judged in the fuzz target's folder layout, so a crash reproduces here as it did
//! there: `<tmp>/ex/` holds the `kube/`, `pki/` and `tokens/` of every example, `<tmp>/files/`
//! the test corpus's input files (which `corpus/bad/` reaches as `../files/…`), and `<tmp>/ex/`
//! is the topology's folder.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use meshgen::diagnostics::machine;
use meshgen::diagnostics::render::{self, HumanStyle};
use meshgen::driver;

mod support;

fn layout() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let ex = tmp.path().join("ex");
    for name in support::example_names() {
        support::copy_dir(&support::repo().join("examples").join(&name), &ex);
    }
    support::copy_dir(&support::repo().join("compiler/tests/corpus/files"), &tmp.path().join("files"));
    (tmp, ex)
}

fn files_in(dir: &Path, extension: Option<&str>) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && extension.is_none_or(|x| p.extension().is_some_and(|e| e == x)))
        .collect();
    files.sort();
    files
}

/// What the fuzz targets do with one input (`fuzz/fuzz_targets/common.rs`).
fn front_end(file_name: &str, data: &[u8], dir: &Path) {
    let text = String::from_utf8_lossy(data).into_owned();
    let outcome = driver::check_source(file_name, text, dir);
    let _ = render::human(&outcome.diagnostics, &outcome.sources, HumanStyle { color: false, width: 80 });
    let _ = machine::json(&outcome.diagnostics, &outcome.sources);
    let _ = machine::github(&outcome.diagnostics, &outcome.sources);
}

#[test]
fn no_crash_seed_or_bad_topology_panics_the_front_end() {
    let repo = support::repo();
    // Absent while the fuzzer has found nothing (git keeps no empty folder).
    let crashes_dir = repo.join("compiler/tests/corpus/crashes");
    let crashes = if crashes_dir.is_dir() { files_in(&crashes_dir, None) } else { Vec::new() };
    let bad = files_in(&repo.join("compiler/tests/corpus/bad"), Some("kdl"));
    let examples: Vec<PathBuf> = support::example_names().iter().map(|n| repo.join("examples").join(n).join("topology.kdl")).collect();
    assert!(bad.len() >= 50, "corpus/bad/ shrank to {} cases", bad.len());
    assert!(!examples.is_empty(), "no example topology");

    let (_tmp, dir) = layout();
    let mut panicked = Vec::new();
    for input in crashes.iter().chain(&bad).chain(&examples) {
        let data = std::fs::read(input).unwrap();
        let form = input.extension().and_then(|e| e.to_str()).filter(|e| ["yaml", "yml", "json"].contains(e)).unwrap_or("kdl");
        let file_name = format!("topology.{form}");
        let name = input.strip_prefix(&repo).unwrap_or(input).display().to_string();
        if panic::catch_unwind(AssertUnwindSafe(|| front_end(&file_name, &data, &dir))).is_err() {
            panicked.push(name);
        }
    }
    assert!(panicked.is_empty(), "the front end panicked on {} input(s):\n  {}", panicked.len(), panicked.join("\n  "));
}
