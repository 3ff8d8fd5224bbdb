//! The shop's customer account form (seed 000, "Comptes clients"): which of the standard fields
//! a storefront shows and which it requires, and up to three additional fields of the shop's
//! own, free text or a choice among options ("Civilité": "M.", "Mme").
//!
//! The names stay required whatever the form says: invoices, credit notes and the ledger's
//! customer accounts are addressed to them. The email is the account itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::text::{validate_optional_text, validate_text};
use crate::DomainError;

/// Additional fields a form has at most (seed 000: "Champ additionnel 1, 2 et 3").
pub const EXTRA_FIELDS_MAX: usize = 3;
/// Options of a choice field, at most.
pub const EXTRA_FIELD_OPTIONS_MAX: usize = 20;
/// Characters of a field's key, label, option or answer.
pub const EXTRA_FIELD_TEXT_CHARS_MAX: usize = 200;
/// Characters of a field's description.
pub const EXTRA_FIELD_DESCRIPTION_CHARS_MAX: usize = 500;

/// Whether a storefront shows a standard field and whether the customer must fill it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldRule {
    Hidden,
    Optional,
    Mandatory,
}

/// A field of the shop's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraField {
    /// The answer's key in a profile's `extra`: lower-case letters, digits, `_` and `-`.
    pub key: String,
    /// The name the storefront shows ("Nom d'affichage").
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The answers allowed; empty for free text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    pub mandatory: bool,
}

/// The form: rules for the optional standard fields and the shop's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountForm {
    pub phone: FieldRule,
    pub address: FieldRule,
    #[serde(default)]
    pub extra_fields: Vec<ExtraField>,
}

/// What every shop asked before forms existed: phone and address optional, nothing more.
impl Default for AccountForm {
    fn default() -> Self {
        AccountForm {
            phone: FieldRule::Optional,
            address: FieldRule::Optional,
            extra_fields: Vec::new(),
        }
    }
}

/// What a customer filled in, as the form judges it.
pub struct FilledIn<'a> {
    pub phone: Option<&'a str>,
    pub has_address: bool,
    pub extra: &'a BTreeMap<String, String>,
}

impl AccountForm {
    /// Checks the form itself: at most [`EXTRA_FIELDS_MAX`] fields with distinct well-formed
    /// keys, labels, bounded descriptions, distinct non-empty options.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.extra_fields.len() > EXTRA_FIELDS_MAX {
            return Err(DomainError::validation(
                "extra_fields",
                format!("at most {EXTRA_FIELDS_MAX} additional fields"),
            ));
        }
        for (index, field) in self.extra_fields.iter().enumerate() {
            field.validate(&format!("extra_fields[{index}]"))?;
            if self.extra_fields[..index]
                .iter()
                .any(|f| f.key == field.key)
            {
                return Err(DomainError::validation(
                    format!("extra_fields[{index}].key"),
                    "each field needs its own key",
                ));
            }
        }
        Ok(())
    }

    fn field(&self, key: &str) -> Option<&ExtraField> {
        self.extra_fields.iter().find(|field| field.key == key)
    }

    /// Checks a new account's profile against the form: mandatory fields filled, every answer
    /// to a field of the form and, for a choice, one of its options.
    pub fn check(&self, filled: &FilledIn<'_>) -> Result<(), DomainError> {
        self.check_change(filled, &BTreeMap::new())
    }

    /// As [`AccountForm::check`], for a changed profile: an answer to a field the shop has
    /// removed since may stay as it was (clients send back what they read), not change.
    pub fn check_change(
        &self,
        filled: &FilledIn<'_>,
        before: &BTreeMap<String, String>,
    ) -> Result<(), DomainError> {
        let phone_given = filled.phone.is_some_and(|phone| !phone.trim().is_empty());
        if self.phone == FieldRule::Mandatory && !phone_given {
            return Err(DomainError::validation(
                "phone",
                "the shop's account form requires it",
            ));
        }
        if self.address == FieldRule::Mandatory && !filled.has_address {
            return Err(DomainError::validation(
                "address",
                "the shop's account form requires it",
            ));
        }
        for field in self.extra_fields.iter().filter(|f| f.mandatory) {
            if filled
                .extra
                .get(&field.key)
                .is_none_or(|a| a.trim().is_empty())
            {
                return Err(DomainError::validation(
                    format!("extra.{}", field.key),
                    format!("the shop's account form requires \"{}\"", field.label),
                ));
            }
        }
        for (key, answer) in filled.extra {
            match self.field(key) {
                Some(field) => field.check_answer(answer)?,
                None if before.get(key) == Some(answer) => {}
                None => {
                    return Err(DomainError::validation(
                        format!("extra.{key}"),
                        "the shop's account form has no such field",
                    ))
                }
            }
        }
        Ok(())
    }
}

impl ExtraField {
    fn validate(&self, path: &str) -> Result<(), DomainError> {
        let key_ok = !self.key.is_empty()
            && self.key.len() <= 40
            && self
                .key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !key_ok {
            return Err(DomainError::validation(
                format!("{path}.key"),
                "1 to 40 of a-z, 0-9, '_' and '-'",
            ));
        }
        validate_text(
            &format!("{path}.label"),
            &self.label,
            EXTRA_FIELD_TEXT_CHARS_MAX,
        )?;
        validate_optional_text(
            &format!("{path}.description"),
            self.description.as_deref(),
            EXTRA_FIELD_DESCRIPTION_CHARS_MAX,
        )?;
        if self.options.len() > EXTRA_FIELD_OPTIONS_MAX {
            return Err(DomainError::validation(
                format!("{path}.options"),
                format!("at most {EXTRA_FIELD_OPTIONS_MAX} options"),
            ));
        }
        for (index, option) in self.options.iter().enumerate() {
            validate_text(
                &format!("{path}.options[{index}]"),
                option,
                EXTRA_FIELD_TEXT_CHARS_MAX,
            )?;
            if self.options[..index].contains(option) {
                return Err(DomainError::validation(
                    format!("{path}.options[{index}]"),
                    "options must differ",
                ));
            }
        }
        Ok(())
    }

    fn check_answer(&self, answer: &str) -> Result<(), DomainError> {
        let path = format!("extra.{}", self.key);
        if self.options.is_empty() {
            return validate_optional_text(&path, Some(answer), EXTRA_FIELD_TEXT_CHARS_MAX);
        }
        match self.options.iter().any(|option| option == answer) {
            true => Ok(()),
            false => Err(DomainError::validation(
                path,
                format!("must be one of: {}", self.options.join(", ")),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn civility(mandatory: bool) -> ExtraField {
        ExtraField {
            key: "civilite".into(),
            label: "Civilité".into(),
            description: None,
            options: vec!["M.".into(), "Mme".into()],
            mandatory,
        }
    }

    fn form() -> AccountForm {
        AccountForm {
            phone: FieldRule::Mandatory,
            address: FieldRule::Hidden,
            extra_fields: vec![
                civility(true),
                ExtraField {
                    key: "club".into(),
                    label: "Photo-club".into(),
                    description: Some("Le club dont vous êtes membre".into()),
                    options: vec![],
                    mandatory: false,
                },
            ],
        }
    }

    fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn filled<'a>(phone: Option<&'a str>, extra: &'a BTreeMap<String, String>) -> FilledIn<'a> {
        FilledIn {
            phone,
            has_address: false,
            extra,
        }
    }

    #[test]
    fn a_form_is_bounded_and_well_formed() {
        // Proves the form's own rules: three fields at most, keys shaped and distinct, options
        // distinct.
        assert!(form().validate().is_ok());
        let mut four = form();
        four.extra_fields = (0..4)
            .map(|n| ExtraField {
                key: format!("f{n}"),
                ..civility(false)
            })
            .collect();
        assert!(four.validate().is_err());
        let mut twice = form();
        twice.extra_fields[1].key = "civilite".into();
        assert!(twice.validate().is_err());
        let mut bad_key = form();
        bad_key.extra_fields[0].key = "Civilité".into();
        assert!(bad_key.validate().is_err());
        let mut same_options = form();
        same_options.extra_fields[0].options = vec!["M.".into(), "M.".into()];
        assert!(same_options.validate().is_err());
        let mut no_label = form();
        no_label.extra_fields[0].label = " ".into();
        assert!(no_label.validate().is_err());
    }

    #[test]
    fn a_profile_fills_what_the_form_requires_with_allowed_answers() {
        // Proves mandatory standard and extra fields, choices among options, free text, and
        // answers to no field refused.
        let form = form();
        let good = answers(&[("civilite", "Mme"), ("club", "Les Déclencheurs")]);
        assert!(form.check(&filled(Some("0478000000"), &good)).is_ok());
        let code = |result: Result<(), DomainError>| result.map_err(|e| e.to_string()).unwrap_err();
        assert!(code(form.check(&filled(None, &good))).contains("phone"));
        assert!(code(form.check(&filled(Some(" "), &good))).contains("phone"));
        let missing = answers(&[("club", "x")]);
        assert!(code(form.check(&filled(Some("04"), &missing))).contains("civilite"));
        let off_list = answers(&[("civilite", "Dr")]);
        assert!(code(form.check(&filled(Some("04"), &off_list))).contains("M., Mme"));
        let unknown = answers(&[("civilite", "M."), ("age", "40")]);
        assert!(code(form.check(&filled(Some("04"), &unknown))).contains("extra.age"));
        let address_form = AccountForm {
            address: FieldRule::Mandatory,
            ..AccountForm::default()
        };
        let none = answers(&[]);
        assert!(address_form.check(&filled(None, &none)).is_err());
        let with_address = FilledIn {
            has_address: true,
            ..filled(None, &none)
        };
        assert!(address_form.check(&with_address).is_ok());
    }

    #[test]
    fn a_change_may_keep_an_answer_to_a_removed_field_but_not_change_it() {
        // Proves a profile read before the shop removed a field can be sent back unchanged.
        let form = AccountForm::default();
        let before = answers(&[("club", "Les Déclencheurs")]);
        assert!(form.check_change(&filled(None, &before), &before).is_ok());
        let changed = answers(&[("club", "Autre")]);
        assert!(form.check_change(&filled(None, &changed), &before).is_err());
        assert!(form.check(&filled(None, &before)).is_err());
    }
}
