//! What every front-end target does with one input, and the folder referenced files resolve in.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use meshgen::diagnostics::machine;
use meshgen::diagnostics::render::{self, HumanStyle};

/// The front end as a user reaches it: `check_source` (syntax → lower → the referenced files →
/// every check), then the diagnostics rendered for people (miette), as JSON and as GitHub
/// workflow commands. `file_name`'s extension picks the form (`.kdl`, or `.yaml`/`.json`).
pub fn front_end(file_name: &str, data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let outcome = meshgen::driver::check_source(file_name, text, input_dir());
    let _ = render::human(&outcome.diagnostics, &outcome.sources, HumanStyle { color: false, width: 80 });
    let _ = machine::json(&outcome.diagnostics, &outcome.sources);
    let _ = machine::github(&outcome.diagnostics, &outcome.sources);
}

/// A scratch folder laid out so that the paths the seeds reference are found, made once per
/// process: `<tmp>/ex/` holds the `kube/`, `pki/` and `tokens/` of every example (their file
/// names do not clash but for the root, which any example's does) and is the topology's folder;
/// `<tmp>/files/` holds the test corpus's input files, so `../files/…` from the bad corpus
/// resolves too. `compiler/tests/no_panic.rs` lays out the same.
fn input_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let root = std::env::temp_dir().join(format!("meshgen-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let ex = root.join("ex");
        let examples = std::fs::read_dir(repo.join("examples")).expect("examples/ is readable");
        for example in examples.flatten().filter(|e| e.path().join("topology.kdl").is_file()) {
            copy_tree(&example.path(), &ex);
        }
        copy_tree(&repo.join("compiler/tests/corpus/files"), &root.join("files"));
        ex
    })
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("scratch folder");
    for entry in std::fs::read_dir(from).expect("readable folder").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy input file");
        }
    }
}
