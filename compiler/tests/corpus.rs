//! The corpus of bad topologies: every file under `corpus/bad/` marks the lines its diagnostics
//! must point at with `// <- CODE` (several codes may follow), or `// <- CODE@FILE:LINE` for a
//! diagnostic whose primary label is in a referenced file. A case passes when `meshgen check`
//! reports exactly those codes at exactly those places: nothing missing, nothing extra.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use meshgen::driver;

mod support;

type Expectation = (String, String, usize);

fn expectations(path: &Path, text: &str) -> BTreeSet<Expectation> {
    let own = path.display().to_string();
    let mut expected = BTreeSet::new();
    for (index, line) in text.lines().enumerate() {
        let Some(marker) = line.split("// <- ").nth(1) else { continue };
        for word in marker.split_whitespace() {
            match word.split_once('@') {
                Some((code, place)) => {
                    let (file, line) = place.rsplit_once(':').expect("CODE@FILE:LINE");
                    expected.insert((code.to_string(), file.to_string(), line.parse().expect("a line number")));
                }
                None => {
                    expected.insert((word.to_string(), own.clone(), index + 1));
                }
            }
        }
    }
    expected
}

/// The corpus, copied outside the repository: the cases are judged as files of no git
/// repository, so the fixture token they share is not reported as tracked by git.
fn corpus() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    support::copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("compiler/tests/corpus"), tmp.path());
    tmp
}

fn cases(corpus: &Path) -> Vec<PathBuf> {
    let dir = corpus.join("bad");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "kdl")).collect();
    cases.sort();
    cases
}

#[test]
fn every_bad_topology_reports_exactly_its_codes_at_its_lines() {
    let corpus = corpus();
    let cases = cases(corpus.path());
    assert!(cases.len() >= 50, "the corpus shrank to {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let text = std::fs::read_to_string(case).unwrap();
        let expected = expectations(case, &text);
        assert!(!expected.is_empty(), "{} marks no expected diagnostic", case.display());
        let outcome = driver::check(std::slice::from_ref(case), false, false);
        let found: BTreeSet<Expectation> = outcome
            .diagnostics
            .iter()
            .map(|d| match d.primary_span() {
                Some(span) => {
                    let file = outcome.sources.get(span.file);
                    (d.code.id.to_string(), file.name.clone(), file.line_col(span.offset).0)
                }
                None => (d.code.id.to_string(), "<no label>".to_string(), 0),
            })
            .collect();
        if found != expected {
            failures.push(format!(
                "{}:\n  expected {:?}\n  found    {:?}",
                case.file_name().unwrap().to_string_lossy(),
                expected.iter().map(|(c, f, l)| format!("{c}@{}:{l}", short(f))).collect::<Vec<_>>(),
                found.iter().map(|(c, f, l)| format!("{c}@{}:{l}", short(f))).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

fn short(file: &str) -> &str {
    file.rsplit('/').next().unwrap_or(file)
}

#[test]
fn every_diagnostic_has_a_help_line_and_a_label() {
    let corpus = corpus();
    for case in cases(corpus.path()) {
        let outcome = driver::check(std::slice::from_ref(&case), false, false);
        for d in &outcome.diagnostics {
            assert!(d.help.is_some(), "{}: {} has no help", case.display(), d.code.id);
            assert!(d.primary_span().is_some(), "{}: {} points nowhere", case.display(), d.code.id);
        }
    }
}
