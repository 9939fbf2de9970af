//! syntax: the front end. Reads the topology file, parses it as KDL 2.0 and lowers it to the
//! typed [`model`](crate::model), reporting unknown names (with "did you mean"), wrong types and
//! missing arguments against the exact text. [`inputs`] then reads the files the topology
//! references (API-server CAs, kubeconfigs, reader tokens).
//!
//! This stage reads files and nothing else: it writes nothing and judges no semantic rule
//! (duplicates, references between clusters and the like belong to `check`).

pub mod fmt;
mod git;
pub mod grammar;
pub mod inputs;
mod lower;
mod yaml;

pub use lower::did_you_mean;

use std::path::{Path, PathBuf};

use crate::diagnostics::{codes, Diagnostic, Diagnostics, FileId, Sources, Span};
use crate::model::Topology;

/// Reads and lowers a topology file. `None` when the file cannot be read or does not parse
/// (the reasons are in `diags`).
pub fn load(path: &Path, sources: &mut Sources, diags: &mut Diagnostics) -> Option<Topology> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            diags.push(unreadable(path, &err));
            return None;
        }
    };
    let name = path.display().to_string();
    let file_name = path.file_name().map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned());
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file = sources.add(path.to_path_buf(), name, text);
    parse(file, file_name, dir, sources, diags)
}

/// The topology file given on the command line cannot be read (MG0014).
fn unreadable(path: &Path, err: &std::io::Error) -> Diagnostic {
    Diagnostic::new(codes::TOPOLOGY_UNREADABLE, format!("cannot read {}: {}", path.display(), io_reason(err)))
        .help("pass the path of a topology file, such as examples/primary-remote/topology.kdl")
}

/// Parses and lowers topology text already in `sources`.
pub fn parse(file: FileId, file_name: String, dir: PathBuf, sources: &mut Sources, diags: &mut Diagnostics) -> Option<Topology> {
    // Tokens written inline are found in the raw text, before parsing, so that they are hidden
    // from every snippet even when the file does not parse.
    let secrets = inline_tokens(sources.text(file));
    for &(offset, len) in &secrets {
        let span = Span::new(file, offset, len);
        sources.mark_secret(span);
        diags.push(
            Diagnostic::new(codes::INLINE_TOKEN, "a bearer token is written inline in the topology")
                .primary(span, "this looks like a service-account token")
                .help("keep tokens out of the topology: use `reader-token file=\"tokens/<cluster>.token\"` or `reader-token env=\"VAR\"`, and rotate this token, since it has been committed to a file"),
        );
    }
    let is_yaml = yaml::is_yaml(&sources.get(file).path);
    let parsed = if is_yaml {
        yaml::to_kdl(sources.text(file), file).map_err(|problem| {
            diags.push(problem);
        })
    } else {
        kdl::KdlDocument::parse(sources.text(file)).map_err(|err| syntax_errors(err, file, diags))
    };
    let document = match parsed {
        Ok(document) => document,
        Err(()) => {
            return None;
        }
    };
    let (topology, inline) = lower::lower(&document, file, file_name, dir, &secrets, diags);
    for span in inline {
        sources.mark_secret(span);
    }
    topology
}

/// KDL's parse errors as MG0001 diagnostics, labelled in `file`.
fn syntax_errors(err: kdl::KdlError, file: FileId, diags: &mut Diagnostics) {
    for d in err.diagnostics {
        let span = Span::new(file, d.span.offset(), d.span.len());
        let message = d.message.unwrap_or_else(|| "invalid KDL".to_string());
        let diagnostic = Diagnostic::new(codes::SYNTAX, message).primary(span, d.label.unwrap_or_default()).help(d.help.unwrap_or_else(|| {
            "a topology is KDL 2.0: `node \"argument\" key=\"value\" { child … }`, strings in double quotes, one node per line".to_string()
        }));
        diags.push(diagnostic);
    }
}

/// Byte ranges of JWT-shaped strings (`eyJ…` with three dot-separated parts), which is what
/// every Kubernetes service-account token looks like.
fn inline_tokens(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let is_token_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(pos) = text[i..].find("eyJ") {
        let start = i + pos;
        let mut end = start;
        while end < bytes.len() && is_token_byte(bytes[end]) {
            end += 1;
        }
        let candidate = &text[start..end];
        let parts: Vec<&str> = candidate.split('.').collect();
        let starts_a_word = start == 0 || !is_token_byte(bytes[start - 1]);
        if starts_a_word && parts.len() == 3 && parts[0].len() >= 10 && parts[1].len() >= 10 {
            found.push((start, end - start));
        }
        i = end.max(start + 3);
    }
    found
}

/// An I/O error as a short reason, without the "(os error N)" noise.
pub fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::InvalidData => "not UTF-8 text".to_string(),
        _ => {
            let text = err.to_string();
            match text.find(" (os error") {
                Some(cut) => text[..cut].to_string(),
                None => text,
            }
        }
    }
}

/// Reads a folder of template overrides: every `<name>.yaml.j2` in it, by name.
pub fn read_templates(dir: &Path) -> Result<std::collections::BTreeMap<String, String>, Diagnostic> {
    let unreadable = |err: std::io::Error| {
        Diagnostic::new(codes::TEMPLATE_FAILED, format!("cannot read templates from {}: {}", dir.display(), io_reason(&err)))
            .help("--templates takes a folder of `<name>.yaml.j2` files that replace the built-in templates of the same name")
    };
    let mut templates = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".yaml.j2")) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).map_err(unreadable)?;
        templates.insert(name.to_string(), text);
    }
    Ok(templates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_jwt_shaped_tokens_only() {
        let text = r#"reader-token "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJrdWJlcm5ldGVzIn0.c2ln" x="eyJnot-a-token""#;
        let found = inline_tokens(text);
        assert_eq!(found.len(), 1);
        let (start, len) = found[0];
        assert_eq!(&text[start..start + len], "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJrdWJlcm5ldGVzIn0.c2ln");
    }
}
