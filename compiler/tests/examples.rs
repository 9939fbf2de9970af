//! Every example builds with the real binary, its whole output tree matches the reviewed
//! snapshot, and output is byte-identical across builds and declaration orders.

mod support;

use support::*;

#[test]
fn every_example_builds_and_matches_its_snapshot() {
    let names = example_names();
    assert!(names.len() >= 4, "expected at least four examples, found {names:?}");
    for name in names {
        let (_tmp, dir) = example_copy(&name);
        let before = tree(&dir);
        let output = meshgen(&["build", "topology.kdl", "-o", "out"], &dir);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        assert_eq!(stderr(&output), "", "{name} builds without diagnostics");
        let after: Vec<_> = tree(&dir).into_iter().filter(|(p, _)| !p.starts_with("out/")).collect();
        assert_eq!(before, after, "{name}: building changed the example's own files (are its intermediates committed?)");
        insta::assert_snapshot!(format!("example-{name}"), tree_text(&dir.join("out")));
    }
}

#[test]
fn output_is_identical_across_builds_and_declaration_orders() {
    for name in example_names() {
        let (_tmp, dir) = example_copy(&name);
        assert!(meshgen(&["build", "topology.kdl", "-o", "first"], &dir).status.success());
        assert!(meshgen(&["build", "topology.kdl", "-o", "second"], &dir).status.success());
        assert_eq!(tree(&dir.join("first")), tree(&dir.join("second")), "{name}: two builds differ");

        // The same topology with every list of declarations reversed, under the same file name.
        let text = std::fs::read_to_string(dir.join("topology.kdl")).unwrap();
        let mut document: kdl::KdlDocument = text.parse().unwrap();
        document.nodes_mut().reverse();
        for node in document.nodes_mut() {
            if let Some(children) = node.children_mut() {
                children.nodes_mut().reverse();
            }
        }
        let shuffled = dir.join("shuffled");
        std::fs::create_dir(&shuffled).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let file_name = entry.file_name();
            if ["pki", "kube", "tokens"].contains(&file_name.to_str().unwrap()) {
                std::os::unix::fs::symlink(entry.path(), shuffled.join(&file_name)).unwrap();
            }
        }
        std::fs::write(shuffled.join("topology.kdl"), document.to_string()).unwrap();
        assert_ne!(std::fs::read_to_string(shuffled.join("topology.kdl")).unwrap(), text);
        let output = meshgen(&["build", "topology.kdl", "-o", "out"], &shuffled);
        assert!(output.status.success(), "{name} reversed: {}", stderr(&output));
        assert_eq!(tree(&dir.join("first")), tree(&shuffled.join("out")), "{name}: declaration order changed the output");
    }
}
