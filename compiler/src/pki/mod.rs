//! pki: the CA material of a plug-in CA mesh. It reads the shared root (certificate and key),
//! verifies it, reuses each primary cluster's stored intermediate from `intermediate dir` (or
//! issues and stores one when it is missing), verifies every chain, and hands `plan` a
//! [`CaBundle`] with the four `cacerts` files of each primary (reference/istio.md §9).
//!
//! This is the only stage that touches key material, and one of three that touch the disk. What
//! it must not do:
//! - never create, change or emit the root key (`meshgen pki init` creates a root through
//!   [`issue_root`]/[`store_root`]; a build only reads it), and never let it sit in the output;
//! - never put private key text into [`Sources`] or key bytes into a message: diagnostics about a
//!   key file point at the topology's `key=` (or `intermediate dir=`) property and name the path;
//! - never read the clock: validity is judged against [`PkiRequest::now`];
//! - never overwrite a stored intermediate during a build (only [`renew`] replaces one), so
//!   builds stay byte-for-byte stable;
//! - never panic on anything a user can put in a file.
//!
//! rcgen, x509-parser and aws-lc-rs are used only inside this module.

mod cert;
mod issue;
mod pem;
mod rules;
mod store;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::diagnostics::{Diagnostic, Diagnostics, Severity, Sources, Span, codes};
use crate::model::{CaMode, KeyAlgorithm, Root, Topology};

use cert::{Cert, LoadedKey, key_matches};
use rules::{IntermediateContext, Problem};

pub use cert::{SignatureAlgorithm, Strength, classify_oid};
pub use store::StoreError;

/// The CA material of every primary that gets `cacerts`.
#[derive(Clone, PartialEq, Eq)]
pub struct CaBundle {
    /// `root-cert.pem`: the root certificate block(s), re-encoded, ending in a line break.
    pub root_cert_pem: String,
    pub clusters: BTreeMap<String, ClusterCa>,
}

/// The `cacerts` files of one primary (besides the shared `root-cert.pem`).
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterCa {
    /// `ca-cert.pem`: this cluster's intermediate.
    pub ca_cert_pem: String,
    /// `ca-key.pem`: its private key.
    pub ca_key_pem: String,
    /// `cert-chain.pem`: the intermediate, then the root.
    pub cert_chain_pem: String,
}

// Hand-written so that a `{:?}` in a log or test failure never prints a private key.
impl fmt::Debug for ClusterCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterCa")
            .field("ca_cert_pem", &self.ca_cert_pem)
            .field("ca_key_pem", &"[private key elided]")
            .field("cert_chain_pem", &self.cert_chain_pem)
            .finish()
    }
}

impl fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaBundle").field("root_cert_pem", &self.root_cert_pem).field("clusters", &self.clusters).finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueMode {
    /// Issue and store an intermediate for every primary that has none (`build`).
    IssueMissing,
    /// Read and verify only; a primary without a stored intermediate is left out (`check`,
    /// `pki show`).
    ReadOnly,
    /// Read and verify only; a primary without a stored intermediate is an error (`build --check`,
    /// `build --stdout`, `terraform`: output that must not depend on a key minted on the spot).
    RequireIssued,
}

pub struct PkiRequest<'a> {
    pub topology: &'a Topology,
    /// Cluster IDs that get `cacerts`.
    pub primaries: Vec<&'a str>,
    /// Where the build writes (it may not exist yet); the root key must not be inside.
    pub output_dir: Option<&'a Path>,
    /// Validity is judged against this, never the clock.
    pub now: OffsetDateTime,
    pub mode: IssueMode,
}

/// Loads, verifies and (in [`IssueMode::IssueMissing`]) issues the CA material of `req.primaries`.
/// `None` in `external` CA mode, and whenever this stage reported an error.
pub fn prepare(req: &PkiRequest, sources: &mut Sources, diags: &mut Diagnostics) -> Option<CaBundle> {
    Stage { req, sources, diags, errors: 0 }.run(&BTreeSet::new())
}

/// `meshgen pki renew`: issues new intermediates for `clusters` (replacing what is stored),
/// then prepares the bundle like [`prepare`]. Nothing is replaced when the root has an error.
pub fn renew(req: &PkiRequest, clusters: &[&str], sources: &mut Sources, diags: &mut Diagnostics) -> Option<CaBundle> {
    Stage { req, sources, diags, errors: 0 }.run(&clusters.iter().copied().collect())
}

/// An error of the helper functions for `meshgen pki init|show`. Never holds key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PkiError(pub String);

impl fmt::Display for PkiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PkiError {}

/// A freshly made CA: certificate and key PEM.
#[derive(Clone)]
pub struct IssuedCa {
    pub cert_pem: String,
    key_pem: String,
}

impl IssuedCa {
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }
}

impl fmt::Debug for IssuedCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCa").field("cert_pem", &self.cert_pem).field("key_pem", &"[private key elided]").finish()
    }
}

/// Makes a self-signed root (`meshgen pki init`): `O=Istio, CN=Root CA`, CA:true, keyCertSign,
/// valid from `now - 1h` for `valid_days`.
pub fn issue_root(algorithm: KeyAlgorithm, valid_days: u32, now: OffsetDateTime) -> Result<IssuedCa, PkiError> {
    if valid_days == 0 {
        return Err(PkiError("a root must be valid for at least one day".into()));
    }
    let validity = issue::validity(now, valid_days, None)
        .ok_or_else(|| PkiError(format!("{valid_days} days from now is past the year 9999")))?;
    let key = issue::generate_keys(&[algorithm])
        .pop()
        .unwrap_or_else(|| Err("no key generated".into()))
        .map_err(|e| PkiError(format!("cannot generate a {} key: {e}", algorithm.name())))?;
    let cert_pem =
        issue::self_signed_root(validity, &key).map_err(|e| PkiError(format!("cannot sign the root: {e}")))?;
    Ok(IssuedCa { cert_pem, key_pem: pem::encode("PRIVATE KEY", key.serialized_der()) })
}

/// Stores a root made by [`issue_root`]: the key with mode 0600 from creation, then the
/// certificate. Refuses to replace an existing file (a root is never overwritten).
pub fn store_root(root: &IssuedCa, cert_path: &Path, key_path: &Path) -> Result<(), StoreError> {
    for path in [cert_path, key_path] {
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(StoreError {
                path: path.to_path_buf(),
                error: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "file exists; a root is never overwritten"),
            });
        }
    }
    store::store_pair(key_path, &root.key_pem, cert_path, &root.cert_pem, store::Existing::Keep)
}

/// What `meshgen pki show` prints about one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    /// In the topology's words: `ecdsa-p256`, `rsa-4096`, …
    pub key_algorithm: String,
    pub signature_algorithm: SignatureAlgorithm,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// Whole days from `now` to `not_after`; negative once expired.
    pub days_left: i64,
    /// Upper-case hex, colon-separated, as `openssl x509 -fingerprint -sha256` prints it.
    pub sha256_fingerprint: String,
    pub is_ca: bool,
    pub path_len: Option<u32>,
    pub dns_names: Vec<String>,
    /// Whether a root of `root_pem` issued it (or it is one of them); `None` without roots.
    pub chains_to_root: Option<bool>,
}

/// Summarizes every certificate of a PEM text, optionally against the roots of `root_pem`.
pub fn summarize(cert_pem: &str, root_pem: Option<&str>, now: OffsetDateTime) -> Result<Vec<CertSummary>, PkiError> {
    let certs = parse_all(cert_pem)?;
    let roots = root_pem.map(parse_all).transpose()?;
    Ok(certs
        .iter()
        .map(|c| CertSummary {
            subject: c.subject.clone(),
            issuer: c.issuer.clone(),
            serial: c.serial.clone(),
            key_algorithm: c.key_algorithm.clone(),
            signature_algorithm: c.signature.clone(),
            not_before: c.not_before,
            not_after: c.not_after,
            days_left: (c.not_after - now).whole_days(),
            sha256_fingerprint: c.sha256_fingerprint(),
            is_ca: matches!(c.basic, cert::Ext::Present(cert::Basic { ca: true, .. })),
            path_len: match c.basic {
                cert::Ext::Present(b) => b.path_len,
                _ => None,
            },
            dns_names: c.dns_names.clone(),
            chains_to_root: roots.as_ref().map(|roots| roots.iter().any(|r| r.der == c.der || c.issued_by(r))),
        })
        .collect())
}

fn parse_all(text: &str) -> Result<Vec<Cert>, PkiError> {
    let (blocks, defects) = pem::scan(text);
    if let Some(d) = defects.iter().find(|d| d.label == "CERTIFICATE") {
        return Err(PkiError(format!("a CERTIFICATE block {}", d.reason)));
    }
    let certs = blocks
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| Cert::parse(b.der).map_err(PkiError))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(PkiError("no PEM certificate found".into()));
    }
    Ok(certs)
}

/// Where a cluster's intermediate is stored: the folder, and the folder as the topology spells
/// it (for messages). Pure: nothing is read.
pub fn intermediate_folder(topology: &Topology, cluster: &str) -> (PathBuf, String) {
    let dir = &topology.ca.intermediate.dir;
    let written = dir.written.trim_end_matches('/');
    let written = if written.is_empty() { cluster.to_string() } else { format!("{written}/{cluster}") };
    (dir.resolved.join(cluster), written)
}

/// Whether anything is at `path` (`meshgen pki init` never overwrites). An error other than
/// "not found" counts as present, so nothing is written over a file that cannot be inspected.
pub fn exists(path: &Path) -> bool {
    present(path)
}

/// A certificate file as `meshgen pki show` finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredCert {
    /// No file (for an intermediate: neither `ca-cert.pem` nor `ca-key.pem`).
    Missing,
    /// An intermediate whose `ca-key.pem` exists without its `ca-cert.pem`.
    KeyOnly,
    /// The file exists but holds no certificate meshgen can read.
    Unreadable(PkiError),
    /// Every certificate of the file, in order (istiod uses the first of `ca-cert.pem`).
    Found(Vec<CertSummary>),
}

/// The root and stored intermediates of a plug-in CA, for `meshgen pki show`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inventory {
    pub root: StoredCert,
    /// In the order of `clusters` given to [`inventory`].
    pub intermediates: Vec<(String, StoredCert)>,
}

/// Reads the root certificate and each cluster's stored `ca-cert.pem`, and summarizes them, the
/// intermediates against the root. Only certificate files are read, never a key (a key's
/// presence is only looked up). Reports nothing: [`prepare`] in [`IssueMode::ReadOnly`] says
/// what is wrong. `None` when the topology has no root (external mode, or no `root` node).
pub fn inventory(topology: &Topology, clusters: &[&str], now: OffsetDateTime) -> Option<Inventory> {
    if topology.ca.mode == CaMode::External {
        return None;
    }
    let root = topology.ca.root.as_ref()?;
    let (root, root_pem) = match read_certificates(&root.cert.resolved) {
        Ok(Some(text)) => match summarize(&text, Some(&text), now) {
            Ok(summaries) => (StoredCert::Found(summaries), Some(text)),
            Err(e) => (StoredCert::Unreadable(e), None),
        },
        Ok(None) => (StoredCert::Missing, None),
        Err(e) => (StoredCert::Unreadable(e), None),
    };
    let intermediates = clusters
        .iter()
        .map(|&cluster| {
            let (folder, _) = intermediate_folder(topology, cluster);
            let state = match read_certificates(&folder.join("ca-cert.pem")) {
                Ok(Some(text)) => match summarize(&text, root_pem.as_deref(), now) {
                    Ok(summaries) => StoredCert::Found(summaries),
                    Err(e) => StoredCert::Unreadable(e),
                },
                Ok(None) if present(&folder.join("ca-key.pem")) => StoredCert::KeyOnly,
                Ok(None) => StoredCert::Missing,
                Err(e) => StoredCert::Unreadable(e),
            };
            (cluster.to_string(), state)
        })
        .collect();
    Some(Inventory { root, intermediates })
}

/// The text of a certificate file; `None` when there is none.
fn read_certificates(path: &Path) -> Result<Option<String>, PkiError> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| PkiError("not PEM text".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(PkiError(format!("cannot be read: {e}"))),
    }
}

/// The root as loaded: every certificate of the root file, which of them the key belongs to,
/// and the key.
struct RootCa {
    certs: Vec<(Cert, Span)>,
    signing: usize,
    key: Option<LoadedKey>,
    /// No error anywhere in the root: intermediates may be issued from it.
    sound: bool,
}

impl RootCa {
    fn cert(&self) -> Option<&Cert> {
        self.certs.get(self.signing).map(|(c, _)| c)
    }
}

/// A verified intermediate, ready for the bundle.
struct Material {
    ca: ClusterCa,
    public_key: Vec<u8>,
    /// Where a label about it can point (its block in `ca-cert.pem`), if anywhere.
    span: Option<Span>,
}

struct Stage<'r, 'a> {
    req: &'r PkiRequest<'a>,
    sources: &'r mut Sources,
    diags: &'r mut Diagnostics,
    /// Errors this stage pushed (the vector may hold others' too).
    errors: usize,
}

impl Stage<'_, '_> {
    fn push(&mut self, diagnostic: Diagnostic) {
        if diagnostic.is_error() {
            self.errors += 1;
        }
        self.diags.push(diagnostic);
    }

    fn topology(&self) -> &Topology {
        self.req.topology
    }

    fn renew_command(&self, cluster: &str) -> String {
        format!("meshgen pki renew {} --cluster {cluster}", self.topology().file_name)
    }

    /// The `intermediate dir=` span, when the topology wrote an `intermediate` node.
    fn dir_span(&self) -> Option<Span> {
        let intermediate = &self.topology().ca.intermediate;
        intermediate.span.map(|_| intermediate.dir.span)
    }

    fn run(mut self, renew: &BTreeSet<&str>) -> Option<CaBundle> {
        let topology = self.req.topology;
        let ca = &topology.ca;
        if ca.mode == CaMode::External {
            return None;
        }
        let Some(root) = &ca.root else {
            // A `root` node that did not lower to a root has already been reported by the front
            // end; saying "missing" as well would only contradict the user's file.
            if ca.root_node.is_some() {
                return None;
            }
            let mut d = Diagnostic::new(codes::CA_ROOT_MISSING, "the plug-in CA has no root certificate and key");
            if let Some(span) = ca.span {
                d = d.primary(span, "no `root` here");
            }
            self.push(d.help(format!(
                "name the shared root in the topology: `ca {{ root cert=\"pki/root-cert.pem\" key=\"pki/root-key.pem\" }}`, \
                 and create it with `meshgen pki init {}`; or set `ca mode=\"external\"` if another CA signs the mesh",
                topology.file_name
            )));
            return None;
        };

        let root_ca = self.load_root(root);
        let dir = &topology.ca.intermediate.dir;
        if let Some(out) = self.req.output_dir
            && store::is_inside(&dir.resolved, out)
        {
            // The output folder is replaced as a whole on every build: intermediates stored
            // inside it would be wiped and issued anew each time.
            self.push(
                Diagnostic::new(
                    codes::INTERMEDIATE_DIR_IN_OUTPUT,
                    format!("the intermediates folder `{}` is inside the output folder `{}`", dir.written, out.display()),
                )
                .primary(dir.span, "inside the output folder")
                .help("every build replaces the output folder, so intermediates stored there would be reissued each time; point `intermediate dir=` elsewhere, or build into another folder"),
            );
            return None;
        }

        let mut clusters: BTreeSet<&str> = self.req.primaries.iter().copied().collect();
        clusters.extend(renew.iter().copied());
        let mut material: BTreeMap<String, Material> = BTreeMap::new();
        let mut to_issue: Vec<&str> = Vec::new();
        for &cluster in &clusters {
            if renew.contains(cluster) {
                to_issue.push(cluster);
                continue;
            }
            match self.stored(cluster, root_ca.as_ref()) {
                Stored::Found(m) => {
                    material.insert(cluster.to_string(), m);
                }
                Stored::Missing if self.req.mode == IssueMode::IssueMissing => to_issue.push(cluster),
                Stored::Missing if self.req.mode == IssueMode::RequireIssued => self.not_issued(cluster),
                Stored::Missing | Stored::Broken => {}
            }
        }
        if !to_issue.is_empty()
            && let Some(root_ca) = root_ca.as_ref().filter(|r| r.sound)
            && root_ca.key.is_none()
        {
            self.push(
                Diagnostic::new(
                    codes::FILE_UNREADABLE,
                    format!("the root key `{}` is needed to issue the intermediate of {}, and it does not exist", root.key.written, to_issue.join(", ")),
                )
                .primary(root.key.span, "no such file")
                .help(
                    "issue intermediates where the root key is kept (a plain `meshgen build` there, or `meshgen pki init` for a new root) \
                     and commit them; builds that only reuse intermediates, checks, streams and Terraform never need the root key",
                ),
            );
        } else if !to_issue.is_empty()
            && let Some(root_ca) = root_ca.as_ref().filter(|r| r.sound)
        {
            for (cluster, m) in self.issue(&to_issue, root_ca, renew) {
                material.insert(cluster, m);
            }
        }
        self.check_shared_keys(&material);
        if let Some(root_ca) = root_ca.as_ref() {
            self.check_not_root(&material, root_ca);
        }

        let root_ca = root_ca?;
        if self.errors > 0 {
            return None;
        }
        let root_pem = root_ca.cert()?.pem();
        Some(CaBundle {
            root_cert_pem: root_ca.certs.iter().map(|(c, _)| c.pem()).collect(),
            clusters: material
                .into_iter()
                .map(|(cluster, m)| {
                    let chain = format!("{}{}", m.ca.ca_cert_pem, root_pem);
                    (cluster, ClusterCa { cert_chain_pem: chain, ..m.ca })
                })
                .collect(),
        })
    }

    /// Reads and verifies the root. `None` when its certificate cannot be read at all.
    fn load_root(&mut self, root: &Root) -> Option<RootCa> {
        if let Some(out) = self.req.output_dir
            && store::is_inside(&root.key.resolved, out)
        {
            self.push(
                Diagnostic::new(
                    codes::ROOT_KEY_IN_OUTPUT,
                    format!("the root key `{}` is inside the output folder `{}`", root.key.written, out.display()),
                )
                .primary(root.key.span, "inside the output folder")
                .help(
                    "the output is applied to clusters and often committed; keep the root key elsewhere \
                     (move it and update `key=`), or build into another folder",
                ),
            );
        }
        let before = self.errors;
        let certs = self.load_certs(&root.cert.resolved, &root.cert.written, Some(root.cert.span), "the root certificate");
        // The root key signs new intermediates and nothing else: a build that only reuses
        // committed intermediates, a check, a stream or a Terraform run does not need it, so it
        // may stay offline. Absent, it is reported only when something must be issued.
        let key = if root.key.resolved.exists() {
            self.load_key(&root.key.resolved, &root.key.written, Some(root.key.span), "the root key")
        } else {
            None
        };
        let certs = certs?;

        let matching = key.as_ref().map(|k| certs.iter().position(|(c, _)| key_matches(c, &k.pair)));
        let signing = match matching {
            Some(Some(i)) => i,
            Some(None) => {
                let mut d = Diagnostic::new(
                    codes::ROOT_KEY_MISMATCH,
                    format!("the root key `{}` does not belong to the root certificate `{}`", root.key.written, root.cert.written),
                )
                .primary(root.key.span, "this key");
                if let Some((_, span)) = certs.first() {
                    d = d.secondary(*span, "does not match this certificate");
                }
                self.push(d.help(format!(
                    "compare `openssl x509 -noout -pubkey -in {}` with `openssl pkey -pubout -in {}`; \
                     the key must be the one the root was made with",
                    root.cert.written, root.key.written
                )));
                0
            }
            None => 0,
        };
        for (cert, span) in &certs {
            for problem in rules::root_problems(cert, self.req.now) {
                self.push_problem(problem, Some(*span), None);
            }
        }
        let sound = self.errors == before;
        Some(RootCa { certs, signing, key, sound })
    }

    /// Reads a certificate file, adds its text to `sources` (with any private key block
    /// blanked out) and parses every CERTIFICATE block. Problems are reported; `None` when no
    /// certificate could be read.
    fn load_certs(&mut self, path: &Path, written: &str, at: Option<Span>, what: &str) -> Option<Vec<(Cert, Span)>> {
        let text = self.read_text(path, written, at, what, codes::INVALID_PEM)?;
        let (blocks, defects) = pem::scan(&text);
        let mut redacted = text.into_bytes();
        let key_ranges = blocks
            .iter()
            .filter(|b| b.label.contains("PRIVATE KEY"))
            .map(|b| (b.begin_offset, b.end_offset))
            .chain(defects.iter().filter(|d| d.label.contains("PRIVATE KEY")).map(|d| (d.begin_offset, d.end_offset)));
        for (start, end) in key_ranges {
            for byte in redacted.get_mut(start..end).into_iter().flatten() {
                if !byte.is_ascii_whitespace() {
                    *byte = b'*';
                }
            }
        }
        // Only ASCII bytes were replaced by ASCII, so the text is still UTF-8.
        let text = String::from_utf8_lossy(&redacted).into_owned();
        let file = self.sources.add(path.to_path_buf(), written.to_string(), text);
        let span_of = |offset: usize, len: usize| Span::new(file, offset, len);

        for d in defects.iter().filter(|d| d.label == "CERTIFICATE") {
            self.push(
                Diagnostic::new(codes::INVALID_PEM, format!("a CERTIFICATE block of {what} `{written}` {}", d.reason))
                    .primary(span_of(d.begin_offset, d.begin_len), d.reason),
            );
        }
        let mut certs = Vec::new();
        for block in blocks.into_iter().filter(|b| b.label == "CERTIFICATE") {
            let span = span_of(block.begin_offset, block.begin_len);
            match Cert::parse(block.der) {
                Ok(cert) => certs.push((cert, span)),
                Err(why) => self.push(
                    Diagnostic::new(codes::INVALID_PEM, format!("a CERTIFICATE block of {what} `{written}` is {why}"))
                        .primary(span, "not a certificate"),
                ),
            }
        }
        if certs.is_empty() {
            if !defects.iter().any(|d| d.label == "CERTIFICATE") {
                let mut d = Diagnostic::new(codes::INVALID_PEM, format!("{what} `{written}` holds no PEM certificate"));
                if let Some(span) = at {
                    d = d.primary(span, "no certificate in this file");
                }
                self.push(d.help("the file must hold a `-----BEGIN CERTIFICATE-----` block"));
            }
            return None;
        }
        Some(certs)
    }

    /// Reads a private key file. Its text never reaches `sources` or a message.
    fn load_key(&mut self, path: &Path, written: &str, at: Option<Span>, what: &str) -> Option<LoadedKey> {
        let text = self.read_text(path, written, at, what, codes::INVALID_KEY)?;
        match cert::parse_key(&text) {
            Ok(key) => Some(key),
            Err(defect) => {
                let mut d = Diagnostic::new(codes::INVALID_KEY, format!("{what} `{written}` {}", defect.describe()));
                if let Some(span) = at {
                    d = d.primary(span, "unusable key");
                }
                let help = match defect {
                    cert::KeyDefect::Encrypted => "decrypt it with `openssl pkey -in KEY -out KEY.plain` and keep it out of version control",
                    cert::KeyDefect::LabelMismatch(_) => "rewrite it with `openssl pkey -in KEY -out KEY.pkcs8`, which writes a `PRIVATE KEY` block",
                    _ => "a key is one `PRIVATE KEY`, `EC PRIVATE KEY` or `RSA PRIVATE KEY` block",
                };
                self.push(d.help(help));
                None
            }
        }
    }

    fn read_text(&mut self, path: &Path, written: &str, at: Option<Span>, what: &str, not_text: codes::Code) -> Option<String> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                let mut d = Diagnostic::new(codes::FILE_UNREADABLE, format!("cannot read {what} `{written}`: {}", crate::syntax::io_reason(&e)));
                if let Some(span) = at {
                    d = d.primary(span, "cannot be read");
                }
                self.push(d.help("paths in a topology are relative to the topology's folder; `meshgen pki init` creates a missing root"));
                return None;
            }
        };
        match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(_) => {
                let mut d = Diagnostic::new(not_text, format!("{what} `{written}` is not PEM text"));
                if let Some(span) = at {
                    d = d.primary(span, "not a PEM file");
                }
                self.push(d.help("meshgen reads PEM; convert a DER file with `openssl x509 -inform der` or `openssl pkey -inform der`"));
                None
            }
        }
    }

    fn push_problem(&mut self, problem: Problem, on: Option<Span>, also: Option<(Span, &str)>) {
        let mut d = Diagnostic::new(problem.code, problem.message);
        if let Some(span) = on {
            d = d.primary(span, problem.label);
        }
        if let Some((span, label)) = also {
            d = d.secondary(span, label);
        }
        if let Some(help) = problem.help {
            d = d.help(help);
        }
        self.push(d);
    }

    fn folder(&self, cluster: &str) -> (PathBuf, String) {
        intermediate_folder(self.topology(), cluster)
    }

    /// Looks for, reads and verifies a cluster's stored intermediate.
    fn stored(&mut self, cluster: &str, root: Option<&RootCa>) -> Stored {
        let (folder, folder_written) = self.folder(cluster);
        let (cert_path, key_path) = (folder.join("ca-cert.pem"), folder.join("ca-key.pem"));
        let (cert_written, key_written) = (format!("{folder_written}/ca-cert.pem"), format!("{folder_written}/ca-key.pem"));
        let dir_span = self.dir_span();
        match (present(&cert_path), present(&key_path)) {
            (false, false) => return Stored::Missing,
            (true, true) => {}
            (cert_here, _) => {
                let (missing, found) = if cert_here { (&key_written, &cert_written) } else { (&cert_written, &key_written) };
                let mut d = Diagnostic::new(
                    codes::INTERMEDIATE_INCOMPLETE,
                    format!("the stored intermediate of cluster `{cluster}` is incomplete: `{found}` exists, `{missing}` does not"),
                );
                if let Some(span) = dir_span {
                    d = d.primary(span, "intermediates are stored here");
                }
                self.push(d.help(format!(
                    "restore `{missing}`, or delete `{folder_written}/` so that the next build issues a new \
                     intermediate (or run `{}`)",
                    self.renew_command(cluster)
                )));
                return Stored::Broken;
            }
        }
        let what = format!("the intermediate certificate of cluster `{cluster}`");
        let certs = self.load_certs(&cert_path, &cert_written, dir_span, &what);
        let key = self.load_key(&key_path, &key_written, dir_span, &format!("the intermediate key of cluster `{cluster}`"));
        let (Some(certs), Some(key)) = (certs, key) else { return Stored::Broken };
        let Some((ca, span)) = certs.into_iter().next() else { return Stored::Broken };
        let renew = self.renew_command(cluster);
        let context = IntermediateContext { cluster, folder: &folder_written, renew: &renew };
        let before = self.errors;
        match root.and_then(RootCa::cert) {
            Some(root_cert) => {
                for problem in rules::intermediate_problems(&ca, root_cert, Some(&key.pair), self.req.now, &context) {
                    self.push_problem(problem, Some(span), dir_span.map(|s| (s, "intermediates are stored here")));
                }
            }
            // Without a readable root (already reported) the chain cannot be judged.
            None => return Stored::Broken,
        }
        if self.errors > before {
            return Stored::Broken;
        }
        Stored::Found(Material {
            public_key: ca.public_key.clone(),
            ca: ClusterCa { ca_cert_pem: ca.pem(), ca_key_pem: key.pem, cert_chain_pem: String::new() },
            span: Some(span),
        })
    }

    /// Issues, verifies and stores intermediates for `clusters` from a sound root.
    fn issue(&mut self, clusters: &[&str], root: &RootCa, renewing: &BTreeSet<&str>) -> Vec<(String, Material)> {
        let topology = self.req.topology;
        let intermediate = &topology.ca.intermediate;
        let (Some(root_cert), Some(root_key), Some((_, root_span))) =
            (root.cert(), root.key.as_ref(), root.certs.get(root.signing))
        else {
            return Vec::new();
        };
        if !root_cert.subject_copyable {
            self.push(
                Diagnostic::new(
                    codes::ROOT_NOT_CA,
                    "meshgen cannot issue intermediates from this root: its subject has a multi-valued RDN or a \
                     repeated attribute, which the certificate library cannot copy exactly into an issuer name",
                )
                .primary(*root_span, "subject cannot be copied")
                .help(format!(
                    "use a root whose subject has one attribute per RDN and no repeated attribute type, or issue \
                     the intermediates with your own tooling and store them in `{}/<cluster>/`",
                    intermediate.dir.written
                )),
            );
            return Vec::new();
        }
        let days = intermediate.valid_days.value;
        let validity = if days == 0 { None } else { issue::validity(self.req.now, days, Some(root_cert.not_after)) };
        let Some(validity) = validity else {
            self.push(
                Diagnostic::new(codes::INVALID_VALUE, format!("an intermediate cannot be valid for {days} days"))
                    .primary(intermediate.valid_days.span, "out of range")
                    .help("give `valid-days` between 1 and a few thousand; the default is 365"),
            );
            return Vec::new();
        };
        let algorithms: Vec<KeyAlgorithm> = clusters.iter().map(|_| intermediate.algorithm.value).collect();
        let keys = issue::generate_keys(&algorithms);

        let mut issued = Vec::new();
        for (&cluster, key) in clusters.iter().zip(keys) {
            let (folder, folder_written) = self.folder(cluster);
            let failed = |why: String| {
                Diagnostic::new(codes::CA_WRITE_FAILED, format!("cannot issue the intermediate of cluster `{cluster}`: {why}"))
            };
            let key = match key {
                Ok(key) => key,
                Err(e) => {
                    self.push(failed(format!("key generation failed ({e})")));
                    continue;
                }
            };
            let namespace = topology.mesh.namespace.as_str();
            let cert = issue::sign_intermediate(cluster, namespace, validity, &key, &root_cert.der, &root_key.pair)
                .map_err(|e| e.to_string())
                .and_then(|pem_text| {
                    let (blocks, _) = pem::scan(&pem_text);
                    let der = blocks.into_iter().next().map(|b| b.der).ok_or("rcgen wrote no PEM block")?;
                    Cert::parse(der)
                });
            let cert = match cert {
                Ok(cert) => cert,
                Err(e) => {
                    self.push(failed(e));
                    continue;
                }
            };
            // The same checks a stored intermediate gets: a certificate meshgen would reject on
            // the next build is never written.
            let renew = self.renew_command(cluster);
            let context = IntermediateContext { cluster, folder: &folder_written, renew: &renew };
            let problems = rules::intermediate_problems(&cert, root_cert, Some(&key), self.req.now, &context);
            let (errors, warnings): (Vec<_>, Vec<_>) = problems.into_iter().partition(|p| p.code.severity == Severity::Error);
            if !errors.is_empty() {
                let why = errors.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; ");
                self.push(failed(format!("the new certificate fails verification ({why}); nothing was stored")));
                continue;
            }
            for warning in warnings {
                let span = intermediate.span.map(|_| intermediate.valid_days.span);
                self.push_problem(warning, span, None);
            }
            let ca_cert_pem = cert.pem();
            let ca_key_pem = pem::encode("PRIVATE KEY", key.serialized_der());
            let (cert_path, key_path) = (folder.join("ca-cert.pem"), folder.join("ca-key.pem"));
            let existing = if renewing.contains(cluster) { store::Existing::Replace } else { store::Existing::Keep };
            if let Err(e) = store::store_pair(&key_path, &ca_key_pem, &cert_path, &ca_cert_pem, existing) {
                let mut d = Diagnostic::new(
                    codes::CA_WRITE_FAILED,
                    format!("cannot store the intermediate of cluster `{cluster}`: {}: {}", e.path.display(), e.error),
                );
                if let Some(span) = self.dir_span() {
                    d = d.primary(span, "intermediates are stored here");
                }
                self.push(d.help(format!("make `{folder_written}/` writable, or point `intermediate dir=` elsewhere")));
                continue;
            }
            issued.push((
                cluster.to_string(),
                Material {
                    public_key: cert.public_key.clone(),
                    ca: ClusterCa { ca_cert_pem, ca_key_pem, cert_chain_pem: String::new() },
                    span: None,
                },
            ));
        }
        issued
    }

    /// No two clusters may share an intermediate key (OUTPUT.md): a copied folder would make
    /// one cluster able to impersonate another's workloads' CA.
    /// A primary without an intermediate, where this command may not issue one.
    fn not_issued(&mut self, cluster: &str) {
        let topology = self.topology();
        let path = if topology.dir == Path::new(".") { PathBuf::from(&topology.file_name) } else { topology.dir.join(&topology.file_name) };
        let mut d = Diagnostic::new(codes::INTERMEDIATE_NOT_ISSUED, format!("the intermediate CA of \"{cluster}\" has not been issued yet")).help(format!(
            "run `meshgen build {}` once: it issues the intermediate into `{}/{cluster}/`; commit it so every later build, check and stream is reproducible",
            path.display(),
            topology.ca.intermediate.dir.written
        ));
        if let Some(c) = topology.cluster(cluster) {
            d = d.primary(c.name.span, "no intermediate issued for this primary");
        }
        self.push(d);
    }

    /// A stored "intermediate" holding a root's key would put the root key into that cluster's
    /// `cacerts`: the one private key that must never leave the operator.
    fn check_not_root(&mut self, material: &BTreeMap<String, Material>, root: &RootCa) {
        for (cluster, m) in material {
            if let Some((_, root_span)) = root.certs.iter().find(|(c, _)| c.public_key == m.public_key) {
                let mut d = Diagnostic::new(codes::ROOT_KEY_IN_CACERTS, format!("the intermediate of `{cluster}` has the root's key"));
                if let Some(span) = m.span {
                    d = d.primary(span, "this intermediate");
                }
                d = d.secondary(*root_span, "the root with the same key");
                self.push(d.help(format!(
                    "the root key would be written into `{cluster}`'s cacerts; delete `{}/` so that the next build issues a real intermediate, or run `{}`",
                    self.folder(cluster).1,
                    self.renew_command(cluster)
                )));
            }
        }
    }

    fn check_shared_keys(&mut self, material: &BTreeMap<String, Material>) {
        let mut first: BTreeMap<&[u8], (&str, Option<Span>)> = BTreeMap::new();
        for (cluster, m) in material {
            match first.get(m.public_key.as_slice()) {
                Some(&(other, other_span)) => {
                    let (folder_a, folder_b) = (self.folder(other).1, self.folder(cluster).1);
                    let mut d = Diagnostic::new(
                        codes::INTERMEDIATE_SHARED_KEY,
                        format!("clusters `{other}` and `{cluster}` share one intermediate key"),
                    );
                    if let Some(span) = m.span {
                        d = d.primary(span, format!("intermediate of `{cluster}`"));
                    }
                    if let Some(span) = other_span {
                        d = d.secondary(span, format!("same key as the intermediate of `{other}`"));
                    }
                    self.push(d.help(format!(
                        "each cluster needs its own intermediate; delete `{folder_b}/` (a copy of `{folder_a}/`?) so \
                         that the next build issues a new one, or run `{}`",
                        self.renew_command(cluster)
                    )));
                }
                None => {
                    first.insert(m.public_key.as_slice(), (cluster.as_str(), m.span));
                }
            }
        }
    }
}

enum Stored {
    Found(Material),
    /// Neither file exists.
    Missing,
    /// Something was wrong and has been reported.
    Broken,
}

/// Whether something is at `path`. An error other than "not found" counts as present, so the
/// read that follows reports it instead of a build silently issuing over it.
fn present(path: &Path) -> bool {
    match std::fs::symlink_metadata(path) {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
    }
}
