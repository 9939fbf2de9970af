//! The `meshgen pki` commands: `init` creates the root a topology names, `show` tables the root
//! and every intermediate, `renew` reissues intermediates for the next build.

use std::path::Path;

use time::OffsetDateTime;

use super::Outcome;

pub fn init(topology: &Path, now: OffsetDateTime) -> Outcome {
    placeholder(topology, now)
}

pub fn show(topology: &Path, now: OffsetDateTime) -> Outcome {
    placeholder(topology, now)
}

pub fn renew(topology: &Path, clusters: &[String], now: OffsetDateTime) -> Outcome {
    let _ = clusters;
    placeholder(topology, now)
}

fn placeholder(_topology: &Path, _now: OffsetDateTime) -> Outcome {
    super::finish(crate::diagnostics::Sources::new(), crate::diagnostics::Diagnostics::new(), false, true, None)
}
