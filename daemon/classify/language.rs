//! Replies in the sender's language: a pack may hold translations of its
//! templates in `templates/<pack>/<lang>/` (ISO 639-1 codes: `de`, `fr`);
//! a draft uses the one in the language the request was written in when
//! the pack has it, else the pack's own. Staff notes are never translated:
//! they are for the team.

use crate::procedures::Pack;
use crate::message::Message;

/// The request's language as an ISO 639-1 code, when the text says so
/// clearly enough (whatlang's reliability); `None` for short or mixed text.
pub fn of_message(msg: &Message) -> Option<&'static str> {
    let subject = super::rules::clean_subject(&msg.subject);
    let body = super::rules::strip_quoted(&msg.text);
    crate::learn::features::language(&format!("{subject}\n{body}")).and_then(iso639_1)
}

/// The template to render: `<lang>/<template>` when the pack has that
/// translation, else `template`.
pub fn template_for<'a>(pack: &'a Pack, template: &'a str, lang: Option<&str>) -> &'a str {
    lang.and_then(|l| pack.templates.get_key_value(&format!("{l}/{template}")))
        .map_or(template, |(k, _)| k.as_str())
}

/// The two-letter code of the languages a pack is likely to translate
/// into; a language without one gets the pack's default templates.
fn iso639_1(lang: whatlang::Lang) -> Option<&'static str> {
    use whatlang::Lang::*;
    Some(match lang {
        Eng => "en",
        Deu => "de",
        Fra => "fr",
        Spa => "es",
        Ita => "it",
        Por => "pt",
        Nld => "nl",
        Swe => "sv",
        Nob => "nb",
        Dan => "da",
        Fin => "fi",
        Pol => "pl",
        Ces => "cs",
        Rus => "ru",
        Ukr => "uk",
        Jpn => "ja",
        Cmn => "zh",
        Kor => "ko",
        Tur => "tr",
        Ell => "el",
        Hun => "hu",
        Ron => "ro",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(subject: &str, body: &str) -> Message {
        Message::parse(format!("From: a@example.org\r\nSubject: {subject}\r\n\r\n{body}\r\n").into_bytes()).unwrap()
    }

    #[test]
    fn german_and_french_requests_are_recognised_and_quotes_do_not_count() {
        let de = msg("Konto löschen", "Hallo, bitte löschen Sie mein Konto und alle dazugehörigen Daten. Vielen Dank!");
        assert_eq!(of_message(&de), Some("de"));
        let fr = msg("Suppression de compte", "Bonjour, je voudrais supprimer mon compte et toutes mes données, s'il vous plaît. Merci.");
        assert_eq!(of_message(&fr), Some("fr"));
        let quoted = msg("Re: x", "Yes, please go ahead and do it.\n> Bitte löschen Sie mein Konto und alle dazugehörigen Daten.");
        assert_ne!(of_message(&quoted), Some("de"));
    }

    #[test]
    fn a_translation_is_used_only_when_the_pack_has_it() {
        let pack = Pack::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/sourcehut")).unwrap();
        assert_eq!(template_for(&pack, "account-deletion.txt", Some("de")), "de/account-deletion.txt");
        assert_eq!(template_for(&pack, "account-deletion.txt", Some("fr")), "fr/account-deletion.txt");
        assert_eq!(template_for(&pack, "account-deletion.txt", Some("ja")), "account-deletion.txt");
        assert_eq!(template_for(&pack, "account-deletion.txt", None), "account-deletion.txt");
    }
}
