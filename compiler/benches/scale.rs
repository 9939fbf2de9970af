//! How build time grows with the mesh: generated topologies of 10, 100 and 1,000 clusters (10
//! primaries, the rest remotes spread over them, one network per primary), built by the
//! release binary into a fresh folder and again over its own output (the steady state: every
//! intermediate already issued), against copying the same output tree with `cp -r`, which is
//! the floor a build that writes its files cannot beat.
//!
//! Not part of `cargo test`. Run it with a release build:
//!
//! ```console
//! $ cargo bench --bench scale               # 10, 100 and 1000 clusters
//! $ cargo bench --bench scale -- 1000       # one size
//! ```
//!
//! It prints a Markdown table for the book (`book/src/performance.md`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const PRIMARIES: usize = 10;
const RUNS: usize = 3;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![10, 100, 1000];
    }
    let binary = release_binary();
    println!("| clusters | remote secrets | files | MB | first build | build (steady) | `cp -r` of the output | build ÷ copy |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for clusters in sizes {
        let tmp = tempfile::tempdir().expect("a temporary folder");
        let dir = tmp.path();
        generate(dir, clusters);
        let first = time(|| run(&binary, dir, "out"));
        let (files, bytes) = size(&dir.join("out"));
        let build = best(|| run(&binary, dir, "out"));
        let copy = best(|| {
            let target = dir.join("copy");
            let _ = std::fs::remove_dir_all(&target);
            let status = Command::new("cp").arg("-r").arg(dir.join("out")).arg(&target).status().expect("cp runs");
            assert!(status.success());
        });
        let secrets = PRIMARIES.min(clusters) * (clusters - 1);
        println!(
            "| {clusters} | {secrets} | {files} | {:.1} | {} | {} | {} | {:.1} |",
            bytes as f64 / 1e6,
            ms(first),
            ms(build),
            ms(copy),
            build.as_secs_f64() / copy.as_secs_f64()
        );
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn best(mut f: impl FnMut()) -> Duration {
    (0..RUNS).map(|_| time(&mut f)).min().unwrap_or_default()
}

fn run(binary: &Path, dir: &Path, out: &str) {
    let output = Command::new(binary).args(["build", "topology.kdl", "-o", out]).current_dir(dir).output().expect("meshgen runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

fn release_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(env!("CARGO")).args(["build", "--release", "--quiet", "--bin", "meshgen"]).current_dir(root).status().expect("cargo runs");
    assert!(status.success(), "release build failed");
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    target.join("release/meshgen")
}

fn size(dir: &Path) -> (usize, u64) {
    let mut files = 0;
    let mut bytes = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable") {
            let entry = entry.expect("entry");
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                files += 1;
                bytes += meta.len();
            }
        }
    }
    (files, bytes)
}

/// A mesh of `clusters` clusters: primaries `p-0`… on networks `net-0`…, each serving an equal
/// share of the remotes `r-<primary>-<n>` on its own network. Every cluster is read by the
/// primaries, so each has an API server and a token; one CA file serves all API servers.
fn generate(dir: &Path, clusters: usize) {
    let primaries = PRIMARIES.min(clusters);
    for sub in ["pki", "kube", "tokens"] {
        std::fs::create_dir_all(dir.join(sub)).expect("folders");
    }
    let root = meshgen::pki::issue_root(meshgen::model::KeyAlgorithm::EcdsaP256, 3650, time::OffsetDateTime::now_utc()).expect("a root");
    meshgen::pki::store_root(&root, &dir.join("pki/root-cert.pem"), &dir.join("pki/root-key.pem")).expect("root stored");
    std::fs::write(dir.join("kube/ca.pem"), &root.cert_pem).expect("CA file");
    let mut text = String::from("mesh \"scale\"\n\nca {\n    root cert=\"pki/root-cert.pem\" key=\"pki/root-key.pem\"\n}\n\n");
    for p in 0..primaries {
        let _ = writeln!(text, "network \"net-{p}\"");
    }
    let mut cluster = |name: &str, network: usize, role: &str, gateway: Option<String>, index: usize| {
        let _ = writeln!(text, "\ncluster \"{name}\" {{\n    network \"net-{network}\"\n    {role}");
        let _ = writeln!(text, "    api-server \"https://10.{}.{}.1:6443\" ca-file=\"kube/ca.pem\"", index / 250, index % 250);
        let _ = writeln!(text, "    reader-token file=\"tokens/{name}.token\"");
        if let Some(address) = gateway {
            let _ = writeln!(text, "    eastwest-gateway address=\"{address}\"");
        }
        text.push_str("}\n");
        let token = format!("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6aXN0aW8tc3lzdGVtOmlzdGlvLXJlYWRlciJ9.{name}-signature");
        std::fs::write(dir.join(format!("tokens/{name}.token")), token).expect("token");
    };
    for p in 0..primaries {
        cluster(&format!("p-{p}"), p, "role \"primary\"", Some(format!("203.0.113.{}", p + 1)), p);
    }
    for r in 0..clusters - primaries {
        let p = r % primaries;
        cluster(&format!("r-{p}-{}", r / primaries), p, &format!("role \"remote\" control-plane=\"p-{p}\""), None, primaries + r);
    }
    std::fs::write(dir.join("topology.kdl"), text).expect("topology");
}
