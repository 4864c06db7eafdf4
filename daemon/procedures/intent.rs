//! What a reply means for the step that asked: a confirmation, a decline,
//! a question, or something else. Only the reply's own text counts
//! (quoted lines, attributions and the signature are cut), and a reply is
//! a confirmation only when it says so *and* says nothing that takes it
//! back: "yes, it was sent by accident, do NOT delete" contains "yes" and
//! must never delete an account. Anything not clearly a confirmation goes
//! to a person (or to the step's `on_decline`), never to the next
//! irreversible step.
//!
//! The word lists cover the languages of the packs' confirmation patterns:
//! English, German, French and Spanish.

use std::sync::LazyLock;

use regex::Regex;

/// The meaning of a reply for the step waiting for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    /// Says yes and nothing against it.
    Confirm,
    /// Takes the request back: sent by accident, do not delete, changed
    /// my mind.
    Decline,
    /// Asks something (a question mark, or hedges such as "wait").
    Question,
    /// Nothing more is asked: thanks, done it myself, solved.
    Resolved,
    /// None of the above, or several at once: a person reads it.
    Other,
}

impl Intent {
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Confirm => "confirm",
            Intent::Decline => "decline",
            Intent::Question => "question",
            Intent::Resolved => "resolved",
            Intent::Other => "other",
        }
    }
}

fn words(pattern: &str) -> Regex {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()
        .expect("intent patterns are valid")
}

/// Taking the request back.
static DECLINE: LazyLock<Regex> = LazyLock::new(|| {
    words(concat!(
        r"\b(by|in) (accident|mistake|error)\b|\baccident(al|ally)?\b|\bmistaken(ly)?\b|\bmistake\b|",
        r"\bchanged? my mind\b|\bcancel (my|the|this) (request|deletion)\b|\bwithdraw\w*\b|\bnever ?mind\b|",
        r"\b(do not|don'?t|dont|please not|not|never|no need to)\s+(delete|remove|close|erase|proceed|continue|execute|cancel|refund|disable|transfer|do (it|that|this)|go ahead)\b|",
        r"\bkeep (my|the) account\b|\bstill (need|use|want)\b|\b(i )?(do not|don'?t|no longer) want (it|this|that|the account|my account) (deleted|removed|closed)\b|",
        // de
        r"\bversehentlich\b|\baus versehen\b|\birrtümlich\b|\bnicht (löschen|entfernen|schließen|ausführen)\b|\bzurück(ziehen|gezogen|nehmen)\b|\bes mir anders überlegt\b|\bdoch nicht\b|",
        // fr
        r"\bpar (erreur|accident|mégarde)\b|\bne (pas )?(supprimez|supprime|effacez|fermez) pas\b|\bne pas (supprimer|effacer|fermer)\b|\bchangé d.avis\b|\bannuler ma demande\b|",
        // es
        r"\bpor (error|accidente|equivocación)\b|\bno (borr|elimin|cancel|cierr)\w*\b|\bcambiado de opinión\b|\bcancelar mi solicitud\b"
    ))
});

/// Doubt, delay, or a question in words.
static DOUBT: LazyLock<Regex> = LazyLock::new(|| {
    words(concat!(
        // A "but" attaches a condition to a yes: a person reads it.
        r"\b(but|however|unless|except|aber|jedoch|außer|mais|cependant|toutefois|sauf|pero|sin embargo|salvo|excepto)\b|",
        r"\b(wait|hold( on| off)?|on hold|maybe|perhaps|not sure|unsure|before (you|that)|first|later|think about|let me|what happens|how do|can i|could i|would it|is it possible)\b|",
        r"\b(warte\w*|moment|vielleicht|nicht sicher|zuerst|später)\b|",
        r"\b(attendez|attends|peut-être|pas sûr|d.abord|plus tard)\b|",
        r"\b(espera\w*|quizás|quizá|tal vez|no estoy seguro|primero|más tarde)\b"
    ))
});

/// A negation anywhere ("no", "not", "never", "nein"...): what it denies
/// is not for a pattern to guess, so the reply is no confirmation. A flat
/// "no" alone is not a decline either ("No, I don't want to recover it,
/// delete it"): a person reads it.
static NEGATION: LazyLock<Regex> = LazyLock::new(|| {
    words(concat!(
        r"\b(do not|don'?t|dont|not|never|no|nope|cannot|can'?t|nothing|none|neither|nor)\b|",
        // Every English "n't": "that wasn't me", "I didn't ask for this".
        r"\b(ain|aren|couldn|didn|doesn|hadn|hasn|haven|isn|mightn|mustn|needn|shan|shouldn|wasn|weren|won|wouldn)'?t\b|",
        r"\b(nein|nicht|nichts|kein\w*|nie|niemals)\b|",
        r"\b(ne|pas|jamais|non|rien)\b|\bn'\w|",
        r"\b(nunca|nada|ningun\w*|ningún|tampoco)\b"
    ))
});

/// Nothing more requested.
static RESOLVED: LazyLock<Regex> = LazyLock::new(|| {
    words(concat!(
        r"\b(i|i've|i have|we|we've|we have) (already )?(deleted|removed|closed|done|did|fixed|solved|sorted|figured)\b|\b(did|done|deleted) it myself\b|",
        r"\b(works|working) (now|again)\b|\b(all )?(sorted|solved|resolved|fixed) (now|it)\b|\bno longer (needed|necessary)\b|\bnothing (else|more) (is )?needed\b|",
        r"\bselbst gelöscht\b|\bhat sich erledigt\b|\berledigt\b|\bfunktioniert wieder\b|",
        r"\bsupprimé moi-même\b|\bc.est réglé\b|\bréso?lu\b|",
        r"\blo (he )?borrado yo\b|\bya (está|lo) resuelto\b|\bresuelto\b"
    ))
});

/// The intent of `reply_text` (the whole body; quotes are cut here).
/// `confirmation` is the pack's pattern for a confirming reply.
pub fn intent(confirmation: &Regex, reply_text: &str) -> Intent {
    let own = crate::message::own_words(reply_text);
    let guessed_cut = own.cut_unquoted_original;
    let own = typed_as_ascii(&own.text);
    let text = own.trim();
    if text.is_empty() {
        return Intent::Other;
    }
    if DECLINE.is_match(text) {
        return Intent::Decline;
    }
    if text.contains('?') || text.contains('¿') {
        return Intent::Question;
    }
    let confirms = confirmation.is_match(text);
    let doubt = DOUBT.is_match(text);
    let negated = NEGATION.is_match(text);
    if confirms && !doubt && !negated {
        // Below an attribution, lines without ">" were cut as the
        // original: if any of them was the writer's ("do not delete"),
        // a confirmation would rest on a guess. A person reads it.
        return if guessed_cut { Intent::Other } else { Intent::Confirm };
    }
    if RESOLVED.is_match(text) && !confirms && !doubt {
        return Intent::Resolved;
    }
    if doubt && !confirms {
        return Intent::Question;
    }
    Intent::Other
}

/// `text` with its typographic punctuation as ASCII ([`fold`]), and the
/// apostrophes keyboards type in its place (the grave accent, the acute
/// accent of German keyboards) as the apostrophe: phones type "don’t"
/// (U+2019), and "yes, please don’t delete it" must read as "don't".
///
/// [`fold`]: super::rule_text::fold
fn typed_as_ascii(text: &str) -> String {
    super::rule_text::fold(text).replace(['`', '\u{b4}', '\u{2bc}'], "'")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cacert() -> Regex {
        words(r"\b(yes|confirm\w*|i accept|accepted|agree|ja|bestätige\w*|einverstanden|oui|accepte|sí|confirmo)\b")
    }

    /// Real-shaped replies to "confirm or tell us it was sent by accident".
    const TABLE: &[(&str, Intent)] = &[
        ("Yes, I confirm the deletion and accept the arbitration.", Intent::Confirm),
        ("yes", Intent::Confirm),
        ("Confirmed.\n\nThanks,\nAnn", Intent::Confirm),
        ("I accept the arbitration under the CCA and the DRP. Please go ahead.", Intent::Confirm),
        ("I agree.", Intent::Confirm),
        ("Ja, ich bestätige die Löschung.", Intent::Confirm),
        ("Einverstanden.", Intent::Confirm),
        ("Oui, je confirme.", Intent::Confirm),
        ("J'accepte l'arbitrage.", Intent::Confirm),
        ("Sí, confirmo la solicitud.", Intent::Confirm),
        ("Yes.\n\nOn Mon, 1 Dec 2026, CAcert support wrote:\n> If this was sent by accident, please respond\n> do not delete", Intent::Confirm),
        ("yes, it was sent by accident, do NOT delete", Intent::Decline),
        ("Yes it was sent by accident. Do not delete my account!", Intent::Decline),
        ("No, please don't delete it.", Intent::Decline),
        ("Please do not delete my account, I still need it.", Intent::Decline),
        ("I sent that by mistake, sorry.", Intent::Decline),
        ("That was a mistake", Intent::Decline),
        ("I changed my mind, please cancel my request.", Intent::Decline),
        ("I'd like to withdraw my request.", Intent::Decline),
        ("Nein, bitte nicht löschen.", Intent::Decline),
        ("Das war versehentlich, ich bestätige nichts.", Intent::Decline),
        ("Non, c'était par erreur, ne supprimez pas mon compte.", Intent::Decline),
        ("No, fue por error. No borren mi cuenta.", Intent::Decline),
        ("No.", Intent::Other),
        ("Nein", Intent::Other),
        ("No, I don't want to recover it, please delete it.", Intent::Other),
        ("No problem, yes, go ahead.", Intent::Other),
        ("Yes - wait, what happens to my certificates?", Intent::Question),
        ("Will my certificates still work?", Intent::Question),
        ("¿Qué pasa con mis certificados?", Intent::Question),
        ("Please wait, I need to check something first.", Intent::Question),
        ("Yes, but hold on until next week.", Intent::Other),
        ("Yes, I do not need it any more.", Intent::Other),
        ("Ja, aber ich bin nicht sicher.", Intent::Other),
        ("Oui mais pas maintenant.", Intent::Other),
        ("Thanks, I deleted it myself.", Intent::Resolved),
        ("Never mind, I did it myself.", Intent::Decline),
        ("It works again now, thanks!", Intent::Resolved),
        ("Hat sich erledigt, danke.", Intent::Resolved),
        ("Thank you for your message.", Intent::Other),
        ("", Intent::Other),
        ("> yes\n> I confirm", Intent::Other),
        // Yahoo's original, not quoted with ">": neither her yes (what is
        // below might be hers) nor our "by accident" decides.
        ("Yes, I confirm.\n\nOn Tuesday, December 1, 2026, CAcert support <s@cacert.org> wrote:\n\nIf this was sent by accident, please respond", Intent::Other),
        ("Sent from my phone", Intent::Other),
    ];

    #[test]
    fn replies_mean_what_they_say() {
        let re = cacert();
        let mut wrong = Vec::new();
        for (text, want) in TABLE {
            let got = intent(&re, text);
            if got != *want {
                wrong.push(format!("{text:?}: {got:?}, expected {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn a_yes_that_takes_itself_back_is_never_a_confirmation() {
        let re = cacert();
        for reply in [
            "yes, it was sent by accident, do NOT delete",
            "YES by accident",
            "Yes. Don't delete.",
            "yes... no, wait",
            "Yes? I didn't ask for this",
            "Ja, versehentlich",
            "Oui, par erreur",
            "Sí, por error",
        ] {
            assert_ne!(intent(&re, reply), Intent::Confirm, "{reply:?}");
        }
    }

    /// Phones type "don’t" (U+2019), German keyboards "don´t", some
    /// people "don`t": each says what "don't" says.
    #[test]
    fn an_apostrophe_as_keyboards_type_it_takes_a_yes_back_as_the_ascii_one_does() {
        let re = cacert();
        for apostrophe in ['\'', '\u{2019}', '\u{2018}', '\u{b4}', '`', '\u{2bc}'] {
            let reply = format!("Yes \u{2014} please don{apostrophe}t delete it");
            assert_eq!(intent(&re, &reply), Intent::Decline, "{reply:?}");
            let reply = format!("Yes, I agree it wasn{apostrophe}t me.");
            assert_ne!(intent(&re, &reply), Intent::Confirm, "{reply:?}");
        }
    }

    /// A yes next to any denial or condition is unclear, and an unclear
    /// reply goes to a person, never to the irreversible step.
    #[test]
    fn a_yes_with_a_denial_or_a_condition_goes_to_a_person() {
        let re = cacert();
        for reply in [
            "Yes, but I didn't ask for this",
            "yes, that wasnt me",
            "I haven't decided yet, yes",
            "Yes, I won't need it",
            "Yes, I confirm, but keep my certificates",
            "Yes, unless my certificates are lost",
            "Ja, aber erst nächsten Monat",
            "Ja, nichts löschen",
            "Oui, n\u{2019}effacez rien",
            "Oui, mais pas tout de suite",
            "Sí, pero todavía nada",
        ] {
            assert_ne!(intent(&re, reply), Intent::Confirm, "{reply:?}");
        }
    }

    #[test]
    fn the_signature_does_not_count() {
        let re = cacert();
        assert_eq!(intent(&re, "Yes, I confirm.\n-- \nDo not reply to this address?"), Intent::Confirm);
    }
}
