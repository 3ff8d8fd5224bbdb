//! The demo shop's storefront settings from the fixture, which gives its contact and its hours
//! the way a French shop writes them on its door ("Mar–Sam 9h30–19h").

use chrono::NaiveTime;
use comptoir_domain::shop::{
    OpenInterval, OpeningHours, ShopContact, StorefrontSettings, WeekHours,
};

/// Weekdays as French shops abbreviate them, Monday first.
const DAYS: [&str; 7] = ["lun", "mar", "mer", "jeu", "ven", "sam", "dim"];

/// The settings the fixture's shop gives: contact, and hours when they read as a range of
/// days with one opening interval.
pub(super) fn settings(email: &str, phone: &str, hours: &str) -> StorefrontSettings {
    StorefrontSettings {
        contact: ShopContact {
            email: Some(email.to_lowercase()),
            phone: Some(phone.to_owned()),
            address: None,
        },
        opening_hours: OpeningHours {
            week: french_hours(hours).unwrap_or_default(),
            closed_days: Vec::new(),
        },
        ..StorefrontSettings::default()
    }
}

/// "Mar–Sam 9h30–19h": the days from the first to the second, open between the two times.
fn french_hours(text: &str) -> Option<WeekHours> {
    let (days, times) = text.trim().split_once(' ')?;
    let (first, last) = split_range(days)?;
    let (opens, closes) = split_range(times)?;
    let day_index = |name: &str| DAYS.iter().position(|day| name.to_lowercase() == *day);
    let (first, last) = (day_index(first)?, day_index(last)?);
    let interval = OpenInterval {
        opens: french_time(opens)?,
        closes: french_time(closes)?,
    };
    let mut week: [Vec<OpenInterval>; 7] = Default::default();
    for day in week.iter_mut().take(last + 1).skip(first) {
        day.push(interval);
    }
    let [monday, tuesday, wednesday, thursday, friday, saturday, sunday] = week;
    Some(WeekHours {
        monday,
        tuesday,
        wednesday,
        thursday,
        friday,
        saturday,
        sunday,
    })
}

/// "a–b" with an en dash or a hyphen.
fn split_range(text: &str) -> Option<(&str, &str)> {
    text.split_once('–').or_else(|| text.split_once('-'))
}

/// "9h30", "19h".
fn french_time(text: &str) -> Option<NaiveTime> {
    let (hours, minutes) = text.split_once('h')?;
    let minutes = if minutes.is_empty() { "0" } else { minutes };
    NaiveTime::from_hms_opt(hours.parse().ok()?, minutes.parse().ok()?, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("time")
    }

    #[test]
    fn reads_the_fixtures_hours() {
        // Proves "Mar–Sam 9h30–19h" opens Tuesday to Saturday, 9:30 to 19:00, and no other day.
        let week = french_hours("Mar–Sam 9h30–19h").expect("understood");
        let open = vec![OpenInterval {
            opens: time(9, 30),
            closes: time(19, 0),
        }];
        assert!(week.monday.is_empty() && week.sunday.is_empty());
        for day in [
            &week.tuesday,
            &week.wednesday,
            &week.thursday,
            &week.friday,
            &week.saturday,
        ] {
            assert_eq!(day, &open);
        }
    }

    #[test]
    fn hours_it_cannot_read_leave_the_week_empty() {
        // Proves text in another shape gives no hours rather than wrong ones.
        assert_eq!(french_hours("sur rendez-vous"), None);
        assert_eq!(french_hours("Mar–Xyz 9h30–19h"), None);
        assert_eq!(french_hours("Mar–Sam 9h30–25h"), None);
        let settings = settings("Contact@Shop.example", "+33 1", "sur rendez-vous");
        assert_eq!(settings.opening_hours.week, WeekHours::default());
        assert_eq!(
            settings.contact.email.as_deref(),
            Some("contact@shop.example")
        );
    }
}
