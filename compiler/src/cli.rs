//! The command line: argument parsing (clap), diagnostics to stderr, results to stdout, and
//! exit codes: 0 success, 1 the input has errors, 2 usage or I/O error.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::diagnostics::machine;
use crate::diagnostics::render::{human, HumanStyle};
use crate::driver::{self, BuildOptions, Outcome, Status};

#[derive(Parser)]
#[command(name = "meshgen", version, about = "Compiles one Istio multi-cluster topology into every manifest each cluster needs")]
struct Cli {
    /// How diagnostics are printed: for people (stderr), as one JSON document (stdout), or as
    /// GitHub Actions annotations (stdout).
    #[arg(long, global = true, value_enum, default_value_t = MessageFormat::Human)]
    message_format: MessageFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum MessageFormat {
    Human,
    Json,
    Github,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a topology into one folder of manifests per cluster.
    Build {
        /// The topology file (KDL).
        topology: PathBuf,
        /// The output folder; replaced as a whole, atomically.
        #[arg(short, long, default_value = "out")]
        out: PathBuf,
        /// Build what can be built when a reader token or gateway address does not exist yet,
        /// leaving out (and listing) the objects that need it.
        #[arg(long)]
        allow_pending: bool,
        /// Treat warnings as errors.
        #[arg(long)]
        deny_warnings: bool,
        /// A folder of `<name>.yaml.j2` templates replacing the built-in ones of the same name.
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
    },
    /// Check topologies without writing anything (for editors and pre-commit).
    Check {
        /// One or more topology files.
        #[arg(required = true)]
        topologies: Vec<PathBuf>,
        /// Do not report inputs that exist only once clusters run (tokens, addresses) as errors.
        #[arg(long)]
        allow_pending: bool,
        /// Treat warnings as errors.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Explain a diagnostic code, with an example of the mistake and its fix.
    Explain {
        /// A code such as MG0106.
        code: String,
    },
    /// Manage the mesh's CA: create the root, show it and the intermediates, renew one.
    Pki {
        #[command(subcommand)]
        command: PkiCommand,
    },
}

#[derive(Subcommand)]
enum PkiCommand {
    /// Create the root named in `ca { root cert=… key=… }`; an existing root is never overwritten.
    Init {
        /// The topology file (KDL).
        topology: PathBuf,
    },
    /// A table of the root and every primary's intermediate: subject, algorithm, expiry,
    /// fingerprint, and whether it chains to the root.
    Show {
        /// The topology file (KDL).
        topology: PathBuf,
    },
    /// Reissue the intermediate of one or more primaries; the next build uses the new one.
    Renew {
        /// The topology file (KDL).
        topology: PathBuf,
        /// The primary whose intermediate to reissue (repeatable).
        #[arg(long, required = true)]
        cluster: Vec<String>,
    },
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    let format = cli.message_format;
    match cli.command {
        Command::Build { topology, out, allow_pending, deny_warnings, templates } => {
            let options = BuildOptions { topology, out: out.clone(), allow_pending, deny_warnings, templates, now: time::OffsetDateTime::now_utc() };
            let outcome = driver::build(&options);
            report(&outcome, format);
            if let (Some(built), MessageFormat::Human) = (&outcome.built, format) {
                println!("built {} clusters, {} files into {}", built.clusters, built.files, out.display());
            }
            exit(&outcome)
        }
        Command::Explain { code } => match crate::diagnostics::codes::lookup(&code).and_then(crate::diagnostics::explain::explanation) {
            Some(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            None => {
                let ids: Vec<&str> = crate::diagnostics::codes::ALL.iter().map(|c| c.id).collect();
                let hint = match crate::syntax::did_you_mean(&code.to_ascii_uppercase(), &ids) {
                    Some(id) => format!("; did you mean {id}?"),
                    None => format!("; codes run from {} to {}", ids[0], ids[ids.len() - 1]),
                };
                eprintln!("error: no diagnostic code {code}{hint}");
                ExitCode::from(2)
            }
        },
        Command::Pki { command } => {
            let now = time::OffsetDateTime::now_utc();
            let outcome = match command {
                PkiCommand::Init { topology } => driver::ca::init(&topology, now),
                PkiCommand::Show { topology } => driver::ca::show(&topology, now),
                PkiCommand::Renew { topology, cluster } => driver::ca::renew(&topology, &cluster, now),
            };
            report(&outcome, format);
            print!("{}", outcome.stdout);
            exit(&outcome)
        }
        Command::Check { topologies, allow_pending, deny_warnings } => {
            let outcome = driver::check(&topologies, allow_pending, deny_warnings);
            report(&outcome, format);
            if outcome.status == Status::Ok && format == MessageFormat::Human {
                println!("checked {} topolog{}: no errors", topologies.len(), if topologies.len() == 1 { "y" } else { "ies" });
            }
            exit(&outcome)
        }
    }
}

/// Diagnostics in the chosen format: for people on stderr, then a count; for machines on stdout.
fn report(outcome: &Outcome, format: MessageFormat) {
    match format {
        MessageFormat::Human => {}
        MessageFormat::Json => return print!("{}", machine::json(&outcome.diagnostics, &outcome.sources)),
        MessageFormat::Github => return print!("{}", machine::github(&outcome.diagnostics, &outcome.sources)),
    }
    let stderr = std::io::stderr();
    let color = stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100);
    let text = human(&outcome.diagnostics, &outcome.sources, HumanStyle { color, width });
    let errors = outcome.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = outcome.diagnostics.len() - errors;
    let mut stderr = stderr.lock();
    let _ = stderr.write_all(text.as_bytes());
    if errors + warnings > 0 {
        let _ = writeln!(stderr, "{}", count_line(errors, warnings));
    }
}

fn count_line(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, w) => plural(w, "warning"),
        (e, 0) => format!("{}: nothing written", plural(e, "error")),
        (e, w) => format!("{}, {}: nothing written", plural(e, "error"), plural(w, "warning")),
    }
}

fn exit(outcome: &Outcome) -> ExitCode {
    ExitCode::from(match outcome.status {
        Status::Ok => 0,
        Status::InputErrors => 1,
        Status::Failed => 2,
    })
}
