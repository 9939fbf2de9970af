//! The binary as users run it: exit codes, what goes to stdout and stderr, pending inputs, and
//! the promise that a failed build leaves the previous output untouched.

mod support;

use support::*;

#[test]
fn build_prints_a_summary_and_exits_zero() {
    let (_tmp, dir) = example_copy("primary-remote");
    let output = meshgen(&["build", "topology.kdl", "-o", "out"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "built 3 clusters, 26 files into out\n");
    assert!(dir.join("out/index.json").is_file());
}

#[test]
fn a_missing_topology_is_an_io_error() {
    let tmp = tempfile::tempdir().unwrap();
    let output = meshgen(&["build", "nope.kdl"], tmp.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("MG0014"), "{}", stderr(&output));
    assert!(stderr(&output).contains("cannot read nope.kdl: no such file"), "{}", stderr(&output));
}

#[test]
fn a_bad_topology_exits_one_reports_every_error_and_keeps_the_previous_output() {
    let (_tmp, dir) = example_copy("multi-primary-multi-network");
    assert!(meshgen(&["build", "topology.kdl", "-o", "out"], &dir).status.success());
    let before = tree(&dir.join("out"));
    let text = std::fs::read_to_string(dir.join("topology.kdl")).unwrap();
    let broken = text.replacen("role \"primary\"", "role \"primery\"", 1).replacen("network \"west\"\n", "network \"west\"\nnetwork \"west\"\n", 1);
    std::fs::write(dir.join("topology.kdl"), broken).unwrap();
    let output = meshgen(&["build", "topology.kdl", "-o", "out"], &dir);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("MG0009") && err.contains("MG0107"), "both errors are reported: {err}");
    assert!(err.contains("did you mean \"primary\"?"), "{err}");
    assert!(err.contains("topology.kdl:"), "headers name file:line:column: {err}");
    assert!(err.ends_with("2 errors: nothing written\n"), "{err}");
    assert_eq!(stdout(&output), "");
    assert_eq!(tree(&dir.join("out")), before, "the previous output is untouched");
}

#[test]
fn a_folder_meshgen_did_not_write_is_never_replaced() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::create_dir(dir.join("mine")).unwrap();
    std::fs::write(dir.join("mine/notes.txt"), "keep me").unwrap();
    let output = meshgen(&["build", "topology.kdl", "-o", "mine"], &dir);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("MG1101"), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(dir.join("mine/notes.txt")).unwrap(), "keep me");
}

#[test]
fn rebuilding_replaces_the_previous_output_as_a_whole() {
    let (_tmp, dir) = example_copy("primary-remote");
    assert!(meshgen(&["build", "topology.kdl", "-o", "out"], &dir).status.success());
    std::fs::write(dir.join("out/stale.yaml"), "stale").unwrap();
    assert!(meshgen(&["build", "topology.kdl", "-o", "out"], &dir).status.success());
    assert!(!dir.join("out/stale.yaml").exists(), "files a build no longer makes disappear");
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n.to_string_lossy().contains("meshgen")).collect();
    assert!(leftovers.is_empty(), "no staging folder is left behind: {leftovers:?}");
}

#[test]
fn files_holding_secrets_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, dir) = example_copy("primary-remote");
    assert!(meshgen(&["build", "topology.kdl", "-o", "out"], &dir).status.success());
    let mode = |p: &str| std::fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("out/primary-1/cacerts.yaml"), 0o600);
    assert_eq!(mode("out/primary-1/remote-secret-remote-1.yaml"), 0o600);
    assert_eq!(mode("out/primary-1/namespace.yaml"), 0o644);
}

#[test]
fn a_missing_token_fails_with_the_command_that_fetches_it() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::remove_file(dir.join("tokens/remote-2.token")).unwrap();
    let output = meshgen(&["build", "topology.kdl", "-o", "out"], &dir);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("MG1001"), "{err}");
    assert!(
        err.contains("kubectl --context remote-2 -n istio-system get secret istio-reader-service-account-istio-remote-secret-token -o jsonpath='{.data.token}' | base64 -d > tokens/remote-2.token"),
        "{err}"
    );
    assert!(!dir.join("out").exists());
}

#[test]
fn allow_pending_builds_the_rest_and_lists_what_it_left_out() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::remove_file(dir.join("tokens/remote-2.token")).unwrap();
    let output = meshgen(&["build", "topology.kdl", "-o", "out", "--allow-pending"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("MG1003") && err.contains("istio-remote-secret-remote-2"), "{err}");
    assert!(err.ends_with("1 warning\n"), "{err}");
    assert!(!dir.join("out/primary-1/remote-secret-remote-2.yaml").exists());
    assert!(dir.join("out/primary-1/remote-secret-remote-1.yaml").exists());
    assert!(dir.join("out/remote-2/reader-token.yaml").exists(), "the token Secret the second pass needs is there");
    let kustomization = std::fs::read_to_string(dir.join("out/primary-1/kustomization.yaml")).unwrap();
    assert!(!kustomization.contains("remote-secret-remote-2"), "{kustomization}");
}

#[test]
fn a_pending_gateway_address_leaves_out_the_remote_istiod_endpoint() {
    let (_tmp, dir) = example_copy("primary-remote");
    let text = std::fs::read_to_string(dir.join("topology.kdl")).unwrap();
    std::fs::write(dir.join("topology.kdl"), text.replace("eastwest-gateway address=\"203.0.113.10\"", "eastwest-gateway")).unwrap();
    let failed = meshgen(&["build", "topology.kdl", "-o", "out"], &dir);
    assert_eq!(failed.status.code(), Some(1));
    assert!(stderr(&failed).contains("MG1002"), "{}", stderr(&failed));
    assert!(stderr(&failed).contains("get service istio-eastwestgateway"), "{}", stderr(&failed));
    let output = meshgen(&["build", "topology.kdl", "-o", "out", "--allow-pending"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("2 warnings"), "{}", stderr(&output));
    assert!(!dir.join("out/remote-1/istiod-remote.yaml").exists());
}

#[test]
fn inline_tokens_never_appear_in_diagnostics() {
    let (_tmp, dir) = example_copy("primary-remote");
    let token = std::fs::read_to_string(dir.join("tokens/remote-1.token")).unwrap();
    let text = std::fs::read_to_string(dir.join("topology.kdl")).unwrap();
    std::fs::write(dir.join("topology.kdl"), text.replace("reader-token file=\"tokens/remote-1.token\"", &format!("reader-token \"{token}\""))).unwrap();
    let output = meshgen(&["check", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("MG0901"), "{err}");
    assert!(!err.contains(&token) && !err.contains(&token[..20]), "the token leaked: {err}");
    assert!(err.contains("*****"), "the token is masked in the snippet: {err}");
}

#[test]
fn check_takes_many_files_and_writes_nothing() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::write(dir.join("bad.kdl"), "mesh \"m\"\nclustr \"x\"\n").unwrap();
    let before = tree(&dir);
    let output = meshgen(&["check", "topology.kdl", "bad.kdl"], &dir);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("bad.kdl:2:1"), "{}", stderr(&output));
    assert_eq!(tree(&dir), before);
    let ok = meshgen(&["check", "topology.kdl"], &dir);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(stdout(&ok), "checked 1 topology: no errors\n");
}

#[test]
fn deny_warnings_turns_warnings_into_errors() {
    let (_tmp, dir) = example_copy("primary-remote");
    let text = std::fs::read_to_string(dir.join("topology.kdl")).unwrap();
    std::fs::write(dir.join("topology.kdl"), text.replacen("network \"net1\"\n", "network \"net1\"\nnetwork \"spare\"\n", 1)).unwrap();
    assert_eq!(meshgen(&["check", "topology.kdl"], &dir).status.code(), Some(0));
    let denied = meshgen(&["check", "topology.kdl", "--deny-warnings"], &dir);
    assert_eq!(denied.status.code(), Some(1));
    assert!(stderr(&denied).contains("MG0202"));
}

#[test]
fn usage_errors_exit_two() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(meshgen(&["frobnicate"], tmp.path()).status.code(), Some(2));
    assert_eq!(meshgen(&["check"], tmp.path()).status.code(), Some(2));
}

#[test]
fn a_token_file_tracked_by_git_is_a_warning() {
    let (_tmp, dir) = example_copy("primary-remote");
    let git = |args: &[&str]| std::process::Command::new("git").args(args).current_dir(&dir).output().unwrap();
    git(&["init", "-q"]);
    git(&["add", "tokens/remote-1.token"]);
    let output = meshgen(&["build", "topology.kdl", "-o", "out"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("MG0902") && err.contains("token file tokens/remote-1.token is tracked by git"), "{err}");
    assert!(!err.contains("remote-2.token"), "an untracked token is not reported: {err}");
    assert!(err.ends_with("1 warning\n"), "{err}");
}

#[test]
fn intermediates_and_the_root_key_may_not_live_in_the_output_folder() {
    let (_tmp, dir) = example_copy("primary-remote");
    let output = meshgen(&["build", "topology.kdl", "-o", "pki"], &dir);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("MG0811") && err.contains("MG0816"), "{err}");
    assert!(dir.join("pki/clusters/primary-1/ca-key.pem").is_file(), "nothing was replaced");
}

#[test]
fn explain_prints_the_books_section_for_a_code() {
    let tmp = tempfile::tempdir().unwrap();
    let output = meshgen(&["explain", "mg0106"], tmp.path());
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.starts_with("## MG0106: cluster declared twice\n"), "{text}");
    assert!(text.contains("```kdl"), "with an example: {text}");
    assert!(!text.contains("## MG0107"), "only that code: {text}");
    let unknown = meshgen(&["explain", "MG0160"], tmp.path());
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no diagnostic code MG0160; did you mean"), "{}", stderr(&unknown));
}

#[test]
fn the_root_key_may_stay_offline_once_intermediates_are_issued() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::remove_file(dir.join("pki/root-key.pem")).unwrap();
    let build = meshgen(&["build", "topology.kdl", "-o", "out"], &dir);
    assert_eq!(build.status.code(), Some(0), "{}", stderr(&build));
    assert_eq!(meshgen(&["build", "topology.kdl", "-o", "out", "--check"], &dir).status.code(), Some(0));
    assert_eq!(meshgen(&["build", "topology.kdl", "--stdout", "--cluster", "primary-1"], &dir).status.code(), Some(0));
    assert_eq!(meshgen(&["check", "topology.kdl"], &dir).status.code(), Some(0));

    // Issuing needs it.
    std::fs::remove_dir_all(dir.join("pki/clusters")).unwrap();
    let output = meshgen(&["build", "topology.kdl", "-o", "out2"], &dir);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("MG0703") && err.contains("the root key `pki/root-key.pem` is needed to issue the intermediate of primary-1"), "{err}");
}

#[test]
fn templates_can_be_overridden_but_never_to_leak_a_private_key() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::create_dir(dir.join("templates")).unwrap();
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ name | yaml }}\n  labels:\n    team: mesh\n";
    std::fs::write(dir.join("templates/namespace.yaml.j2"), namespace).unwrap();
    let output = meshgen(&["build", "topology.kdl", "-o", "out", "--templates", "templates"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let written = std::fs::read_to_string(dir.join("out/remote-1/namespace.yaml")).unwrap();
    assert!(written.contains("team: mesh"), "the override is used: {written}");

    let leak = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\n  namespace: {{ name | yaml }}\ndata:\n  key: \"-----BEGIN PRIVATE KEY-----\\nMIGH\\n-----END PRIVATE KEY-----\\n\"\n";
    std::fs::write(dir.join("templates/namespace.yaml.j2"), leak).unwrap();
    let before = tree(&dir.join("out"));
    let output = meshgen(&["build", "topology.kdl", "-o", "out", "--templates", "templates"], &dir);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("MG0823") && stderr(&output).contains("ConfigMap leak holds a private key at data.key"), "{}", stderr(&output));
    assert_eq!(tree(&dir.join("out")), before, "nothing written");
}

#[test]
fn an_intermediate_that_is_the_root_is_refused() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::copy(dir.join("pki/root-cert.pem"), dir.join("pki/clusters/primary-1/ca-cert.pem")).unwrap();
    std::fs::copy(dir.join("pki/root-key.pem"), dir.join("pki/clusters/primary-1/ca-key.pem")).unwrap();
    let output = meshgen(&["build", "topology.kdl", "-o", "out"], &dir);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("MG0822"), "{}", stderr(&output));
    assert!(!dir.join("out").exists());
}

#[test]
fn a_token_from_the_environment() {
    let (_tmp, dir) = example_copy("primary-remote");
    let text = std::fs::read_to_string(dir.join("topology.kdl")).unwrap();
    std::fs::write(dir.join("topology.kdl"), text.replace("reader-token file=\"tokens/remote-1.token\"", "reader-token env=\"REMOTE_1_TOKEN\"")).unwrap();
    let unset = std::process::Command::new(env!("CARGO_BIN_EXE_meshgen")).args(["build", "topology.kdl", "-o", "out"]).current_dir(&dir).env_remove("REMOTE_1_TOKEN").env("COLUMNS", "400").output().unwrap();
    assert_eq!(unset.status.code(), Some(1));
    let err = stderr(&unset);
    assert!(err.contains("MG1001") && err.contains("environment variable REMOTE_1_TOKEN is not set"), "{err}");
    assert!(err.contains("export REMOTE_1_TOKEN=\"$(kubectl --context remote-1 -n istio-system get secret"), "{err}");
    let set = std::process::Command::new(env!("CARGO_BIN_EXE_meshgen")).args(["build", "topology.kdl", "-o", "out"]).current_dir(&dir).env("REMOTE_1_TOKEN", "token-from-env\n").output().unwrap();
    assert_eq!(set.status.code(), Some(0), "{}", stderr(&set));
    let secret = std::fs::read_to_string(dir.join("out/primary-1/remote-secret-remote-1.yaml")).unwrap();
    assert!(secret.contains("token: token-from-env\n"), "{secret}");
}

#[test]
fn a_hostname_gateway_with_a_revision_routes_webhooks_to_the_hostname() {
    let (_tmp, dir) = example_copy("primary-remote-multi-network");
    let text = std::fs::read_to_string(dir.join("topology.kdl")).unwrap();
    std::fs::write(dir.join("topology.kdl"), text.replace("namespace \"istio-mesh\"", "namespace \"istio-mesh\"\n    revision \"canary\"")).unwrap();
    let output = meshgen(&["build", "topology.kdl", "-o", "out"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let read = |p: &str| std::fs::read_to_string(dir.join("out").join(p)).unwrap();
    let host = "eastwest.east-1.mesh.acme.example";
    let expose = read("east-1/expose-istiod.yaml");
    assert!(expose.contains("name: istiod-vs-canary"), "{expose}");
    let webhook_route = &expose[expose.find("- port: 15017").unwrap()..];
    assert!(webhook_route.contains(&format!("- {host}")), "the webhook route accepts the gateway's host name: {expose}");
    assert!(webhook_route.contains("- istiod-canary.istio-mesh.svc"), "{expose}");
    assert!(read("east-1/install/istiod.values.yaml").contains(&format!("ISTIOD_CUSTOM_HOST: {host}")));
    let remote = read("west-1/install/istioctl.yaml");
    assert!(remote.contains(&format!("injectionURL: https://{host}:15017/inject/cluster/west-1/net/west")), "{remote}");
    assert!(remote.contains(&format!("validationURL: https://{host}:15017/validate")), "{remote}");
    let service = read("west-1/istiod-remote.yaml");
    assert!(service.contains("name: istiod-canary") && service.contains("type: ExternalName") && service.contains(&format!("externalName: {host}")), "{service}");
    assert!(!service.contains("EndpointSlice"), "no endpoints for an ExternalName service: {service}");
}

#[test]
fn an_output_folder_that_cannot_be_created_is_an_io_error() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::write(dir.join("blocker"), "a file where a folder should go").unwrap();
    let output = meshgen(&["build", "topology.kdl", "-o", "blocker/out"], &dir);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("MG1102") && stderr(&output).contains("cannot write blocker"), "{}", stderr(&output));
}

#[test]
fn a_broken_template_override_is_reported_by_name() {
    let (_tmp, dir) = example_copy("primary-remote");
    std::fs::create_dir(dir.join("templates")).unwrap();
    std::fs::write(dir.join("templates/namespace.yaml.j2"), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ name | yaml \n").unwrap();
    let output = meshgen(&["build", "topology.kdl", "-o", "out", "--templates", "templates"], &dir);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("MG1103") && err.contains("template namespace failed for namespace.yaml"), "{err}");
    assert!(!dir.join("out").exists());
}

#[test]
fn an_intermediate_that_cannot_be_stored_is_reported() {
    let (_tmp, dir) = example_copy("primary-remote");
    // The cluster's folder is a link to nowhere: nothing is stored yet, and no folder can be made.
    std::fs::remove_dir_all(dir.join("pki/clusters/primary-1")).unwrap();
    std::os::unix::fs::symlink(dir.join("nowhere/primary-1"), dir.join("pki/clusters/primary-1")).unwrap();
    let output = meshgen(&["build", "topology.kdl", "-o", "out"], &dir);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("MG0814") && err.contains("cannot store the intermediate of cluster `primary-1`"), "{err}");
    assert!(!err.contains("PRIVATE KEY"), "{err}");
    assert!(!dir.join("out").exists());
}
