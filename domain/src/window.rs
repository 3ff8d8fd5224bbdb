//! An on/off switch with an optional date window (start included, end excluded): what delivery
//! methods, pickup groups and banners share, so the rule of when they are offered and of a
//! window that runs backwards is written once.

use chrono::{DateTime, Utc};

use crate::DomainError;

/// Refuses a window that ends at or before its start, naming `until_field`.
pub(crate) fn validate_window(
    (from_field, from): (&str, Option<DateTime<Utc>>),
    (until_field, until): (&str, Option<DateTime<Utc>>),
) -> Result<(), DomainError> {
    match (from, until) {
        (Some(from), Some(until)) if until <= from => Err(DomainError::validation(
            until_field,
            format!("must be after {from_field}"),
        )),
        _ => Ok(()),
    }
}

/// Why something switched `on` with the window `from`..`until` is not offered at `now`
/// ("not offered", "not available yet", "no longer available"), or `None` when it is.
pub(crate) fn why_not_offered(
    on: bool,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    if !on {
        Some("not offered")
    } else if from.is_some_and(|from| now < from) {
        Some("not available yet")
    } else if until.is_some_and(|until| now >= until) {
        Some("no longer available")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::test_now;
    use chrono::Duration;

    #[test]
    fn a_window_includes_its_start_and_excludes_its_end() {
        // Proves the switch wins, the start is inside, the end outside, and no bound is open.
        let now = test_now();
        let later = now + Duration::minutes(1);
        assert_eq!(why_not_offered(true, None, None, now), None);
        assert_eq!(why_not_offered(false, None, None, now), Some("not offered"));
        assert_eq!(why_not_offered(true, Some(now), Some(later), now), None);
        assert_eq!(
            why_not_offered(true, Some(later), None, now),
            Some("not available yet")
        );
        assert_eq!(
            why_not_offered(true, None, Some(now), now),
            Some("no longer available")
        );
    }

    #[test]
    fn a_window_must_run_forward() {
        // Proves an empty or backward window is refused naming its end, an open one accepted.
        let now = test_now();
        let refused = |from, until| validate_window(("starts_at", from), ("ends_at", until));
        assert!(refused(Some(now), Some(now)).is_err());
        assert!(refused(Some(now + Duration::days(1)), Some(now)).is_err());
        assert!(refused(Some(now), None).is_ok());
        assert!(refused(Some(now), Some(now + Duration::seconds(1))).is_ok());
    }
}
