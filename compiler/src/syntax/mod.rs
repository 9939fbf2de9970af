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

pub use lower::{did_you_mean, did_you_mean_or};

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
    } else if let Some(problem) = nesting(sources.text(file)) {
        diags.push(nesting_diagnostic(file, problem));
        Err(())
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

/// How deep `{ … }` blocks and `/* … */` comments may nest in a KDL topology; it needs three.
/// kdl 6.7's parser recurses once per level with no limit of its own (a few thousand levels
/// overflow the stack and abort the process), and its error recovery takes time and memory
/// exponential in the depth of blocks left open (kdl-rs issue 177; a 2 KB file with 30 open
/// levels took 85 s and 4.7 GB).
const MAX_NESTING: usize = 8;

/// Why a KDL text is not given to kdl's parser: the byte offset of the first `{` or `/*` that
/// opens a level past [`MAX_NESTING`], or of a `/*` that is never closed (kdl reads on through
/// such a comment as if it were not one, with the same recursion and the same blow-up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Nesting {
    TooDeep(usize),
    CommentLeftOpen(usize),
}

/// A lexical scan in linear time that errs on the side of counting: strings (quoted, multi-line
/// and raw) and `//` comments are skipped, so what they hold does not count, but a string that
/// does not close as KDL 2.0 requires is no string, and what it would hold counts.
fn nesting(text: &str) -> Option<Nesting> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut comments = 0usize;
    let mut comment_start = 0;
    // For each kind of string (hashes, multi-line), where one opened before is known not to
    // close: one of the same kind opened before that point does not close either.
    let mut unclosed = [[0usize; 2]; MAX_RAW_HASHES + 1];
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest[0] == b'{' && comments == 0 || rest.starts_with(b"/*") {
            depth += 1;
            if depth > MAX_NESTING {
                return Some(Nesting::TooDeep(i));
            }
        }
        i += if comments > 0 {
            if rest.starts_with(b"/*") {
                comments += 1;
                2
            } else if rest.starts_with(b"*/") {
                comments -= 1;
                depth -= 1;
                2
            } else {
                1
            }
        } else {
            match rest[0] {
                b'}' => {
                    depth = depth.saturating_sub(1);
                    1
                }
                b'/' if rest.starts_with(b"/*") => {
                    comments = 1;
                    comment_start = i;
                    2
                }
                b'/' if rest.starts_with(b"//") => (0..rest.len()).find(|&at| newline_at(&rest[at..])).unwrap_or(rest.len()),
                b'"' | b'#' => match string_opener(rest) {
                    None => 1,
                    Some((hashes, multi, opener)) if i < unclosed[hashes][usize::from(multi)] => opener,
                    Some((hashes, multi, opener)) => match string_close(rest, hashes, multi, opener) {
                        Ok(len) => len,
                        Err(bound) => {
                            unclosed[hashes][usize::from(multi)] = i + bound;
                            opener
                        }
                    },
                },
                _ => 1,
            }
        };
    }
    (comments > 0).then_some(Nesting::CommentLeftOpen(comment_start))
}

/// Raw strings with more hashes than this are not recognised: what they hold counts.
const MAX_RAW_HASHES: usize = 8;

/// Whether `text` starts with one of KDL 2.0's newlines (CR, LF, NEL, VT, FF, LS, PS).
fn newline_at(text: &[u8]) -> bool {
    matches!(text.first(), Some(b'\r' | b'\n' | 0x0b | 0x0c)) || ["\u{85}", "\u{2028}", "\u{2029}"].iter().any(|n| text.starts_with(n.as_bytes()))
}

/// The string `text` starts with, if any: its hashes, whether it is multi-line (`"""` and a
/// newline), and the length of its opening.
fn string_opener(text: &[u8]) -> Option<(usize, bool, usize)> {
    let hashes = text.iter().take_while(|&&b| b == b'#').count();
    let body = &text[hashes..];
    if hashes > MAX_RAW_HASHES || body.first() != Some(&b'"') {
        return None;
    }
    let multi = body.starts_with(b"\"\"\"") && newline_at(&body[3..]);
    Some((hashes, multi, hashes + if multi { 3 } else { 1 }))
}

/// The length of the string `text` starts with, or where the search for its closing stopped
/// (the end of the line for a one-line string, else the end of the text).
fn string_close(text: &[u8], hashes: usize, multi: bool, opener: usize) -> Result<usize, usize> {
    let quote: &[u8] = if multi { b"\"\"\"" } else { b"\"" };
    let mut i = opener;
    while i < text.len() {
        let rest = &text[i..];
        if hashes == 0 && rest[0] == b'\\' {
            i += 2;
        } else if !multi && newline_at(rest) {
            return Err(i);
        } else if rest.starts_with(quote) && rest[quote.len()..].iter().take(hashes).filter(|&&b| b == b'#').count() == hashes {
            return Ok(i + quote.len() + hashes);
        } else {
            i += 1;
        }
    }
    Err(text.len())
}

fn nesting_diagnostic(file: FileId, problem: Nesting) -> Diagnostic {
    match problem {
        Nesting::TooDeep(offset) => Diagnostic::new(codes::SYNTAX, format!("blocks and comments nest more than {MAX_NESTING} levels deep"))
            .primary(Span::new(file, offset, 1), format!("level {} opens here", MAX_NESTING + 1))
            .help("a topology needs three levels at most (`cluster \"…\" { api-server … }`): look for blocks or comments left open"),
        Nesting::CommentLeftOpen(offset) => Diagnostic::new(codes::SYNTAX, "a `/*` comment is never closed")
            .primary(Span::new(file, offset, 2), "this comment has no `*/`")
            .help("close it with `*/`; `/* … */` comments nest, so each `/*` inside needs its own `*/`"),
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

    #[test]
    fn nesting_is_limited_and_strings_and_line_comments_do_not_count() {
        let blocks = |n: usize| format!("mesh \"m\"\n{}{}", "a {".repeat(n), "}".repeat(n));
        assert_eq!(nesting(&blocks(MAX_NESTING)), None);
        assert_eq!(nesting(&blocks(MAX_NESTING + 1)), Some(Nesting::TooDeep(9 + 3 * MAX_NESTING + 2)));
        let comments = format!("{}{}", "/*".repeat(MAX_NESTING + 1), "*/".repeat(MAX_NESTING + 1));
        assert_eq!(nesting(&comments), Some(Nesting::TooDeep(2 * MAX_NESTING)));
        assert_eq!(nesting("a /* b */ c /* d /* e */ {"), Some(Nesting::CommentLeftOpen(12)));
        let braces = "{".repeat(100);
        for text in [
            format!("a \"{braces}\" \"\\\"{braces}\""),
            format!("a #\"{braces}\"# ##\"\"#{braces}\"##"),
            format!("a \"\"\"\n{braces}\n\"\"\""),
            format!("a // {braces}\nb"),
        ] {
            assert_eq!(nesting(&text), None, "{text}");
        }
        // A string that does not close is no string: what follows counts.
        assert!(nesting(&format!("a \"x\n{braces}")).is_some());
        assert!(nesting(&format!("a \"x\r{braces}\"")).is_some());
        assert!(nesting(&format!("a #\"x{braces}\"")).is_some());
        assert!(nesting(&format!("a // x\r{braces}")).is_some());
        // Linear time: a long line of strings that never close is scanned once per kind.
        let unclosed = format!("{}\n{}", "##\"a #\"b ".repeat(100_000), "#\"\"\"\n".repeat(100_000));
        let started = std::time::Instant::now();
        assert_eq!(nesting(&unclosed), None);
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    }
}
