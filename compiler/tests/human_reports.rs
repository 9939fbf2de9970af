//! Snapshots of the report a person reads for a representative set of mistakes, rendered as on
//! a terminal 80 columns wide without colour. A change to wording or layout shows up here for
//! review.

mod support;

use support::*;

const CASES: &[&str] = &[
    "cluster-twice",
    "unknown-role",
    "node-outside-its-block",
    "version-as-number",
    "network-typo-suggestion",
    "ca-file-not-pem",
    "kubeconfig-context-missing",
    "token-inline-jwt",
    "token-pending",
    "gateway-address-pending",
    "primary-serving-remotes-without-gateway",
    "network-without-gateway",
    "many-errors-at-once",
    "syntax-unclosed-string",
];

#[test]
fn reports_for_people() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("compiler/tests/corpus"), tmp.path());
    for case in CASES {
        let output = meshgen_columns(&["check", &format!("bad/{case}.kdl")], tmp.path(), 80);
        let report = stderr(&output);
        assert!(!report.contains('\u{1b}'), "{case}: no colour when stderr is not a terminal");
        insta::assert_snapshot!(format!("report-{case}"), report);
    }
}
