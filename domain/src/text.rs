//! Validation of human text and references, shared by the aggregates.

use crate::limits::URL_CHARS_MAX;
use crate::DomainError;

/// A trimmed, non-empty text of at most `chars_max` characters with no control characters.
pub(crate) fn validate_text(field: &str, value: &str, chars_max: usize) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::validation(field, "must not be empty"));
    }
    if value.trim() != value {
        return Err(DomainError::validation(
            field,
            "must not start or end with spaces",
        ));
    }
    if value.chars().count() > chars_max {
        return Err(DomainError::validation(
            field,
            format!("at most {chars_max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Like [`validate_text`] when the value is present.
pub(crate) fn validate_optional_text(
    field: &str,
    value: Option<&str>,
    chars_max: usize,
) -> Result<(), DomainError> {
    value.map_or(Ok(()), |v| validate_text(field, v, chars_max))
}

/// A text of paragraphs: not blank, at most `chars_max` characters, and no control characters
/// other than line breaks and tabs (a message or a shop's terms have paragraphs, unlike a name).
pub(crate) fn validate_paragraphs(
    field: &str,
    value: &str,
    chars_max: usize,
) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::validation(field, "must not be empty"));
    }
    if value.chars().count() > chars_max {
        return Err(DomainError::validation(
            field,
            format!("at most {chars_max} characters"),
        ));
    }
    let forbidden = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(forbidden) {
        return Err(DomainError::validation(
            field,
            "must not contain control characters other than line breaks and tabs",
        ));
    }
    Ok(())
}

/// An absolute http(s) URL with a host, no spaces, at most [`URL_CHARS_MAX`] characters: a
/// storefront puts it in an `href` or `src` as it is, so anything else (`javascript:`, a
/// relative path) is refused here.
pub fn validate_url(field: &str, url: &str) -> Result<(), DomainError> {
    if url.chars().count() > URL_CHARS_MAX {
        return Err(DomainError::validation(
            field,
            format!("at most {URL_CHARS_MAX} characters"),
        ));
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let host = rest.map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
    if host.is_none_or(str::is_empty) {
        return Err(DomainError::validation(
            field,
            "must be an absolute http:// or https:// URL with a host",
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DomainError::validation(
            field,
            "must not contain spaces or control characters",
        ));
    }
    Ok(())
}
