//! `meshgen fmt`: reprints a KDL topology in the canonical layout, keeping every comment.
//!
//! kdl's own `autoformat` drops trailing `//` and inline `/* */` comments and unquotes strings,
//! so this is meshgen's own printer. It walks the parsed document and takes every name, value
//! and comment from the text as written (through `format()`: `value_repr`, the identifiers'
//! `repr`, and the trivia strings around nodes and entries); it resets only indentation (four
//! spaces a level), the spacing between a node's name and its entries (one space), line breaks
//! (one node a line; `;` becomes a line break) and blank lines (at most one; none right after
//! `{`, before `}` or at either end of the file). `/-` comments are reprinted recursively, so a
//! commented-out node is laid out like any other.
//!
//! [`format`] is pure. It refuses rather than guesses: the text it returns parses to the same
//! document and holds the same comments and strings, or it returns an error. [`format_file`] is
//! the command's disk side: it reads one file and, when it changes, rewrites it atomically.

use std::io::Write as _;
use std::path::Path;

use kdl::{KdlDocument, KdlEntry, KdlNode};

use crate::diagnostics::{codes, Diagnostic, Diagnostics, Sources, Span};

const INDENT: &str = "    ";

/// Why a text was not formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The text is not KDL 2.0 (see `syntax_errors` for the diagnostics).
    Syntax(kdl::KdlError),
    /// The printer could not reprint the text without changing it (a bug of the formatter,
    /// reported rather than written).
    Unsupported(&'static str),
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatError::Syntax(err) => write!(f, "{err}"),
            FormatError::Unsupported(why) => f.write_str(why),
        }
    }
}

/// The canonical layout of a KDL text, comments kept.
pub fn format(text: &str) -> Result<String, FormatError> {
    let doc = parse(text).map_err(|err| match err {
        Parsed::Syntax(err) => FormatError::Syntax(err),
        Parsed::Lossy => FormatError::Unsupported("the KDL parser does not give this text back as written"),
    })?;
    let mut printer = Printer::new();
    printer.document(&doc);
    let out = printer.finish();
    // Refuse rather than guess: the result must mean the same and keep every comment.
    let Ok(again) = parse(&out) else {
        return Err(FormatError::Unsupported("the formatted text does not parse"));
    };
    if plain(&again) != plain(&doc) {
        return Err(FormatError::Unsupported("the formatted text would mean something else"));
    }
    if significant(&out) != significant(text) {
        return Err(FormatError::Unsupported("formatting would lose a comment or change a string"));
    }
    Ok(out)
}

enum Parsed {
    Syntax(kdl::KdlError),
    /// The parser dropped part of the text (see [`repair`]) and it could not be restored.
    Lossy,
}

/// Parses `text`, restoring what kdl 6.7 drops, and checks the tree prints back as `text`
/// (spacing aside: kdl prints `( t )name` as `(t)name`, which the printer does too).
fn parse(text: &str) -> Result<KdlDocument, Parsed> {
    let mut doc = KdlDocument::parse(text).map_err(Parsed::Syntax)?;
    for node in doc.nodes_mut() {
        repair(node, text);
    }
    if significant(&doc.to_string()) != significant(text) {
        return Err(Parsed::Lossy);
    }
    Ok(doc)
}

/// kdl 6.7 drops the spaces and comments after a children block's `}` (`cluster "a" { … }  //
/// note`), and with them the node's terminator. Both are still in the source, just past what
/// the node prints: its span covers the spaces and comments, and the terminator follows it.
fn repair(node: &mut KdlNode, text: &str) {
    if let Some(children) = node.children_mut() {
        for child in children.nodes_mut() {
            repair(child, text);
        }
    }
    if node.children().is_none() {
        return;
    }
    let span = node.span();
    let end = span.offset() + span.len();
    let Some(original) = text.get(span.offset()..end) else { return };
    let mut bare = node.clone();
    if let Some(format) = bare.format_mut() {
        format.leading.clear();
        format.terminator.clear();
        format.trailing.clear();
    }
    let printed = bare.to_string();
    let Some(format) = node.format_mut() else { return };
    if let Some(lost) = original.strip_prefix(printed.as_str()) {
        format.before_terminator.push_str(lost);
    }
    if format.terminator.is_empty() {
        format.terminator = terminator_at(&text[end..]).to_string();
    }
}

/// The node terminator `text` starts with: a newline, `;`, or a line comment with its newline.
fn terminator_at(text: &str) -> &str {
    if text.starts_with("\r\n") {
        return &text[..2];
    }
    match text.chars().next() {
        Some(';') => &text[..1],
        Some(c) if is_newline(c) => &text[..c.len_utf8()],
        _ if text.starts_with("//") => match text.char_indices().find(|&(_, c)| is_newline(c)) {
            Some((i, _)) => &text[..i + terminator_at(&text[i..]).len()],
            None => text,
        },
        _ => "",
    }
}

/// The document without its layout: what the formatted text must still say.
fn plain(doc: &KdlDocument) -> String {
    let mut doc = doc.clone();
    doc.clear_format_recursive();
    doc.to_string()
}

/// The text without the layout the printer may change (whitespace, line breaks, `;`
/// terminators, the `\` of line continuations, the trailing spaces of line comments), strings
/// and comments kept whole: what formatting must leave as it is.
fn significant(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = if rest.starts_with("//") {
            let len = rest.find(is_newline).unwrap_or(rest.len());
            out.push_str(rest[..len].trim_end());
            len
        } else if rest.starts_with("/*") {
            let len = block_comment_len(rest);
            out.push_str(&rest[..len]);
            len
        } else if c == '"' || (c == '#' && rest.trim_start_matches('#').starts_with('"')) {
            let len = string_len(rest);
            out.push_str(&rest[..len]);
            len
        } else {
            if !(is_space(c) || is_newline(c) || c == ';' || c == '\\') {
                out.push(c);
            }
            c.len_utf8()
        };
        rest = &rest[len..];
    }
    out
}

/// The length of the string literal `text` starts with: quoted (`"…"`, `"""…"""`, with
/// escapes) or raw (`#"…"#`, `##"""…"""##`).
fn string_len(text: &str) -> usize {
    let hashes = text.len() - text.trim_start_matches('#').len();
    let body = &text[hashes..];
    let quotes = if body.starts_with("\"\"\"") { 3 } else { 1 };
    let close: String = "\"".repeat(quotes) + &"#".repeat(hashes);
    let mut i = hashes + quotes;
    while i < text.len() {
        let rest = &text[i..];
        if hashes == 0 && rest.starts_with('\\') {
            i += 1 + rest[1..].chars().next().map_or(0, char::len_utf8);
        } else if rest.starts_with(close.as_str()) {
            return i + close.len();
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    text.len()
}

/// The length of the (possibly nested) `/* … */` comment `text` starts with.
fn block_comment_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        if bytes[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if bytes[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    text.len()
}

/// KDL 2.0's newlines.
fn is_newline(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{0B}' | '\u{0C}' | '\u{2028}' | '\u{2029}')
}

/// KDL 2.0's unicode spaces, and the byte-order mark.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | ' '
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
            | '\u{FEFF}'
    )
}

/// One piece of the text around nodes and entries.
enum Trivia<'a> {
    Space,
    Newline,
    LineComment(&'a str),
    BlockComment(&'a str),
    /// `\`, which continues a node on the next line.
    Escline,
    /// `/-`: what follows (the rest of the trivia) starts with the commented-out item.
    Slashdash,
    /// Anything else, kept as it is.
    Other(&'a str),
}

/// The first piece of `text` and the rest.
fn next_trivia(text: &str) -> Option<(Trivia<'_>, &str)> {
    let c = text.chars().next()?;
    let (trivia, len) = if text.starts_with("\r\n") {
        (Trivia::Newline, 2)
    } else if is_newline(c) {
        (Trivia::Newline, c.len_utf8())
    } else if is_space(c) {
        (Trivia::Space, text.find(|c: char| !is_space(c)).unwrap_or(text.len()))
    } else if text.starts_with("//") {
        let len = text.find(is_newline).unwrap_or(text.len());
        (Trivia::LineComment(text[..len].trim_end()), len)
    } else if text.starts_with("/*") {
        let len = block_comment_len(text);
        (Trivia::BlockComment(&text[..len]), len)
    } else if text.starts_with("/-") {
        (Trivia::Slashdash, 2)
    } else if c == '\\' {
        (Trivia::Escline, 1)
    } else {
        let len = text.find(|c: char| is_space(c) || is_newline(c)).unwrap_or(text.len());
        (Trivia::Other(&text[..len]), len)
    };
    Some((trivia, &text[len..]))
}

/// What the current output line holds so far.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Line {
    Empty,
    /// Only comments: a node may follow on the same line (`/* note */ cluster "a"`).
    Comment,
    Content,
}

struct Printer {
    out: String,
    depth: usize,
    line: Line,
    /// The user left a blank line before what comes next.
    blank: bool,
    /// At the start of the file or of a block, where no blank line goes.
    no_blank: bool,
    /// The next token follows the previous one without a space (after `/-`).
    glue: bool,
    /// The line continues a node after `\`: one more level of indentation.
    continued: bool,
}

impl Printer {
    fn new() -> Printer {
        Printer { out: String::new(), depth: 0, line: Line::Empty, blank: false, no_blank: true, glue: false, continued: false }
    }

    fn finish(mut self) -> String {
        if self.line != Line::Empty {
            self.out.push('\n');
        }
        self.out
    }

    fn token(&mut self, text: &str, kind: Line) {
        if self.glue {
            self.glue = false;
        } else if self.line == Line::Empty {
            if self.blank && !self.no_blank {
                self.out.push('\n');
            }
            for _ in 0..self.depth + usize::from(self.continued) {
                self.out.push_str(INDENT);
            }
        } else {
            self.out.push(' ');
        }
        self.out.push_str(text);
        self.blank = false;
        self.no_blank = false;
        if self.line != Line::Content {
            self.line = kind;
        }
    }

    /// A line break written by the user: ends the line, or on an empty line, asks for a blank one.
    fn newline(&mut self) {
        if self.line == Line::Empty {
            self.blank = true;
        } else {
            self.break_line();
        }
    }

    fn break_line(&mut self) {
        if self.line != Line::Empty {
            self.out.push('\n');
            self.line = Line::Empty;
        }
        self.glue = false;
    }

    fn document(&mut self, doc: &KdlDocument) {
        let format = doc.format().cloned().unwrap_or_default();
        self.between_nodes(&format.leading);
        for node in doc.nodes() {
            self.node(node);
        }
        self.between_nodes(&format.trailing);
    }

    fn node(&mut self, node: &KdlNode) {
        let format = node.format().cloned().unwrap_or_default();
        self.between_nodes(&format.leading);
        if self.line == Line::Content && !self.glue {
            self.break_line();
        }
        let mut head = String::new();
        if let Some(ty) = node.ty() {
            head = format!("({}{ty}{})", tight(&format.before_ty_name), tight(&format.after_ty_name));
            head.push_str(tight(&format.after_ty));
        }
        head.push_str(&node.name().to_string());
        self.token(&head, Line::Content);
        self.body(node);
        let terminator = format.terminator.strip_prefix(';').unwrap_or(&format.terminator);
        self.between_nodes(terminator);
        self.between_nodes(&format.trailing);
        self.continued = false;
    }

    /// A node after its name: entries, children, and what stands before its terminator.
    fn body(&mut self, node: &KdlNode) {
        let format = node.format().cloned().unwrap_or_default();
        for entry in node.entries() {
            let entry_format = entry.format().cloned().unwrap_or_default();
            self.inside_node(&entry_format.leading);
            self.token(&entry_text(entry), Line::Content);
            self.inside_node(&entry_format.trailing);
        }
        if let Some(children) = node.children() {
            self.inside_node(&format.before_children);
            self.token("{", Line::Content);
            self.continued = false;
            self.depth += 1;
            self.no_blank = true;
            self.document(children);
            self.depth -= 1;
            self.blank = false;
            self.break_line();
            self.token("}", Line::Content);
        }
        self.inside_node(&format.before_terminator);
    }

    /// Trivia between nodes: line breaks, comments, `/-` nodes.
    fn between_nodes(&mut self, trivia: &str) {
        let mut rest = trivia;
        while let Some((piece, after)) = next_trivia(rest) {
            match piece {
                Trivia::Space | Trivia::Escline => {}
                Trivia::Newline => self.newline(),
                Trivia::LineComment(text) | Trivia::BlockComment(text) => self.token(text, Line::Comment),
                Trivia::Other(text) => self.token(text, Line::Content),
                Trivia::Slashdash => return self.slashdash_node(after),
            }
            rest = after;
        }
    }

    /// Trivia inside a node: comments, `\` continuations, `/-` entries and children blocks.
    fn inside_node(&mut self, trivia: &str) {
        let mut rest = trivia;
        while let Some((piece, after)) = next_trivia(rest) {
            match piece {
                Trivia::Space => {}
                Trivia::Newline => {
                    self.break_line();
                    self.continued = true;
                }
                Trivia::LineComment(text) | Trivia::BlockComment(text) | Trivia::Other(text) => self.token(text, Line::Content),
                Trivia::Escline => self.token("\\", Line::Content),
                Trivia::Slashdash => return self.slashdash_entries(after),
            }
            rest = after;
        }
    }

    /// `/-` between nodes: the rest is a commented-out node, then more trivia.
    fn slashdash_node(&mut self, rest: &str) {
        let rest = rest.trim_start_matches(|c| is_space(c) || is_newline(c));
        if self.line == Line::Content {
            self.break_line();
        }
        self.token("/-", Line::Content);
        self.glue = true;
        match parse(rest) {
            Ok(doc) if !doc.nodes().is_empty() => self.document(&doc),
            _ => self.token(rest.trim_end(), Line::Content),
        }
    }

    /// `/-` inside a node: the rest is a commented-out entry or children block, then more trivia.
    /// It is reprinted as the body of a stand-in node.
    fn slashdash_entries(&mut self, rest: &str) {
        let rest = rest.trim_start_matches(|c| is_space(c) || is_newline(c));
        self.token("/-", Line::Content);
        self.glue = true;
        let stand_in = format!("_ {rest}");
        match parse(&stand_in) {
            Ok(doc) if doc.nodes().len() == 1 && doc.nodes()[0].format().is_some_and(|f| f.terminator.is_empty()) => self.body(&doc.nodes()[0]),
            _ => self.token(rest.trim_end(), Line::Content),
        }
    }
}

/// Trivia where canonical layout has none (inside a type annotation, around `=`): dropped when
/// it is only spaces, kept as written otherwise.
fn tight(trivia: &str) -> &str {
    if trivia.chars().all(is_space) { "" } else { trivia }
}

/// An entry as written: `key=value`, `(type)value`, the value's text untouched.
fn entry_text(entry: &KdlEntry) -> String {
    let format = entry.format().cloned().unwrap_or_default();
    let mut text = String::new();
    if let Some(name) = entry.name() {
        text.push_str(&name.to_string());
        text.push_str(tight(&format.after_key));
        text.push('=');
        text.push_str(tight(&format.after_eq));
    }
    if let Some(ty) = entry.ty() {
        text.push_str(&format!("({}{ty}{})", tight(&format.before_ty_name), tight(&format.after_ty_name)));
        text.push_str(tight(&format.after_ty));
    }
    if format.value_repr.is_empty() {
        text.push_str(&entry.value().to_string());
    } else {
        text.push_str(&format.value_repr);
    }
    text
}

/// What `meshgen fmt` did with one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileOutcome {
    /// Already canonical.
    Unchanged,
    /// Rewritten, or with `write` off, would be.
    Reformatted,
    /// Not formatted: the file does not parse (MG0001 in the diagnostics).
    InputErrors,
    /// Not formatted: unreadable, unwritable, or not a KDL topology (diagnostics say which).
    Failed,
}

/// Formats one topology file; with `write`, replaces it atomically when it changes (a temporary
/// file in the same folder, with the file's permissions, renamed over it).
pub fn format_file(path: &Path, write: bool, sources: &mut Sources, diags: &mut Diagnostics) -> FileOutcome {
    if super::yaml::is_yaml(path) {
        diags.push(
            Diagnostic::new(codes::NOT_FORMATTABLE, format!("{} is a topology in YAML or JSON; meshgen fmt formats KDL topologies only", path.display()))
                .help("format YAML and JSON with their own tools (prettier, yq); meshgen reads every form alike, so only the KDL form has a canonical layout of its own"),
        );
        return FileOutcome::Failed;
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            diags.push(super::unreadable(path, &err));
            return FileOutcome::Failed;
        }
    };
    // What kdl's parser cannot be given (too deep, a comment left open), refused as the front
    // end does.
    if let Some(problem) = super::nesting(&text) {
        let secrets = super::inline_tokens(&text);
        let file = sources.add(path.to_path_buf(), path.display().to_string(), text);
        for (offset, len) in secrets {
            sources.mark_secret(Span::new(file, offset, len));
        }
        diags.push(super::nesting_diagnostic(file, problem));
        return FileOutcome::InputErrors;
    }
    let formatted = match format(&text) {
        Ok(formatted) => formatted,
        Err(FormatError::Syntax(err)) => {
            let secrets = super::inline_tokens(&text);
            let file = sources.add(path.to_path_buf(), path.display().to_string(), text);
            for (offset, len) in secrets {
                sources.mark_secret(Span::new(file, offset, len));
            }
            super::syntax_errors(err, file, diags);
            return FileOutcome::InputErrors;
        }
        Err(FormatError::Unsupported(why)) => {
            diags.push(
                Diagnostic::new(codes::NOT_FORMATTABLE, format!("{} was left as it is: {why}", path.display()))
                    .help("this is a bug of meshgen fmt; please report it with the file (its tokens removed)"),
            );
            return FileOutcome::Failed;
        }
    };
    if formatted == text {
        return FileOutcome::Unchanged;
    }
    if write && let Err(err) = replace(path, &formatted) {
        diags.push(
            Diagnostic::new(codes::WRITE_FAILED, format!("cannot write {}: {}", path.display(), super::io_reason(&err)))
                .help("check that the folder holding the file is writable; the file is unchanged"),
        );
        return FileOutcome::Failed;
    }
    FileOutcome::Reformatted
}

/// Replaces a file's content in one step: a temporary file beside it (beside the file a
/// symbolic link points to), with the same permissions, renamed over it.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let target = std::fs::canonicalize(path)?;
    let permissions = std::fs::metadata(&target)?.permissions();
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = target.with_file_name(format!(".{name}.meshgen-fmt-{}", std::process::id()));
    let open = || std::fs::OpenOptions::new().write(true).create_new(true).mode(permissions.mode() & 0o7777).open(&temp);
    let mut file = match open() {
        // A leftover of an earlier run that died with our process ID.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(&temp)?;
            open()?
        }
        other => other?,
    };
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.set_permissions(permissions))
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temp, &target));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        match format(text) {
            Ok(out) => out,
            Err(err) => panic!("{err}\n--- input\n{text}"),
        }
    }

    #[test]
    fn a_messy_topology_gets_the_canonical_layout() {
        let messy = "\n\n// The mesh.\nmesh   \"demo\"  {\n  istio-version \"1.27\"\n}\n\n\n\nca {\n\troot   cert=\"pki/root-cert.pem\"    key=\"pki/root-key.pem\"\n  intermediate valid-days=3650 dir=\"pki/clusters\"   \n}\nnetwork \"net1\"; network \"net2\"\ncluster \"p1\" { network \"net1\"; role \"primary\" }\ncluster \"r1\"{\n\n\n        network \"net1\"\n\n\n        role \"remote\"   control-plane=\"p1\"\n\n}\n\n\n";
        let canonical = r#"// The mesh.
mesh "demo" {
    istio-version "1.27"
}

ca {
    root cert="pki/root-cert.pem" key="pki/root-key.pem"
    intermediate valid-days=3650 dir="pki/clusters"
}
network "net1"
network "net2"
cluster "p1" {
    network "net1"
    role "primary"
}
cluster "r1" {
    network "net1"

    role "remote" control-plane="p1"
}
"#;
        assert_eq!(fmt(messy), canonical);
        assert_eq!(fmt(canonical), canonical);
    }

    #[test]
    fn strings_and_numbers_stay_as_written() {
        let text = "node \"plain\" ident #\"raw \\n\"# \"esc\\taped\\u{41}\" 0x1F 1.50 1_000 #true #null (u8)7 key=(t)\"v\"\n";
        assert_eq!(fmt(text), text);
        let multi = "node \"\"\"\n      keep   \n      this\n      \"\"\"   other=1\n";
        assert_eq!(fmt(multi), "node \"\"\"\n      keep   \n      this\n      \"\"\" other=1\n");
    }

    #[test]
    fn line_comments_stay_where_they_are() {
        let text = "// leading\nmesh \"m\" { // after the brace\n      // own line\n  istio-version \"1.27\"   // trailing   \n   // before the brace\n}   // after the block\nnetwork \"n1\" // last\n";
        let expected = "// leading\nmesh \"m\" { // after the brace\n    // own line\n    istio-version \"1.27\" // trailing\n    // before the brace\n} // after the block\nnetwork \"n1\" // last\n";
        assert_eq!(fmt(text), expected);
    }

    #[test]
    fn block_comments_stay_where_they_are() {
        let text = "/* before */ mesh   \"m\" /* between */  trust-domain=\"x\"   /* after */ {\n/* nested /* inside */ */\n  istio-version \"1.27\"\n}  /* after the block */\n/*\n   spanning\n     lines\n*/\nnetwork \"n1\"\n";
        let expected = "/* before */ mesh \"m\" /* between */ trust-domain=\"x\" /* after */ {\n    /* nested /* inside */ */\n    istio-version \"1.27\"\n} /* after the block */\n/*\n   spanning\n     lines\n*/\nnetwork \"n1\"\n";
        assert_eq!(fmt(text), expected);
    }

    #[test]
    fn slashdash_comments_stay_and_are_laid_out_too() {
        let text = "/-cluster \"old\" {\n  network \"n1\"\n   }\nnetwork \"n1\"   /-\"dropped\"   key=1 /-other=2\ncluster \"a\" /-{ x; } {\n  /-   role   \"primary\"\n  network \"n1\"\n  /- gone\n}\n/-\nlast 1\n";
        let expected = "/-cluster \"old\" {\n    network \"n1\"\n}\nnetwork \"n1\" /-\"dropped\" key=1 /-other=2\ncluster \"a\" /-{\n    x\n} {\n    /-role \"primary\"\n    network \"n1\"\n    /-gone\n}\n/-last 1\n";
        assert_eq!(fmt(text), expected);
        assert_eq!(fmt(expected), expected);
    }

    #[test]
    fn continuation_lines_are_kept_and_indented() {
        let text = "cluster \"a\" {\n  api-server \"https://x\" \\\n ca-file=\"c.pem\" \\ // why\n     tls-server-name=\"n\"\n}\n";
        let expected = "cluster \"a\" {\n    api-server \"https://x\" \\\n        ca-file=\"c.pem\" \\ // why\n        tls-server-name=\"n\"\n}\n";
        assert_eq!(fmt(text), expected);
        assert_eq!(fmt(expected), expected);
    }

    #[test]
    fn ends_and_blank_lines() {
        assert_eq!(fmt(""), "");
        assert_eq!(fmt("\n\n  \n"), "");
        assert_eq!(fmt("a"), "a\n");
        assert_eq!(fmt("a\r\n\r\n\r\nb\r\n"), "a\n\nb\n");
        assert_eq!(fmt("// only a comment"), "// only a comment\n");
        assert_eq!(fmt("a {\n\n\n}\n"), "a {\n}\n");
        assert_eq!(fmt("a { b { c; d } }"), "a {\n    b {\n        c\n        d\n    }\n}\n");
        assert_eq!(fmt("a { }   \nb {}\n"), "a {\n}\nb {\n}\n");
    }

    #[test]
    fn a_syntax_error_is_not_formatted() {
        assert!(matches!(format("cluster \"p1 {\n}\n"), Err(FormatError::Syntax(_))));
    }

    /// Every fixture of the repository that parses: formatting keeps its meaning and comments,
    /// and formatting twice changes nothing.
    #[test]
    fn every_fixture_formats_idempotently_and_keeps_its_meaning() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for entry in std::fs::read_dir(root.join("examples")).unwrap() {
            let path = entry.unwrap().path().join("topology.kdl");
            if path.is_file() {
                files.push(path);
            }
        }
        for entry in std::fs::read_dir(root.join("compiler/tests/corpus/bad")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "kdl") {
                files.push(path);
            }
        }
        assert!(files.len() > 20, "fixtures found: {files:?}");
        let mut formatted = 0;
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let Ok(original) = KdlDocument::parse(&text) else { continue };
            let once = format(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            let twice = format(&once).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            assert_eq!(twice, once, "{}: formatting is idempotent", path.display());
            let reparsed = KdlDocument::parse(&once).unwrap();
            assert_eq!(shape(&reparsed), shape(&original), "{}: same nodes, entries and values", path.display());
            assert_eq!(comments(&once), comments(&text), "{}: every comment kept", path.display());
            formatted += 1;
        }
        assert!(formatted > 20);
    }

    /// Node names, entries (key, type, value) and children, recursively, without layout.
    fn shape(doc: &KdlDocument) -> Vec<String> {
        let mut out = Vec::new();
        fn walk(doc: &KdlDocument, depth: usize, out: &mut Vec<String>) {
            for node in doc.nodes() {
                let entries: Vec<String> =
                    node.entries().iter().map(|e| format!("{:?}={:?}:{:?}", e.name().map(|n| n.value()), e.ty().map(|t| t.value()), e.value())).collect();
                out.push(format!("{depth} {:?} {:?} {entries:?} {}", node.ty().map(|t| t.value()), node.name().value(), node.children().is_some()));
                if let Some(children) = node.children() {
                    walk(children, depth + 1, out);
                }
            }
        }
        walk(doc, 0, &mut out);
        out
    }

    /// Every `//` and `/*` comment of a text, in order, trailing spaces aside.
    fn comments(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            let len = if rest.starts_with("//") {
                let len = rest.find(is_newline).unwrap_or(rest.len());
                found.push(rest[..len].trim_end().to_string());
                len
            } else if rest.starts_with("/*") {
                let len = block_comment_len(rest);
                found.push(rest[..len].to_string());
                len
            } else if c == '"' || (c == '#' && rest.trim_start_matches('#').starts_with('"')) {
                string_len(rest)
            } else {
                c.len_utf8()
            };
            rest = &rest[len..];
        }
        found
    }
}
