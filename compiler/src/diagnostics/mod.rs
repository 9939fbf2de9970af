//! Diagnostics: the one currency in which every stage reports problems.
//!
//! A [`Diagnostic`] carries a stable code from [`codes`], a one-line message, labels that point
//! at byte spans of [`SourceFile`]s, and a help line. Stages push into a [`Diagnostics`] vector and
//! keep going, so a run reports every problem at once. Rendering for people and machines lives in
//! [`render`]; nothing here does I/O.
//!
//! Secrets never travel in a diagnostic: messages name files and properties, not their contents,
//! and a span that covers an inline secret is marked with [`Sources::mark_secret`] so that every
//! rendered snippet shows asterisks in its place.

pub mod codes;
pub mod explain;
pub mod machine;
pub mod render;

use std::ops::Range;
use std::path::PathBuf;

pub use codes::Code;

/// Index of a file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(u32);

/// A byte range of one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub offset: usize,
    pub len: usize,
}

impl Span {
    pub fn new(file: FileId, offset: usize, len: usize) -> Span {
        Span { file, offset, len }
    }

    pub fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.len
    }
}

/// A file a diagnostic may point into: the topology, or a file it references.
#[derive(Debug)]
pub struct SourceFile {
    /// The path used to read the file.
    pub path: PathBuf,
    /// The name shown to the user (as the user wrote it, or relative to the topology).
    pub name: String,
    pub text: String,
    secrets: Vec<Range<usize>>,
}

impl SourceFile {
    /// The text with every secret range replaced by asterisks of the same byte length, so that
    /// offsets, lines and columns stay valid.
    pub fn redacted_text(&self) -> String {
        let mut bytes = self.text.clone().into_bytes();
        for range in &self.secrets {
            let end = range.end.min(bytes.len());
            for b in &mut bytes[range.start.min(end)..end] {
                *b = b'*';
            }
        }
        // Replacing whole bytes with ASCII may split a multi-byte character at the edge of a range;
        // the lossy conversion keeps that harmless.
        String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
        (line, column)
    }
}

/// Every file read during a run that diagnostics may point into.
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn new() -> Sources {
        Sources::default()
    }

    pub fn add(&mut self, path: PathBuf, name: String, text: String) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).expect("fewer than 2^32 source files"));
        self.files.push(SourceFile { path, name, text, secrets: Vec::new() });
        id
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn text(&self, id: FileId) -> &str {
        &self.get(id).text
    }

    /// Marks a span as secret: renderers never show its text.
    pub fn mark_secret(&mut self, span: Span) {
        self.files[span.file.0 as usize].secrets.push(span.range());
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
    pub primary: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The primary label comes first; a diagnostic about no particular text has none.
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's own severity.
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic { code, severity: code.severity, message: message.into(), labels: Vec::new(), help: None }
    }

    /// Points at the offending text. Call once, before any [`Diagnostic::secondary`].
    pub fn primary(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.labels.insert(0, Label { span, message: label.into(), primary: true });
        self
    }

    /// Points at another place involved, such as the first definition of a duplicate.
    pub fn secondary(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: label.into(), primary: false });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Diagnostic {
        self.severity = severity;
        self
    }

    pub fn primary_span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).map(|l| l.span)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The vector every stage pushes into.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Turns every warning into an error (`--deny-warnings`).
    pub fn deny_warnings(&mut self) {
        for d in &mut self.items {
            d.severity = Severity::Error;
        }
    }

    /// Sorted by file and position, so output does not depend on the order checks ran in.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by_key(|d| {
            let at = d.primary_span().map(|s| (s.file, s.offset, s.len));
            (at.is_some(), at, d.code.id, d.message.clone())
        });
        self.items.dedup();
        self.items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}
