//! Long explanations of diagnostic codes, for `meshgen explain`. They are the sections of the
//! book's diagnostics page, embedded in the binary, so the book and the command never disagree.

use super::Code;

const PAGE: &str = include_str!("../../../book/src/diagnostics.md");

/// The book's section for a code: from its `## MGxxxx: title` heading to the next heading of
/// the same level.
pub fn explanation(code: Code) -> Option<&'static str> {
    let heading = format!("## {}: ", code.id);
    let start = PAGE.match_indices(&heading).map(|(at, _)| at).find(|&at| at == 0 || PAGE.as_bytes()[at - 1] == b'\n')?;
    let rest = &PAGE[start..];
    let end = rest[heading.len()..].find("\n## ").map_or(rest.len(), |at| heading.len() + at + 1);
    Some(rest[..end].trim_end())
}

/// Every `## MGxxxx: title` heading of the page, in order.
pub fn headings() -> Vec<(&'static str, &'static str)> {
    PAGE.lines()
        .filter_map(|line| line.strip_prefix("## "))
        .filter_map(|heading| heading.split_once(": "))
        .filter(|(id, _)| id.starts_with("MG"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::codes;
    use super::*;

    #[test]
    fn every_code_has_exactly_one_section_with_its_title() {
        let headings = headings();
        for code in codes::ALL {
            let matching: Vec<_> = headings.iter().filter(|(id, _)| *id == code.id).collect();
            assert_eq!(matching.len(), 1, "{} needs exactly one section in book/src/diagnostics.md", code.id);
            assert_eq!(matching[0].1, code.title, "{}: the book's title differs from the registry", code.id);
        }
        assert_eq!(headings.len(), codes::ALL.len(), "the book lists a code the registry does not have");
    }

    #[test]
    fn a_section_ends_where_the_next_begins() {
        let text = explanation(codes::DUPLICATE_CLUSTER).unwrap();
        assert!(text.starts_with("## MG0106: cluster declared twice"));
        assert!(!text.contains("## MG0107"));
        assert!(text.contains("```kdl"), "an explanation shows an example");
    }
}
