//! The files a topology references, read once: API-server CAs (a PEM file, or a kubeconfig
//! context) and reader tokens (a file, or an environment variable).
//!
//! Kubeconfigs and token files hold credentials, so their text never enters [`Sources`]: a
//! problem inside one is reported against the topology property that names the file, with the
//! line number in the message. Tokens are kept in [`Secret`], whose `Debug` never shows them.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;

use base64::Engine as _;
use serde::Deserialize;

use super::{git, io_reason};
use crate::diagnostics::{codes, Diagnostic, Diagnostics, FileId, Sources, Span};
use crate::model::{ApiServerSource, FilePath, Sp, TokenSource, Topology};

/// A credential: never printed, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// What other clusters need to reach one cluster's API server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiEndpoint {
    pub server: String,
    /// Where the server URL was written, for diagnostics about it.
    pub server_span: Span,
    /// The API server's CA certificates, PEM, each block ending in a newline.
    pub ca_pem: String,
    /// Where the CA was read: its first block in a CA file, or the kubeconfig's context.
    pub ca_span: Span,
    pub tls_server_name: Option<String>,
}

impl ApiEndpoint {
    /// `certificate-authority-data` of a kubeconfig.
    pub fn ca_data(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.ca_pem.as_bytes())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Available(Secret),
    /// Not there yet: the file is missing or empty, or the variable is unset or empty. A new
    /// mesh's first build has this for every token.
    Pending,
}

#[derive(Debug, Default)]
pub struct ClusterInputs {
    /// `None` when the cluster has no `api-server`, or it could not be read (reported).
    pub api_server: Option<ApiEndpoint>,
    /// `None` when the cluster has no `reader-token`, or it is invalid (reported).
    pub token: Option<Token>,
}

#[derive(Debug, Default)]
pub struct Inputs {
    pub clusters: BTreeMap<String, ClusterInputs>,
}

impl Inputs {
    pub fn cluster(&self, name: &str) -> Option<&ClusterInputs> {
        self.clusters.get(name)
    }
}

/// Reads the API server and token inputs of every cluster. A cluster no primary reads has its
/// files read too: rule 7 wants every referenced file to exist and parse, used or not.
pub fn read(topology: &Topology, sources: &mut Sources, diags: &mut Diagnostics) -> Inputs {
    let mut inputs = Inputs::default();
    // Many clusters may share one CA file or kubeconfig: each file is read and parsed once.
    let mut ca_files: HashMap<PathBuf, Option<(String, Span)>> = HashMap::new();
    let mut kubeconfigs: HashMap<PathBuf, Option<(Kubeconfig, FileId)>> = HashMap::new();
    let mut token_files: Vec<&FilePath> = Vec::new();
    for cluster in &topology.clusters {
        if inputs.clusters.contains_key(cluster.name.as_str()) {
            continue;
        }
        let mut found = ClusterInputs::default();
        if let Some(api) = &cluster.api_server {
            let tls_server_name = api.tls_server_name.as_ref().map(|t| t.value.clone());
            found.api_server = match api.source.as_ref() {
                None => None,
                Some(ApiServerSource::Direct { url, ca_file }) => ca_files
                    .entry(ca_file.resolved.clone())
                    .or_insert_with(|| read_ca_file(ca_file, sources, diags))
                    .clone()
                    .map(|(ca_pem, ca_span)| ApiEndpoint {
                    server: url.value.clone(),
                    server_span: url.span,
                    ca_pem,
                    ca_span,
                    tls_server_name,
                }),
                Some(ApiServerSource::Kubeconfig { path, context, url }) => {
                    let config = kubeconfigs.entry(path.resolved.clone()).or_insert_with(|| parse_kubeconfig(path, sources, diags));
                    config.as_ref().and_then(|(config, file)| resolve_context(config, *file, sources, path, context, diags)).map(|from_file| ApiEndpoint {
                        server: url.as_ref().map_or(from_file.server, |u| u.value.clone()),
                        server_span: url.as_ref().map_or(path.span, |u| u.span),
                        ca_pem: from_file.ca_pem,
                        ca_span: context.span,
                        tls_server_name: tls_server_name.or(from_file.tls_server_name),
                    })
                }
            };
        }
        if let Some(token) = &cluster.reader_token {
            found.token = match &token.source {
                None => None,
                Some(TokenSource::File(path)) => {
                    token_files.push(path);
                    read_token_file(path, diags)
                }
                Some(TokenSource::Env(var)) => read_token_env(var, diags),
            };
        }
        inputs.clusters.insert(cluster.name.value.clone(), found);
    }
    let existing: Vec<&FilePath> = token_files.into_iter().filter(|p| p.resolved.is_file()).collect();
    for path in git::tracked(&topology.dir, &existing) {
        diags.push(
            Diagnostic::new(codes::TOKEN_TRACKED_BY_GIT, format!("token file {} is tracked by git", path.written))
                .primary(path.span, "this token is in the repository")
                .help(format!(
                    "anyone who can read the repository can read this cluster: `git rm --cached {}`, add it to .gitignore, and rotate the token (the examples' tokens are public test material, so there this is expected)",
                    path.written
                )),
        );
    }
    inputs
}

fn read_ca_file(path: &FilePath, sources: &mut Sources, diags: &mut Diagnostics) -> Option<(String, Span)> {
    let text = match std::fs::read_to_string(&path.resolved) {
        Ok(text) => text,
        Err(err) => {
            diags.push(unreadable(path, &err, "the API server's CA certificate (PEM)"));
            return None;
        }
    };
    let file = sources.add(path.resolved.clone(), path.written.clone(), text);
    match certificate_blocks(sources.text(file)) {
        Ok(pem) => {
            let text = sources.text(file);
            let start = text.find("-----BEGIN CERTIFICATE-----").unwrap_or(0);
            let end = text[start..].find("-----END CERTIFICATE-----").map_or(text.len(), |e| start + e + "-----END CERTIFICATE-----".len());
            Some((pem, Span::new(file, start, end - start)))
        }
        Err(problem) => {
            let span = Span::new(file, problem.offset, problem.len);
            diags.push(
                Diagnostic::new(codes::INVALID_PEM, format!("{} holds no valid PEM certificate: {}", path.written, problem.reason))
                    .primary(span, problem.reason)
                    .secondary(path.span, "referenced here")
                    .help("ca-file must be the API server's CA certificate in PEM (`-----BEGIN CERTIFICATE-----`), such as the decoded `certificate-authority-data` of a kubeconfig"),
            );
            None
        }
    }
}

struct PemProblem {
    offset: usize,
    len: usize,
    reason: String,
}

/// The `CERTIFICATE` blocks of a PEM text, normalised (one block after another, each ending in a
/// newline). Anything else in the file, such as comments, is dropped.
fn certificate_blocks(text: &str) -> Result<String, PemProblem> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = String::new();
    let mut rest = 0;
    while let Some(found) = text[rest..].find(BEGIN) {
        let start = rest + found;
        let body_start = start + BEGIN.len();
        let Some(end) = text[body_start..].find(END).map(|e| body_start + e) else {
            return Err(PemProblem { offset: start, len: BEGIN.len(), reason: "certificate block is not closed".into() });
        };
        let body: String = text[body_start..end].chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD.decode(body.as_bytes());
        match der {
            Ok(der) if der.first() == Some(&0x30) && der.len() > 64 => {}
            _ => {
                return Err(PemProblem { offset: start, len: end + END.len() - start, reason: "certificate block is not valid base64 DER".into() });
            }
        }
        out.push_str(BEGIN);
        out.push('\n');
        for line in body.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap_or_default());
            out.push('\n');
        }
        out.push_str(END);
        out.push('\n');
        rest = end + END.len();
    }
    if out.is_empty() {
        return Err(PemProblem { offset: 0, len: text.len().min(80), reason: "no `-----BEGIN CERTIFICATE-----` block".into() });
    }
    Ok(out)
}

#[derive(Deserialize)]
struct Kubeconfig {
    #[serde(default)]
    clusters: Vec<NamedCluster>,
    #[serde(default)]
    contexts: Vec<NamedContext>,
}

#[derive(Deserialize)]
struct NamedCluster {
    name: String,
    cluster: KubeCluster,
}

#[derive(Deserialize)]
struct KubeCluster {
    server: Option<String>,
    #[serde(rename = "certificate-authority-data")]
    ca_data: Option<String>,
    #[serde(rename = "certificate-authority")]
    ca_file: Option<String>,
    #[serde(rename = "tls-server-name")]
    tls_server_name: Option<String>,
}

#[derive(Deserialize)]
struct NamedContext {
    name: String,
    context: KubeContext,
}

#[derive(Deserialize)]
struct KubeContext {
    cluster: String,
}

struct FromKubeconfig {
    server: String,
    ca_pem: String,
    tls_server_name: Option<String>,
}

/// Applies inputs given at run time (Terraform's query) over what the topology's files said: a
/// token replaces the cluster's `reader-token` source, and an address becomes its east-west
/// gateway's `address`. A cluster that cannot take one is an error.
pub fn apply_runtime(
    topology: &mut Topology,
    inputs: &mut Inputs,
    tokens: &BTreeMap<String, Secret>,
    addresses: &BTreeMap<String, String>,
    diags: &mut Diagnostics,
) {
    let names: Vec<String> = topology.clusters.iter().map(|c| c.name.value.clone()).collect();
    let unusable = |name: &str, what: &str, why: String| {
        let known: Vec<&str> = names.iter().map(String::as_str).collect();
        let help = match super::did_you_mean(name, &known) {
            Some(s) if s != name => format!("did you mean \"{s}\"?"),
            _ => why.clone(),
        };
        Diagnostic::new(codes::RUNTIME_INPUT_UNUSABLE, format!("{what} given for \"{name}\", {why}")).help(help)
    };
    for (name, token) in tokens {
        let Some(cluster) = topology.clusters.iter_mut().find(|c| &c.name.value == name) else {
            diags.push(unusable(name, "a reader token", "which is not a cluster of the topology".to_string()));
            continue;
        };
        // A token given at run time stands for the cluster's `reader-token`, written or not.
        let span = cluster.reader_token.as_ref().map_or(cluster.name.span, |t| t.span);
        cluster.reader_token = Some(crate::model::ReaderToken { span, source: None });
        inputs.clusters.entry(name.clone()).or_default().token = Some(Token::Available(token.clone()));
    }
    for (name, address) in addresses {
        let Some(cluster) = topology.clusters.iter_mut().find(|c| &c.name.value == name) else {
            diags.push(unusable(name, "an east-west gateway address", "which is not a cluster of the topology".to_string()));
            continue;
        };
        match cluster.eastwest_gateway.as_mut() {
            Some(gateway) => gateway.address = Some(Sp::new(address.clone(), gateway.span)),
            None => diags.push(unusable(name, "an east-west gateway address", "which has no `eastwest-gateway`".to_string())),
        }
    }
}

/// Reads a kubeconfig into `sources` with its `users` section masked (it holds credentials), so
/// that diagnostics can point into the file without ever showing a secret.
fn parse_kubeconfig(path: &FilePath, sources: &mut Sources, diags: &mut Diagnostics) -> Option<(Kubeconfig, FileId)> {
    let text = match std::fs::read_to_string(&path.resolved) {
        Ok(text) => text,
        Err(err) => {
            diags.push(unreadable(path, &err, "a kubeconfig"));
            return None;
        }
    };
    let parsed = serde_saphyr::from_str::<Kubeconfig>(&text);
    let file = sources.add(path.resolved.clone(), path.written.clone(), text);
    for range in credential_ranges(sources.text(file)) {
        sources.mark_secret(Span::new(file, range.start, range.len()));
    }
    match parsed {
        Ok(config) => Some((config, file)),
        Err(err) => {
            // The parser's own message may quote the file, which holds credentials: say where,
            // not what.
            let line = yaml_error_line(&err.to_string()).unwrap_or(1);
            diags.push(
                Diagnostic::new(codes::INVALID_KUBECONFIG, format!("{} is not a valid kubeconfig (line {line})", path.written))
                    .primary(line_span(sources, file, line), "the YAML breaks here")
                    .secondary(path.span, "referenced here")
                    .help("check the file with `kubectl --kubeconfig <file> config view`"),
            );
            None
        }
    }
}

/// The byte ranges of a kubeconfig's `users` section after its key: every credential lives there.
fn credential_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut offset = 0;
    let mut inside: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        // A top-level key starts at column 0; list items of a section may too (`- name: …`).
        let top_level_key = line.starts_with(|c: char| c.is_ascii_alphabetic());
        if top_level_key {
            if let Some(start) = inside.take() {
                ranges.push(start..offset);
            }
            if line.starts_with("users:") {
                inside = Some(offset + "users:".len());
            }
        }
        offset += line.len();
    }
    if let Some(start) = inside {
        ranges.push(start..text.len());
    }
    // Keep line breaks so that line numbers of the rest of the file stay right.
    ranges
        .into_iter()
        .flat_map(|r| {
            let mut pieces = Vec::new();
            let mut start = r.start;
            for (i, b) in text.as_bytes()[r.clone()].iter().enumerate() {
                if *b == b'\n' {
                    if r.start + i > start {
                        pieces.push(start..r.start + i);
                    }
                    start = r.start + i + 1;
                }
            }
            if r.end > start {
                pieces.push(start..r.end);
            }
            pieces
        })
        .collect()
}

/// The span of a whole 1-based line.
fn line_span(sources: &Sources, file: FileId, line: usize) -> Span {
    let text = sources.text(file);
    let start = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum::<usize>().min(text.len());
    let len = text[start..].find('\n').unwrap_or(text.len() - start);
    Span::new(file, start, len)
}

/// The span of the first occurrence of `needle` at or after `after`, or of the file's first line.
fn find_span(sources: &Sources, file: FileId, needle: &str, after: usize) -> Span {
    let text = sources.text(file);
    match text.get(after..).and_then(|rest| rest.find(needle)) {
        Some(at) => Span::new(file, after + at, needle.len()),
        None => line_span(sources, file, 1),
    }
}

fn resolve_context(config: &Kubeconfig, file: FileId, sources: &Sources, path: &FilePath, context: &Sp<String>, diags: &mut Diagnostics) -> Option<FromKubeconfig> {
    let contexts_at = find_span(sources, file, "contexts:", 0);
    let Some(ctx) = config.contexts.iter().find(|c| c.name == context.value) else {
        let names: Vec<&str> = config.contexts.iter().map(|c| c.name.as_str()).collect();
        let help = super::did_you_mean_or(&context.value, &names, || match names.is_empty() {
            true => "the kubeconfig has no contexts".to_string(),
            false => format!("its contexts are: {}", names.join(", ")),
        });
        diags.push(
            Diagnostic::new(codes::KUBECONFIG_CONTEXT_NOT_FOUND, format!("{} has no context \"{}\"", path.written, context.value))
                .primary(context.span, "no such context")
                .secondary(contexts_at, "the contexts this kubeconfig defines")
                .help(help),
        );
        return None;
    };
    let context_at = find_span(sources, file, &context.value, contexts_at.offset);
    let incomplete = |what: String| {
        Diagnostic::new(codes::KUBECONFIG_INCOMPLETE, format!("context \"{}\" of {} {what}", context.value, path.written))
            .primary(context.span, "this context")
            .secondary(context_at, "defined here")
            .help("give the context's cluster a `server` and its CA (`certificate-authority-data`), as `kubectl config view --raw` shows them")
    };
    let Some(cluster) = config.clusters.iter().find(|c| c.name == ctx.context.cluster) else {
        diags.push(incomplete(format!("names cluster \"{}\", which the file does not define", ctx.context.cluster)));
        return None;
    };
    let Some(server) = cluster.cluster.server.clone() else {
        diags.push(incomplete(format!("uses cluster \"{}\", which has no `server`", cluster.name)));
        return None;
    };
    let ca_pem = if let Some(data) = &cluster.cluster.ca_data {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(data.trim().as_bytes())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|pem| certificate_blocks(&pem).ok());
        match decoded {
            Some(pem) => pem,
            None => {
                diags.push(incomplete(format!("has `certificate-authority-data` in cluster \"{}\" that is not a base64 PEM certificate", cluster.name)));
                return None;
            }
        }
    } else if let Some(ca_file) = &cluster.cluster.ca_file {
        let kubeconfig_dir = path.resolved.parent().map(|p| p.to_path_buf()).unwrap_or_default();
        let ca_path = kubeconfig_dir.join(ca_file);
        match std::fs::read_to_string(&ca_path).ok().and_then(|pem| certificate_blocks(&pem).ok()) {
            Some(pem) => pem,
            None => {
                diags.push(incomplete(format!("has `certificate-authority: {ca_file}`, which is not a readable PEM certificate")));
                return None;
            }
        }
    } else {
        diags.push(
            incomplete(format!("uses cluster \"{}\", which has no CA (`certificate-authority-data`)", cluster.name))
                .help("remote secrets must verify the API server: add its CA to the kubeconfig, or use `api-server \"<url>\" ca-file=\"<CA PEM>\"`"),
        );
        return None;
    };
    Some(FromKubeconfig { server, ca_pem, tls_server_name: cluster.cluster.tls_server_name.clone() })
}

fn yaml_error_line(message: &str) -> Option<usize> {
    let at = message.find("line ")?;
    let digits: String = message[at + 5..].chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

fn read_token_file(path: &FilePath, diags: &mut Diagnostics) -> Option<Token> {
    let bytes = match std::fs::read(&path.resolved) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Some(Token::Pending),
        Err(err) => {
            diags.push(unreadable(path, &err, "a reader token"));
            return None;
        }
    };
    token_from(bytes, diags, path.span, &format!("token file {}", path.written))
}

fn read_token_env(var: &Sp<String>, diags: &mut Diagnostics) -> Option<Token> {
    match std::env::var_os(&var.value) {
        None => Some(Token::Pending),
        Some(value) => token_from(value.into_encoded_bytes(), diags, var.span, &format!("environment variable {}", var.value)),
    }
}

/// A token is one line of printable ASCII; surrounding whitespace (a trailing newline) is dropped.
fn token_from(bytes: Vec<u8>, diags: &mut Diagnostics, span: Span, what: &str) -> Option<Token> {
    let text = String::from_utf8(bytes).ok();
    let token = text.as_deref().map(str::trim);
    match token {
        Some("") => Some(Token::Pending),
        Some(token) if token.bytes().all(|b| b.is_ascii_graphic()) => Some(Token::Available(Secret::new(token.to_string()))),
        _ => {
            diags.push(
                Diagnostic::new(codes::INVALID_TOKEN, format!("{what} does not hold a bearer token"))
                    .primary(span, "expected one line with the token")
                    .help("a token is one line of printable characters; fetch it with `kubectl -n <namespace> get secret istio-reader-service-account-istio-remote-secret-token -o jsonpath='{.data.token}' | base64 -d`"),
            );
            None
        }
    }
}

fn unreadable(path: &FilePath, err: &std::io::Error, what: &str) -> Diagnostic {
    Diagnostic::new(codes::FILE_UNREADABLE, format!("cannot read {}: {}", path.written, io_reason(err)))
        .primary(path.span, format!("{what} is expected here"))
        .help(format!("paths are relative to the topology's folder; this one resolves to {}", path.resolved.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_credentials_are_found_line_by_line() {
        let text = "apiVersion: v1\nusers:\n- name: a\n  user:\n    token: abc\ncontexts:\n- name: c\n";
        let masked: String = {
            let mut bytes = text.as_bytes().to_vec();
            for range in credential_ranges(text) {
                bytes[range].fill(b'*');
            }
            String::from_utf8(bytes).unwrap()
        };
        assert_eq!(masked, "apiVersion: v1\nusers:\n*********\n*******\n**************\ncontexts:\n- name: c\n");
    }

    #[test]
    fn secret_debug_hides_the_value() {
        assert_eq!(format!("{:?}", Secret::new("abc".into())), "Secret(<redacted>)");
    }

    #[test]
    fn pem_blocks_are_normalised_and_garbage_rejected() {
        let der = base64::engine::general_purpose::STANDARD.encode([0x30u8; 100]);
        let text = format!("comment\n-----BEGIN CERTIFICATE-----\r\n{der}\r\n-----END CERTIFICATE-----\r\n");
        let pem = certificate_blocks(&text).ok().unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n") && pem.ends_with("-----END CERTIFICATE-----\n"));
        assert!(certificate_blocks("nothing here").is_err());
        assert!(certificate_blocks("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").is_err());
    }
}
