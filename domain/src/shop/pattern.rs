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

/// One character class of a pattern's language, or a repeatable one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Atom {
    Literal(char),
    Digit,
    NonZeroDigit,
    /// Any number of digits, none included.
    Digits,
}

/// The numbers a pattern can print, as the sequences of atoms whose languages cover them.
///
/// `{seq:0N}` prints N digits (zero-padded) up to 10^N - 1 and then as many digits as needed,
/// never with a leading zero; so its language is "exactly N digits" or "a non-zero digit then
/// at least N digits". The year placeholders are fixed-width digits. The two alternatives of the
/// one `{seq}` give two sequences. The languages cover slightly more than what is printed (a
/// sequence of zeros, any year), which only makes the overlap check more cautious.
fn languages(tokens: &[Token]) -> Vec<Vec<Atom>> {
    let mut short = Vec::new();
    let mut long = Vec::new();
    for token in tokens {
        match *token {
            Token::Literal(c) => {
                short.push(Atom::Literal(c));
                long.push(Atom::Literal(c));
            }
            Token::Year4 | Token::Year2 => {
                let width = if *token == Token::Year4 { 4 } else { 2 };
                short.extend(std::iter::repeat_n(Atom::Digit, width));
                long.extend(std::iter::repeat_n(Atom::Digit, width));
            }
            Token::Seq { width } => {
                short.extend(std::iter::repeat_n(Atom::Digit, width));
                long.push(Atom::NonZeroDigit);
                long.extend(std::iter::repeat_n(Atom::Digit, width));
                long.push(Atom::Digits);
            }
        }
    }
    vec![short, long]
}

/// Whether one character can match both atoms (a repeatable atom stands for one digit here).
fn atoms_share_a_char(a: Atom, b: Atom) -> bool {
    let is_digit_class = |atom: Atom| matches!(atom, Atom::Digit | Atom::Digits);
    match (a, b) {
        (Atom::Literal(x), Atom::Literal(y)) => x == y,
        (Atom::Literal(c), other) | (other, Atom::Literal(c)) => {
            if other == Atom::NonZeroDigit {
                matches!(c, '1'..='9')
            } else {
                c.is_ascii_digit()
            }
        }
        (x, y) => is_digit_class(x) || is_digit_class(y) || (x == y && x == Atom::NonZeroDigit),
    }
}

/// Whether some string belongs to both atom sequences: a search over pairs of positions, where a
/// repeatable atom may be skipped or may consume a character and stay.
fn sequences_intersect(a: &[Atom], b: &[Atom]) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    let mut pending = vec![(0usize, 0usize)];
    while let Some((i, j)) = pending.pop() {
        if !seen.insert((i, j)) {
            continue;
        }
        if i == a.len() && j == b.len() {
            return true;
        }
        if a.get(i) == Some(&Atom::Digits) {
            pending.push((i + 1, j));
        }
        if b.get(j) == Some(&Atom::Digits) {
            pending.push((i, j + 1));
        }
        let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) else {
            continue;
        };
        if atoms_share_a_char(x, y) {
            let next_i = if x == Atom::Digits { i } else { i + 1 };
            let next_j = if y == Atom::Digits { j } else { j + 1 };
            pending.push((next_i, next_j));
        }
    }
    false
}

/// Whether two patterns could ever print the same number, for any years and sequence numbers.
///
/// A series whose pattern changes keeps the numbers it issued under its earlier patterns; a new
/// pattern that cannot print any of those (false here) can never duplicate one, whatever the
/// sequence does after the change. A pattern that does not parse is treated as overlapping
/// everything, so the caller refuses rather than risks a duplicate.
pub fn patterns_may_overlap(first: &str, second: &str) -> bool {
    let (Ok(first), Ok(second)) = (parse(first), parse(second)) else {
        return true;
    };
    let first = languages(&first);
    let second = languages(&second);
    first
        .iter()
        .any(|a| second.iter().any(|b| sequences_intersect(a, b)))
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
    fn tells_patterns_that_may_print_the_same_number() {
        // Proves the overlap check finds the numbers two patterns share, and only those.
        let overlapping = [
            // "FA2542" is year 25, seq 42 under the first and seq 2542 under the second.
            ("FA{YY}{seq}", "FA{seq}"),
            // Seq 100000 prints "100000" under both paddings.
            ("FA-{YYYY}-{seq:06}", "FA-{YYYY}-{seq:04}"),
            ("FA-{YYYY}-{seq:06}", "FA-{YYYY}-{seq:06}"),
            // The same language written twice: "F1" is seq 1 under both.
            ("F{seq}", "F{seq:1}"),
            // "2026-7" is year 2026, seq 7 under the first and seq 2026 under the second.
            ("{YYYY}-{seq}", "{seq}-7"),
        ];
        for (first, second) in overlapping {
            assert!(patterns_may_overlap(first, second), "{first} / {second}");
            assert!(patterns_may_overlap(second, first), "{second} / {first}");
        }
        let disjoint = [
            ("FA-{YYYY}-{seq:06}", "FA-{seq:06}"),
            ("FA-{YYYY}-{seq:06}", "FB-{YYYY}-{seq:06}"),
            ("FA{YYYY}{seq:06}", "FA-{YYYY}-{seq:06}"),
            // The last literal tells them apart, whatever the digits before it.
            ("F{seq:06}X", "F{seq:07}Y"),
        ];
        for (first, second) in disjoint {
            assert!(!patterns_may_overlap(first, second), "{first} / {second}");
            assert!(!patterns_may_overlap(second, first), "{second} / {first}");
        }
        // Padding alone: seq 1 is "000001" under one and "1" under the other, but seq 1000000
        // prints "1000000" under both.
        assert!(patterns_may_overlap("F{seq:06}", "F{seq}"));
    }

    #[test]
    fn knows_when_a_pattern_carries_the_year() {
        // Proves which series restart each year.
        assert!(pattern_has_year("FA-{YYYY}-{seq:06}"));
        assert!(pattern_has_year("FA{YY}{seq}"));
        assert!(!pattern_has_year("FA-{seq:06}"));
    }
}
