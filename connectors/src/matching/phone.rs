//! Vietnamese phone numbers, however written, in one form: the national
//! `0…` form of today's numbering. `0888778078`, `+84888778078`,
//! `84 888 778 078`, `0888.778.078`, `(+84) 888778078`, `0084…` and
//! `+84 0888…` are all `0888778078`; the 11-digit mobile numbers from before
//! the 2018 renumbering become today's 10 digits (`01688778078` is
//! `0388778078`). Landlines (`02…`, 11 digits since 2017) are kept as they
//! are, so an office line shared by several people is recognised.

/// The pre-2018 mobile prefixes and the ones that replaced them.
pub const RENUMBERED: [(&str, &str); 21] = [
    ("0162", "032"),
    ("0163", "033"),
    ("0164", "034"),
    ("0165", "035"),
    ("0166", "036"),
    ("0167", "037"),
    ("0168", "038"),
    ("0169", "039"),
    ("0120", "070"),
    ("0121", "079"),
    ("0122", "077"),
    ("0126", "076"),
    ("0128", "078"),
    ("0123", "083"),
    ("0124", "084"),
    ("0125", "085"),
    ("0127", "081"),
    ("0129", "082"),
    ("0186", "056"),
    ("0188", "058"),
    ("0199", "059"),
];

/// Longer than this is not one phone number, whatever it holds.
const MAX_WRITTEN: usize = 40;

/// The national form of a Vietnamese number, or `None` when `written` is
/// not a plausible one (too short or long, letters, a foreign country code,
/// an 11-digit `01…` number outside the renumbering table, a service number).
pub fn normalise_phone(written: &str) -> Option<String> {
    if written.len() > MAX_WRITTEN {
        return None;
    }
    let mut digits = String::with_capacity(16);
    let mut plus = false;
    for c in written.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if digits.is_empty() && !plus => plus = true,
            '.' | '-' | '(' | ')' => {}
            c if c.is_whitespace() => {}
            _ => return None,
        }
    }
    let international = if plus {
        Some(digits.strip_prefix("84")?)
    } else if let Some(rest) = digits.strip_prefix("0084") {
        Some(rest)
    } else if digits.starts_with("84") && matches!(digits.len(), 11 | 12) {
        Some(&digits[2..])
    } else {
        None
    };
    let national = match international {
        // `+84 0888…`: the national 0 written after the country code.
        Some(rest) => rest.strip_prefix('0').unwrap_or(rest),
        None => match digits.strip_prefix('0') {
            Some(rest) => rest,
            // A number cell in Excel drops the leading 0: `888778078`.
            None if matches!(digits.len(), 9 | 10) => &digits,
            None => return None,
        },
    };
    let number = format!("0{national}");
    match number.len() {
        10 if matches!(number.as_bytes()[1], b'3' | b'5' | b'7' | b'8' | b'9') => Some(number),
        11 if number.starts_with("02") => Some(number),
        11 => RENUMBERED
            .iter()
            .find(|(old, _)| number.starts_with(old))
            .map(|(old, new)| format!("{new}{}", &number[old.len()..])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_of_writing_a_mobile_number_is_one_number() {
        for written in [
            "0888778078",
            "+84888778078",
            "84888778078",
            "84 888 778 078",
            "0888.778.078",
            "0888 778 078",
            "0888-778-078",
            "(+84) 888778078",
            "(+84) 888.778.078",
            "+84 (0) 888 778 078",
            "+840888778078",
            "0084888778078",
            " 0888778078 ",
            "0888\u{a0}778\u{a0}078",
            "888778078",
        ] {
            assert_eq!(
                normalise_phone(written).as_deref(),
                Some("0888778078"),
                "{written:?}"
            );
        }
    }

    #[test]
    fn every_renumbered_prefix_becomes_todays() {
        for (old, new) in RENUMBERED {
            let written = format!("{old}8778078");
            let today = format!("{new}8778078");
            assert_eq!(
                normalise_phone(&written).as_deref(),
                Some(today.as_str()),
                "{written}"
            );
            // And in the international forms.
            let plus = format!("+84{}", &written[1..]);
            assert_eq!(
                normalise_phone(&plus).as_deref(),
                Some(today.as_str()),
                "{plus}"
            );
            let bare = format!("84 {}", &written[1..]);
            assert_eq!(
                normalise_phone(&bare).as_deref(),
                Some(today.as_str()),
                "{bare}"
            );
        }
        assert_eq!(
            normalise_phone("01688778078").as_deref(),
            Some("0388778078")
        );
    }

    #[test]
    fn landlines_keep_their_eleven_digits() {
        for written in [
            "0271 3879 123",
            "02713879123",
            "+84 271 3879 123",
            "(0271) 3879.123",
        ] {
            assert_eq!(
                normalise_phone(written).as_deref(),
                Some("02713879123"),
                "{written:?}"
            );
        }
    }

    #[test]
    fn what_is_not_a_plausible_number_is_no_phone() {
        for written in [
            "",
            "   ",
            "không có",
            "0888778078 (nhà riêng)",
            "0888/778078",
            "088877807",
            "08887780781",
            "+1 415 555 0100",
            "+44 20 7946 0958",
            "1900 1234",
            "0188877807",
            "01308778078",
            "0288778078",
            "0488778078",
            "0000000000",
            "00888778078",
            "++84888778078",
            "84+888778078",
            &"0".repeat(41),
        ] {
            assert_eq!(normalise_phone(written), None, "{written:?}");
        }
    }
}
