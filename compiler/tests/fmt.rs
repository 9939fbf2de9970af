//! `meshgen fmt` as users run it: the examples are already canonical, a messy file is rewritten
//! (atomically, keeping its mode) and then passes `--check`, `--check` writes nothing, and a file
//! that cannot be formatted is reported and left as it is.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use support::*;

/// An example topology made messy the ways people do: indentation by tabs and two spaces,
/// trailing spaces, runs of blank lines, blank lines after `{`.
fn messy(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = line.replacen("        ", "\t\t", 1).replacen("    ", "  ", 1);
        let line = if line.ends_with('{') { format!("{line}\n") } else { line };
        out.push_str(&line);
        out.push_str("   \n");
    }
    out.replace("   \n   \n", "\n\n\n\n")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_examples_are_canonical() {
    let mut args = vec!["fmt".to_string(), "--check".to_string()];
    args.extend(example_names().iter().map(|name| format!("examples/{name}/topology.kdl")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = meshgen(&args, &repo());
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
    assert_eq!(stdout(&output), "");
    assert_eq!(stderr(&output), "");
}

#[test]
fn a_messy_file_is_rewritten_then_passes_check() {
    let (_tmp, dir) = example_copy("multi-primary-multi-network");
    let path = dir.join("topology.kdl");
    let canonical = read(&path);
    std::fs::write(&path, messy(&canonical)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();

    let output = meshgen(&["fmt", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "formatted topology.kdl\n");
    assert_eq!(read(&path), canonical, "the messy copy is back to the example, comments included");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640, "the file keeps its mode");
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n.to_string_lossy().contains("meshgen")).collect();
    assert!(leftovers.is_empty(), "no temporary file is left behind: {leftovers:?}");

    let output = meshgen(&["fmt", "--check", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    let output = meshgen(&["fmt", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "", "a canonical file is not rewritten");
}

#[test]
fn check_lists_what_would_change_and_writes_nothing() {
    let (_tmp, dir) = example_copy("primary-remote");
    let text = messy(&read(&dir.join("topology.kdl")));
    std::fs::write(dir.join("topology.kdl"), &text).unwrap();
    let before = std::fs::metadata(dir.join("topology.kdl")).unwrap().modified().unwrap();
    let output = meshgen(&["fmt", "--check", "topology.kdl", "../primary-remote/topology.kdl", "kube/../topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stdout(&output), "would reformat topology.kdl\nwould reformat ../primary-remote/topology.kdl\nwould reformat kube/../topology.kdl\n");
    assert_eq!(stderr(&output), "");
    assert_eq!(read(&dir.join("topology.kdl")), text);
    assert_eq!(std::fs::metadata(dir.join("topology.kdl")).unwrap().modified().unwrap(), before);
}

#[test]
fn comments_of_every_kind_survive() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "// The mesh.\nmesh \"m\"{ /* id */ trust-domain \"cluster.local\"   // trailing\n  /-revision \"old\"\n}\n/-network \"gone\"\nnetwork \"n1\"  /-\"dropped\"\n";
    std::fs::write(tmp.path().join("t.kdl"), text).unwrap();
    let output = meshgen(&["fmt", "t.kdl"], tmp.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        read(&tmp.path().join("t.kdl")),
        "// The mesh.\nmesh \"m\" { /* id */\n    trust-domain \"cluster.local\" // trailing\n    /-revision \"old\"\n}\n/-network \"gone\"\nnetwork \"n1\" /-\"dropped\"\n"
    );
}

#[test]
fn a_syntax_error_is_reported_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "mesh   \"m\"\ncluster \"p1 {\n  network \"n1\"\n}\n";
    std::fs::write(tmp.path().join("bad.kdl"), text).unwrap();
    let output = meshgen(&["fmt", "bad.kdl"], tmp.path());
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("MG0001") && err.contains("bad.kdl:2:"), "{err}");
    assert_eq!(stdout(&output), "");
    assert_eq!(read(&tmp.path().join("bad.kdl")), text);

    let output = meshgen(&["fmt", "--check", "bad.kdl"], tmp.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("MG0001"));
    assert_eq!(read(&tmp.path().join("bad.kdl")), text);
}

#[test]
fn other_files_are_still_formatted_when_one_cannot_be() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("bad.kdl"), "cluster \"p1 {\n").unwrap();
    std::fs::write(tmp.path().join("good.kdl"), "network   \"n1\"\n").unwrap();
    let output = meshgen(&["fmt", "bad.kdl", "good.kdl"], tmp.path());
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "formatted good.kdl\n");
    assert_eq!(read(&tmp.path().join("good.kdl")), "network \"n1\"\n");
    assert_eq!(read(&tmp.path().join("bad.kdl")), "cluster \"p1 {\n");
}

#[test]
fn an_unreadable_file_exits_two() {
    let tmp = tempfile::tempdir().unwrap();
    let output = meshgen(&["fmt", "nope.kdl"], tmp.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("MG0014") && stderr(&output).contains("cannot read nope.kdl: no such file"), "{}", stderr(&output));
}

#[test]
fn the_yaml_form_is_not_formatted() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "mesh:   {id: m}\n";
    std::fs::write(tmp.path().join("topology.yaml"), text).unwrap();
    let output = meshgen(&["fmt", "topology.yaml"], tmp.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("MG0015") && stderr(&output).contains("formats KDL topologies only"), "{}", stderr(&output));
    assert_eq!(read(&tmp.path().join("topology.yaml")), text);
}

#[test]
fn a_symbolic_link_stays_a_link() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("real.kdl"), "network   \"n1\"\n").unwrap();
    std::os::unix::fs::symlink("real.kdl", tmp.path().join("link.kdl")).unwrap();
    let output = meshgen(&["fmt", "link.kdl"], tmp.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(std::fs::symlink_metadata(tmp.path().join("link.kdl")).unwrap().file_type().is_symlink());
    assert_eq!(read(&tmp.path().join("real.kdl")), "network \"n1\"\n");
}
