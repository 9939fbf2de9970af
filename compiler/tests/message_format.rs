//! `--message-format json` and `github`: what editors, CI and reviewdog read. The JSON document
//! is validated against the schema the repository publishes.

mod support;

use support::*;

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo().join("schemas/diagnostics.schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

/// The corpus copied outside the repository, with its cases' relative paths.
fn corpus() -> (tempfile::TempDir, Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("compiler/tests/corpus"), tmp.path());
    let mut cases: Vec<String> = std::fs::read_dir(tmp.path().join("bad")).unwrap().map(|e| format!("bad/{}", e.unwrap().file_name().to_string_lossy())).collect();
    cases.sort();
    (tmp, cases)
}

#[test]
fn json_output_for_every_bad_topology_matches_the_schema() {
    let validator = schema();
    let (tmp, cases) = corpus();
    for case in &cases {
        let output = meshgen(&["check", "--message-format", "json", case], tmp.path());
        assert_eq!(stderr(&output), "", "{case}: JSON mode keeps stderr empty");
        let document: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap_or_else(|e| panic!("{case}: not one JSON document: {e}"));
        let errors = document["errors"].as_u64().unwrap();
        assert_eq!(document["success"], errors == 0, "{case}");
        assert_eq!(output.status.code(), Some(if errors == 0 { 0 } else { 1 }), "{case}: exit code follows the errors");
        let problems: Vec<String> = validator.iter_errors(&document).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(problems.is_empty(), "{case}: {problems:?}");
        assert!(document["diagnostics"].as_array().is_some_and(|d| !d.is_empty()), "{case}");
    }
}

#[test]
fn json_labels_carry_line_column_offset_and_length() {
    let (tmp, _) = corpus();
    let output = meshgen(&["check", "--message-format", "json", "bad/cluster-twice.kdl"], tmp.path());
    let document: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(document["errors"], 1);
    assert_eq!(document["success"], false);
    let diagnostic = &document["diagnostics"][0];
    assert_eq!(diagnostic["code"], "MG0106");
    let labels = diagnostic["labels"].as_array().unwrap();
    assert_eq!(labels.len(), 2, "the duplicate and the first definition");
    let text = std::fs::read_to_string(tmp.path().join("bad/cluster-twice.kdl")).unwrap();
    for label in labels {
        assert_eq!(label["file"], "bad/cluster-twice.kdl");
        let offset = label["offset"].as_u64().unwrap() as usize;
        let length = label["length"].as_u64().unwrap() as usize;
        assert_eq!(&text[offset..offset + length], "\"p1\"", "the label covers the cluster ID");
        let line = text[..offset].matches('\n').count() + 1;
        assert_eq!(label["line"].as_u64().unwrap() as usize, line);
    }
    assert_eq!(labels[0]["primary"], true);
    assert_eq!(labels[1]["primary"], false);
    assert!(labels[0]["line"].as_u64() > labels[1]["line"].as_u64(), "the primary label is the second declaration");
}

#[test]
fn a_clean_check_in_json_is_a_success_document() {
    let (_tmp, dir) = example_copy("primary-remote");
    let output = meshgen(&["check", "--message-format", "json", "topology.kdl"], &dir);
    assert_eq!(output.status.code(), Some(0));
    let document: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(document, serde_json::json!({"version": 1, "success": true, "errors": 0, "warnings": 0, "diagnostics": []}));
}

#[test]
fn github_format_prints_one_annotation_per_diagnostic() {
    let (tmp, _) = corpus();
    let output = meshgen(&["check", "--message-format", "github", "bad/many-errors-at-once.kdl"], tmp.path());
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "{out}");
    assert!(lines.iter().all(|l| l.starts_with("::error file=bad/many-errors-at-once.kdl,line=")), "{out}");
    assert!(out.contains("title=MG0104 invalid revision::"), "{out}");
    assert!(out.contains("%0Ahelp: "), "help rides in the message: {out}");
}
