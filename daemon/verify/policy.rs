//! The identity policy: how many factors an account needs (two with 2FA,
//! else one) and how many distinct factors passed. Also the one factor that
//! is pure policy: the last four card digits, which prove identity only for
//! billing matters (sourcehut procedure, "Identity verification").

use regex::Regex;
use std::sync::LazyLock;

use super::Factor;
use super::accounts::Account;

/// Factors an account needs before anything is disclosed or changed.
pub fn required(account: Option<&Account>) -> u32 {
    match account {
        Some(a) if a.two_factor => 2,
        _ => 1,
    }
}

/// Distinct passing factors; each kind counts once however it passed.
pub fn met<'a>(factors: impl IntoIterator<Item = &'a Factor>) -> u32 {
    factors.into_iter().filter(|f| f.passed()).count() as u32
}

/// Words that make a nearby 4-digit number a card reference.
static CARD_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(card|cards|credit|debit|ending|ends|ended|last|digits|visa|mastercard|amex|payment)\b")
        .expect("static regex")
});
/// 4-digit groups standing alone: not part of a longer number, a date
/// (2024-05), a time or a decimal. Byte ranges into `text`.
fn four_digit_groups(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let before = start.checked_sub(1).map(|p| b[p]);
        let after = b.get(i).copied();
        let after2 = b.get(i + 1).copied();
        let glued_before = matches!(before, Some(b'-' | b'.' | b'/' | b':' | b','));
        let glued_after = matches!(after, Some(b'-' | b'/' | b':'))
            || (matches!(after, Some(b'.' | b',')) && after2.is_some_and(|c| c.is_ascii_digit()));
        if i - start == 4 && !glued_before && !glued_after {
            out.push((start, i));
        }
    }
    out
}
/// How close (in characters) a card word must be to the digits.
const NEAR: usize = 40;

/// `billing_last4`: passes only for billing procedures, when the message
/// names exactly one 4-digit group near a card word and it is the one on
/// file. Several candidates fail: guessing by listing numbers is refused.
pub fn check_billing_last4(text: &str, account: Option<&Account>, billing: bool) -> Factor {
    if !billing {
        return Factor::none("counts only for billing matters");
    }
    let Some(on_file) = account.and_then(|a| a.billing_last4.as_deref()) else {
        return Factor::none("no card on file for this account");
    };
    let candidates = card_digits(text);
    match candidates.as_slice() {
        [] => Factor::none("the message gives no card digits"),
        [one] if *one == on_file => {
            Factor::pass("the last four card digits match the card on file")
        }
        [_] => Factor::fail("the card digits given do not match the card on file"),
        _ => Factor::fail(format!(
            "the message names {} different 4-digit numbers near card words; ask for the last four digits alone",
            candidates.len()
        )),
    }
}

/// Whether `text` gives card digits `check_billing_last4` could pass
/// once the card on file is known: one 4-digit group near a card word.
pub fn gives_card_digits(text: &str) -> bool {
    card_digits(text).len() == 1
}

/// The distinct 4-digit groups near a card word in `text`.
fn card_digits(text: &str) -> Vec<&str> {
    let words: Vec<(usize, usize)> = CARD_WORDS
        .find_iter(text)
        .map(|m| (m.start(), m.end()))
        .collect();
    let mut candidates: Vec<&str> = four_digit_groups(text)
        .into_iter()
        .filter(|&(start, end)| {
            words
                .iter()
                .any(|&(s, e)| (start >= e && start - e <= NEAR) || (s >= end && s - end <= NEAR))
        })
        .map(|(start, end)| &text[start..end])
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(two_factor: bool) -> Account {
        Account {
            username: "alice".into(),
            emails: vec!["alice@example.org".into()],
            two_factor,
            pgp_keys: vec![],
            ssh_keys: vec![],
            domains: vec![],
            billing_last4: Some("4242".into()),
        }
    }

    #[test]
    fn two_factor_accounts_need_two() {
        assert_eq!(required(Some(&account(true))), 2);
        assert_eq!(required(Some(&account(false))), 1);
        assert_eq!(required(None), 1);
        let f = [
            Factor::pass("a"),
            Factor::fail("b"),
            Factor::none("c"),
            Factor::pass("d"),
        ];
        assert_eq!(met(&f), 2);
    }

    #[test]
    fn last4_only_for_billing_and_only_near_card_words() {
        let a = account(false);
        let ok = "Please refund me, my card ends in 4242. Thanks";
        assert!(check_billing_last4(ok, Some(&a), true).passed());
        assert!(!check_billing_last4(ok, Some(&a), false).passed());
        assert!(check_billing_last4("The last four digits are: 4242", Some(&a), true).passed());
        // Not near a card word.
        let far = "I have 4242 repositories and I would like a refund for my subscription, the card is fine.";
        assert!(!check_billing_last4(far, Some(&a), true).passed());
        // Part of a longer number, a date, a time.
        assert!(!check_billing_last4("card 42424", Some(&a), true).passed());
        assert!(!check_billing_last4("card charged 2024-4242", Some(&a), true).passed());
        assert!(!check_billing_last4("card at 12:4242", Some(&a), true).passed());
        // Wrong, or several guesses.
        assert_eq!(
            check_billing_last4("card ending 1234", Some(&a), true).result,
            super::super::Outcome::Fail
        );
        assert_eq!(
            check_billing_last4("card ending 1234 or maybe 4242", Some(&a), true).result,
            super::super::Outcome::Fail
        );
        assert!(!check_billing_last4("card ending 4242", None, true).passed());
        assert!(check_billing_last4("card 4242 4242 4242 4242", Some(&a), true).passed());
        assert_eq!(
            check_billing_last4("card 1111 4242", Some(&a), true).result,
            super::super::Outcome::Fail
        );
    }
}
