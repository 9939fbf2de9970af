//! `meshgen fmt`: formats each topology file given, in order, and reports every one it could
//! not format. The formatting and the disk are the `syntax` stage's business (`syntax::fmt`);
//! this module only spells the result for stdout and picks the status.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::{finish, Outcome, Status};
use crate::diagnostics::{Diagnostics, Sources};
use crate::syntax::fmt::{format_file, FileOutcome};

/// Formats `paths` in place, or with `check`, only says which would change (`Status::Drift`
/// when any would). A file that cannot be formatted is reported and left as it is; the others
/// are still formatted.
pub fn run(paths: &[PathBuf], check: bool) -> Outcome {
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let mut stdout = String::new();
    let (mut failed, mut changed) = (false, false);
    for path in paths {
        match format_file(path, !check, &mut sources, &mut diags) {
            FileOutcome::Unchanged | FileOutcome::InputErrors => {}
            FileOutcome::Reformatted => {
                changed = true;
                let _ = writeln!(stdout, "{} {}", if check { "would reformat" } else { "formatted" }, path.display());
            }
            FileOutcome::Failed => failed = true,
        }
    }
    let mut outcome = finish(sources, diags, false, failed, None);
    if check && changed && outcome.status == Status::Ok {
        outcome.status = Status::Drift;
    }
    outcome.stdout = stdout;
    outcome
}
