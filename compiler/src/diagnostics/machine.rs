//! Diagnostics rendered for machines: one JSON document per run (editors, CI annotations,
//! reviewdog; its schema is `schemas/diagnostics.schema.json`), and GitHub Actions workflow
//! commands. Positions are given every way a consumer may want them: 1-based line and column
//! (in characters) of both ends, and the byte offset and length.

use serde::Serialize;

use super::{Diagnostic, Label, Severity, Sources};

/// The version of the JSON document's shape; bumped on any incompatible change.
pub const JSON_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    success: bool,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: &'static str,
    code: &'static str,
    title: &'static str,
    message: &'a str,
    help: Option<&'a str>,
    labels: Vec<JsonLabel<'a>>,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    offset: usize,
    length: usize,
    message: &'a str,
    primary: bool,
}

/// Where a label's span starts and ends, in lines and columns.
struct Position {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

fn position(label: &Label, sources: &Sources) -> Position {
    let file = sources.get(label.span.file);
    let (line, column) = file.line_col(label.span.offset);
    let (end_line, end_column) = file.line_col(label.span.offset + label.span.len);
    Position { line, column, end_line, end_column }
}

/// The whole run as one JSON document, with a trailing newline.
pub fn json(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let document = Document {
        version: JSON_VERSION,
        success: errors == 0,
        errors,
        warnings: diagnostics.len() - errors,
        diagnostics: diagnostics
            .iter()
            .map(|d| JsonDiagnostic {
                severity: d.severity.as_str(),
                code: d.code.id,
                title: d.code.title,
                message: &d.message,
                help: d.help.as_deref(),
                labels: d
                    .labels
                    .iter()
                    .map(|l| {
                        let at = position(l, sources);
                        JsonLabel {
                            file: &sources.get(l.span.file).name,
                            line: at.line,
                            column: at.column,
                            end_line: at.end_line,
                            end_column: at.end_column,
                            offset: l.span.offset,
                            length: l.span.len,
                            message: &l.message,
                            primary: l.primary,
                        }
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// GitHub Actions workflow commands (`::error file=…,line=…::message`), one line per
/// diagnostic, anchored at its primary label.
pub fn github(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut properties = Vec::new();
        if let Some(label) = d.labels.iter().find(|l| l.primary).or(d.labels.first()) {
            let at = position(label, sources);
            properties.push(format!("file={}", escape_property(&sources.get(label.span.file).name)));
            properties.push(format!("line={}", at.line));
            properties.push(format!("col={}", at.column));
            properties.push(format!("endLine={}", at.end_line));
            if at.end_line == at.line {
                properties.push(format!("endColumn={}", at.end_column));
            }
        }
        properties.push(format!("title={}", escape_property(&format!("{} {}", d.code.id, d.code.title))));
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!("::{command} {}::{}\n", properties.join(","), escape_data(&message)));
    }
    out
}

/// Workflow command data: `%`, CR and LF are escaped.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Workflow command properties: also `:` and `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::super::{codes, Span};
    use super::*;

    fn sample() -> (Vec<Diagnostic>, Sources) {
        let mut sources = Sources::new();
        let file = sources.add("t.kdl".into(), "t.kdl".into(), "mesh \"m\"\ncluster \"A,b\" {\n}\n".into());
        let d = Diagnostic::new(codes::INVALID_CLUSTER_ID, "cluster ID \"A,b\" is not valid: 100%")
            .primary(Span::new(file, 17, 5), "invalid cluster ID")
            .help("write \"a-b\"");
        (vec![d], sources)
    }

    #[test]
    fn json_gives_lines_columns_and_offsets() {
        let (diagnostics, sources) = sample();
        let value: serde_json::Value = serde_json::from_str(&json(&diagnostics, &sources)).unwrap();
        assert_eq!(value["version"], 1);
        assert_eq!(value["errors"], 1);
        assert_eq!(value["success"], false);
        let label = &value["diagnostics"][0]["labels"][0];
        assert_eq!((label["line"].as_u64(), label["column"].as_u64()), (Some(2), Some(9)));
        assert_eq!((label["offset"].as_u64(), label["length"].as_u64()), (Some(17), Some(5)));
        assert_eq!(value["diagnostics"][0]["code"], "MG0101");
    }

    #[test]
    fn github_annotations_escape_their_fields() {
        let (diagnostics, sources) = sample();
        assert_eq!(
            github(&diagnostics, &sources),
            "::error file=t.kdl,line=2,col=9,endLine=2,endColumn=14,title=MG0101 invalid cluster ID::cluster ID \"A%2Cb\" is not valid: 100%25%0Ahelp: write \"a-b\"\n"
                .replace("A%2Cb", "A,b")
        );
    }
}
