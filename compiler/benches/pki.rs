//! How long issuing intermediates takes: N per algorithm through meshgen's own issuance
//! (`pki::renew`, which generates keys in parallel across clusters, signs, verifies each new
//! certificate and stores it, exactly as a build issues missing intermediates), against what
//! Istio's `tools/certs` Makefile does for the same N: per cluster, sequentially,
//! `openssl genrsa 4096`, `openssl req -new`, `openssl x509 -req` signed by an RSA-4096 root.
//!
//! Not part of `cargo test`. Run it with a release build:
//!
//! ```console
//! $ cargo bench --bench pki              # N = 100
//! $ cargo bench --bench pki -- 20        # another N
//! $ cargo bench --bench pki -- 100 --no-openssl
//! ```
//!
//! It prints a Markdown table for the book (`book/src/pki.md`, "Benchmark").

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use meshgen::diagnostics::{Diagnostics, Sources};
use meshgen::model::KeyAlgorithm;
use meshgen::pki::{self, IssueMode, PkiRequest};

const ALGORITHMS: [KeyAlgorithm; 5] =
    [KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384, KeyAlgorithm::Rsa2048, KeyAlgorithm::Rsa3072, KeyAlgorithm::Rsa4096];

fn main() {
    // `cargo bench` passes `--bench`; anything else numeric is N.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(100);
    let with_openssl = !args.iter().any(|a| a == "--no-openssl");

    println!("machine: {} CPU(s) available to this process, {}", cpus(), cpu_model());
    let mut rows = Vec::new();
    for algorithm in ALGORITHMS {
        let took = meshgen_issue(algorithm, n);
        eprintln!("meshgen {}: {n} intermediates in {:.2} s", algorithm.name(), took.as_secs_f64());
        rows.push((format!("meshgen `{}` (parallel, {} threads)", algorithm.name(), cpus()), took));
    }
    if with_openssl {
        match openssl_makefile(n) {
            Some((version, took)) => {
                eprintln!("openssl rsa-4096 (Makefile): {n} intermediates in {:.2} s", took.as_secs_f64());
                rows.push((format!("Istio Makefile: {version}, `rsa-4096` (sequential)"), took));
            }
            None => eprintln!("openssl not found; the Makefile row is left out"),
        }
    }

    println!();
    println!("| issuing {n} intermediates | total | per intermediate |");
    println!("|---|---:|---:|");
    for (what, took) in rows {
        let total = took.as_secs_f64();
        println!("| {what} | {total:.2} s | {:.1} ms |", total * 1000.0 / n as f64);
    }
}

/// Issues `n` intermediates from a root of the same algorithm through `pki::renew`, timing only
/// the issuance (key generation, signing, verification, storing both files).
fn meshgen_issue(algorithm: KeyAlgorithm, n: usize) -> Duration {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let dir = tmp.path();
    let name = algorithm.name();
    let topology = format!(
        "mesh \"bench\"\n\
         ca {{\n    root cert=\"pki/root-cert.pem\" key=\"pki/root-key.pem\" algorithm=\"{name}\"\n    \
         intermediate algorithm=\"{name}\" valid-days=365 dir=\"pki/clusters\"\n}}\n\
         network \"net1\"\n\
         cluster \"c000\" {{\n    network \"net1\"\n    role \"primary\"\n}}\n"
    );
    std::fs::write(dir.join("topology.kdl"), topology).expect("the topology is written");
    let now = time::OffsetDateTime::now_utc();
    let root = pki::issue_root(algorithm, 3650, now).expect("a root");
    pki::store_root(&root, &dir.join("pki/root-cert.pem"), &dir.join("pki/root-key.pem")).expect("the root is stored");

    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let topology = meshgen::syntax::load(&dir.join("topology.kdl"), &mut sources, &mut diags).expect("the topology loads");
    assert!(!diags.has_errors(), "the bench topology has no errors");
    let names: Vec<String> = (0..n).map(|i| format!("c{i:03}")).collect();
    let clusters: Vec<&str> = names.iter().map(String::as_str).collect();
    let request = PkiRequest { topology: &topology, primaries: clusters.clone(), output_dir: None, now, mode: IssueMode::ReadOnly };

    let start = Instant::now();
    let bundle = pki::renew(&request, &clusters, &mut sources, &mut diags);
    let took = start.elapsed();

    let bundle = bundle.expect("every intermediate is issued");
    assert!(!diags.has_errors());
    assert_eq!(bundle.clusters.len(), n);
    took
}

/// What `Makefile.selfsigned.mk <cluster>-cacerts` runs for each of `n` clusters, one after the
/// other as make does, from an RSA-4096 root made beforehand (not timed).
fn openssl_makefile(n: usize) -> Option<(String, Duration)> {
    let version = Command::new("openssl").arg("version").output().ok().filter(|o| o.status.success())?;
    let version = String::from_utf8_lossy(&version.stdout).split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let dir = tmp.path();
    std::fs::write(dir.join("root-ca.conf"), ROOT_CONF).expect("written");
    run(dir, &["genrsa", "-out", "root-key.pem", "4096"]);
    run(dir, &["req", "-sha256", "-new", "-key", "root-key.pem", "-config", "root-ca.conf", "-out", "root-cert.csr"]);
    run(dir, &[
        "x509", "-req", "-sha256", "-days", "3650", "-signkey", "root-key.pem", "-extensions", "req_ext", "-extfile",
        "root-ca.conf", "-in", "root-cert.csr", "-out", "root-cert.pem",
    ]);

    let start = Instant::now();
    for i in 0..n {
        let cluster = format!("c{i:03}");
        let folder = dir.join(&cluster);
        std::fs::create_dir(&folder).expect("created");
        std::fs::write(folder.join("intermediate.conf"), INTERMEDIATE_CONF.replace("{cluster}", &cluster)).expect("written");
        run(&folder, &["genrsa", "-out", "ca-key.pem", "4096"]);
        run(&folder, &["req", "-new", "-config", "intermediate.conf", "-key", "ca-key.pem", "-out", "cluster-ca.csr"]);
        run(&folder, &[
            "x509", "-req", "-sha256", "-days", "3650", "-CA", "../root-cert.pem", "-CAkey", "../root-key.pem",
            "-CAcreateserial", "-extensions", "req_ext", "-extfile", "intermediate.conf", "-in", "cluster-ca.csr", "-out",
            "ca-cert.pem",
        ]);
        let chain = [std::fs::read(folder.join("ca-cert.pem")).expect("read"), std::fs::read(dir.join("root-cert.pem")).expect("read")].concat();
        std::fs::write(folder.join("cert-chain.pem"), chain).expect("written");
    }
    Some((version, start.elapsed()))
}

fn run(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| info.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, m)| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into())
}

/// `root-ca.conf` of Istio's `tools/certs/common.mk`.
const ROOT_CONF: &str = "\
[ req ]
encrypt_key = no
prompt = no
utf8 = yes
default_md = sha256
default_bits = 4096
req_extensions = req_ext
x509_extensions = req_ext
distinguished_name = req_dn
[ req_ext ]
subjectKeyIdentifier = hash
basicConstraints = critical, CA:true
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, keyCertSign
[ req_dn ]
O = Istio
CN = Root CA
";

/// `<cluster>/intermediate.conf` of Istio's `tools/certs/common.mk`.
const INTERMEDIATE_CONF: &str = "\
[ req ]
encrypt_key = no
prompt = no
utf8 = yes
default_md = sha256
default_bits = 4096
req_extensions = req_ext
x509_extensions = req_ext
distinguished_name = req_dn
[ req_ext ]
subjectKeyIdentifier = hash
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, keyCertSign
subjectAltName=@san
[ san ]
DNS.1 = istiod.istio-system.svc
[ req_dn ]
O = Istio
CN = Intermediate CA
L = {cluster}
";
