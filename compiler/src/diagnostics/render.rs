//! Diagnostics rendered for people, through miette's graphical handler.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use super::{Diagnostic, FileId, Severity, Sources};

/// How human output looks.
#[derive(Clone, Copy, Debug)]
pub struct HumanStyle {
    pub color: bool,
    /// Terminal width the report wraps at.
    pub width: usize,
}

/// Renders every diagnostic, in order, as miette reports.
pub fn human(diagnostics: &[Diagnostic], sources: &Sources, style: HumanStyle) -> String {
    let theme = if style.color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(style.width).with_links(false);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let view = View::of(diagnostic, sources);
        if handler.render_report(&mut out, &view).is_err() {
            // The handler only fails when writing to `out` fails, which a String never does.
            out.push_str(&diagnostic.message);
        }
        out.push('\n');
    }
    out
}

/// The miette face of one diagnostic: the labels of the primary file inline, the labels of every
/// other file as related reports of their own.
struct View {
    code: &'static str,
    severity: miette::Severity,
    message: String,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<View>,
}

impl View {
    fn of(diagnostic: &Diagnostic, sources: &Sources) -> View {
        let main_file = diagnostic.labels.first().map(|l| l.span.file);
        let mut files: Vec<FileId> = Vec::new();
        for label in &diagnostic.labels {
            if Some(label.span.file) != main_file && !files.contains(&label.span.file) {
                files.push(label.span.file);
            }
        }
        let related = files
            .into_iter()
            .map(|file| {
                let labels: Vec<_> = diagnostic.labels.iter().filter(|l| l.span.file == file).collect();
                View {
                    code: diagnostic.code.id,
                    severity: miette::Severity::Advice,
                    message: labels[0].message.clone(),
                    help: None,
                    source: Some(named_source(sources, file)),
                    labels: labels.iter().map(|l| labeled(l, sources)).collect(),
                    related: Vec::new(),
                }
            })
            .collect();
        View {
            code: diagnostic.code.id,
            severity: match diagnostic.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            message: diagnostic.message.clone(),
            help: diagnostic.help.clone(),
            source: main_file.map(|f| named_source(sources, f)),
            labels: diagnostic
                .labels
                .iter()
                .filter(|l| Some(l.span.file) == main_file)
                .map(|l| labeled(l, sources))
                .collect(),
            related,
        }
    }
}

fn named_source(sources: &Sources, file: FileId) -> NamedSource<String> {
    let source = sources.get(file);
    NamedSource::new(source.name.clone(), source.redacted_text())
}

fn labeled(label: &super::Label, sources: &Sources) -> LabeledSpan {
    // Clamp to the text so a stale span can never make the renderer fail.
    let len = sources.text(label.span.file).len();
    let offset = label.span.offset.min(len);
    let span = SourceSpan::new(offset.into(), label.span.len.min(len - offset));
    let text = (!label.message.is_empty()).then(|| label.message.clone());
    if label.primary { LabeledSpan::new_primary_with_span(text, span) } else { LabeledSpan::new_with_span(text, span) }
}

impl fmt::Debug for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for View {}

impl miette::Diagnostic for View {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() { None } else { Some(Box::new(self.labels.iter().cloned())) }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|v| v as &dyn miette::Diagnostic)))
        }
    }
}
