//! driver: runs the pipeline for each command, in order, and decides when to stop: after the
//! front end and checks when they found errors (so every error of the input is reported, and no
//! file is written), after pki when the CA is wrong, and otherwise through to emit.
//! It holds no rule and decides nothing about output; it only connects the stages.
//! `ca` runs the `meshgen pki` commands.

pub mod ca;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::check;
use crate::diagnostics::{Diagnostic, Diagnostics, Sources};
use crate::model::Topology;
use crate::pki::{self, IssueMode, PkiRequest};
use crate::plan;
use crate::render::{self, Rendered, Templates};
use crate::syntax::{self, inputs::Inputs};

/// How a command ended, which the CLI maps to an exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 0: done (warnings allowed).
    Ok,
    /// 1: the input has errors.
    InputErrors,
    /// 2: a usage or I/O problem outside the input (unreadable topology, unwritable output).
    Failed,
}

/// What a command produced: diagnostics in source order, the files they point into, a status,
/// and what it prints on stdout.
pub struct Outcome {
    pub sources: Sources,
    pub diagnostics: Vec<Diagnostic>,
    pub status: Status,
    /// The command's result for stdout (a table, a stream); empty for most commands.
    pub stdout: String,
    /// What was built, for the summary line.
    pub built: Option<Built>,
}

#[derive(Clone, Debug)]
pub struct Built {
    pub clusters: usize,
    pub files: usize,
}

#[derive(Clone, Debug)]
pub struct BuildOptions {
    pub topology: PathBuf,
    pub out: PathBuf,
    pub allow_pending: bool,
    pub deny_warnings: bool,
    /// A folder of `*.yaml.j2` files replacing built-in templates of the same name.
    pub templates: Option<PathBuf>,
    /// The time certificates are judged against.
    pub now: time::OffsetDateTime,
}

/// The front end shared by every command: read, lower, read inputs, check.
pub(crate) fn front(path: &Path, allow_pending: bool, now: time::OffsetDateTime, sources: &mut Sources, diags: &mut Diagnostics) -> Option<(Topology, Inputs)> {
    let topology = syntax::load(path, sources, diags)?;
    let inputs = syntax::inputs::read(&topology, sources, diags);
    check::check(&topology, &inputs, check::Options { allow_pending, now }, diags);
    Some((topology, inputs))
}

pub(crate) fn finish(sources: Sources, mut diags: Diagnostics, deny_warnings: bool, failed: bool, built: Option<Built>) -> Outcome {
    if deny_warnings {
        diags.deny_warnings();
    }
    let status = if failed {
        Status::Failed
    } else if diags.has_errors() {
        Status::InputErrors
    } else {
        Status::Ok
    };
    let built = if status == Status::Ok { built } else { None };
    Outcome { sources, diagnostics: diags.into_sorted(), status, stdout: String::new(), built }
}

/// `meshgen build`: compile a topology and write its output tree.
pub fn build(options: &BuildOptions) -> Outcome {
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    match compile(options, &mut sources, &mut diags) {
        Compiled::Unreadable => finish(sources, diags, options.deny_warnings, true, None),
        Compiled::Stopped => finish(sources, diags, options.deny_warnings, false, None),
        Compiled::Done(rendered) => {
            let built = Built { clusters: rendered.clusters.len(), files: rendered.files().len() };
            if options.deny_warnings && !diags.is_empty() {
                return finish(sources, diags, true, false, None);
            }
            match crate::emit::write_tree(&options.out, &rendered) {
                Ok(()) => finish(sources, diags, options.deny_warnings, false, Some(built)),
                Err(problem) => {
                    diags.push(problem);
                    finish(sources, diags, options.deny_warnings, true, None)
                }
            }
        }
    }
}

enum Compiled {
    /// The topology file could not be read at all.
    Unreadable,
    /// The input has errors; nothing to write.
    Stopped,
    Done(Rendered),
}

/// Everything of a build but writing: front end, pki, plan, render.
fn compile(options: &BuildOptions, sources: &mut Sources, diags: &mut Diagnostics) -> Compiled {
    let Some((topology, inputs)) = front(&options.topology, options.allow_pending, options.now, sources, diags) else {
        return if diags.iter().any(|d| d.code == crate::diagnostics::codes::TOPOLOGY_UNREADABLE) { Compiled::Unreadable } else { Compiled::Stopped };
    };
    if diags.has_errors() {
        return Compiled::Stopped;
    }
    let primaries: Vec<&str> = topology.clusters.iter().filter(|c| c.is_primary()).map(|c| c.name.as_str()).collect();
    let request = PkiRequest { topology: &topology, primaries, output_dir: Some(&options.out), now: options.now, mode: IssueMode::IssueMissing };
    let bundle = pki::prepare(&request, sources, diags);
    if diags.has_errors() {
        return Compiled::Stopped;
    }
    let plan = plan::plan(&topology, &inputs, bundle.as_ref(), plan::Options { allow_pending: options.allow_pending }, diags);
    let overrides = match &options.templates {
        Some(dir) => match syntax::read_templates(dir) {
            Ok(overrides) => overrides,
            Err(problem) => {
                diags.push(problem);
                return Compiled::Stopped;
            }
        },
        None => BTreeMap::new(),
    };
    match render::render(&plan, &Templates::new(overrides), diags) {
        Some(rendered) => Compiled::Done(rendered),
        None => Compiled::Stopped,
    }
}

/// The front end and checks over topology text already in memory, with referenced files
/// resolved against `dir`: what the fuzz target drives. Writes nothing.
pub fn check_source(file_name: &str, text: String, dir: &Path) -> Outcome {
    let now = time::OffsetDateTime::now_utc();
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let file = sources.add(dir.join(file_name), file_name.to_string(), text);
    if let Some(topology) = syntax::parse(file, file_name.to_string(), dir.to_path_buf(), &mut sources, &mut diags) {
        let inputs = syntax::inputs::read(&topology, &mut sources, &mut diags);
        check::check(&topology, &inputs, check::Options { allow_pending: false, now }, &mut diags);
    }
    finish(sources, diags, false, false, None)
}

/// `meshgen check`: the front end and checks of each topology; writes nothing.
pub fn check(paths: &[PathBuf], allow_pending: bool, deny_warnings: bool) -> Outcome {
    let now = time::OffsetDateTime::now_utc();
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let mut unreadable = false;
    for path in paths {
        let Some((topology, _)) = front(path, allow_pending, now, &mut sources, &mut diags) else {
            unreadable |= diags.iter().any(|d| d.code == crate::diagnostics::codes::TOPOLOGY_UNREADABLE);
            continue;
        };
        // The CA is judged too (rule 8), without issuing anything.
        let primaries: Vec<&str> = topology.clusters.iter().filter(|c| c.is_primary()).map(|c| c.name.as_str()).collect();
        let request = PkiRequest { topology: &topology, primaries, output_dir: None, now, mode: IssueMode::ReadOnly };
        pki::prepare(&request, &mut sources, &mut diags);
    }
    finish(sources, diags, deny_warnings, unreadable, None)
}
