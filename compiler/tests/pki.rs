//! `meshgen pki init|show|renew` as users run them, on copies of the examples, and every chain a
//! build emits judged by `openssl verify`.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use support::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn openssl_available() -> bool {
    let found = Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("SKIPPED: `openssl` is not on PATH; this test needs it to judge certificates independently");
    }
    found
}

/// `openssl <args> <file>`; panics unless it succeeds.
fn openssl(args: &[&str], file: &Path) -> String {
    let out = Command::new("openssl").args(args).arg(file).output().unwrap();
    assert!(out.status.success(), "openssl {args:?} {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// No key text in what a command prints.
fn assert_no_key(output: &std::process::Output) {
    for text in [stdout(output), stderr(output)] {
        assert!(!text.contains("PRIVATE KEY"), "a key was printed: {text}");
    }
}

/// Rewrites the example's `root` line (`root cert=… key=…`) with extra properties.
fn edit_root(dir: &Path, extra: &str) {
    let path = dir.join("topology.kdl");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = "root cert=\"pki/root-cert.pem\" key=\"pki/root-key.pem\"";
    assert!(text.contains(line), "the example names its root as expected");
    std::fs::write(&path, text.replacen(line, &format!("{line} {extra}"), 1)).unwrap();
}

/// The `data` of a `cacerts.yaml`, decoded.
fn cacerts(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut data = BTreeMap::new();
    let mut in_data = false;
    for line in text.lines() {
        if line == "data:" {
            in_data = true;
        } else if in_data && line.starts_with("  ") {
            let (key, value) = line.trim().split_once(": ").unwrap();
            let bytes = base64::engine::general_purpose::STANDARD.decode(value.trim()).unwrap();
            data.insert(key.to_string(), String::from_utf8(bytes).unwrap());
        } else {
            in_data = false;
        }
    }
    data
}

fn cacerts_files(out: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path().join("cacerts.yaml"))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn init_creates_a_0600_root_that_a_build_then_uses() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::remove_dir_all(dir.join("pki")).unwrap();
    let output = meshgen(&["pki", "init", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_no_key(&output);
    let out = stdout(&output);
    for expected in ["pki/root-cert.pem", "pki/root-key.pem", "ecdsa-p256", "O=Istio, CN=Root CA", "(3650 days)", "sha-256"] {
        assert!(out.contains(expected), "stdout names {expected}: {out}");
    }
    let (cert, key) = (dir.join("pki/root-cert.pem"), dir.join("pki/root-key.pem"));
    assert_eq!(mode(&key), 0o600, "the root key is readable by its owner only");
    assert_eq!(mode(&cert), 0o644);
    assert!(std::fs::read_to_string(&key).unwrap().starts_with("-----BEGIN PRIVATE KEY-----\n"));

    if openssl_available() {
        let text = openssl(&["x509", "-noout", "-text", "-in"], &cert);
        assert!(text.contains("Subject: O = Istio, CN = Root CA"), "{text}");
        assert!(text.contains("Issuer: O = Istio, CN = Root CA"), "self-signed: {text}");
        assert!(text.contains("CA:TRUE"), "{text}");
        assert!(text.contains("Certificate Sign"), "{text}");
        assert!(text.contains("ASN1 OID: prime256v1"), "the default algorithm is ecdsa-p256: {text}");
        let fingerprint = openssl(&["x509", "-noout", "-fingerprint", "-sha256", "-in"], &cert);
        let fingerprint = fingerprint.trim().split_once('=').unwrap().1;
        assert!(out.contains(fingerprint), "stdout has openssl's fingerprint {fingerprint}: {out}");
        assert_eq!(openssl(&["x509", "-noout", "-pubkey", "-in"], &cert), openssl(&["pkey", "-pubout", "-in"], &key));
    }

    let build = meshgen(&["build", "topology.kdl", "-o", "out"], &dir);
    assert_eq!(build.status.code(), Some(0), "{}", stderr(&build));
    assert!(dir.join("pki/clusters/primary-1/ca-cert.pem").is_file(), "the build issued an intermediate from the new root");
    let root_in_output = &cacerts(&dir.join("out/primary-1/cacerts.yaml"))["root-cert.pem"];
    assert_eq!(root_in_output, &std::fs::read_to_string(&cert).unwrap());
}

#[test]
fn init_refuses_to_overwrite_an_existing_root() {
    let (_tmp, dir) = example_copy("primary-remote");
    let before = tree(&dir);
    let output = meshgen(&["pki", "init", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("MG0818"), "{err}");
    assert!(err.contains("never overwrites a root"), "{err}");
    assert!(err.contains("topology.kdl:"), "it points into the topology: {err}");
    assert_eq!(stdout(&output), "");
    assert_eq!(tree(&dir), before, "nothing was written");

    // A key without its certificate is refused too: the missing half is not made up.
    std::fs::remove_file(dir.join("pki/root-cert.pem")).unwrap();
    let before = tree(&dir);
    let output = meshgen(&["pki", "init", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("the root key `pki/root-key.pem` already exists"), "{}", stderr(&output));
    assert_eq!(tree(&dir), before, "nothing was written");
}

#[test]
fn init_makes_the_algorithm_and_validity_the_root_node_asks_for() {
    if !openssl_available() {
        return;
    }
    for (algorithm, expected, key_expected) in [
        ("ecdsa-p384", &["id-ecPublicKey", "Public-Key: (384 bit)", "ASN1 OID: secp384r1", "ecdsa-with-SHA384"][..], &["Public-Key: (384 bit)", "ASN1 OID: secp384r1"][..]),
        ("rsa-2048", &["rsaEncryption", "Public-Key: (2048 bit)", "sha256WithRSAEncryption"][..], &["Public-Key: (2048 bit)", "Modulus:"][..]),
    ] {
        let (_tmp, dir) = example_copy("multi-primary-multi-network");
        std::fs::remove_dir_all(dir.join("pki")).unwrap();
        edit_root(&dir, &format!("algorithm=\"{algorithm}\" valid-days=400"));
        let output = meshgen(&["pki", "init", "topology.kdl"], &dir);
        assert_eq!(output.status.code(), Some(0), "{algorithm}: {}", stderr(&output));
        assert_no_key(&output);
        assert!(stdout(&output).contains(algorithm), "{}", stdout(&output));
        assert!(stdout(&output).contains("(400 days)"), "{}", stdout(&output));
        assert_eq!(mode(&dir.join("pki/root-key.pem")), 0o600);
        let text = openssl(&["x509", "-noout", "-text", "-in"], &dir.join("pki/root-cert.pem"));
        for e in expected {
            assert!(text.contains(e), "{algorithm}: expected {e} in {text}");
        }
        let key = openssl(&["pkey", "-noout", "-text_pub", "-in"], &dir.join("pki/root-key.pem"));
        for e in key_expected {
            assert!(key.contains(e), "{algorithm}: the key is of that type too: expected {e}");
        }
        // 400 days from now, give or take the hour of clock skew.
        let end = openssl(&["x509", "-noout", "-checkend", &(399 * 86_400).to_string(), "-in"], &dir.join("pki/root-cert.pem"));
        assert!(end.contains("will not expire"), "{end}");
        let out = Command::new("openssl")
            .args(["x509", "-noout", "-checkend", &(401 * 86_400).to_string(), "-in"])
            .arg(dir.join("pki/root-cert.pem"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{algorithm}: the root expires within 401 days");

        let build = meshgen(&["build", "topology.kdl", "-o", "out"], &dir);
        assert_eq!(build.status.code(), Some(0), "{algorithm}: {}", stderr(&build));
    }
}

#[test]
fn init_without_a_root_to_create_fails() {
    // External CA: nothing to create.
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::remove_dir_all(dir.join("pki")).unwrap();
    let path = dir.join("topology.kdl");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("ca {").unwrap();
    let end = start + text[start..].find("\n}\n").unwrap() + 3;
    std::fs::write(&path, format!("{}ca mode=\"external\"\n{}", &text[..start], &text[end..])).unwrap();
    let output = meshgen(&["pki", "init", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("MG0817"), "{}", stderr(&output));
    assert!(stderr(&output).contains("external CA"), "{}", stderr(&output));
    assert!(!dir.join("pki").exists());

    // Plug-in CA without a `root` node.
    std::fs::write(&path, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let output = meshgen(&["pki", "init", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("MG0801"), "{}", stderr(&output));
    assert!(!dir.join("pki").exists());
}

#[test]
fn pki_commands_report_a_broken_topology_and_touch_nothing() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::remove_dir_all(dir.join("pki/clusters")).unwrap();
    let path = dir.join("topology.kdl");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("role \"primary\"", "role \"primery\"", 1)).unwrap();
    let before = tree(&dir);
    for args in [&["pki", "init", "topology.kdl"][..], &["pki", "show", "topology.kdl"], &["pki", "renew", "topology.kdl", "--cluster", "primary-1"]] {
        let output = meshgen(args, &dir);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(stderr(&output).contains("MG0009"), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains("did you mean \"primary\"?"), "{}", stderr(&output));
        assert_eq!(stdout(&output), "", "{args:?}");
        assert_eq!(tree(&dir), before, "{args:?} wrote nothing");
    }
}

/// The rows of the `show` table, split into columns on runs of two or more spaces.
fn table_rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .map(|line| line.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect())
        .collect()
}

#[test]
fn show_tables_the_root_and_every_primary() {
    let (_tmp, dir) = example_copy("mixed-revision");
    let before = tree(&dir);
    let output = meshgen(&["pki", "show", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_no_key(&output);
    let table = stdout(&output);
    assert!(!table.contains('\u{1b}'), "no colours: {table:?}");
    let rows = table_rows(&table);
    assert_eq!(rows[0], ["NAME", "SUBJECT", "ALGORITHM", "NOT AFTER", "DAYS LEFT", "SHA-256", "CHAINS"]);
    let names: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["root", "alpha", "beta"], "root first, then the primaries sorted:\n{table}");
    assert_eq!(rows[1][1], "O=Istio, CN=Root CA");
    for (row, cluster) in rows[2..].iter().zip(["alpha", "beta"]) {
        assert_eq!(row.len(), 7, "{row:?}");
        assert_eq!(row[1], format!("O=Istio, CN=Intermediate CA, L={cluster}"));
        assert_eq!(row[2], "ecdsa-p256");
        assert!(row[3].len() == 10 && row[3].as_bytes()[4] == b'-', "a date: {}", row[3]);
        assert!(row[4].parse::<i64>().unwrap() > 30, "{}", row[4]);
        assert!(row[5].ends_with('…') && row[5].chars().count() == 17, "{}", row[5]);
        assert_eq!(row[6], "yes", "the intermediate of {cluster} chains to the root");
    }
    // Aligned: every column starts at the same character in every line.
    let lines: Vec<Vec<char>> = table.lines().map(|l| l.chars().collect()).collect();
    let header = &lines[0];
    let starts: Vec<usize> = (1..header.len()).filter(|&i| header[i] != ' ' && header[i - 1] == ' ' && header[i - 2] == ' ').collect();
    for line in &lines[1..] {
        for &start in &starts {
            assert!(line[start] != ' ' && line[start - 1] == ' ', "column at {start} misaligned in:\n{table}");
        }
    }
    // The fingerprint is the certificate's, as openssl computes it.
    if openssl_available() {
        let fingerprint = openssl(&["x509", "-noout", "-fingerprint", "-sha256", "-in"], &dir.join("pki/clusters/alpha/ca-cert.pem"));
        let digits: String = fingerprint.trim().split_once('=').unwrap().1.chars().filter(|c| *c != ':').take(16).collect();
        assert_eq!(rows[2][5], format!("{digits}…"));
    }
    assert_eq!(tree(&dir), before, "show writes nothing");

    // A primary without a stored intermediate is listed as such, and show does not issue one.
    std::fs::remove_dir_all(dir.join("pki/clusters/beta")).unwrap();
    let output = meshgen(&["pki", "show", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let beta = table_rows(&stdout(&output)).into_iter().find(|r| r[0] == "beta").unwrap();
    assert_eq!(beta[1], "not issued yet");
    assert!(!dir.join("pki/clusters/beta").exists());
}

#[test]
fn show_says_no_when_an_intermediate_is_not_from_the_root() {
    let (_tmp, dir) = example_copy("multi-primary-multi-network");
    std::fs::remove_file(dir.join("pki/root-cert.pem")).unwrap();
    std::fs::remove_file(dir.join("pki/root-key.pem")).unwrap();
    assert!(meshgen(&["pki", "init", "topology.kdl"], &dir).status.success());
    let output = meshgen(&["pki", "show", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(1), "the stored intermediates are errors now");
    assert!(stderr(&output).contains("MG0806"), "{}", stderr(&output));
    let rows = table_rows(&stdout(&output));
    assert_eq!(rows.len(), 4, "the table is printed all the same: {rows:?}");
    for row in &rows[2..] {
        assert_eq!(row[6], "no", "{row:?}");
    }
}

#[test]
fn renew_replaces_one_intermediate_and_the_next_build_changes_only_its_cacerts() {
    let (_tmp, dir) = example_copy("multi-primary-multi-network");
    assert!(meshgen(&["build", "topology.kdl", "-o", "out1"], &dir).status.success());
    let before = tree(&dir.join("pki"));
    let output = meshgen(&["pki", "renew", "topology.kdl", "--cluster", "east-1"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_no_key(&output);
    assert!(stdout(&output).contains("reissued the intermediate of cluster `east-1`: pki/clusters/east-1/ca-cert.pem"), "{}", stdout(&output));
    assert_eq!(mode(&dir.join("pki/clusters/east-1/ca-key.pem")), 0o600);

    let after = tree(&dir.join("pki"));
    let changed: Vec<&str> = before.iter().zip(&after).filter(|(b, a)| b != a).map(|(b, _)| b.0.as_str()).collect();
    assert_eq!(before.len(), after.len());
    assert_eq!(changed, ["clusters/east-1/ca-cert.pem", "clusters/east-1/ca-key.pem"], "only east-1's pair changed");

    assert!(meshgen(&["build", "topology.kdl", "-o", "out2"], &dir).status.success());
    let (out1, out2) = (tree(&dir.join("out1")), tree(&dir.join("out2")));
    assert_eq!(out1.len(), out2.len());
    let differing: Vec<&str> = out1.iter().zip(&out2).filter(|(a, b)| a != b).map(|(a, _)| a.0.as_str()).collect();
    assert_eq!(differing, ["east-1/cacerts.yaml", "index.json"], "only east-1's cacerts (and its hash in the index) changed");
    let (old, new) = (cacerts(&dir.join("out1/east-1/cacerts.yaml")), cacerts(&dir.join("out2/east-1/cacerts.yaml")));
    assert_eq!(old["root-cert.pem"], new["root-cert.pem"], "same root");
    assert_ne!(old["ca-cert.pem"], new["ca-cert.pem"]);
    assert_ne!(old["ca-key.pem"], new["ca-key.pem"]);
    assert_eq!(new["ca-cert.pem"], std::fs::read_to_string(dir.join("pki/clusters/east-1/ca-cert.pem")).unwrap());
    let index_lines = |t: &[(String, Vec<u8>)]| String::from_utf8(t.iter().find(|(p, _)| p == "index.json").unwrap().1.clone()).unwrap();
    let (i1, i2) = (index_lines(&out1), index_lines(&out2));
    let diff: Vec<(&str, &str)> = i1.lines().zip(i2.lines()).filter(|(a, b)| a != b).collect();
    assert_eq!(diff.len(), 1, "one hash changed in index.json: {diff:?}");
}

#[test]
fn renew_of_a_remote_or_unknown_cluster_fails_and_changes_nothing() {
    let (_tmp, dir) = example_copy("primary-remote");
    let before = tree(&dir);

    let output = meshgen(&["pki", "renew", "topology.kdl", "--cluster", "remote-1"], &dir);
    assert_eq!(output.status.code(), Some(2), "a wrong --cluster is a usage error");
    let err = stderr(&output);
    assert!(err.contains("MG0820"), "{err}");
    assert!(err.contains("cluster `remote-1` is not a primary"), "{err}");
    assert!(err.contains("--cluster primary-1"), "it names the primary to renew instead: {err}");
    assert!(err.contains("topology.kdl:"), "it points at the remote's role: {err}");

    let output = meshgen(&["pki", "renew", "topology.kdl", "--cluster", "primery-1"], &dir);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("MG0820") && err.contains("no cluster `primery-1`"), "{err}");
    assert!(err.contains("did you mean `primary-1`?"), "{err}");

    // One wrong name among right ones: nothing is renewed.
    let output = meshgen(&["pki", "renew", "topology.kdl", "--cluster", "primary-1", "--cluster", "nope"], &dir);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    assert_eq!(tree(&dir), before, "nothing was renewed");
}

#[test]
fn openssl_verifies_every_chain_of_every_example() {
    if !openssl_available() {
        return;
    }
    let mut checked = 0;
    for name in example_names() {
        let (tmp, dir) = example_copy(&name);
        let build = meshgen(&["build", "topology.kdl", "-o", "out", "--allow-pending"], &dir);
        assert_eq!(build.status.code(), Some(0), "{name}: {}", stderr(&build));
        let files = cacerts_files(&dir.join("out"));
        assert!(!files.is_empty(), "{name} has primaries with cacerts");
        for file in files {
            let data = cacerts(&file);
            let cluster = file.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
            let pem = tmp.path().join(format!("pem-{cluster}"));
            std::fs::create_dir(&pem).unwrap();
            for key in ["root-cert.pem", "cert-chain.pem", "ca-cert.pem", "ca-key.pem"] {
                std::fs::write(pem.join(key), data.get(key).unwrap_or_else(|| panic!("{name}/{cluster}: no {key}"))).unwrap();
            }
            let verify = Command::new("openssl")
                .arg("verify")
                .arg("-CAfile")
                .arg(pem.join("root-cert.pem"))
                .arg("-untrusted")
                .arg(pem.join("cert-chain.pem"))
                .arg(pem.join("ca-cert.pem"))
                .output()
                .unwrap();
            let said = format!("{}{}", String::from_utf8_lossy(&verify.stdout), String::from_utf8_lossy(&verify.stderr));
            assert!(verify.status.success() && said.trim_end().ends_with(": OK"), "{name}/{cluster}: {said}");
            assert!(data["cert-chain.pem"].starts_with(&data["ca-cert.pem"]), "{name}/{cluster}: the chain starts with ca-cert.pem");
            assert_eq!(
                openssl(&["x509", "-noout", "-pubkey", "-in"], &pem.join("ca-cert.pem")),
                openssl(&["pkey", "-pubout", "-in"], &pem.join("ca-key.pem")),
                "{name}/{cluster}: ca-key.pem is the key of ca-cert.pem"
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "every example's primaries were checked ({checked})");
}

#[test]
fn with_machine_diagnostics_the_table_goes_to_stderr() {
    let (_tmp, dir) = example_copy("primary-remote");
    let output = meshgen(&["--message-format", "json", "pki", "show", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_str::<serde_json::Value>(&stdout(&output)).expect("stdout is one JSON document");
    assert!(stderr(&output).starts_with("NAME "), "{}", stderr(&output));
}

#[test]
fn init_refuses_one_file_for_certificate_and_key() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::remove_dir_all(dir.join("pki")).unwrap();
    let path = dir.join("topology.kdl");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("key=\"pki/root-key.pem\"", "key=\"pki/./root-cert.pem\"", 1)).unwrap();
    let output = meshgen(&["pki", "init", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("MG0819") && stderr(&output).contains("name the same file"), "{}", stderr(&output));
    assert!(!dir.join("pki").exists(), "nothing was written");
}
