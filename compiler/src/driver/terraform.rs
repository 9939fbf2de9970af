//! `meshgen terraform`: Terraform's `external` data source protocol. The query arrives on stdin
//! as a JSON object of strings; the result leaves on stdout as a JSON object of strings; an
//! error is one line on stderr and exit 1. Nothing is written unless the query names `out`, and
//! intermediates are never issued here (a data source re-runs on every refresh: it must not mint
//! keys).
//!
//! Query keys: `topology` (required), `cluster` (only this cluster), `out` (also write the
//! tree there), `tokens` and `addresses` (JSON-encoded objects mapping cluster IDs to reader
//! tokens and east-west gateway addresses: the inputs a first apply creates and a second reads).
//! Missing runtime inputs never fail: what needs them is left out and listed in `warnings`.
//!
//! Result keys: `index` (index.json), `objects` (a JSON object mapping
//! `<cluster>/<Kind>/<namespace>/<name>` to that object's YAML, the stable `for_each` key),
//! `stream/<cluster>` (the cluster's manifests as one YAML stream), `warnings` (a JSON list), and
//! with `out`, `written` (a JSON list of the paths written).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use super::{compile, BuildMode, BuildOptions, Compiled, RuntimeInputs};
use crate::diagnostics::{Diagnostics, Sources};
use crate::syntax::inputs::Secret;

const KEYS: &[&str] = &["topology", "cluster", "out", "tokens", "addresses"];

/// Runs one query. `Ok` is the JSON result; `Err` the one-line message for stderr.
pub fn run(query: &str, now: time::OffsetDateTime) -> Result<String, String> {
    let query: Value = serde_json::from_str(query).map_err(|e| format!("the query is not JSON: {e}"))?;
    let Value::Object(query) = query else {
        return Err("the query must be a JSON object of strings".to_string());
    };
    let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
    for (key, value) in &query {
        let Some(text) = value.as_str() else {
            return Err(format!("query value `{key}` must be a string (Terraform's external data source passes only strings)"));
        };
        if !KEYS.contains(&key.as_str()) {
            let hint = crate::syntax::did_you_mean(key, KEYS).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
            return Err(format!("unknown query key `{key}`{hint} (known: {})", KEYS.join(", ")));
        }
        fields.insert(key, text);
    }
    let topology = fields.get("topology").ok_or("the query needs `topology`, the path of the topology file")?;
    let runtime = RuntimeInputs {
        tokens: string_map(&fields, "tokens")?.into_iter().map(|(k, v)| (k, Secret::new(v))).collect(),
        addresses: string_map(&fields, "addresses")?,
    };
    let out = fields.get("out").map(PathBuf::from);
    let options = BuildOptions {
        topology: PathBuf::from(topology),
        out: out.clone().unwrap_or_else(|| PathBuf::from("out")),
        // Check mode compiles read-only; the tree is written below only when asked.
        mode: BuildMode::Check,
        allow_pending: true,
        deny_warnings: false,
        templates: None,
        now,
        runtime,
    };
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let compiled = compile(&options, &mut sources, &mut diags);
    let diagnostics = diags.into_sorted();
    let rendered = match compiled {
        Compiled::Done(rendered) => rendered,
        Compiled::Unreadable | Compiled::Stopped => return Err(one_line(&diagnostics, &sources)),
    };
    let only = fields.get("cluster").copied();
    if let Some(name) = only
        && !rendered.clusters.iter().any(|c| c.name == name) {
            let names: Vec<&str> = rendered.clusters.iter().map(|c| c.name.as_str()).collect();
            let d = super::unknown_cluster(name, &names);
            return Err(format!("{} {}; {}", d.code.id, d.message, d.help.unwrap_or_default()));
        }
    let mut result: BTreeMap<String, String> = BTreeMap::new();
    let mut objects: BTreeMap<String, String> = BTreeMap::new();
    for cluster in rendered.clusters.iter().filter(|c| only.is_none_or(|o| o == c.name)) {
        for file in cluster.files.iter().filter(|f| f.manifest) {
            for (id, document) in file.content.objects.iter().zip(file.content.document_texts()) {
                objects.insert(format!("{}/{}", cluster.name, id.key()), format!("{document}\n"));
            }
        }
        result.insert(format!("stream/{}", cluster.name), crate::emit::stream(&rendered, &cluster.name).unwrap_or_default());
    }
    result.insert("objects".into(), serde_json::to_string(&objects).unwrap_or_default());
    result.insert("index".into(), String::from_utf8_lossy(&rendered.index.bytes).into_owned());
    let warnings: Vec<String> = diagnostics.iter().map(|d| format!("{}: {}", d.code.id, d.message)).collect();
    result.insert("warnings".into(), serde_json::to_string(&warnings).unwrap_or_default());
    if let Some(out) = &out {
        crate::emit::write_tree(out, &rendered).map_err(|d| format!("{} {}", d.code.id, d.message))?;
        let written: Vec<String> = rendered.files().into_iter().map(|(path, _)| out.join(path).display().to_string()).collect();
        result.insert("written".into(), serde_json::to_string(&written).unwrap_or_default());
    }
    serde_json::to_string(&result).map_err(|e| e.to_string())
}

/// A query field holding a JSON-encoded object of strings.
fn string_map(fields: &BTreeMap<&str, &str>, key: &str) -> Result<BTreeMap<String, String>, String> {
    let Some(text) = fields.get(key) else { return Ok(BTreeMap::new()) };
    serde_json::from_str(text).map_err(|_| format!("query value `{key}` must be a JSON-encoded object of strings, such as jsonencode({{ \"west-1\" = \"…\" }})"))
}

/// The first error as `file:line:column: CODE message`, and how many more there are.
fn one_line(diagnostics: &[crate::diagnostics::Diagnostic], sources: &Sources) -> String {
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
    let Some(first) = errors.first() else { return "the topology could not be compiled".to_string() };
    let at = first.primary_span().map(|span| {
        let file = sources.get(span.file);
        let (line, column) = file.line_col(span.offset);
        format!("{}:{line}:{column}: ", file.name)
    });
    let more = match errors.len() {
        1 => String::new(),
        n => format!(" (and {} more error{}; run `meshgen check` to see all)", n - 1, if n == 2 { "" } else { "s" }),
    };
    format!("{}{} {}{more}", at.unwrap_or_default(), first.code.id, first.message)
}
