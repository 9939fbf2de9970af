//! The integrations as their tools run meshgen: the drift check CI and pre-commit run, the
//! stream an Argo CD plugin prints, and Terraform's external data source protocol.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use support::*;

fn documents(stream: &str) -> Vec<serde_json::Value> {
    serde_saphyr::from_multiple::<serde_json::Value>(stream).unwrap().into_iter().filter(|d| !d.is_null()).collect()
}

#[test]
fn drift_check_is_quiet_when_identical_and_reports_edits() {
    let (_tmp, dir) = example_copy("primary-remote");
    assert!(meshgen(&["build", "topology.kdl", "-o", "out"], &dir).status.success());
    let clean = meshgen(&["build", "topology.kdl", "-o", "out", "--check"], &dir);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    assert_eq!(stdout(&clean), "out is up to date\n");

    // An edited output file.
    let namespace = dir.join("out/remote-1/namespace.yaml");
    let edited = std::fs::read_to_string(&namespace).unwrap().replace("primary-1", "someone-else");
    std::fs::write(&namespace, edited).unwrap();
    std::fs::write(dir.join("out/remote-1/stray.yaml"), "kind: Stray\n").unwrap();
    let before = tree(&dir.join("out"));
    let drift = meshgen(&["build", "topology.kdl", "-o", "out", "--check"], &dir);
    assert_eq!(drift.status.code(), Some(1));
    let report = stdout(&drift);
    assert!(report.starts_with("out differs from the topology: 0 added, 1 removed, 1 changed\n"), "{report}");
    assert!(report.contains("removed: remote-1/stray.yaml\n") && report.contains("changed: remote-1/namespace.yaml\n"), "{report}");
    assert!(report.contains("--- a/remote-1/namespace.yaml\n+++ b/remote-1/namespace.yaml\n"), "{report}");
    assert!(report.contains("-    topology.istio.io/controlPlaneClusters: someone-else\n+    topology.istio.io/controlPlaneClusters: primary-1\n"), "{report}");
    assert_eq!(tree(&dir.join("out")), before, "--check writes nothing");
}

#[test]
fn drift_check_after_a_topology_edit_redacts_secret_values() {
    let (_tmp, dir) = example_copy("primary-remote");
    assert!(meshgen(&["build", "topology.kdl", "-o", "out"], &dir).status.success());
    let token = std::fs::read_to_string(dir.join("tokens/remote-1.token")).unwrap();
    std::fs::write(dir.join("tokens/remote-1.token"), "eyJhbGciOiJub25lIn0.eyJyb3RhdGVkIjp0cnVlfQ.c2lnbmF0dXJlLXR3bw").unwrap();
    let text = std::fs::read_to_string(dir.join("topology.kdl")).unwrap();
    std::fs::write(dir.join("topology.kdl"), text.replace("istio-version \"1.27\"", "istio-version \"1.28\"")).unwrap();
    let drift = meshgen(&["build", "topology.kdl", "-o", "out", "--check"], &dir);
    assert_eq!(drift.status.code(), Some(1));
    let report = stdout(&drift);
    assert!(report.contains("changed: primary-1/remote-secret-remote-1.yaml\n"), "{report}");
    assert!(report.contains("-kind: Endpoints") || report.contains("+kind: EndpointSlice"), "Istio 1.28 switches to EndpointSlice: {report}");
    assert!(report.contains("<redacted, sha256 "), "{report}");
    assert!(!report.contains(&token) && !report.contains("c2lnbmF0dXJlLXR3bw") && !report.contains("BEGIN"), "no secret value in the diff: {report}");
}

#[test]
fn drift_check_never_issues_intermediates() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::remove_dir_all(dir.join("pki/clusters")).unwrap();
    let output = meshgen(&["build", "topology.kdl", "-o", "out", "--check"], &dir);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("MG0821"), "{}", stderr(&output));
    assert!(!dir.join("pki/clusters").exists(), "nothing issued");
}

#[test]
fn stdout_stream_is_exactly_the_kustomization_objects() {
    for name in example_names() {
        let (_tmp, dir) = example_copy(&name);
        assert!(meshgen(&["build", "topology.kdl", "-o", "out"], &dir).status.success());
        for cluster in std::fs::read_dir(dir.join("out")).unwrap().map(|e| e.unwrap()).filter(|e| e.path().is_dir()) {
            let cluster = cluster.file_name().to_string_lossy().into_owned();
            let output = meshgen(&["build", "topology.kdl", "--stdout", "--cluster", &cluster], &dir);
            assert_eq!(output.status.code(), Some(0), "{name}/{cluster}: {}", stderr(&output));
            assert_eq!(stderr(&output), "", "{name}/{cluster}");
            let streamed = documents(&stdout(&output));
            let kustomization: serde_json::Value = serde_saphyr::from_str(&std::fs::read_to_string(dir.join(format!("out/{cluster}/kustomization.yaml"))).unwrap()).unwrap();
            let mut expected = Vec::new();
            for resource in kustomization["resources"].as_array().unwrap() {
                let file = std::fs::read_to_string(dir.join(format!("out/{cluster}/{}", resource.as_str().unwrap()))).unwrap();
                expected.extend(documents(&file));
            }
            assert_eq!(streamed, expected, "{name}/{cluster}: the stream holds the kustomization's objects, in its order");
            assert!(!stdout(&output).contains("# This file"), "only objects on stdout");
            for document in &streamed {
                assert!(document["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"].is_string(), "{name}/{cluster}: every object has a sync wave: {document}");
            }
        }
    }
}

#[test]
fn sync_waves_follow_the_install_order() {
    let (_tmp, dir) = example_copy("primary-remote");
    let output = meshgen(&["build", "topology.kdl", "--stdout", "--cluster", "primary-1"], &dir);
    let wave = |kind: &str, name: &str| -> i32 {
        documents(&stdout(&output))
            .iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .map(|d| d["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"].as_str().unwrap().parse().unwrap())
            .unwrap_or_else(|| panic!("{kind}/{name} missing"))
    };
    assert!(wave("Namespace", "istio-system") < wave("Secret", "cacerts"));
    assert!(wave("Secret", "cacerts") < wave("Gateway", "istiod-gateway"));
    assert!(wave("Gateway", "istiod-gateway") < wave("Secret", "istio-remote-secret-remote-1"));
}

#[test]
fn stdout_for_an_unknown_cluster_is_a_usage_error() {
    let (_tmp, dir) = example_copy("primary-remote");
    let output = meshgen(&["build", "topology.kdl", "--stdout", "--cluster", "remote-3"], &dir);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).contains("MG1104") && stderr(&output).contains("did you mean \"remote-1\"?"), "{}", stderr(&output));
}

fn terraform(query: &str, cwd: &std::path::Path) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshgen"))
        .arg("terraform")
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(query.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn terraform_returns_a_json_object_of_strings_keyed_for_for_each() {
    let (_tmp, dir) = example_copy("primary-remote");
    let output = terraform(r#"{"topology": "topology.kdl", "cluster": "primary-1"}"#, &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let result: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(result.values().all(|v| v.is_string()), "every value is a string: {result:?}");
    let keys: Vec<&str> = result.keys().map(String::as_str).collect();
    assert_eq!(keys, ["index", "objects", "stream/primary-1", "warnings"]);
    let objects: std::collections::BTreeMap<String, String> = serde_json::from_str(result["objects"].as_str().unwrap()).unwrap();
    assert!(objects.contains_key("primary-1/Secret/istio-system/cacerts"), "{:?}", objects.keys());
    assert!(objects.contains_key("primary-1/Namespace/istio-system"), "cluster-scoped objects have no namespace part");
    for (key, yaml) in &objects {
        let parsed = documents(yaml);
        assert_eq!(parsed.len(), 1, "{key} holds one object");
    }
    assert!(!dir.join("out").exists(), "without `out` nothing is written");
}

#[test]
fn terraform_takes_runtime_inputs_and_leaves_out_what_is_pending() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::remove_dir_all(dir.join("tokens")).unwrap();
    let text = std::fs::read_to_string(dir.join("topology.kdl")).unwrap();
    std::fs::write(dir.join("topology.kdl"), text.replace("eastwest-gateway address=\"203.0.113.10\"", "eastwest-gateway")).unwrap();

    // First apply: nothing runs yet.
    let first = terraform(r#"{"topology": "topology.kdl"}"#, &dir);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let result: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let objects: serde_json::Map<String, serde_json::Value> = serde_json::from_str(result["objects"].as_str().unwrap()).unwrap();
    assert!(objects.contains_key("remote-1/Secret/istio-system/istio-reader-service-account-istio-remote-secret-token"));
    assert!(!objects.keys().any(|k| k.contains("istio-remote-secret-remote")), "no remote secret without tokens");
    let warnings: Vec<String> = serde_json::from_str(result["warnings"].as_str().unwrap()).unwrap();
    assert!(warnings.iter().any(|w| w.starts_with("MG1003")), "{warnings:?}");

    // Second apply: tokens and the gateway address come in through the query.
    let query = serde_json::json!({
        "topology": "topology.kdl",
        "tokens": serde_json::json!({"remote-1": "token-one", "remote-2": "token-two"}).to_string(),
        "addresses": serde_json::json!({"primary-1": "203.0.113.77"}).to_string(),
    });
    let second = terraform(&query.to_string(), &dir);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let result: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    let objects: serde_json::Map<String, serde_json::Value> = serde_json::from_str(result["objects"].as_str().unwrap()).unwrap();
    let secret = objects["primary-1/Secret/istio-system/istio-remote-secret-remote-1"].as_str().unwrap();
    assert!(secret.contains("token: token-one"), "{secret}");
    assert!(objects["remote-1/Endpoints/istio-system/istiod"].as_str().unwrap().contains("203.0.113.77"));
    assert_eq!(result["warnings"], "[]");
}

#[test]
fn terraform_errors_are_one_line_on_stderr() {
    let (_tmp, dir) = example_copy("primary-remote");
    let text = std::fs::read_to_string(dir.join("topology.kdl")).unwrap();
    std::fs::write(dir.join("broken.kdl"), text.replace("role \"remote\"", "role \"remoat\"")).unwrap();
    for (query, expected) in [
        (r#"{"topology": "broken.kdl"}"#, "broken.kdl:23:10: MG0009 unknown role \"remoat\" (and 1 more error; run `meshgen check` to see all)"),
        (r#"{"topology": "topology.kdl", "clustre": "x"}"#, "unknown query key `clustre`; did you mean `cluster`?"),
        (r#"{"topology": "topology.kdl", "cluster": 3}"#, "query value `cluster` must be a string"),
        (r#"["topology.kdl"]"#, "the query must be a JSON object of strings"),
        (r#"{"topology": "topology.kdl", "tokens": "not json"}"#, "query value `tokens` must be a JSON-encoded object of strings"),
        (r#"{"topology": "topology.kdl", "cluster": "remote-9"}"#, "MG1104 the topology has no cluster \"remote-9\""),
        (r#"{"topology": "topology.kdl", "tokens": "{\"remote-9\": \"t\"}"}"#, "MG1105 a reader token given for \"remote-9\", which is not a cluster of the topology"),
        (r#"{"topology": "topology.kdl", "addresses": "{\"remote-1\": \"203.0.113.9\"}"}"#, "MG1105 an east-west gateway address given for \"remote-1\", which has no `eastwest-gateway`"),
    ] {
        let output = terraform(query, &dir);
        assert_eq!(output.status.code(), Some(1), "{query}");
        let err = stderr(&output);
        assert_eq!(err.lines().count(), 1, "{query}: one line: {err}");
        assert!(err.contains(expected), "{query}: {err}");
        assert!(output.stdout.is_empty(), "{query}");
    }
}

#[test]
fn terraform_writes_the_tree_when_asked() {
    let (_tmp, dir) = example_copy("primary-remote");
    let output = terraform(r#"{"topology": "topology.kdl", "out": "rendered"}"#, &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let written: Vec<String> = serde_json::from_str(result["written"].as_str().unwrap()).unwrap();
    assert!(written.iter().all(|p| dir.join(p).is_file()), "{written:?}");
    assert!(written.contains(&"rendered/index.json".to_string()), "{written:?}");
}

#[test]
fn schema_prints_the_repositorys_topology_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let output = meshgen(&["schema"], tmp.path());
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), std::fs::read_to_string(repo().join("schemas/topology.schema.json")).unwrap());
    let schema: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(jsonschema::meta::is_valid(&schema), "a valid JSON Schema");
}

#[test]
fn the_topology_schema_accepts_the_json_form_of_a_topology_and_rejects_mistakes() {
    let text = std::fs::read_to_string(repo().join("schemas/topology.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap();
    let good = serde_json::json!({
        "mesh": {"id": "acme-prod", "revision": "1-30"},
        "ca": {"root": {"cert": "pki/root-cert.pem", "key": "pki/root-key.pem"}, "intermediate": {"valid-days": 365}},
        "networks": ["east", "west"],
        "clusters": [
            {"name": "east-1", "network": "east", "role": "primary", "eastwest-gateway": {"address": "203.0.113.10"}},
            {"name": "west-1", "network": "west", "role": "remote", "control-plane": "east-1",
             "api-server": {"url": "https://198.51.100.7:6443", "ca-file": "kube/west-1-ca.pem"},
             "reader-token": {"file": "tokens/west-1.token"}, "eastwest-gateway": {}}
        ]
    });
    assert!(validator.is_valid(&good), "{:?}", validator.iter_errors(&good).map(|e| e.to_string()).collect::<Vec<_>>());
    for (mistake, patch) in [
        ("unknown property", serde_json::json!({"name": "x", "network": "east", "role": "primary", "adress": "1.2.3.4"})),
        ("remote without control plane", serde_json::json!({"name": "x", "network": "east", "role": "remote"})),
        ("upper-case cluster ID", serde_json::json!({"name": "East", "network": "east", "role": "primary"})),
        ("token from two sources", serde_json::json!({"name": "x", "network": "east", "role": "primary", "reader-token": {"file": "t", "env": "T"}})),
        ("http API server", serde_json::json!({"name": "x", "network": "east", "role": "primary", "api-server": {"url": "http://a", "ca-file": "c"}})),
    ] {
        let mut bad = good.clone();
        bad["clusters"].as_array_mut().unwrap().push(patch);
        assert!(!validator.is_valid(&bad), "{mistake} is rejected");
    }
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let output = meshgen(&["completions", shell], tmp.path());
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = stdout(&output);
        for word in ["build", "check", "explain", "pki", "terraform", "allow-pending", "message-format"] {
            assert!(script.contains(word), "{shell} completion knows {word}");
        }
    }
    let man = meshgen(&["man"], tmp.path());
    assert_eq!(man.status.code(), Some(0));
    let page = stdout(&man);
    assert!(page.contains(".TH meshgen 1") && page.contains("build") && page.contains("terraform"), "{page}");
}

const PRIMARY_REMOTE_YAML: &str = r#"# The primary-remote example in the topology's JSON/YAML form.
mesh:
  id: acme-staging
  istio-version: "1.27"
ca:
  root: {cert: pki/root-cert.pem, key: pki/root-key.pem}
  intermediate: {valid-days: 3650, dir: pki/clusters}
networks: [net1]
clusters:
  - name: primary-1
    network: net1
    role: primary
    eastwest-gateway: {address: 203.0.113.10}
  - name: remote-1
    network: net1
    role: remote
    control-plane: primary-1
    api-server: {url: "https://192.0.2.11:6443", ca-file: kube/remote-1-ca.pem}
    reader-token: {file: tokens/remote-1.token}
  - name: remote-2
    network: net1
    role: remote
    control-plane: primary-1
    api-server: {url: "https://192.0.2.12:6443", ca-file: kube/remote-2-ca.pem}
    reader-token: {file: tokens/remote-2.token}
"#;

#[test]
fn the_yaml_form_builds_what_the_kdl_form_builds_and_matches_the_schema() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::write(dir.join("topology.yaml"), PRIMARY_REMOTE_YAML).unwrap();
    assert!(meshgen(&["build", "topology.kdl", "-o", "from-kdl"], &dir).status.success());
    let output = meshgen(&["build", "topology.yaml", "-o", "from-yaml"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let normalize = |tree: Vec<(String, Vec<u8>)>| -> Vec<(String, String)> {
        tree.into_iter().map(|(p, b)| (p, String::from_utf8(b).unwrap().replace("topology.yaml", "topology.kdl"))).collect()
    };
    let yaml_tree = normalize(tree(&dir.join("from-yaml")));
    let kdl_tree = normalize(tree(&dir.join("from-kdl")));
    let paths = |t: &[(String, String)]| t.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(paths(&yaml_tree), paths(&kdl_tree));
    for ((path, yaml), (_, kdl)) in yaml_tree.iter().zip(&kdl_tree) {
        if path != "index.json" {
            assert_eq!(yaml, kdl, "{path}");
        }
    }

    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(repo().join("schemas/topology.schema.json")).unwrap()).unwrap();
    let document: serde_json::Value = serde_saphyr::from_str(PRIMARY_REMOTE_YAML).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&document), "{:?}", validator.iter_errors(&document).map(|e| e.to_string()).collect::<Vec<_>>());
}

#[test]
fn diagnostics_of_the_yaml_form_point_into_the_yaml_file() {
    let (_tmp, dir) = example_copy("primary-remote");
    let broken = PRIMARY_REMOTE_YAML.replace("control-plane: primary-1\n    api-server: {url: \"https://192.0.2.12", "control-plane: primary-9\n    api-server: {url: \"https://192.0.2.12");
    std::fs::write(dir.join("topology.yaml"), broken).unwrap();
    let output = meshgen(&["check", "--message-format", "json", "topology.yaml"], &dir);
    assert_eq!(output.status.code(), Some(1));
    let document: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let diagnostic = &document["diagnostics"][0];
    assert_eq!(diagnostic["code"], "MG0302");
    assert_eq!(diagnostic["help"], "did you mean \"primary-1\"?");
    let label = &diagnostic["labels"][0];
    assert_eq!(label["file"], "topology.yaml");
    assert_eq!(label["line"], 23);

    std::fs::write(dir.join("topology.yaml"), PRIMARY_REMOTE_YAML.replace("eastwest-gateway: {address:", "eastwest-gateway: {adress:")).unwrap();
    let output = meshgen(&["check", "topology.yaml"], &dir);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("MG0001") && err.contains("unknown field `adress`") && err.contains("topology.yaml:13:"), "{err}");
}

#[test]
fn graph_draws_networks_roles_control_planes_and_reads() {
    let (_tmp, dir) = example_copy("mixed-revision");
    let mermaid = meshgen(&["graph", "topology.kdl"], &dir);
    assert_eq!(mermaid.status.code(), Some(0), "{}", stderr(&mermaid));
    insta::assert_snapshot!("graph-mixed-revision-mermaid", stdout(&mermaid));
    let dot = meshgen(&["graph", "--format", "dot", "topology.kdl"], &dir);
    assert_eq!(dot.status.code(), Some(0));
    insta::assert_snapshot!("graph-mixed-revision-dot", stdout(&dot));

    std::fs::write(dir.join("broken.kdl"), "mesh \"m\"\nclustr \"x\"\n").unwrap();
    let broken = meshgen(&["graph", "broken.kdl"], &dir);
    assert_eq!(broken.status.code(), Some(1));
    assert_eq!(stdout(&broken), "", "no diagram of a topology with errors");
    assert!(stderr(&broken).contains("MG0002"));
}
