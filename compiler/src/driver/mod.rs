//! driver: runs the pipeline for each command, in order, and decides when to stop: after the
//! front end and checks when they found errors (so every error of the input is reported, and no
//! file is written), after pki when the CA is wrong, and otherwise through to emit.
//! It holds no rule and decides nothing about output; it only connects the stages.
//! `ca` runs the `meshgen pki` commands, `fmt` runs `meshgen fmt`.

pub mod ca;
pub mod fmt;
pub mod terraform;

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
    /// 1: `build --check` found the output folder differs from what the topology compiles to.
    Drift,
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

/// What a build does with what it compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildMode {
    /// Write the output tree (issuing intermediates not yet issued).
    Write,
    /// Compare with the output tree and report drift; write nothing.
    Check,
    /// Print one cluster's manifests as a YAML stream on stdout; write nothing.
    Stdout { cluster: String },
}

#[derive(Clone, Debug)]
pub struct BuildOptions {
    pub topology: PathBuf,
    pub out: PathBuf,
    pub mode: BuildMode,
    pub allow_pending: bool,
    pub deny_warnings: bool,
    /// A folder of `*.yaml.j2` files replacing built-in templates of the same name.
    pub templates: Option<PathBuf>,
    /// The time certificates are judged against.
    pub now: time::OffsetDateTime,
    /// Inputs that exist only once clusters run, given by the caller instead of the topology's
    /// files (Terraform passes them in its query).
    pub runtime: RuntimeInputs,
}

/// Reader tokens and east-west gateway addresses supplied at run time, by cluster ID.
#[derive(Clone, Debug, Default)]
pub struct RuntimeInputs {
    pub tokens: BTreeMap<String, crate::syntax::inputs::Secret>,
    pub addresses: BTreeMap<String, String>,
}

/// The front end shared by every command: read, lower, read inputs, check.
pub(crate) fn front(path: &Path, allow_pending: bool, now: time::OffsetDateTime, sources: &mut Sources, diags: &mut Diagnostics) -> Option<(Topology, Inputs)> {
    front_with(path, allow_pending, now, &RuntimeInputs::default(), sources, diags)
}

fn front_with(
    path: &Path,
    allow_pending: bool,
    now: time::OffsetDateTime,
    runtime: &RuntimeInputs,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Option<(Topology, Inputs)> {
    let topology = syntax::load(path, sources, diags)?;
    Some(judge(topology, allow_pending, now, runtime, sources, diags))
}

/// What follows reading a topology in every command: its referenced files, the inputs given at
/// run time, and the checks.
fn judge(
    mut topology: Topology,
    allow_pending: bool,
    now: time::OffsetDateTime,
    runtime: &RuntimeInputs,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> (Topology, Inputs) {
    let mut inputs = syntax::inputs::read(&topology, sources, diags);
    syntax::inputs::apply_runtime(&mut topology, &mut inputs, &runtime.tokens, &runtime.addresses, diags);
    check::check(&topology, &inputs, check::Options { allow_pending, now }, diags);
    (topology, inputs)
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

/// `meshgen build`: compile a topology, then write, compare or stream its output.
pub fn build(options: &BuildOptions) -> Outcome {
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let rendered = match compile(options, &mut sources, &mut diags) {
        Compiled::Unreadable => return finish(sources, diags, options.deny_warnings, true, None),
        Compiled::Stopped => return finish(sources, diags, options.deny_warnings, false, None),
        Compiled::Done(rendered) => rendered,
    };
    if options.deny_warnings && !diags.is_empty() {
        return finish(sources, diags, true, false, None);
    }
    let built = Built { clusters: rendered.clusters.len(), files: rendered.files().len() };
    match &options.mode {
        BuildMode::Write => match crate::emit::write_tree(&options.out, &rendered) {
            Ok(()) => finish(sources, diags, options.deny_warnings, false, Some(built)),
            Err(problem) => {
                diags.push(problem);
                finish(sources, diags, options.deny_warnings, true, None)
            }
        },
        BuildMode::Check => match crate::emit::compare(&options.out, &rendered) {
            Ok(drift) => {
                let mut outcome = finish(sources, diags, options.deny_warnings, false, None);
                outcome.stdout = drift.report(&options.out);
                if !drift.is_empty() && outcome.status == Status::Ok {
                    outcome.status = Status::Drift;
                }
                outcome
            }
            Err(problem) => {
                diags.push(problem);
                finish(sources, diags, options.deny_warnings, true, None)
            }
        },
        BuildMode::Stdout { cluster } => {
            let stream = crate::emit::stream(&rendered, cluster);
            let mut outcome = finish(sources, diags, options.deny_warnings, false, None);
            match stream {
                Some(stream) if outcome.status == Status::Ok => outcome.stdout = stream,
                Some(_) => {}
                None => {
                    let names: Vec<&str> = rendered.clusters.iter().map(|c| c.name.as_str()).collect();
                    outcome.diagnostics.push(unknown_cluster(cluster, &names));
                    outcome.status = Status::Failed;
                }
            }
            outcome
        }
    }
}

/// A cluster named on the command line that the topology does not have.
pub(crate) fn unknown_cluster(name: &str, known: &[&str]) -> Diagnostic {
    let help = syntax::did_you_mean_or(name, known, || format!("the clusters are: {}", known.join(", ")));
    Diagnostic::new(crate::diagnostics::codes::UNKNOWN_CLUSTER, format!("the topology has no cluster \"{name}\"")).help(help)
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
    let Some((topology, inputs)) = front_with(&options.topology, options.allow_pending, options.now, &options.runtime, sources, diags) else {
        return if diags.iter().any(|d| d.code == crate::diagnostics::codes::TOPOLOGY_UNREADABLE) { Compiled::Unreadable } else { Compiled::Stopped };
    };
    if diags.has_errors() {
        return Compiled::Stopped;
    }
    let primaries = topology.primaries();
    // Only a build that writes may issue intermediates: a check or a stream that issued a fresh
    // random key on every run would never be stable.
    let mode = if options.mode == BuildMode::Write { IssueMode::IssueMissing } else { IssueMode::RequireIssued };
    let output_dir = (!matches!(options.mode, BuildMode::Stdout { .. })).then_some(options.out.as_path());
    let request = PkiRequest { topology: &topology, primaries, output_dir, now: options.now, mode };
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
        judge(topology, false, now, &RuntimeInputs::default(), &mut sources, &mut diags);
    }
    finish(sources, diags, false, false, None)
}

/// `meshgen graph`: the checked topology as a diagram on stdout.
pub fn graph(path: &Path, format: crate::graph::Format) -> Outcome {
    let now = time::OffsetDateTime::now_utc();
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let topology = front(path, true, now, &mut sources, &mut diags);
    let unreadable = diags.iter().any(|d| d.code == crate::diagnostics::codes::TOPOLOGY_UNREADABLE);
    let mut outcome = finish(sources, diags, false, unreadable, None);
    if let (Some((topology, _)), Status::Ok) = (topology, outcome.status) {
        outcome.stdout = crate::graph::render(&topology, format);
    }
    outcome
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
        let primaries = topology.primaries();
        let request = PkiRequest { topology: &topology, primaries, output_dir: None, now, mode: IssueMode::ReadOnly };
        pki::prepare(&request, &mut sources, &mut diags);
    }
    finish(sources, diags, deny_warnings, unreadable, None)
}
