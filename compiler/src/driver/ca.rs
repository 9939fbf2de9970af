//! The `meshgen pki` commands: `init` creates the root a topology names, `show` tables the root
//! and every intermediate, `renew` reissues intermediates for the next build.
//!
//! Each runs the front end first, so a broken topology gets the usual diagnostics and nothing is
//! touched. Key material and the disk are the `pki` stage's business; this module only decides
//! what to ask of it and spells the result for stdout. It never prints a key.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use time::{OffsetDateTime, UtcOffset};

use super::{Outcome, finish, front};
use crate::diagnostics::{Diagnostic, Diagnostics, Sources, Span, codes};
use crate::model::{CaMode, Root, Topology};
use crate::pki::{self, CertSummary, IssueMode, PkiRequest, StoredCert};

/// `meshgen pki init`: creates the root named in `ca { root cert=… key=… }`, never over an
/// existing file.
pub fn init(topology: &Path, now: OffsetDateTime) -> Outcome {
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let Some(topo) = load(topology, now, &mut sources, &mut diags) else {
        return stopped(sources, diags);
    };
    let Some(root) = root_of(&topo, "create", &sources, &mut diags) else {
        return finish(sources, diags, false, false, None);
    };

    if root.cert.resolved == root.key.resolved {
        diags.push(
            Diagnostic::new(codes::ROOT_WRITE_FAILED, format!("`cert=` and `key=` name the same file `{}`", root.cert.written))
                .primary(root.key.span, "same file as `cert=`")
                .help("`meshgen pki init` writes the certificate and the key to two files; give the key its own, such as key=\"pki/root-key.pem\""),
        );
        return finish(sources, diags, false, false, None);
    }
    let existing: Vec<_> = [(&root.cert, "certificate"), (&root.key, "key")].into_iter().filter(|(f, _)| pki::exists(&f.resolved)).collect();
    if let Some(&(first, _)) = existing.first() {
        let what = match existing.as_slice() {
            [_, _] => format!("the root `{}` and its key `{}` already exist", root.cert.written, root.key.written),
            [(_, "certificate")] => format!("the root certificate `{}` already exists (its key does not)", root.cert.written),
            _ => format!("the root key `{}` already exists (its certificate does not)", root.key.written),
        };
        let mut d = Diagnostic::new(codes::ROOT_EXISTS, format!("{what}; meshgen never overwrites a root")).primary(first.span, "already exists");
        if let Some(&(second, _)) = existing.get(1) {
            d = d.secondary(second.span, "already exists");
        }
        diags.push(d.help(format!(
            "nothing was written. To use this root, just build: `meshgen build {0}`, and see it with `meshgen pki show {0}`. \
             To replace it, move both files away first; every cluster then needs a new intermediate and new `cacerts`",
            topo.file_name
        )));
        return finish(sources, diags, false, false, None);
    }

    let algorithm = root.algorithm.value;
    let issued = match pki::issue_root(algorithm, root.valid_days.value, now) {
        Ok(issued) => issued,
        Err(e) => {
            diags.push(
                Diagnostic::new(codes::ROOT_WRITE_FAILED, format!("cannot create the root: {e}"))
                    .primary(root.span, "this root")
                    .help("nothing was written; check `algorithm=` and `valid-days=` of the `root` node"),
            );
            return finish(sources, diags, false, true, None);
        }
    };
    if let Err(e) = pki::store_root(&issued, &root.cert.resolved, &root.key.resolved) {
        // Somebody created one of the files since the check above.
        let (code, failed) = if e.error.kind() == std::io::ErrorKind::AlreadyExists { (codes::ROOT_EXISTS, false) } else { (codes::ROOT_WRITE_FAILED, true) };
        let span = if e.path == root.key.resolved { root.key.span } else if e.path == root.cert.resolved { root.cert.span } else { root.span };
        diags.push(
            Diagnostic::new(code, format!("cannot create the root: {}: {}", shown(&e.path), e.error))
                .primary(span, "cannot be written")
                .help("nothing was written; make the folder writable, or point `cert=` and `key=` elsewhere"),
        );
        return finish(sources, diags, false, failed, None);
    }

    let mut out = format!("created the root CA of {}\n", topo.file_name);
    let summary = pki::summarize(&issued.cert_pem, None, now).ok().and_then(|mut s| (!s.is_empty()).then(|| s.remove(0)));
    let _ = writeln!(out, "  certificate  {}", shown(&root.cert.resolved));
    let _ = writeln!(out, "  key          {} (mode 0600: keep it secret, out of version control and out of the build output)", shown(&root.key.resolved));
    let _ = writeln!(out, "  algorithm    {}", algorithm.name());
    if let Some(s) = summary {
        let _ = writeln!(out, "  subject      {}", s.subject);
        let _ = writeln!(out, "  not after    {} ({} days)", date(s.not_after), root.valid_days.value);
        let _ = writeln!(out, "  sha-256      {}", s.sha256_fingerprint);
    }
    let _ = writeln!(out, "next: `meshgen build {}` issues an intermediate for every primary", topo.file_name);
    let mut outcome = finish(sources, diags, false, false, None);
    outcome.stdout = out;
    outcome
}

/// `meshgen pki show`: verifies like `meshgen check` (problems are diagnostics) and tables the
/// root and every primary's intermediate.
pub fn show(topology: &Path, now: OffsetDateTime) -> Outcome {
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let Some(topo) = load(topology, now, &mut sources, &mut diags) else {
        return stopped(sources, diags);
    };
    if root_of(&topo, "show", &sources, &mut diags).is_none() {
        return finish(sources, diags, false, false, None);
    }
    let mut primaries = topo.primaries();
    primaries.sort_unstable();
    let request = PkiRequest { topology: &topo, primaries: primaries.clone(), output_dir: None, now, mode: IssueMode::ReadOnly };
    pki::prepare(&request, &mut sources, &mut diags);
    let table = pki::inventory(&topo, &primaries, now).map(|inventory| table(&inventory)).unwrap_or_default();
    let mut outcome = finish(sources, diags, false, false, None);
    outcome.stdout = table;
    outcome
}

/// `meshgen pki renew`: issues a new intermediate for each `--cluster`, replacing the stored one.
pub fn renew(topology: &Path, clusters: &[String], now: OffsetDateTime) -> Outcome {
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let Some(topo) = load(topology, now, &mut sources, &mut diags) else {
        return stopped(sources, diags);
    };
    if root_of(&topo, "renew", &sources, &mut diags).is_none() {
        return finish(sources, diags, false, false, None);
    }
    let primaries = topo.primaries();
    let mut chosen: BTreeSet<&str> = BTreeSet::new();
    let mut wrong = false;
    for name in clusters {
        if primaries.contains(&name.as_str()) {
            chosen.insert(name);
            continue;
        }
        wrong = true;
        diags.push(not_a_primary(&topo, name, &primaries));
    }
    if wrong {
        // A usage error: the topology is fine, the argument is not.
        return finish(sources, diags, false, true, None);
    }

    let chosen: Vec<&str> = chosen.into_iter().collect();
    let request = PkiRequest { topology: &topo, primaries: chosen.clone(), output_dir: None, now, mode: IssueMode::ReadOnly };
    let bundle = pki::renew(&request, &chosen, &mut sources, &mut diags);
    let mut out = String::new();
    if let Some(bundle) = bundle {
        for cluster in &chosen {
            let Some(ca) = bundle.clusters.get(*cluster) else { continue };
            let (folder, _) = pki::intermediate_folder(&topo, cluster);
            let _ = writeln!(out, "reissued the intermediate of cluster `{cluster}`: {}", shown(&folder.join("ca-cert.pem")));
            if let Some(s) = pki::summarize(&ca.ca_cert_pem, Some(&bundle.root_cert_pem), now).ok().and_then(|s| s.into_iter().next()) {
                let _ = writeln!(out, "  {}, not after {}, sha-256 {}", s.key_algorithm, date(s.not_after), s.sha256_fingerprint);
            }
        }
        let _ = writeln!(
            out,
            "next: `meshgen build {}`, then apply the new cacerts.yaml of {}",
            topo.file_name,
            chosen.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        );
    }
    let mut outcome = finish(sources, diags, false, false, None);
    outcome.stdout = out;
    outcome
}

/// The front end. `None` when it reported an error (or the file cannot be read). Inputs that
/// exist only once clusters run (tokens, addresses) do not matter to the CA, so they are allowed
/// to be pending.
fn load(path: &Path, now: OffsetDateTime, sources: &mut Sources, diags: &mut Diagnostics) -> Option<Topology> {
    let (topology, _) = front(path, true, now, sources, diags)?;
    (!diags.has_errors()).then_some(topology)
}

/// Ends a command whose front end failed: exit 2 when the topology cannot be read, 1 otherwise.
fn stopped(sources: Sources, diags: Diagnostics) -> Outcome {
    let unreadable = diags.iter().any(|d| d.code == codes::TOPOLOGY_UNREADABLE);
    finish(sources, diags, false, unreadable, None)
}

/// The root of a plug-in CA; reports why there is none (`external` mode, no `root` node).
fn root_of<'t>(topology: &'t Topology, verb: &str, sources: &Sources, diags: &mut Diagnostics) -> Option<&'t Root> {
    let ca = &topology.ca;
    if ca.mode == CaMode::External {
        let mut d = Diagnostic::new(codes::CA_EXTERNAL, format!("there is no CA to {verb}: this mesh uses an external CA"));
        if let Some(span) = ca.span {
            d = d.primary(first_line(sources, span), "another signer issues the mesh's certificates");
        }
        diags.push(d.help(
            "meshgen manages a root and intermediates only in `ca mode=\"plugin\"` (the default); \
             with an external CA, manage its certificates with that CA's own tools",
        ));
        return None;
    }
    if let Some(root) = &ca.root {
        return Some(root);
    }
    // A `root` node that did not lower has been reported by the front end already.
    if ca.root_node.is_none() {
        let mut d = Diagnostic::new(codes::CA_ROOT_MISSING, "the plug-in CA has no root certificate and key");
        if let Some(span) = ca.span {
            d = d.primary(span, "no `root` here");
        }
        diags.push(d.help(format!(
            "name the shared root in the topology, e.g. `ca {{ root cert=\"pki/root-cert.pem\" key=\"pki/root-key.pem\" }}`, \
             then run `meshgen pki init {}`; or set `ca mode=\"external\"` if another CA signs the mesh",
            topology.file_name
        )));
    }
    None
}

/// The part of a node's span on its first line, without an opening `{`: `ca mode="external"`.
fn first_line(sources: &Sources, span: Span) -> Span {
    let text = sources.text(span.file).get(span.range()).unwrap_or("");
    let line = text.split('\n').next().unwrap_or("");
    let len = line.trim_end().trim_end_matches('{').trim_end().len();
    Span::new(span.file, span.offset, if len == 0 { span.len } else { len })
}

fn not_a_primary(topology: &Topology, name: &str, primaries: &[&str]) -> Diagnostic {
    let list = primaries.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
    if let Some(cluster) = topology.cluster(name) {
        let mut d = Diagnostic::new(codes::NOT_A_PRIMARY, format!("`--cluster {name}`: cluster `{name}` is not a primary, so it has no intermediate"));
        let span = cluster.role.as_ref().map_or(cluster.name.span, |r| r.span);
        d = d.primary(span, "not a primary");
        let help = match cluster.control_plane() {
            Some(cp) => format!(
                "workloads of `{name}` get their certificates from the istiod of `{0}`; renew that one: `meshgen pki renew {1} --cluster {0}`",
                cp.value, topology.file_name
            ),
            None => format!("only primaries have intermediates: {list}"),
        };
        return d.help(help);
    }
    let d = Diagnostic::new(codes::NOT_A_PRIMARY, format!("`--cluster {name}`: the topology has no cluster `{name}`"));
    match crate::syntax::did_you_mean(name, primaries) {
        Some(suggestion) => d.help(format!("did you mean `{suggestion}`? The primaries are {list}")),
        None => d.help(format!("the primaries are {list}")),
    }
}

/// The `show` table: the root first, then the intermediates in the order given (sorted).
fn table(inventory: &pki::Inventory) -> String {
    const NONE: &str = "—";
    let mut rows: Vec<[String; 7]> =
        vec![["NAME", "SUBJECT", "ALGORITHM", "NOT AFTER", "DAYS LEFT", "SHA-256", "CHAINS"].map(String::from)];
    let row = |name: String, s: &CertSummary, chains: String| {
        [name, s.subject.clone(), s.key_algorithm.clone(), date(s.not_after), s.days_left.to_string(), short_fingerprint(&s.sha256_fingerprint), chains]
    };
    let note = |name: String, what: String| [name, what, NONE.into(), NONE.into(), NONE.into(), NONE.into(), NONE.into()];
    match &inventory.root {
        StoredCert::Found(certs) => {
            for (i, cert) in certs.iter().enumerate() {
                let name = if i == 0 { "root".to_string() } else { format!("root[{}]", i + 1) };
                rows.push(row(name, cert, NONE.into()));
            }
        }
        StoredCert::Missing | StoredCert::KeyOnly => rows.push(note("root".into(), "missing (create it with `meshgen pki init`)".into())),
        StoredCert::Unreadable(e) => rows.push(note("root".into(), format!("unreadable: {e}"))),
    }
    for (cluster, state) in &inventory.intermediates {
        rows.push(match state {
            StoredCert::Found(certs) => {
                // istiod signs with the first certificate of ca-cert.pem.
                let cert = &certs[0];
                let chains = match cert.chains_to_root {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => NONE,
                };
                row(cluster.clone(), cert, chains.into())
            }
            StoredCert::Missing => note(cluster.clone(), "not issued yet".into()),
            StoredCert::KeyOnly => note(cluster.clone(), "incomplete: ca-key.pem without ca-cert.pem".into()),
            StoredCert::Unreadable(e) => note(cluster.clone(), format!("unreadable: {e}")),
        });
    }
    let mut widths = [0usize; 7];
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for r in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in r.iter().zip(widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            if i + 1 < r.len() {
                line.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The first 16 hex digits of a colon-separated fingerprint, then an ellipsis.
fn short_fingerprint(fingerprint: &str) -> String {
    let digits: String = fingerprint.chars().filter(char::is_ascii_hexdigit).take(16).collect();
    format!("{digits}…")
}

/// A UTC calendar date, `YYYY-MM-DD`.
fn date(at: OffsetDateTime) -> String {
    let d = at.to_offset(UtcOffset::UTC).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A path as the user would type it from the working folder.
fn shown(path: &Path) -> String {
    let path = path.strip_prefix(".").unwrap_or(path);
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_shortened_to_sixteen_digits() {
        assert_eq!(short_fingerprint("AB:CD:EF:01:23:45:67:89:AA:BB"), "ABCDEF0123456789…");
    }

    #[test]
    fn dates_are_utc() {
        let at = OffsetDateTime::from_unix_timestamp(0).unwrap().to_offset(UtcOffset::from_hms(-5, 0, 0).unwrap());
        assert_eq!(date(at), "1970-01-01");
    }
}
