//! The topology's JSON/YAML form (`schemas/topology.schema.json`), for teams whose tooling
//! speaks YAML. It is read into typed, spanned structures and rebuilt as the KDL syntax tree
//! the KDL form parses to, with every node and entry carrying the span of its YAML text; the one
//! lowering in `lower.rs` then judges both forms alike, and every diagnostic points into the
//! YAML file.
//!
//! The shape (unknown keys, wrong types) is checked by the YAML deserializer, which stops at the
//! first mismatch; everything after the shape is reported in full, as for KDL.

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diagnostics::{codes, Diagnostic, FileId, Span};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    mesh: Spanned<Mesh>,
    ca: Option<Spanned<Ca>>,
    #[serde(default)]
    networks: Vec<Spanned<String>>,
    #[serde(default)]
    clusters: Vec<Spanned<Cluster>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Mesh {
    id: Spanned<String>,
    trust_domain: Option<Spanned<String>>,
    istio_version: Option<Spanned<String>>,
    revision: Option<Spanned<String>>,
    namespace: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ca {
    mode: Option<Spanned<String>>,
    root: Option<Spanned<Root>>,
    intermediate: Option<Spanned<Intermediate>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Root {
    cert: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
    algorithm: Option<Spanned<String>>,
    valid_days: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Intermediate {
    algorithm: Option<Spanned<String>>,
    valid_days: Option<Spanned<i64>>,
    dir: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Cluster {
    name: Spanned<String>,
    network: Option<Spanned<String>>,
    role: Option<Spanned<String>>,
    control_plane: Option<Spanned<String>>,
    api_server: Option<Spanned<ApiServer>>,
    reader_token: Option<Spanned<ReaderToken>>,
    eastwest_gateway: Option<Spanned<EastwestGateway>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ApiServer {
    url: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
    tls_server_name: Option<Spanned<String>>,
    kubeconfig: Option<Spanned<String>>,
    context: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReaderToken {
    file: Option<Spanned<String>>,
    env: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EastwestGateway {
    address: Option<Spanned<String>>,
}

/// Whether a topology file is in the JSON/YAML form, by its extension.
pub(super) fn is_yaml(path: &std::path::Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| ["yaml", "yml", "json"].contains(&e.to_ascii_lowercase().as_str()))
}

/// Reads the JSON/YAML form into the syntax tree of the KDL form, spans pointing into `text`.
pub(super) fn to_kdl(text: &str, file: FileId) -> Result<KdlDocument, Diagnostic> {
    // Without snippets: the message must not quote the file, which may hold an inline token.
    let options = serde_saphyr::options! { with_snippet: false };
    let doc: Doc = serde_saphyr::from_str_with_options(text, options).map_err(|err| {
        let span = err.location().map_or(Span::new(file, 0, 0), |l| span_of(file, &l));
        let message = err.to_string();
        let message = message.lines().next().unwrap_or("invalid YAML").to_string();
        Diagnostic::new(codes::SYNTAX, format!("the topology does not match its JSON/YAML form: {message}"))
            .primary(span, "here")
            .help("the JSON/YAML form is described by `meshgen schema` (schemas/topology.schema.json); editors that read JSON Schema check it as you type")
    })?;
    let mut document = KdlDocument::new();
    let nodes = document.nodes_mut();

    let mut mesh = node("mesh", doc.mesh.referenced, file);
    mesh.entries_mut().push(arg(&doc.mesh.value.id, file));
    let m = &doc.mesh.value;
    for (name, value) in [("trust-domain", &m.trust_domain), ("istio-version", &m.istio_version), ("revision", &m.revision), ("namespace", &m.namespace)] {
        if let Some(value) = value {
            child(&mut mesh, with_arg(name, value, file));
        }
    }
    nodes.push(mesh);

    if let Some(ca) = &doc.ca {
        let mut node_ca = node("ca", ca.referenced, file);
        prop(&mut node_ca, "mode", &ca.value.mode, file);
        if let Some(root) = &ca.value.root {
            let mut n = node("root", root.referenced, file);
            prop(&mut n, "cert", &root.value.cert, file);
            prop(&mut n, "key", &root.value.key, file);
            prop(&mut n, "algorithm", &root.value.algorithm, file);
            int_prop(&mut n, "valid-days", &root.value.valid_days, file);
            child(&mut node_ca, n);
        }
        if let Some(intermediate) = &ca.value.intermediate {
            let mut n = node("intermediate", intermediate.referenced, file);
            prop(&mut n, "algorithm", &intermediate.value.algorithm, file);
            int_prop(&mut n, "valid-days", &intermediate.value.valid_days, file);
            prop(&mut n, "dir", &intermediate.value.dir, file);
            child(&mut node_ca, n);
        }
        // `ca:` written without content still means a `ca` node with a block.
        node_ca.ensure_children();
        nodes.push(node_ca);
    }

    for network in &doc.networks {
        nodes.push(with_arg("network", network, file));
    }

    for cluster in &doc.clusters {
        let c = &cluster.value;
        let mut n = node("cluster", cluster.referenced, file);
        n.entries_mut().push(arg(&c.name, file));
        n.ensure_children();
        if let Some(network) = &c.network {
            child(&mut n, with_arg("network", network, file));
        }
        // A control plane without a role: the role node is what is missing, and is reported so.
        if let Some(role) = &c.role {
            let mut r = with_arg("role", role, file);
            prop(&mut r, "control-plane", &c.control_plane, file);
            child(&mut n, r);
        }
        if let Some(api) = &c.api_server {
            let mut a = node("api-server", api.referenced, file);
            if let Some(url) = &api.value.url {
                a.entries_mut().push(arg(url, file));
            }
            prop(&mut a, "ca-file", &api.value.ca_file, file);
            prop(&mut a, "tls-server-name", &api.value.tls_server_name, file);
            prop(&mut a, "kubeconfig", &api.value.kubeconfig, file);
            prop(&mut a, "context", &api.value.context, file);
            child(&mut n, a);
        }
        if let Some(token) = &c.reader_token {
            let mut t = node("reader-token", token.referenced, file);
            prop(&mut t, "file", &token.value.file, file);
            prop(&mut t, "env", &token.value.env, file);
            child(&mut n, t);
        }
        if let Some(gateway) = &c.eastwest_gateway {
            let mut g = node("eastwest-gateway", gateway.referenced, file);
            prop(&mut g, "address", &gateway.value.address, file);
            child(&mut n, g);
        }
        nodes.push(n);
    }
    Ok(document)
}

fn span_of(file: FileId, location: &serde_saphyr::Location) -> Span {
    let span = location.span();
    let offset = span.byte_offset().unwrap_or(0) as usize;
    let len = span.byte_len().unwrap_or(0) as usize;
    Span::new(file, offset, len)
}

fn source_span(file: FileId, location: serde_saphyr::Location) -> miette::SourceSpan {
    let span = span_of(file, &location);
    miette::SourceSpan::new(span.offset.into(), span.len)
}

fn node(name: &str, location: serde_saphyr::Location, file: FileId) -> KdlNode {
    let mut node = KdlNode::new(name);
    let span = source_span(file, location);
    node.set_span(span);
    node.name_mut().set_span(span);
    node
}

fn with_arg(name: &str, value: &Spanned<String>, file: FileId) -> KdlNode {
    let mut n = node(name, value.referenced, file);
    n.entries_mut().push(arg(value, file));
    n
}

fn arg(value: &Spanned<String>, file: FileId) -> KdlEntry {
    let mut entry = KdlEntry::new(KdlValue::String(value.value.clone()));
    entry.set_span(source_span(file, value.referenced));
    entry
}

fn prop(node: &mut KdlNode, key: &str, value: &Option<Spanned<String>>, file: FileId) {
    if let Some(value) = value {
        push_prop(node, key, KdlValue::String(value.value.clone()), value.referenced, file);
    }
}

fn int_prop(node: &mut KdlNode, key: &str, value: &Option<Spanned<i64>>, file: FileId) {
    if let Some(value) = value {
        push_prop(node, key, KdlValue::Integer(i128::from(value.value)), value.referenced, file);
    }
}

fn push_prop(node: &mut KdlNode, key: &str, value: KdlValue, location: serde_saphyr::Location, file: FileId) {
    let span = source_span(file, location);
    let mut name = kdl::KdlIdentifier::from(key);
    name.set_span(span);
    let mut entry = KdlEntry::new_prop(name, value);
    entry.set_span(span);
    node.entries_mut().push(entry);
}

fn child(parent: &mut KdlNode, node: KdlNode) {
    parent.ensure_children().nodes_mut().push(node);
}
