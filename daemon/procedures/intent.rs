//! What a reply means for the step that asked: a confirmation, a decline,
//! a deferral, a question, or something else. Only the reply's own text counts
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
    /// Puts the request off rather than taking it back: "do not delete it
    /// yet", "noch nicht". They still want it, later: no decline closes it,
    /// and a step that would take `other` for a request to act routes it
    /// to a person (`reply_intent == 'deferral'`).
    Deferral,
    /// Says its writer will still send the proof asked for: "I'll
    /// publish the DNS record tonight", "will add the SSH key signature
    /// tomorrow". Not there yet, and not refused: a step checking
    /// identity waits for it (`reply_intent == 'promise'`).
    Promise,
    /// Thanks and nothing else: "Thank you very much!", "Danke!". It
    /// asks for nothing, neither that we act (sourcehut's self-service
    /// mail: no admin deletion) nor is it a failure to prove who one is
    /// (`reply_intent == 'thanks'`); anywhere else it is read as `other`.
    Thanks,
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
            Intent::Deferral => "deferral",
            Intent::Promise => "promise",
            Intent::Thanks => "thanks",
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
        r"\bstill (need|use|want)\b|\b(i )?(do not|don'?t|no longer) want (it|this|that|the account|my account) (deleted|removed|closed)\b|",
        // de
        r"\bversehentlich\b|\baus versehen\b|\birrtümlich\b|\bnicht (löschen|entfernen|schließen|ausführen)\b|\bzurück(ziehen|gezogen|nehmen)\b|\bes mir anders überlegt\b|\bdoch nicht\b|",
        // The polite order, "nicht" after the verb and what it names,
        // ending the clause or followed by when: "Bitte löschen Sie mein
        // Konto nicht", "Löschen Sie es bitte nicht!", "... nicht vor
        // Juni" (a deferral). Not a "nicht" that goes on to something
        // else: "Löschen Sie nicht nur mein Konto, sondern auch …",
        // "löschen Sie auch die nicht mehr genutzten Zertifikate".
        r"\b(lösch|entfern|schließ)en sie\s+(\w+\s+){0,3}?nicht(\s*($|[.,;:!)\n])|\s+(bis|erst|später|vorerst|vor|bevor|jetzt|sofort|gleich|heute)\b)|",
        // fr
        r"\bpar (erreur|accident|mégarde)\b|\bne (pas )?(supprimez|supprime|effacez|fermez) pas\b|\bne pas (supprimer|effacer|fermer)\b|\bchangé d.avis\b|\bannuler ma demande\b|",
        // es
        r"\bpor (error|accidente|equivocación)\b|\bno (borr|elimin|cancel|cierr)\w*\b|\bcambiado de opinión\b|\bcancelar mi solicitud\b"
    ))
});

/// Keeping the account, said in a clause that denies nothing
/// ([`keeps`]): "keep my account", "mein Konto (doch) behalten".
static KEEP: LazyLock<Regex> =
    LazyLock::new(|| words(r"\bkeep (my|the) account\b|\b(mein|das) konto (doch |bitte |gerne )?behalten\b"));

/// Whether `text` asks to keep the account ([`KEEP`]) in a clause with no
/// denial: "I don't want to keep my account", "Mein Konto behalten will
/// ich nicht" deny the keeping and take nothing back (a person reads them).
fn keeps(text: &str) -> bool {
    KEEP.find_iter(text).any(|m| !NEGATION.is_match(clause_around(text, m.start(), m.end())) && !conditional(text, m.start()))
}

/// A condition: "if", "unless", "wenn", "falls", "sofern", "si".
static CONDITION: LazyLock<Regex> = LazyLock::new(|| words(r"\b(if|unless|wenn|falls|sofern|si)\b"));

/// Whether the clause of `text` before byte `at` opens a condition: "If
/// you don't delete my account I will complain", "Wenn Sie mein Konto
/// nicht löschen, …", "Si no borran mi cuenta …" threaten over a
/// deletion not done, and take nothing back.
fn conditional(text: &str, at: usize) -> bool {
    CONDITION.is_match(clause_before(text, at))
}

/// The writer's own "could not": "I could not delete it myself, please
/// do it", "I did not delete anything", "Ich kann es nicht löschen".
static UNABLE: LazyLock<Regex> = LazyLock::new(|| {
    words(r"\b(could|can|did)\s*$|\b(ich|wir)\s+(\w+\s+){0,3}?(kann|konnte|könnte|können|konnten)\b|\b(kann|konnte|können|konnten)\s+(ich|wir)\b")
});

/// Whether the clause of `text` before byte `at` says its writer could
/// not, or did not, do what the words at `at` deny: no refusal, and
/// nothing taken back.
fn unable(text: &str, at: usize) -> bool {
    UNABLE.is_match(clause_before(text, at))
}

/// The clause of `text` before byte `at`: from the sign that ends the
/// one before it (`.`, `!`, `?`, `;`, `:`, `,` or a line break).
fn clause_before(text: &str, at: usize) -> &str {
    let from = text[..at].rfind(['.', '!', '?', ';', ':', ',', '\n']).map_or(0, |i| i + 1);
    &text[from..at]
}

/// Whether `text` takes the request back: [`DECLINE`]'s words outside a
/// denied "by mistake" ([`without_denied_mistakes`]), a deletion denied
/// ("do not delete") only outside a condition ([`conditional`]; "If I'm
/// not mistaken it was sent by accident" still takes it back) and not
/// as what its writer could not do ([`unable`]), or keeping the account
/// ([`keeps`]).
fn declines(text: &str) -> bool {
    let text = without_denied_mistakes(text);
    let refuses = |at: usize| !conditional(&text, at) && !unable(&text, at);
    DECLINE.find_iter(&text).any(|m| !NEGATION.is_match(m.as_str()) || refuses(m.start())) || keeps(&text)
}

/// "Why", asked without its question mark: "Warum löschen Sie es
/// nicht.", "Por qué no borran mi cuenta." ask the opposite of the
/// decline words they hold, as a question does.
static WHY: LazyLock<Regex> = LazyLock::new(|| words(r"\b(why|warum|wieso|weshalb|weswegen|pourquoi|por ?qué)\b"));

/// A request put off, not taken back: "do not delete it yet", "not
/// before June", "bitte noch nicht löschen", "pas encore", "todavía no".
/// The user still wants it done, later: a decline would close the case
/// and tell them it was withdrawn. A deferral, for a person; never
/// `other`, which a step may take for a request to act now.
static DEFERRAL: LazyLock<Regex> = LazyLock::new(|| {
    words(concat!(
        r"\b(yet|until|till|before|later|for now|for the moment|right now|next (week|month|year)|in (a|two|few|\d+) (days?|weeks?|months?))\b|",
        r"\b(noch nicht|erst|später|bis|vorerst|nächste[nr]? (woche|monat|jahr)|nicht (vor|bevor|jetzt|sofort|gleich|heute))\b|",
        r"\b(pas encore|pas maintenant|pas tout de suite|plus tard|avant|jusqu.(à|au))\b|",
        r"\b(todavía|aún|hasta|más tarde|por ahora|antes de)\b"
    ))
});

/// "By mistake" denied: "it was not a mistake", "I did not send it by
/// accident", "nicht versehentlich", "no fue por error". What it denies is
/// the taking back, so it takes nothing back; a "No," answering on its own
/// ("No, fue por error") denies nothing after it.
static NOT_BY_MISTAKE: LazyLock<Regex> = LazyLock::new(|| {
    words(concat!(
        r"\b(not|no|never|nicht|kein\w*|nie|niemals|pas|nunca|don'?t|dont|(ain|aren|didn|doesn|isn|wasn|weren)'?t)\s+[^.!?,;\n]{0,30}?",
        r"\b(?P<slip>by (accident|mistake|error)|in (error|mistake)|accident(al|ally)?|mistaken(ly)?|mistake|",
        r"versehentlich|aus versehen|irrtümlich|par (erreur|accident|mégarde)|por (error|accidente|equivocación))\b"
    ))
});

/// `text` without its denied "by mistake"s ([`NOT_BY_MISTAKE`]), except
/// where the words between the denial and the mistake take the request
/// back themselves ("do not delete it was a mistake", unpunctuated).
fn without_denied_mistakes(text: &str) -> std::borrow::Cow<'_, str> {
    NOT_BY_MISTAKE.replace_all(text, |c: &regex::Captures| {
        match (c.get(0), c.name("slip")) {
            (Some(all), Some(slip)) if DECLINE.is_match(&text[all.start()..slip.start()]) => all.as_str().to_string(),
            _ => " ".to_string(),
        }
    })
}

/// Doubt, delay, or a question in words.
static DOUBT: LazyLock<Regex> = LazyLock::new(|| {
    words(concat!(
        // A "but" attaches a condition to a yes: a person reads it.
        r"\b(but|however|unless|except|aber|jedoch|außer|mais|cependant|toutefois|sauf|pero|sin embargo|salvo|excepto)\b|",
        r"\bja,? ja\b|",
        // A question put in words, its mark left out: "Do you also remove
        // my data".
        r"\b(do|does|did|will|would|can|could|should) (you|i|we)\b|",
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
        r"\b(do not|don'?t|dont|not|never|no+|nope|nah|cannot|can'?t|nothing|none|neither|nor)\b|",
        // Every English "n't": "that wasn't me", "I didn't ask for this".
        r"\b(ain|aren|couldn|didn|doesn|hadn|hasn|haven|isn|mightn|mustn|needn|shan|shouldn|wasn|weren|won|wouldn)'?t\b|",
        r"\b(nein|nö|nee|nicht|nich|ned|nichts|kein\w*|nie|niemals)\b|",
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

/// Saying one will do it oneself: "Thanks, I'll do that", "will do",
/// "got it", "mache ich", "je vais le faire", "lo haré". In reply to
/// instructions (sourcehut's self-service deletion) nothing more is asked
/// of us; read only when it is all the reply says ([`acknowledges_only`]).
static WILL_DO: LazyLock<Regex> = LazyLock::new(|| {
    words(concat!(
        r"\b(i'?ll|i will|we'?ll|we will) (do|try|give) (that|it|this|them|a try|it a try)\b|\bwill do\b|\bgot it\b|\bi'?ll do it myself\b|",
        r"\bmache ich\b|\bwerde (ich )?(es|das) (versuchen|machen|tun)\b|\bje (vais|le vais) (le faire|essayer)\b|\bje m.en occupe\b|",
        r"\blo (haré|intentaré)\b|\bvoy a (hacerlo|intentarlo)\b"
    ))
});

/// Words a "will do" reply may hold besides its commitment: thanks, a
/// greeting and a sign-off ([`PLAIN_PHRASES`] and the writer's name are
/// taken out first). Anything else ("... but my keys?", "... if it
/// fails, delete it for me") and a person reads it.
const WILL_DO_WORDS: &[&str] = &[
    "thanks", "thank", "you", "ok", "okay", "great", "perfect", "cool", "alright", "sure", "fine", "so", "much", "very", "many",
    "i", "ll", "we", "will", "do", "that", "it", "this", "them", "try", "give", "a", "got", "now", "then", "myself", "ourselves",
    "hi", "hello", "dear", "regards", "best", "cheers", "kind",
    "danke", "vielen", "dank", "super", "gut", "mache", "ich", "werde", "es", "das", "versuchen", "machen", "tun", "gruß", "grüße", "lg",
    "merci", "beaucoup", "je", "vais", "le", "faire", "essayer", "m", "en", "occupe", "parfait", "d", "accord", "cordialement",
    "gracias", "muchas", "vale", "lo", "haré", "intentaré", "voy", "hacerlo", "intentarlo", "perfecto", "saludos",
];

/// Whether `text` says only that its writer will do it themselves.
fn acknowledges_only(text: &str, names: &[String]) -> bool {
    WILL_DO.is_match(text) && only_words(text, names, |w| WILL_DO_WORDS.contains(&w.to_lowercase().as_str()))
}

/// The proof still to come, promised: a future of the writer's own ("I'll",
/// "we will", a sentence that begins "Will"; not "will you"), a verb of
/// sending or publishing, and the proof it names ("publish the DNS
/// record", "add the SSH key signature", "send the card digits"); in
/// German, French and Spanish the future and the proof. Read only where
/// the promise itself denies nothing ([`promises`]).
static PROMISE: LazyLock<Regex> = LazyLock::new(|| {
    words(concat!(
        r"(?:\b(?:i'?ll|i will|i shall|we'?ll|we will|i'?m going to|i am going to|we'?re going to|we are going to)|(?m:^|[.!;]\s+)will)\s+",
        r"(?:\w+\s+){0,3}?(?:publish|add|send|sign|post|put|upload|set up|create|provide|forward|resend|re-send|mail|e-?mail|update|get)\b",
        r"[^.!?\n]{0,60}?\b(?:dns|txt|record|signature|signed|ssh|pgp|gpg|key|challenge|token|proof|factor|file|digits|dkim)\b|",
        r"\b(?:ich werde|werde ich|wir werden)\b[^.!?\n]{0,60}?\b(?:dns|txt|eintrag|signatur|signiert\w*|schlüssel|ssh|pgp|gpg|nachweis)|",
        r"\b(?:je vais|nous allons|j'enverrai|je publierai|j'ajouterai)\b[^.!?\n]{0,60}?\b(?:dns|txt|enregistrement|signature|signé\w*|clé|ssh|pgp|gpg|preuve)|",
        r"\b(?:voy a|vamos a|enviaré|publicaré|añadiré|agregaré)\b[^.!?\n]{0,60}?\b(?:dns|txt|registro|firma|firmad\w*|clave|ssh|pgp|gpg|prueba)"
    ))
});

/// Whether `text` promises the proof still to come ([`PROMISE`]), with
/// no denial or refusal in the clause that promises it: "I will not add
/// the DNS record", "Ich werde den DNS-Eintrag nicht anlegen" (the
/// "nicht" after the record), "No voy a añadir el registro" (the "no"
/// before the future) and "I will refuse to add it" promise nothing; "I
/// can't do DNS, but I will send the SSH signature" does.
fn promises(text: &str) -> bool {
    PROMISE.find_iter(text).any(|m| {
        let clause = clause_around(text, m.start(), m.end());
        !NEGATION.is_match(clause) && !REFUSAL.is_match(clause)
    })
}

/// A refusal said as a will: "I will refuse to add it", "ich weigere
/// mich", "je refuse", "me niego".
static REFUSAL: LazyLock<Regex> = LazyLock::new(|| {
    words(r"\b(refuse\w*|declin\w*|rather not|weigere|verweigere\w*|refus\w*|niego|rehúso|rehuso)\b")
});

/// The clause of `text` around the bytes `start..end`: from the sign that
/// ends the clause before it (`.`, `!`, `?`, `;`, `,` or a line break) to
/// the one after it. A match that begins with such a sign (". Will add")
/// starts its clause after it.
fn clause_around(text: &str, start: usize, end: usize) -> &str {
    let is_end = |c: char| ".!?;,\n".contains(c);
    let start = text[start..end].char_indices().find(|&(_, c)| !is_end(c) && !c.is_whitespace()).map_or(end, |(i, _)| start + i);
    let from = text[..start].rfind(is_end).map_or(0, |i| i + 1);
    let to = text[end..].find(is_end).map_or(text.len(), |i| end + i);
    &text[from..to]
}

/// The doing denied: "I did not manage to delete it", "I couldn't",
/// "nicht selbst gelöscht", "still not working now", "it stopped working
/// again". Nothing is resolved then.
static NOT_DONE: LazyLock<Regex> = LazyLock::new(|| {
    words(concat!(
        r"\b(did|do|does|have|has|had|could|can|was|were|is)(n'?t| not| never)\b|\b(cannot|unable|nicht|pas)\b|",
        r"\bnot (work\w*|fixed|solved|resolved|sorted)\b|\b(stopped|no longer|ceased) work\w*\b|",
        r"\bno (puedo|pude|pudo|he|lo he)\b|",
        // Trouble that stays, beside what works or what was done: "same
        // error", "storage is still broken", "then it crashes again".
        r"\b(errors?|broken|broke|fail\w*|crash\w*|down|persist\w*|fehler\w*|kaputt|abgestürzt|ausgefallen|erreurs?|panne|plante\w*|falla\w*|caíd[oa]|sigue sin)\b"
    ))
});

/// Something more asked of us beside what the writer did: "I fixed the
/// config, please restart the hub", "I figured it out: please add nodes".
/// Nothing is resolved then.
static ASKS_MORE: LazyLock<Regex> = LazyLock::new(|| {
    words(concat!(
        r"\b(please|pls|plz|bitte|por favor|s.il vous pla[iî]t|merci de)\s+(\w+\s+){0,2}?",
        r"(restart|reboot|redeploy|add|increase|check|look|investigate|fix|help|update|change|upgrade|raise|enable|install|deploy|",
        r"neu ?starten|prüfen|erhöhen|hinzufügen|redémarrer|vérifier|ajouter|augmenter|reiniciar|revisar|añadir|aumentar)\b"
    ))
});

/// Whether `text` says nothing more is needed ([`RESOLVED`]) in a sentence
/// that denies nothing ("No está resuelto", "Rien n'est résolu", "Nothing
/// works again", "It never works again"), and nowhere says the doing
/// failed or the trouble stays ([`NOT_DONE`]). A step may close on it
/// (2i2c's `on_resolved`): the engineers' action no longer stands.
fn says_resolved(text: &str) -> bool {
    !NOT_DONE.is_match(text)
        && !ASKS_MORE.is_match(text)
        && RESOLVED.find_iter(text).any(|m| {
            let from = text[..m.start()].rfind(['.', '!', '?', ';', '\n']).map_or(0, |i| i + 1);
            let to = text[m.end()..].find(['.', '!', '?', ';', '\n']).map_or(text.len(), |i| m.end() + i);
            !NEGATION.is_match(&text[from..to])
        })
}

/// Words a confirmation may hold besides the pack's `confirmation` words:
/// who confirms what, politeness, a greeting and a sign-off, in the
/// languages of the packs' confirmation patterns. A confirmation is read
/// from what it says, not from what it lacks: the lists of declines and
/// denials can never name every way to take a yes back ("yes, it was",
/// "yes, keep it", "yes, if my certificates stay", "yes by acident",
/// "Das war ja mein Sohn", a sarcastic "oh yes, brilliant", an emoji), so
/// a reply with any word outside these is no confirmation and a person
/// reads it. Words that can turn a yes are not here: "if", Spanish "si",
/// "but", "keep", "still", "it was", "works", "fine" and "again" (the
/// account works again: nothing to delete), "dispute" (a verb too), and
/// "deleted" ("I deleted the request").
const PLAIN_WORDS: &[&str] = &[
    // en
    "yes", "yeah", "yep", "yup", "i", "we", "hereby", "confirm", "confirmed", "confirming", "accept", "accepted", "agree", "agreed",
    "the", "my", "our", "this", "that", "it", "a", "an", "and", "of", "to", "under", "am", "do", "also",
    "account", "accounts", "deletion", "delete", "removal", "remove", "close", "closure", "request", "requested",
    "permanently", "completely", "everything", "data", "associated",
    "arbitration", "cca", "drp", "cacert",
    "please", "go", "ahead", "proceed", "with", "thanks", "thank", "thx", "you", "much", "very", "many", "ok", "okay",
    "hello", "hi", "hey", "dear", "regards", "best", "kind", "wishes", "greetings", "cheers", "sincerely", "yours",
    "truly", "faithfully", "support", "team", "all", "now", "from",
    // de
    "ja", "ich", "wir", "hiermit", "bestätige", "bestätigen", "bestätigt", "akzeptiere", "akzeptiert", "also",
    "die", "den", "das", "der", "mein", "meine", "meinen", "meines", "meiner", "und", "auf", "von", "alles", "daten",
    "konto", "kontos", "löschung", "löschen", "antrag", "schiedsverfahren", "einverstanden",
    "bitte", "danke", "vielen", "viele", "dank", "hallo", "moin", "servus", "grüße", "grüßen", "grüsse", "grüssen", "gruß", "gruss",
    "freundliche", "freundlichen", "herzliche", "herzlichen", "mit", "beste", "liebe", "lg", "vg", "mfg",
    // fr
    "oui", "je", "j", "confirme", "accepte", "l", "la", "le", "les", "suppression", "supprimer", "compte", "mon", "ma", "mes",
    "données", "arbitrage", "demande", "d", "accord", "et", "merci", "bonjour", "cordialement", "salutations", "bien", "vous",
    "de", "depuis",
    // es
    "sí", "yo", "confirmo", "acepto", "el", "mi", "cuenta", "solicitud", "eliminación", "borrar", "eliminar", "datos",
    "arbitraje", "y", "por", "favor", "gracias", "muchas", "hola", "un", "saludo", "saludos",
    "atentamente", "desde",
];

/// Whole lines and phrases a confirmation may hold whose words alone would
/// not be plain: a phone's or mail client's line ("Sent from my iPhone",
/// "Get Outlook for Android", "Von meinem iPhone gesendet"), the names of
/// the policies accepted, thanks for help, a wish for a good day.
static PLAIN_PHRASES: LazyLock<Regex> = LazyLock::new(|| {
    words(concat!(
        // A device's or a client's line, whole and naming nothing but the
        // device: "Von meinem …" and "Gesendet von …" also begin German
        // sentences ("Gesendet von meinem Sohn, …").
        r"(?m)^[ \t]*(sent from my (iphone|ipad|android|phone|mobile|smartphone|samsung[\w ]{0,20}|galaxy[\w ]{0,20}|pixel[\w ]{0,10}|blackberry)|sent from (mail|outlook|yahoo mail|gmail|proton mail|protonmail)( for (windows|android|ios|iphone|ipad|mac))?|get outlook for (ios|android)|von meinem (iphone|ipad|android|smartphone|handy|samsung[\w ]{0,20}|galaxy[\w ]{0,20}) gesendet|gesendet von (meinem )?(iphone|ipad|smartphone|handy|outlook|mail)|envoyé (de|depuis) mon (iphone|ipad|smartphone|téléphone|mobile)|enviado desde mi (iphone|ipad|android|smartphone|móvil|movil|celular))[ \t]*[.!]?[ \t]*$|",
        r"\b(cacert )?community agreement\b|\bdispute resolution( policy)?\b|",
        r"\bthank(s| you)( very much)? for (your|the) (help|support|time|reply|answer|work)\b|\bthanks in advance\b|\bsorry for the (trouble|inconvenience)\b|",
        r"\bhave a (nice|good|great) (day|week|weekend)\b|\bschönen tag( noch)?\b|\bbien à vous\b|",
        // Greetings of the time of day, only as the pair: "morgen" alone
        // is "tomorrow" ("Ich bestätige morgen").
        r"\bgood (morning|afternoon|evening)\b|\bguten (morgen|tag|abend)\b|\bbonne (journée|soirée)\b|\bbuen(os|as)? (días|día|tardes)\b|",
        // A greeting to whoever answered, as the reply's first line.
        // The greeted name is capitalised, on the same line.
        r"\A\s*(hello|hi|hey|dear|good morning|hallo|liebe[rs]?|sehr geehrte[rs]?|guten (morgen|tag)|bonjour|hola|buenos días|estimad[oa]s?)[ \t]+(?-i:\p{Lu})[\w-]*([ \t](?-i:\p{Lu})[\w-]*)?[ \t]*[,!]?[ \t]*$|",
        // The wish itself, said as a wish: "I want my account deleted".
        r"\b(i )?(want|would like|'d like|wish) (my|the) (cacert )?account (to be )?(deleted|removed|closed)\b|",
        r"\bich möchte (mein|das) konto löschen( lassen)?\b|\bquiero (borrar|eliminar) (mi|la) cuenta\b|",
        // "Si" for "sí", typed without the accent, first and with a comma
        // (a "si" elsewhere is "if").
        r"\A\s*si\s*,"
    ))
});

/// A yes to undoing the request rather than to the deletion: "Yes, please
/// delete the request", "I confirm the removal of my request", "Ja, bitte
/// den Antrag löschen", "Oui, supprimer la demande". A person reads it.
static UNDOES_REQUEST: LazyLock<Regex> = LazyLock::new(|| {
    words(concat!(
        r"\b(delete|deleted|remove|removed|erase|close|closed|cancel|drop|withdraw|löschen|gelöscht|entfernen|zurückziehen|stornieren|supprimer|supprimez|supprimé|effacer|annuler|borrar|borren|eliminar|eliminen|cancelar)\b\W+(\w+\W+){0,6}?(request|antrag|anfrage|demande|solicitud|deletion|löschung|suppression|eliminación)\b|",
        r"\b(removal|deletion|closure|closing|cancellation|löschung|suppression|annulation|eliminación|cancelación)\W+(of|des|meines|de|del)\W+(\w+\W+){0,6}?(request|antrag|anfrage|demande|solicitud)\b|",
        r"\b(antrag|anfrage|löschung)\W+(\w+\W+){0,2}?(löschen|zurückziehen|entfernen|stornieren)\b"
    ))
});

/// The intent of `reply_text` (the whole body; quotes are cut here).
/// `confirmation` is the pack's pattern for a confirming reply; `names`
/// are the writer's own names (from the From header's display name),
/// which a confirmation may be signed with ([`unsigned`]).
/// A thank-you: what a [`Intent::Thanks`] reply must say.
static THANKS: LazyLock<Regex> = LazyLock::new(|| words(r"\b(thanks|thank you|thx|danke|vielen dank|merci|gracias)\b"));

/// Words a thank-you may hold besides it: a greeting and a sign-off
/// ([`PLAIN_PHRASES`] and the writer's name are taken out first).
const THANKS_WORDS: &[&str] = &[
    "thanks", "thank", "thx", "you", "so", "much", "very", "many", "a", "lot", "again", "ok", "okay", "great", "perfect", "cool",
    "hi", "hello", "dear", "regards", "best", "cheers", "kind",
    "danke", "vielen", "dank", "schön", "super", "gruß", "grüße", "lg",
    "merci", "beaucoup", "parfait", "cordialement",
    "gracias", "muchas", "mil", "perfecto", "saludos",
];

/// Whether `text` says only thank you.
fn thanks_only(text: &str, names: &[String]) -> bool {
    THANKS.is_match(text) && only_words(text, names, |w| THANKS_WORDS.contains(&w.to_lowercase().as_str()))
}

pub fn intent(confirmation: &Regex, reply_text: &str, names: &[String]) -> Intent {
    let own = crate::message::own_words(reply_text);
    let guessed_cut = own.uncertain_cut.is_some();
    let own = typed_as_ascii(&own.text);
    let text = own.trim();
    if text.is_empty() {
        return Intent::Other;
    }
    if declines(text) {
        // "Why not delete it now?" holds "not delete" and asks the
        // opposite: a decline asked as a question is for a person, never
        // a silent close.
        if text.contains(QUESTION_MARKS) || WHY.is_match(text) {
            return Intent::Question;
        }
        return if DEFERRAL.is_match(text) { Intent::Deferral } else { Intent::Decline };
    }
    if text.contains(QUESTION_MARKS) {
        return Intent::Question;
    }
    // Before the doubt words: "I'll add the DNS record later" promises.
    if promises(text) {
        return Intent::Promise;
    }
    let confirms = confirmation.is_match(text);
    let doubt = DOUBT.is_match(text);
    let negated = NEGATION.is_match(text);
    if confirms && !doubt && !negated {
        // What was cut may have been the writer's ("do not delete"): a
        // confirmation would rest on a guess. A person reads it, as they
        // read a reply that says more than a confirmation does.
        let plain = !guessed_cut && !UNDOES_REQUEST.is_match(text) && says_only_yes(confirmation, text, names);
        return if plain { Intent::Confirm } else { Intent::Other };
    }
    if says_resolved(text) && !confirms && !doubt {
        return Intent::Resolved;
    }
    if !confirms && !doubt && !negated && acknowledges_only(text, names) {
        return Intent::Resolved;
    }
    if !confirms && !doubt && !negated && thanks_only(text, names) {
        return Intent::Thanks;
    }
    if doubt && !confirms {
        return Intent::Question;
    }
    Intent::Other
}

/// The intent of a reply: [`intent`] of its text, signed with the
/// writer's display name; a confirmation only when what else its reader is
/// shown says the same (the HTML alternative of a plain text) or nothing
/// ([`Message::shown_besides_text`]): a plain "Yes" beside an HTML "NO
/// WAIT, do not delete", or beside a PDF, is for a person.
///
/// [`Message::shown_besides_text`]: crate::message::Message::shown_besides_text
pub fn of_message(confirmation: &Regex, reply: &crate::message::Message) -> Intent {
    let names = names_of(reply.single_from().and_then(|a| a.name.as_deref()));
    let read = intent(confirmation, &reply.text, &names);
    if read != Intent::Confirm {
        return read;
    }
    if reply.html_alternative().is_some_and(|html| intent(confirmation, &html, &names) != Intent::Confirm)
        || reply.shown_besides_text().is_some()
    {
        return Intent::Other;
    }
    Intent::Confirm
}

/// A question mark in any of the forms people type: ASCII, Spanish, the
/// interrobang, emoji and the small and doubled forms.
const QUESTION_MARKS: &[char] = &['?', '¿', '\u{203d}', '\u{2e2e}', '\u{2047}', '\u{2048}', '\u{2049}', '\u{fe56}', '\u{2753}', '\u{2754}'];

/// Whether `text` says nothing but a confirmation: every word is wholly
/// one of the pack's `confirmation` words or a [`PLAIN_WORDS`] word (after
/// [`PLAIN_PHRASES`] and the writer's name at the end, [`unsigned`], are
/// taken out), and there is no sign but plain punctuation (no emoji, no
/// symbol: "Yes 👎"). Word by word, so a word glued to a confirmation
/// ("confirmnothing", "bestätigenicht", two HTML cells with nothing
/// between) is no confirmation word.
fn says_only_yes(confirmation: &Regex, text: &str, names: &[String]) -> bool {
    only_words(text, names, |w| {
        PLAIN_WORDS.contains(&w.to_lowercase().as_str()) || confirmation.find(w).is_some_and(|m| m.start() == 0 && m.end() == w.len())
    })
}

/// Whether every word of `text` is `allowed`, after [`PLAIN_PHRASES`] and
/// the writer's name where it is signed ([`unsigned`]) are taken out, with
/// no sign but plain punctuation (no emoji, no symbol).
fn only_words(text: &str, names: &[String], allowed: impl Fn(&str) -> bool) -> bool {
    let phrased = PLAIN_PHRASES.replace_all(text, " ");
    let rest = unsigned(&phrased, names);
    if rest.chars().any(|c| !(c.is_alphanumeric() || c.is_whitespace() || ".,;:!'\"()-".contains(c))) {
        return false;
    }
    rest.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).all(allowed)
}

/// A sign-off that a name may follow on its line: "Thanks, Ann".
static SIGN_OFF_ENDS: LazyLock<Regex> = LazyLock::new(|| {
    words(r"\b(thanks|thank you|regards|cheers|best|wishes|greetings|sincerely|yours|danke|grüße|grüßen|grüsse|gruß|gruss|lg|vg|mfg|merci|cordialement|à vous|gracias|saludo|saludos)\s*[,.!-]?\s*$")
});

/// `text` without the writer's name where a reply is signed: up to three
/// words of the display name `names` at its very end, on a line of their
/// own or after a sign-off ("Thanks, Ann"). Nowhere else does a name
/// count: a display name is the writer's to choose, and "Ann Keep" must
/// not make "Yes, keep it" plain.
fn unsigned<'t>(text: &'t str, names: &[String]) -> &'t str {
    let trimmed = text.trim_end_matches(|c: char| c.is_whitespace() || ".,!".contains(c));
    let mut end = trimmed.len();
    for _ in 0..3 {
        let head = trimmed[..end].trim_end_matches([' ', '\t']);
        let start = head.char_indices().rev().find(|&(_, c)| !c.is_alphanumeric()).map_or(0, |(i, c)| i + c.len_utf8());
        let word = &head[start..];
        if word.is_empty() || !names.contains(&word.to_lowercase()) {
            break;
        }
        end = start;
    }
    if end == trimmed.len() {
        return text;
    }
    let before = trimmed[..end].trim_end_matches([' ', '\t']);
    if before.is_empty() || before.ends_with('\n') || SIGN_OFF_ENDS.is_match(before) { before } else { text }
}

/// The words of a display name, lowercased: what a writer signs with.
pub fn names_of(display_name: Option<&str>) -> Vec<String> {
    display_name
        .unwrap_or("")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() > 1)
        .map(str::to_lowercase)
        // A name that denies is no name to sign a yes with.
        .filter(|w| !NEGATION.is_match(w) && !DECLINE.is_match(w))
        .collect()
}

/// `text` with its typographic punctuation as ASCII ([`fold`]), and the
/// apostrophes keyboards type in its place (the grave accent, the acute
/// accent of German keyboards) as the apostrophe: phones type "don’t"
/// (U+2019), and "yes, please don’t delete it" must read as "don't".
///
/// [`fold`]: super::rule_text::fold
fn typed_as_ascii(text: &str) -> String {
    // Invisible characters first: "n\u{200b}ot" is "not" to its reader;
    // characters that draw as a blank (Hangul fillers) are spaces to it.
    let visible: String = text
        .chars()
        .filter(|c| !crate::message::is_invisible(*c))
        .map(|c| if c != '\n' && crate::message::is_blank(c) { ' ' } else { c })
        .collect();
    // Line by line: `fold` makes every space a plain one, line breaks too.
    let folded: Vec<String> = visible.split('\n').map(|line| super::rule_text::fold(line).replace(['`', '\u{b4}', '\u{2bc}'], "'")).collect();
    folded.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply from "Ann Example".
    fn read(confirmation: &Regex, text: &str) -> Intent {
        intent(confirmation, text, &names_of(Some("Ann Example")))
    }

    fn cacert() -> Regex {
        words(r"\b(yes|confirm(?:s|ed|ing)?|i accept|accepted|agree|ja|bestätige[nt]?|einverstanden|oui|accepte|sí|confirmo)\b")
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
        // Decline words in a question ask something: a person reads it.
        ("Why not delete it now?", Intent::Question),
        ("Warum nicht löschen?", Intent::Question),
        ("Please don't delete my account! Did you get my mail?", Intent::Question),
        ("I changed my mind, please cancel my request.", Intent::Decline),
        ("I'd like to withdraw my request.", Intent::Decline),
        ("Nein, bitte nicht löschen.", Intent::Decline),
        ("Bitte löschen Sie mein Konto nicht, ich brauche es noch.", Intent::Decline),
        ("Löschen Sie es bitte nicht!", Intent::Decline),
        ("Ich möchte mein Konto doch behalten.", Intent::Decline),
        ("Warum löschen Sie mein Konto nicht?", Intent::Question),
        ("Ja, löschen Sie mein Konto. Ich brauche es nicht mehr.", Intent::Other),
        ("Ja bitte löschen Sie alles ich brauche es nicht mehr", Intent::Other),
        ("Bitte löschen Sie nicht nur mein Konto, sondern auch alle Zertifikate.", Intent::Other),
        ("Ja, löschen Sie bitte auch die nicht mehr genutzten Zertifikate.", Intent::Other),
        ("Warum löschen Sie mein Konto nicht endlich.", Intent::Other),
        ("Warum löschen Sie es nicht.", Intent::Question),
        ("Why not delete it now.", Intent::Question),
        ("Por qué no borran mi cuenta de una vez.", Intent::Question),
        ("Löschen Sie es bitte nicht vor Juni.", Intent::Deferral),
        ("Bitte löschen Sie mein Konto nicht sofort.", Intent::Deferral),
        ("Mein Konto behalten will ich nicht, löschen Sie es.", Intent::Other),
        ("Ich will das Konto behalten? Nein.", Intent::Question),
        ("I don't want to keep my account.", Intent::Other),
        ("Nein, ich möchte mein Konto behalten.", Intent::Decline),
        ("No, keep my account.", Intent::Decline),
        ("If you don't delete my account I will complain.", Intent::Other),
        ("Wenn Sie mein Konto nicht löschen, beschwere ich mich.", Intent::Other),
        ("Falls Sie es nicht entfernen, wende ich mich an das Schiedsgericht.", Intent::Other),
        ("Si no borran mi cuenta voy a denunciarlo.", Intent::Other),
        ("Si vous ne supprimez pas mon compte, je porte plainte.", Intent::Other),
        ("If you keep my account I will complain.", Intent::Other),
        ("Falls Sie fragen: bitte nicht löschen.", Intent::Decline),
        ("If possible, please do not delete my account.", Intent::Decline),
        ("Ich kann es nicht löschen, bitte machen Sie das für mich.", Intent::Other),
        ("Ich konnte mein Konto nicht löschen. Bitte löschen Sie es.", Intent::Other),
        ("I could not delete it myself, please do it for me.", Intent::Other),
        ("I did not delete anything, please go ahead.", Intent::Other),
        ("I can see it now: please do not delete it.", Intent::Decline),
        ("Ich kann nur sagen: bitte nicht löschen!", Intent::Decline),
        ("Das war versehentlich, ich bestätige nichts.", Intent::Decline),
        ("Non, c'était par erreur, ne supprimez pas mon compte.", Intent::Decline),
        ("No, fue por error. No borren mi cuenta.", Intent::Decline),
        // "By mistake" denied takes nothing back: a person reads it.
        ("It was not a mistake. Please delete.", Intent::Other),
        ("I did not send this by mistake, please go ahead.", Intent::Other),
        ("This was no accident, delete it.", Intent::Other),
        ("Das war nicht versehentlich, bitte löschen.", Intent::Other),
        ("No fue por error, bórrenla.", Intent::Other),
        ("It wasn't sent by mistake, but do not delete it yet.", Intent::Deferral),
        ("If I'm not mistaken it was sent by accident.", Intent::Decline),
        ("Yes do not delete it was a mistake", Intent::Decline),
        ("Please don't delete my account it was an accident", Intent::Decline),
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
        ("I did not manage to delete it myself.", Intent::Other),
        ("I couldn't delete it myself, it is not fixed.", Intent::Other),
        ("Ich habe es nicht selbst gelöscht.", Intent::Other),
        ("Never mind, I did it myself.", Intent::Decline),
        ("It works again now, thanks!", Intent::Resolved),
        ("Hat sich erledigt, danke.", Intent::Resolved),
        ("Thank you for your message.", Intent::Other),
        // Thanks and nothing else asks for nothing.
        ("Thank you very much!", Intent::Thanks),
        ("Thanks a lot!\n\nAnn", Intent::Thanks),
        ("Thank you for your help.", Intent::Thanks),
        ("Vielen Dank!", Intent::Thanks),
        ("Thanks, please delete it for me.", Intent::Other),
        ("Thanks, but I still can't log in.", Intent::Question),
        // Saying one will do it oneself, and nothing else.
        ("Thanks, I'll do that.", Intent::Resolved),
        ("OK, will do. Thanks!\n\nAnn", Intent::Resolved),
        ("Got it, thank you very much.", Intent::Resolved),
        ("Danke, mache ich.", Intent::Resolved),
        ("Merci, je vais le faire.", Intent::Resolved),
        ("Gracias, lo haré.", Intent::Resolved),
        ("Thanks, I'll try that. If it fails, please delete it for me.", Intent::Other),
        ("Thanks, I'll do that, but what about my repositories", Intent::Question),
        ("I'll do that tomorrow, my keys are on another machine.", Intent::Other),
        ("Thanks, I'll try that, but I can't log in.", Intent::Question),
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
            let got = read(&re, text);
            if got != *want {
                wrong.push(format!("{text:?}: {got:?}, expected {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// A proof still to come, promised, is neither a refusal to give it
    /// nor a question: the identity check waits for it. A promise denied
    /// promises nothing.
    #[test]
    fn a_proof_promised_for_later_is_a_promise() {
        let re = cacert();
        for reply in [
            "I'll publish the DNS record tonight.",
            "Signed with my PGP key. Will add the SSH key signature tomorrow.",
            "I will add the DNS record later",
            "I can't reach my DNS today, but I will send the SSH signature tomorrow.",
            "We'll put the token file on our web server this afternoon.",
            "Ich werde den DNS-Eintrag heute Abend anlegen.",
            "Je vais publier l'enregistrement DNS ce soir.",
            "Mañana voy a enviar la firma SSH.",
        ] {
            assert_eq!(read(&re, reply), Intent::Promise, "{reply:?}");
        }
        for (reply, want) in [
            ("I will not add the DNS record.", Intent::Other),
            ("I won't be able to sign anything, my keys are gone.", Intent::Other),
            ("Will you add the key to my account?", Intent::Question),
            ("I'll do that tomorrow, my keys are on another machine.", Intent::Other),
            ("Thanks, I'll do that.", Intent::Resolved),
            ("Ich werde den DNS-Eintrag nicht anlegen.", Intent::Other),
            ("No voy a añadir el registro DNS.", Intent::Other),
            ("I will refuse to add the DNS record.", Intent::Other),
        ] {
            assert_eq!(read(&re, reply), want, "{reply:?}");
        }
    }

    /// "Works now" denied is news that nothing works: no "resolved".
    #[test]
    fn still_not_working_is_not_resolved() {
        let re = cacert();
        for reply in [
            "It's still not working now.",
            "The hub stopped working again now.",
            "Still not fixed now for anyone.",
            "No está resuelto.",
            "Rien n'est résolu.",
            "Nothing works again now.",
            "I did what you suggested. Same error.",
            "Hub works again now. Storage is still broken.",
            "I fixed the config, please restart the hub.",
        ] {
            assert_ne!(read(&re, reply), Intent::Resolved, "{reply:?}");
        }
        assert_eq!(read(&re, "It works again now, thanks!"), Intent::Resolved);
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
            assert_ne!(read(&re, reply), Intent::Confirm, "{reply:?}");
        }
    }

    /// A request put off is not taken back: the user wants it done later,
    /// so the case must not close as withdrawn. A person reads it.
    #[test]
    fn a_yes_that_puts_the_deletion_off_is_no_withdrawal() {
        let re = cacert();
        for reply in [
            "Yes, but do not delete it yet, I need to export my certificates.",
            "Please don't delete it until I have downloaded my data.",
            "Do not proceed before June, please.",
            "Ja, aber bitte noch nicht löschen.",
            "Bitte erst nächsten Monat, nicht löschen bis dahin.",
            "Oui, mais ne supprimez pas encore mon compte.",
            "Sí, pero no borren la cuenta todavía.",
        ] {
            assert_eq!(read(&re, reply), Intent::Deferral, "{reply:?}");
        }
        // Taken back with no time named stays a decline.
        assert_eq!(read(&re, "Please do not delete my account, I still need it."), Intent::Decline);
    }

    /// Phones type "don’t" (U+2019), German keyboards "don´t", some
    /// people "don`t": each says what "don't" says.
    #[test]
    fn an_apostrophe_as_keyboards_type_it_takes_a_yes_back_as_the_ascii_one_does() {
        let re = cacert();
        for apostrophe in ['\'', '\u{2019}', '\u{2018}', '\u{b4}', '`', '\u{2bc}'] {
            let reply = format!("Yes \u{2014} please don{apostrophe}t delete it");
            assert_eq!(read(&re, &reply), Intent::Decline, "{reply:?}");
            let reply = format!("Yes, I agree it wasn{apostrophe}t me.");
            assert_ne!(read(&re, &reply), Intent::Confirm, "{reply:?}");
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
            assert_ne!(read(&re, reply), Intent::Confirm, "{reply:?}");
        }
    }

    /// A confirmation is what it says, not what it lacks: a yes with any
    /// word beyond who confirms what, politeness and a name goes to a
    /// person. Each of these contains a yes and no word the decline,
    /// doubt and negation lists know.
    #[test]
    fn a_yes_that_says_anything_more_goes_to_a_person() {
        let re = cacert();
        for reply in [
            // "It was sent by accident?" "Yes, it was." Typos, synonyms.
            "Yes, it was.",
            "The latter, yes.",
            "yes by acident",
            "Yes, accidently.",
            "Yes, it was a misclick.",
            "Ja, versehendlich.",
            "Ja, das war ein Versehen.",
            "Oui, c'était une erreur.",
            "Sí, fue sin querer.",
            // Cancel, keep, still using, changed mind in other words.
            "Yes, please cancel it.",
            "Yes, stop.",
            "Yes, keep it.",
            "Yes, I'm still using it.",
            "Ja, bitte behalten.",
            "Oui, annulez.",
            "Sí, quiero conservarla.",
            // Conditions, deferrals, parts, hedges.
            "Yes, if my certificates stay valid.",
            "Yes, as long as my domains are kept.",
            "Ja, wenn es sein muss.",
            "Oui, à condition de garder mes certificats.",
            "Sí, siempre que mis certificados sigan válidos.",
            "Yes, next month.",
            "Yes, delete my old account only; keep the new one.",
            "Yes I guess",
            // A confirm word about something else.
            "I'll confirm tomorrow.",
            "I confirm receipt of your email.",
            "I confirm the request is fraudulent.",
            "I agree, this looks like fraud.",
            "Das war ja mein Sohn!",
            "Yes, this is my email address.",
            // Misspelt denials, sarcasm, emoji, look-alike letters.
            "Yes, don t delete",
            "yes dnt delete",
            "NOOOO!!! YES IT WAS MY KID",
            "Ja, bitte nich löschen",
            "YES. DO N0T DELETE",
            "Yes, do n\u{200b}ot delete",
            "Yes, do n\u{43e}t delete",
            "Oh yes, absolutely, please delete 15 years of my certificates. Brilliant.",
            "Yes \u{1f44e}",
            "Yes \u{2753}",
            // Plain words that together undo the request or say the
            // account is needed after all.
            "Yes, it works again now. Thank you!",
            "Yes, all fine now, thanks.",
            "Yes, please delete my deletion request.",
            "I confirm the removal of my request.",
            "I agree to remove the deletion request.",
            "Ja, bitte den Antrag löschen.",
            "Oui, supprimer la demande.",
            "Sí, borrar la solicitud.",
            "Yes, I dispute the deletion.",
            "Yes, delete this mail.",
            // A word glued to a confirmation, by a blank that is no space,
            // a missing space or a joining sign.
            "Yes, I confirm\u{3164}that\u{3164}I\u{3164}do\u{3164}NOT\u{3164}want\u{3164}it",
            "Ja, ich bestätigenicht",
            "Yes, I confirm_not",
            "Yes, I confirm\u{203f}nothing",
            "Confirmed2027",
            "Ja ja.",
            "Yes, please close the request.",
            "Si confirmo, que pasa con mis certificados",
            "Yes, I want my account.",
            // A third review: a German sentence that begins as a phone's
            // line does, a greeting that crosses a line, a question
            // without its mark, a request closed or removed.
            "Ja, ich bestätige.\nVon meinem Konto bitte nur die E-Mail-Adresse entfernen.",
            "Ja\nGesendet von meinem Sohn, ich selbst möchte das Konto behalten.",
            "Yes, I confirm.\n\nSent from my phone; please keep my certificates valid until June",
            "Hi\nnext month.\nYes, I confirm.",
            "Hello tomorrow,\nyes",
            "Yes, do you also remove all my data",
            "Yes. Do you confirm the deletion of my account",
            "Yes, I confirm the closure of my request.",
            "Yes, remove all of the data of my request",
            "Oui, je confirme la suppression de mes données et de ma demande",
        ] {
            assert_ne!(read(&re, reply), Intent::Confirm, "{reply:?}");
        }
    }

    /// What a plain confirmation holds besides yes: the request's words,
    /// a greeting, thanks, the writer's name and the phone's line.
    #[test]
    fn a_plain_confirmation_with_greeting_thanks_and_name_confirms() {
        let re = cacert();
        for reply in [
            "Hello,\n\nyes, I hereby confirm my account deletion request.\n\nKind regards,\nAnn Example",
            "Hi, I confirm. Please go ahead with the deletion. Thanks!\n\nSent from my iPhone",
            "Hallo,\nja, ich bestätige die Löschung meines Kontos.\nMit freundlichen Grüßen\nAnn",
            "Bonjour, oui, je confirme la suppression de mon compte. Cordialement, Ann",
            "Hola, sí, confirmo la solicitud de eliminación de mi cuenta. Saludos, Ann",
            "Yep, I confirm. Thank you for your help!\n\nGet Outlook for Android",
            "Guten Morgen,\nja, ich bestätige die Löschung meines CAcert-Kontos.\nLG Ann\n\nVon meinem iPhone gesendet",
            "Oui, je confirme. Bonne journée.",
            "Sí, confirmo. Muchas gracias.",
            "Hello Bob,\n\nI confirm that I want my account deleted and I accept the arbitration under the CCA and DRP.\n\nBest regards,\nAnn Example",
            "Yes I confirm, please close my account.\n\nThanks\nAnn",
            "Yes, I confirm. Best wishes, Ann",
            "Yes, I confirm it. Sorry for the trouble.",
            "Si, confirmo.\n\nAnn",
        ] {
            assert_eq!(read(&re, reply), Intent::Confirm, "{reply:?}");
        }
        // Signed with a name that is not the writer's: a person reads it.
        assert_eq!(read(&re, "Yes, I confirm.\n\nThanks,\nBob"), Intent::Other);
        // A display name that denies signs nothing.
        assert_eq!(intent(&re, "Yes, I confirm.\n\nNot Me", &names_of(Some("Not Me"))), Intent::Other);
        // A name counts only where a reply is signed: "Ann Keep" does not
        // make "keep" plain, nor "Ann Cancel" "cancel".
        assert_eq!(intent(&re, "Yes, keep it.", &names_of(Some("Ann Keep"))), Intent::Other);
        assert_eq!(intent(&re, "Yes, cancel.", &names_of(Some("Ann Cancel"))), Intent::Other);
        assert_eq!(intent(&re, "Yes, I confirm.\n\nAnn Keep", &names_of(Some("Ann Keep"))), Intent::Confirm);
        assert_eq!(intent(&re, "Yes, I confirm. Thanks, Ann", &names_of(Some("Ann Keep"))), Intent::Confirm);
    }

    /// A P.S. is the writer's, even below the signature.
    #[test]
    fn a_postscript_below_the_signature_is_no_confirmation() {
        let re = cacert();
        assert_eq!(read(&re, "Yes.\n-- \nAnn\nP.S. Please keep the certificates until I exported them."), Intent::Other);
        assert_eq!(read(&re, "Yes\n__________\nPS: only the old account."), Intent::Other);
    }

    #[test]
    fn the_signature_does_not_count() {
        let re = cacert();
        assert_eq!(read(&re, "Yes, I confirm.\n-- \nAnn Example\nHead of IT, ACME Corp\n+49 30 1234567 | https://example.org"), Intent::Confirm);
        // Sentences below the separator may be the writer's.
        assert_eq!(read(&re, "Yes, I confirm.\n-- \nAnn\nNB: only the old account, keep the new one!"), Intent::Other);
        assert_eq!(read(&re, "Yes\n--\nAnn\nDo not delete before June 1st"), Intent::Other);
        assert_eq!(read(&re, "Yes\n-- \nAnn\nsorry my son typed the yes above"), Intent::Other);
    }
}
