//! Validation of human text and references, shared by the aggregates.

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
