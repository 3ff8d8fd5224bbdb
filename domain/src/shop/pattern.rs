//! Document number patterns such as `FA-{YYYY}-{seq:06}`.
//!
//! Syntax: literal characters (printable ASCII except braces) and placeholders `{YYYY}` (four-digit
//! year), `{YY}` (two-digit year), and exactly one `{seq}` or `{seq:0N}` (sequence number zero-padded
//! to N digits, 1 ≤ N ≤ 12). Patterns are validated when the shop is created, so formatting never fails.

use crate::limits::{DOCUMENT_PATTERN_CHARS_MAX, DOCUMENT_SEQ_WIDTH_MAX};
use crate::DomainError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    Year4,
    Year2,
    Seq { width: usize },
}

fn parse(pattern: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if c == '{' {
            let end = rest.find('}').ok_or("a '{' is never closed")?;
            tokens.push(parse_placeholder(&rest[1..end])?);
            rest = &rest[end + 1..];
            continue;
        }
        if c == '}' || !c.is_ascii_graphic() {
            return Err(format!(
                "character {c:?} is not allowed outside a placeholder"
            ));
        }
        tokens.push(Token::Literal(c));
        rest = &rest[c.len_utf8()..];
    }
    Ok(tokens)
}

fn parse_placeholder(name: &str) -> Result<Token, String> {
    match name {
        "YYYY" => Ok(Token::Year4),
        "YY" => Ok(Token::Year2),
        "seq" => Ok(Token::Seq { width: 1 }),
        _ => {
            let width_text = name
                .strip_prefix("seq:")
                .ok_or_else(|| format!("unknown placeholder {{{name}}}"))?;
            let width: usize = width_text
                .parse()
                .map_err(|_| format!("{{{name}}}: the width must be a number such as 06"))?;
            if width == 0 || width > DOCUMENT_SEQ_WIDTH_MAX {
                return Err(format!(
                    "{{{name}}}: the width must be from 1 to {DOCUMENT_SEQ_WIDTH_MAX}"
                ));
            }
            Ok(Token::Seq { width })
        }
    }
}

/// Accepts a pattern with exactly one sequence placeholder and only known placeholders.
pub fn validate_document_pattern(field: &str, pattern: &str) -> Result<(), DomainError> {
    if pattern.chars().count() > DOCUMENT_PATTERN_CHARS_MAX {
        return Err(DomainError::validation(
            field,
            format!("at most {DOCUMENT_PATTERN_CHARS_MAX} characters"),
        ));
    }
    let tokens = parse(pattern).map_err(|message| DomainError::validation(field, message))?;
    let seq_count = tokens
        .iter()
        .filter(|t| matches!(t, Token::Seq { .. }))
        .count();
    if seq_count != 1 {
        return Err(DomainError::validation(
            field,
            "must contain exactly one {seq} or {seq:0N} placeholder",
        ));
    }
    Ok(())
}

/// True when numbers carry the year, so the series restarts at 1 each calendar year.
pub fn pattern_has_year(pattern: &str) -> bool {
    parse(pattern).is_ok_and(|tokens| {
        tokens
            .iter()
            .any(|t| matches!(t, Token::Year4 | Token::Year2))
    })
}

/// Formats a number: `format_document_number("FA-{YYYY}-{seq:06}", 2025, 42)` is `FA-2025-000042`.
/// A pattern that fails validation is printed literally with the sequence appended, so that a number
/// is still unique; validated patterns never take that path.
pub fn format_document_number(pattern: &str, year: i32, seq: u64) -> String {
    let Ok(tokens) = parse(pattern) else {
        return format!("{pattern}{seq}");
    };
    let mut number = String::with_capacity(pattern.len() + 8);
    for token in tokens {
        match token {
            Token::Literal(c) => number.push(c),
            Token::Year4 => number.push_str(&format!("{year:04}")),
            Token::Year2 => number.push_str(&format!("{:02}", year.rem_euclid(100))),
            Token::Seq { width } => number.push_str(&format!("{seq:0width$}")),
        }
    }
    number
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_french_patterns() {
        // Proves the fixture's patterns produce the expected numbers.
        assert_eq!(
            format_document_number("FA-{YYYY}-{seq:06}", 2025, 42),
            "FA-2025-000042"
        );
        assert_eq!(
            format_document_number("AV{YY}/{seq:4}", 2031, 7),
            "AV31/0007"
        );
        assert_eq!(format_document_number("BL{seq}", 2025, 123), "BL123");
        // A sequence wider than the padding is printed in full, never truncated.
        assert_eq!(format_document_number("F{seq:02}", 2025, 12345), "F12345");
    }

    #[test]
    fn validates_patterns() {
        // Proves malformed patterns are refused at creation.
        for good in ["FA-{YYYY}-{seq:06}", "{seq}", "X{YY}{seq:12}"] {
            assert!(validate_document_pattern("p", good).is_ok(), "{good}");
        }
        let bad = [
            "FA-{YYYY}",
            "{seq}{seq}",
            "FA-{YYYY-{seq}",
            "FA}{seq}",
            "F A{seq}",
            "{seq:00}",
            "{seq:13}",
            "{seq:x}",
            "{month}{seq}",
            "FÀ{seq}",
        ];
        for pattern in bad {
            assert_eq!(
                validate_document_pattern("p", pattern).map_err(|e| e.code()),
                Err("validation"),
                "{pattern}"
            );
        }
        let long = format!("{}{{seq}}", "A".repeat(DOCUMENT_PATTERN_CHARS_MAX));
        assert!(validate_document_pattern("p", &long).is_err());
    }

    #[test]
    fn knows_when_a_pattern_carries_the_year() {
        // Proves which series restart each year.
        assert!(pattern_has_year("FA-{YYYY}-{seq:06}"));
        assert!(pattern_has_year("FA{YY}{seq}"));
        assert!(!pattern_has_year("FA-{seq:06}"));
    }
}
