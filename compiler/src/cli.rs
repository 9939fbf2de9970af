//! The command line: argument parsing (clap), diagnostics to stderr, results to stdout, and
//! exit codes: 0 success, 1 the input has errors, 2 usage or I/O error.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::diagnostics::machine;
use crate::diagnostics::render::{human, HumanStyle};
use crate::driver::{self, BuildMode, BuildOptions, Outcome, Status};

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
enum GraphFormat {
    Mermaid,
    Dot,
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
        /// Compare with the output folder instead of writing: exit 0 when identical, 1 with a
        /// list of added, removed and changed files and their diffs (Secret values redacted).
        #[arg(long, conflicts_with = "stdout")]
        check: bool,
        /// Print one cluster's manifests (what `kubectl apply -k OUT/CLUSTER` applies) as one
        /// YAML stream on stdout, writing nothing: an Argo CD config management plugin's `generate`.
        #[arg(long, requires = "cluster")]
        stdout: bool,
        /// The cluster `--stdout` prints.
        #[arg(long, requires = "stdout", value_name = "CLUSTER")]
        cluster: Option<String>,
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
    /// Reprint KDL topologies in the canonical layout, every comment kept; rewrites the files
    /// that change.
    Fmt {
        /// Write nothing: list the files that would change, and exit 1 if any would.
        #[arg(long)]
        check: bool,
        /// One or more topology files (KDL).
        #[arg(required = true)]
        topologies: Vec<PathBuf>,
    },
    /// Terraform's `external` data source: a JSON query on stdin (topology, and optionally
    /// cluster, out, tokens, addresses), a JSON object of strings on stdout.
    Terraform,
    /// Draw the topology: networks, clusters, control planes and who reads whom.
    Graph {
        /// The topology file.
        topology: PathBuf,
        /// Mermaid (for Markdown and GitHub) or Graphviz DOT.
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// Print the JSON Schema of the topology (for editors, and for topologies written in YAML or JSON).
    Schema,
    /// Print a shell completion script: `meshgen completions bash > /etc/bash_completion.d/meshgen`.
    Completions {
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `meshgen man > meshgen.1`.
    Man,
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
        Command::Build { topology, out, check, stdout, cluster, allow_pending, deny_warnings, templates } => {
            let mode = match (check, stdout, cluster) {
                (true, _, _) => BuildMode::Check,
                (_, true, Some(cluster)) => BuildMode::Stdout { cluster },
                _ => BuildMode::Write,
            };
            let options = BuildOptions {
                topology,
                out: out.clone(),
                mode,
                allow_pending,
                deny_warnings,
                templates,
                now: time::OffsetDateTime::now_utc(),
                runtime: Default::default(),
            };
            let outcome = driver::build(&options);
            // stdout carries one thing: the stream, the JSON document, or the drift report.
            match (&options.mode, format) {
                (BuildMode::Stdout { .. }, MessageFormat::Human) => report(&outcome, format),
                (BuildMode::Stdout { .. }, _) => eprint!("{}", machine_report(&outcome, format)),
                (BuildMode::Check, MessageFormat::Json | MessageFormat::Github) => {
                    report(&outcome, format);
                    eprint!("{}", outcome.stdout);
                }
                _ => report(&outcome, format),
            }
            if !(options.mode == BuildMode::Check && format != MessageFormat::Human) {
                print!("{}", outcome.stdout);
            }
            if let (Some(built), MessageFormat::Human, BuildMode::Write) = (&outcome.built, format, &options.mode) {
                println!("built {} clusters, {} files into {}", built.clusters, built.files, out.display());
            }
            exit(&outcome)
        }
        Command::Graph { topology, format } => {
            let format = match format {
                GraphFormat::Mermaid => crate::graph::Format::Mermaid,
                GraphFormat::Dot => crate::graph::Format::Dot,
            };
            let outcome = driver::graph(&topology, format);
            report(&outcome, MessageFormat::Human);
            print!("{}", outcome.stdout);
            exit(&outcome)
        }
        Command::Schema => {
            print!("{}", crate::schema::TOPOLOGY_SCHEMA);
            ExitCode::SUCCESS
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "meshgen", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Man => match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("meshgen man: {err}");
                ExitCode::from(2)
            }
        },
        Command::Terraform => {
            let mut query = String::new();
            if let Err(err) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut query) {
                eprintln!("meshgen terraform: cannot read the query on stdin: {err}");
                return ExitCode::from(1);
            }
            match driver::terraform::run(&query, time::OffsetDateTime::now_utc()) {
                Ok(result) => {
                    println!("{result}");
                    ExitCode::SUCCESS
                }
                Err(message) => {
                    eprintln!("meshgen terraform: {message}");
                    ExitCode::from(1)
                }
            }
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
            // stdout carries one thing: the table or summary, or the machine-readable document.
            match format {
                MessageFormat::Human => print!("{}", outcome.stdout),
                MessageFormat::Json | MessageFormat::Github => eprint!("{}", outcome.stdout),
            }
            exit(&outcome)
        }
        Command::Fmt { check, topologies } => {
            let outcome = driver::fmt::run(&topologies, check);
            report(&outcome, format);
            // stdout carries one thing: the list of files, or the machine-readable document.
            match format {
                MessageFormat::Human => print!("{}", outcome.stdout),
                MessageFormat::Json | MessageFormat::Github => eprint!("{}", outcome.stdout),
            }
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
    if format != MessageFormat::Human {
        return print!("{}", machine_report(outcome, format));
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

fn machine_report(outcome: &Outcome, format: MessageFormat) -> String {
    match format {
        MessageFormat::Github => machine::github(&outcome.diagnostics, &outcome.sources),
        _ => machine::json(&outcome.diagnostics, &outcome.sources),
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
        Status::InputErrors | Status::Drift => 1,
        Status::Failed => 2,
    })
}
