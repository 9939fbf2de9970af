//! A small PEM reader that remembers where each block sits in its file, so that a diagnostic can
//! point at the offending certificate rather than at the whole file. It decodes base64 and does
//! nothing else: what the DER means is [`super::cert`]'s business.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// One `-----BEGIN X-----` … `-----END X-----` block.
pub(crate) struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
    /// Byte offset of the BEGIN line, and its length (without the line break): the span a
    /// diagnostic label covers.
    pub begin_offset: usize,
    pub begin_len: usize,
    /// Byte offset just past the END line.
    pub end_offset: usize,
    /// RFC 1421 headers such as `Proc-Type: 4,ENCRYPTED` (legacy OpenSSL key encryption).
    pub encrypted: bool,
}

/// A block that could not be decoded, with the same location fields as [`PemBlock`].
pub(crate) struct PemDefect {
    pub label: String,
    pub begin_offset: usize,
    pub begin_len: usize,
    /// Byte offset just past the block's last line (the END line, or the end of the text).
    pub end_offset: usize,
    pub reason: &'static str,
}

/// Every block of a PEM text, in file order, and the blocks that are broken.
pub(crate) fn scan(text: &str) -> (Vec<PemBlock>, Vec<PemDefect>) {
    let mut blocks = Vec::new();
    let mut defects = Vec::new();
    // (label, begin offset, begin length, base64 body, encrypted)
    let mut open: Option<(String, usize, usize, String, bool)> = None;
    let mut offset = 0;
    for raw_line in text.split_inclusive('\n') {
        let line_offset = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']).trim_end();
        if let Some(label) = marker(line, "BEGIN") {
            if let Some((label, begin, len, _, _)) = open.take() {
                let end_offset = line_offset;
                defects.push(PemDefect { label, begin_offset: begin, begin_len: len, end_offset, reason: "has no END line" });
            }
            open = Some((label.to_string(), line_offset, line.len(), String::new(), false));
            continue;
        }
        if let Some(end_label) = marker(line, "END") {
            if let Some((label, begin, len, body, encrypted)) = open.take() {
                if end_label != label {
                    defects.push(PemDefect {
                        label,
                        begin_offset: begin,
                        begin_len: len,
                        end_offset: offset,
                        reason: "ends with an END line of another type",
                    });
                } else {
                    match STANDARD.decode(body.as_bytes()) {
                        Ok(der) if !der.is_empty() => blocks.push(PemBlock {
                            label,
                            der,
                            begin_offset: begin,
                            begin_len: len,
                            end_offset: offset,
                            encrypted,
                        }),
                        _ => defects.push(PemDefect {
                            label,
                            begin_offset: begin,
                            begin_len: len,
                            end_offset: offset,
                            reason: "holds no valid base64",
                        }),
                    }
                }
            }
            continue;
        }
        if let Some((_, _, _, body, encrypted)) = open.as_mut() {
            if line.contains(':') {
                // A header line (RFC 1421); the only one that matters is the encryption marker.
                if line.starts_with("Proc-Type:") && line.contains("ENCRYPTED") {
                    *encrypted = true;
                }
            } else {
                body.extend(line.chars().filter(|c| !c.is_ascii_whitespace()));
            }
        }
    }
    if let Some((label, begin, len, _, _)) = open {
        defects.push(PemDefect { label, begin_offset: begin, begin_len: len, end_offset: offset, reason: "has no END line" });
    }
    (blocks, defects)
}

/// The label of a `-----BEGIN label-----` (or END) line.
fn marker<'a>(line: &'a str, kind: &str) -> Option<&'a str> {
    line.trim_start()
        .strip_prefix("-----")?
        .strip_prefix(kind)?
        .strip_prefix(' ')?
        .strip_suffix("-----")
}

/// Encodes DER as PEM with 64-character lines, ending in a line break: the one form every
/// generated file uses, so that output does not depend on how an input file was wrapped.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    // Base64 output is ASCII, so slicing it at any byte index is safe.
    let mut rest = body.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_their_place_and_headers() {
        let text = "junk\r\n-----BEGIN A-----\r\nAAEC\r\n-----END A-----\r\n\
                    -----BEGIN B-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: x\n\nAAEC\n-----END B-----\n\
                    -----BEGIN C-----\n!!!!\n-----END C-----\n-----BEGIN D-----\nAAEC\n";
        let (blocks, defects) = scan(text);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "A");
        assert_eq!(blocks[0].der, vec![0, 1, 2]);
        assert_eq!(&text[blocks[0].begin_offset..][..blocks[0].begin_len], "-----BEGIN A-----");
        assert!(!blocks[0].encrypted);
        assert!(blocks[1].encrypted);
        let reasons: Vec<_> = defects.iter().map(|d| (d.label.as_str(), d.reason)).collect();
        assert_eq!(reasons, vec![("C", "holds no valid base64"), ("D", "has no END line")]);
    }

    #[test]
    fn encode_wraps_at_64() {
        let pem = encode("CERTIFICATE", &[7u8; 100]);
        let lines: Vec<_> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
        let (blocks, _) = scan(&pem);
        assert_eq!(blocks[0].der, vec![7u8; 100]);
    }
}
