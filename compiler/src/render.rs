//! render: turns plan objects into file contents. Each object family has a minijinja template
//! under `templates/` (embedded in the binary; a folder of overrides may replace any of them).
//! Every rendered document is parsed back and written out canonically — keys in one fixed
//! order, safe quoting — so template whitespace can never produce invalid or unstable YAML.
//!
//! Pure: the override templates arrive as text. Content shared between clusters is rendered
//! once and its bytes and digest are shared, never recomputed.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::diagnostics::{codes, Diagnostic, Diagnostics};
use crate::plan::{Body, Object, Plan, SYNC_WAVE};

/// The templates built into the binary, by name (file name without `.yaml.j2`).
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.values", include_str!("../../templates/base.values.yaml.j2")),
    ("cacerts", include_str!("../../templates/cacerts.yaml.j2")),
    ("cross-network-gateway", include_str!("../../templates/cross-network-gateway.yaml.j2")),
    ("eastwest-gateway.istioctl", include_str!("../../templates/eastwest-gateway.istioctl.yaml.j2")),
    ("eastwest-gateway.values", include_str!("../../templates/eastwest-gateway.values.yaml.j2")),
    ("expose-istiod", include_str!("../../templates/expose-istiod.yaml.j2")),
    ("istioctl", include_str!("../../templates/istioctl.yaml.j2")),
    ("istiod-remote", include_str!("../../templates/istiod-remote.yaml.j2")),
    ("istiod.values", include_str!("../../templates/istiod.values.yaml.j2")),
    ("kubeconfig", include_str!("../../templates/kubeconfig.yaml.j2")),
    ("kustomization", include_str!("../../templates/kustomization.yaml.j2")),
    ("namespace", include_str!("../../templates/namespace.yaml.j2")),
    ("reader-token", include_str!("../../templates/reader-token.yaml.j2")),
    ("remote-secret", include_str!("../../templates/remote-secret.yaml.j2")),
];

/// One Kubernetes (or istioctl) object in a rendered file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjectId {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectId {
    /// `Kind/namespace/name`, or `Kind/name` for a cluster-scoped object: unique in a cluster.
    pub fn key(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", self.kind, ns, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// A file's content, its digest and what it holds. Cheap to clone: shared files share all three.
#[derive(Clone, Debug)]
pub struct Content {
    pub bytes: Arc<[u8]>,
    pub sha256: Arc<str>,
    pub objects: Arc<[ObjectId]>,
    /// Where the documents start in `bytes`, after the header comment.
    pub body_start: usize,
}

impl Content {
    /// The YAML documents, without the header comment.
    pub fn documents(&self) -> &str {
        std::str::from_utf8(&self.bytes[self.body_start..]).unwrap_or_default()
    }

    /// Each document's text on its own, without separators or trailing newline, in the order of
    /// `objects`.
    pub fn document_texts(&self) -> impl Iterator<Item = &str> {
        self.documents().split("\n---\n").map(|d| d.trim_end_matches('\n')).filter(|d| !d.is_empty())
    }
}

#[derive(Clone, Debug)]
pub struct RenderedFile {
    /// Relative to the cluster folder.
    pub path: String,
    pub content: Content,
    /// A Kubernetes manifest listed in the kustomization (see [`crate::plan::PlannedFile::is_manifest`]).
    pub manifest: bool,
}

#[derive(Debug)]
pub struct RenderedCluster {
    pub name: String,
    pub role: &'static str,
    pub network: String,
    pub files: Vec<RenderedFile>,
}

/// The whole output: every cluster's files, and `index.json`.
#[derive(Debug)]
pub struct Rendered {
    pub clusters: Vec<RenderedCluster>,
    pub index: Content,
}

impl Rendered {
    /// Every file with its path relative to the output folder, sorted by path.
    pub fn files(&self) -> Vec<(String, &Content)> {
        let mut files: Vec<(String, &Content)> = self
            .clusters
            .iter()
            .flat_map(|c| c.files.iter().map(move |f| (format!("{}/{}", c.name, f.path), &f.content)))
            .collect();
        files.push(("index.json".to_string(), &self.index));
        files.sort_by(|a, b| a.0.cmp(&b.0));
        files
    }
}

/// The template environment: built-in templates, with overrides taking precedence.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// `overrides` maps template names (`remote-secret`) to replacement text.
    pub fn new(overrides: BTreeMap<String, String>) -> Templates {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Templates interpolate through the `yaml` filter, which quotes; minijinja's own
        // auto-escaping would JSON-escape `.yaml` templates a second time.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.add_filter("yaml", yaml_filter);
        env.add_filter("b64", b64_filter);
        env.set_loader(move |name| {
            if let Some(text) = overrides.get(name) {
                return Ok(Some(text.clone()));
            }
            Ok(TEMPLATES.iter().find(|(n, _)| *n == name).map(|(_, text)| text.to_string()))
        });
        Templates { env }
    }

    fn render_raw(&self, name: &str, context: &impl Serialize) -> Result<String, String> {
        let template = self.env.get_template(name).map_err(|e| describe(&e))?;
        template.render(minijinja::Value::from(minijinja::value::Serde(context))).map_err(|e| describe(&e))
    }
}

fn describe(err: &minijinja::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        text.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    text
}

/// Any value as a YAML scalar or flow collection: JSON is YAML, and JSON strings are always
/// quoted, so nothing a topology says can change type on the way.
fn yaml_filter(value: minijinja::Value) -> Result<String, minijinja::Error> {
    serde_json::to_string(&value).map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string()))
}

fn b64_filter(value: String) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(value.as_bytes())
}

pub fn render(plan: &Plan, templates: &Templates, diags: &mut Diagnostics) -> Option<Rendered> {
    let header = format!("# This file is generated by meshgen from {}; do not edit.\n", plan.topology_file);
    let mut failed = false;
    let mut render_object = |object: &Object, path: &str| -> Option<Content> {
        match render_object(templates, object, path, &header) {
            Ok(content) => Some(content),
            Err(problem) => {
                failed = true;
                diags.push(match problem.strip_prefix(PRIVATE_KEY_MARK) {
                    Some(place) => Diagnostic::new(codes::PRIVATE_KEY_IN_OUTPUT, format!("{path} would hold a private key: {place}"))
                        .help("the only private key meshgen writes is a primary's own intermediate key, in its cacerts; remove the key from the template override"),
                    None => Diagnostic::new(codes::TEMPLATE_FAILED, format!("template {} failed for {path}: {problem}", object.template(path)))
                        .help("if you override templates with --templates, check that one; otherwise this is a bug in meshgen"),
                });
                None
            }
        }
    };
    let shared: Vec<Option<Content>> = plan
        .shared
        .iter()
        .map(|object| match object {
            Object::RemoteSecret(secret) => render_object(object, &format!("remote-secret-{}.yaml", secret.cluster)),
            other => render_object(other, "shared.yaml"),
        })
        .collect();
    let mut clusters = Vec::with_capacity(plan.clusters.len());
    for cluster in &plan.clusters {
        let mut files = Vec::with_capacity(cluster.files.len());
        for file in &cluster.files {
            let content = match &file.body {
                Body::Own(object) => render_object(object, &file.path),
                Body::Shared(index) => shared.get(*index).cloned().flatten(),
            };
            if let Some(content) = content {
                files.push(RenderedFile { path: file.path.clone(), content, manifest: file.is_manifest() });
            }
        }
        clusters.push(RenderedCluster { name: cluster.name.clone(), role: cluster.role, network: cluster.network.clone(), files });
    }
    if failed {
        return None;
    }
    let index = index(plan, &clusters);
    Some(Rendered { clusters, index })
}

fn render_object(templates: &Templates, object: &Object, path: &str, header: &str) -> Result<Content, String> {
    let text = match object {
        Object::RemoteSecret(secret) => {
            // The kubeconfig is a document of its own, carried as a string in the Secret.
            let kubeconfig = canonical_documents_annotated(&templates.render_raw("kubeconfig", secret)?, Style::ClientGo, None)?;
            let mut context = serde_json::to_value(secret).map_err(|e| e.to_string())?;
            context["kubeconfig"] = Value::String(kubeconfig.0);
            templates.render_raw("remote-secret", &context)?
        }
        other => templates.render_raw(other.template(path), other)?,
    };
    let annotation = object.sync_wave().map(|wave| (SYNC_WAVE, wave.to_string()));
    let (yaml, objects) = canonical_documents_annotated(&text, Style::Manifest, annotation)?;
    let mut bytes = String::with_capacity(header.len() + yaml.len());
    bytes.push_str(header);
    bytes.push_str(&yaml);
    Ok(content_of(bytes.into_bytes(), objects, header.len()))
}

/// Prefixes a render error that is a private key in the wrong place rather than a template fault.
const PRIVATE_KEY_MARK: &str = "private key: ";

/// Where a document holds a private key, unless it is the one place one belongs: `ca-key.pem` of
/// a `cacerts` Secret. Secret `data` is base64, so it is decoded to look inside.
fn misplaced_private_key(document: &Value) -> Option<String> {
    use base64::Engine as _;
    fn walk(value: &Value, path: &mut Vec<String>, allowed: &dyn Fn(&[String]) -> bool, secret_data: bool) -> Option<String> {
        match value {
            Value::String(text) => {
                let decoded = if secret_data { base64::engine::general_purpose::STANDARD.decode(text.as_bytes()).ok() } else { None };
                let holds_key = text.contains("PRIVATE KEY-----") || decoded.is_some_and(|bytes| String::from_utf8_lossy(&bytes).contains("PRIVATE KEY-----"));
                (holds_key && !allowed(path)).then(|| path.join("."))
            }
            Value::Object(map) => map.iter().find_map(|(key, value)| {
                path.push(key.clone());
                let found = walk(value, path, allowed, secret_data || (path.len() == 1 && key == "data"));
                path.pop();
                found
            }),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, value)| {
                path.push(i.to_string());
                let found = walk(value, path, allowed, secret_data);
                path.pop();
                found
            }),
            _ => None,
        }
    }
    let is_secret = document.get("kind").and_then(Value::as_str) == Some("Secret");
    let is_cacerts = is_secret && document.pointer("/metadata/name").and_then(Value::as_str) == Some("cacerts");
    let allowed = move |path: &[String]| is_cacerts && path == ["data", "ca-key.pem"];
    walk(document, &mut Vec::new(), &allowed, false).map(|path| {
        let name = document.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("?");
        let kind = document.get("kind").and_then(Value::as_str).unwrap_or("document");
        format!("{kind} {name} holds a private key at {path}")
    })
}

fn content_of(bytes: Vec<u8>, objects: Vec<ObjectId>, body_start: usize) -> Content {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
    let sha256: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    Content { bytes: bytes.into(), sha256: sha256.into(), objects: objects.into(), body_start }
}

/// Parses YAML text (any number of documents) and writes it back canonically, with the objects
/// it holds.
pub fn canonical_documents(text: &str) -> Result<(String, Vec<ObjectId>), String> {
    canonical_documents_annotated(text, Style::Manifest, None)
}

/// How a document is laid out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// Manifests: `apiVersion`, `kind`, `metadata` first; lists indented under their key.
    Manifest,
    /// A kubeconfig as client-go writes it (and so `istioctl create-remote-secret`): every key
    /// sorted, list items level with their key.
    ClientGo,
}

/// As [`canonical_documents`], adding an annotation to the metadata of every object: how plan's
/// per-object decisions that are the same for every family (the sync wave) reach the documents
/// without each template spelling them.
fn canonical_documents_annotated(text: &str, style: Style, annotation: Option<(&str, String)>) -> Result<(String, Vec<ObjectId>), String> {
    let mut documents: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| format!("rendered YAML does not parse: {e}"))?;
    if let Some((key, value)) = annotation {
        for document in &mut documents {
            if let Some(metadata) = document.get_mut("metadata").and_then(Value::as_object_mut) {
                let annotations = metadata.entry("annotations").or_insert_with(|| Value::Object(Default::default()));
                if let Some(annotations) = annotations.as_object_mut() {
                    annotations.insert(key.to_string(), Value::String(value.clone()));
                }
            }
        }
    }
    let mut out = String::new();
    let mut objects = Vec::new();
    let options = serde_saphyr::ser_options! { folded_wrap_chars: usize::MAX, compact_list_indent: style == Style::ClientGo };
    for document in documents.iter().filter(|d| !d.is_null()) {
        // The last guard before anything is written: checked here, on the documents already
        // parsed, so the output is never read again for it.
        if let Some(place) = misplaced_private_key(document) {
            return Err(format!("{PRIVATE_KEY_MARK}{place}"));
        }
        if !out.is_empty() {
            out.push_str("---\n");
        }
        let yaml = serde_saphyr::to_string_with_options(&Canonical { value: document, top: style == Style::Manifest }, options.clone()).map_err(|e| e.to_string())?;
        out.push_str(&yaml);
        if !yaml.ends_with('\n') {
            out.push('\n');
        }
        if let Some(id) = object_id(document) {
            objects.push(id);
        }
    }
    Ok((out, objects))
}

fn object_id(document: &Value) -> Option<ObjectId> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let metadata = document.get("metadata");
    Some(ObjectId {
        api_version: text(document.get("apiVersion"))?,
        kind: text(document.get("kind"))?,
        namespace: text(metadata.and_then(|m| m.get("namespace"))),
        name: text(metadata.and_then(|m| m.get("name")))?,
    })
}

/// A document in canonical order: at the top, `apiVersion`, `kind` and `metadata` first (as
/// kubectl prints them), then every other key sorted; below the top, every map sorted.
struct Canonical<'a> {
    value: &'a Value,
    top: bool,
}

const FIRST_KEYS: [&str; 3] = ["apiVersion", "kind", "metadata"];

impl Serialize for Canonical<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                let rank = |k: &str| if self.top { FIRST_KEYS.iter().position(|f| *f == k).unwrap_or(FIRST_KEYS.len()) } else { 0 };
                keys.sort_by(|a, b| (rank(a), a.as_str()).cmp(&(rank(b), b.as_str())));
                let mut out = serializer.serialize_map(Some(keys.len()))?;
                for key in keys {
                    out.serialize_entry(key, &Canonical { value: &map[key], top: false })?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&Canonical { value: item, top: false })?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

#[derive(Serialize)]
struct Index<'a> {
    version: u32,
    topology: &'a str,
    mesh: &'a str,
    clusters: Vec<IndexCluster<'a>>,
}

#[derive(Serialize)]
struct IndexCluster<'a> {
    name: &'a str,
    role: &'a str,
    network: &'a str,
    files: Vec<IndexFile<'a>>,
}

#[derive(Serialize)]
struct IndexFile<'a> {
    path: String,
    sha256: &'a str,
    objects: Vec<IndexObject<'a>>,
}

#[derive(Serialize)]
struct IndexObject<'a> {
    /// `Kind/namespace/name`: a stable key, such as Terraform's `for_each` wants.
    key: String,
    #[serde(flatten)]
    id: &'a ObjectId,
}

/// `index.json`: every cluster, file and object, with each file's sha256.
fn index(plan: &Plan, clusters: &[RenderedCluster]) -> Content {
    let index = Index {
        version: 1,
        topology: &plan.topology_file,
        mesh: &plan.mesh_id,
        clusters: clusters
            .iter()
            .map(|c| IndexCluster {
                name: &c.name,
                role: c.role,
                network: &c.network,
                files: c
                    .files
                    .iter()
                    .map(|f| IndexFile {
                        path: format!("{}/{}", c.name, f.path),
                        sha256: &f.content.sha256,
                        objects: f.content.objects.iter().map(|id| IndexObject { key: id.key(), id }).collect(),
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut bytes = serde_json::to_vec_pretty(&index).unwrap_or_default();
    bytes.push(b'\n');
    content_of(bytes, Vec::new(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_order_and_quoting() {
        let text = "kind: ConfigMap\nmetadata: {name: x, labels: {b: \"on\", a: \"1.0\"}}\napiVersion: v1\ndata: {z: \"no\", key: \"multi\\nline\\n\"}\n";
        let (yaml, objects) = canonical_documents(text).unwrap();
        let keys: Vec<&str> = yaml.lines().filter(|l| !l.starts_with(' ')).collect();
        assert_eq!(keys, ["apiVersion: v1", "kind: ConfigMap", "metadata:", "data:"]);
        assert!(yaml.contains("b: \"on\"") || yaml.contains("b: 'on'"), "{yaml}");
        assert!(yaml.contains("z: \"no\"") || yaml.contains("z: 'no'"), "{yaml}");
        assert!(yaml.contains("a: \"1.0\"") || yaml.contains("a: '1.0'"), "{yaml}");
        assert!(yaml.contains("key: |"), "{yaml}");
        assert!(yaml.find("  labels:").unwrap() < yaml.find("  name: x").unwrap(), "nested keys are sorted: {yaml}");
        assert_eq!(objects, vec![ObjectId { api_version: "v1".into(), kind: "ConfigMap".into(), namespace: None, name: "x".into() }]);
    }

    #[test]
    fn documents_are_separated_and_empty_ones_dropped() {
        let (yaml, objects) = canonical_documents("a: 1\n---\n---\nb: [x, \"y\"]\n").unwrap();
        assert_eq!(yaml, "a: 1\n---\nb:\n  - x\n  - \"y\"\n");
        assert!(objects.is_empty());
    }

    #[test]
    fn template_text_is_read_as_kubernetes_reads_it() {
        // Kubernetes decodes YAML 1.1, where a bare `on` is a boolean: a template that forgot to
        // quote one says `true`, and the canonical output says so plainly.
        let (yaml, _) = canonical_documents("enabled: on\n").unwrap();
        assert_eq!(yaml, "enabled: true\n");
    }

    #[test]
    fn broken_yaml_is_an_error() {
        assert!(canonical_documents("a: [1\n").is_err());
    }

    #[test]
    fn long_base64_stays_on_one_line() {
        let long = "QUJD".repeat(100);
        let (yaml, _) = canonical_documents(&format!("data: {{k: {long}}}\n")).unwrap();
        assert_eq!(yaml, format!("data:\n  k: {long}\n"));
    }
}
