//! What the model reads of a message: the words its author wrote (the
//! subject without `Re:` prefixes, the body without quotes and signature),
//! stemmed in the message's language, plus character trigrams of each word
//! (typos, compounds, inflections the stemmer misses) and pairs of adjacent
//! words ("delete account" is not "delete repository"). A word a negation
//! covers ("do not delete") is marked, so it is never evidence for the
//! word asserted. Everything is hashed to 32 bits: a stored example keeps
//! the hashes, never the words.

use rust_stemmers::{Algorithm, Stemmer};

use crate::classify::rules::{clean_subject, strip_quoted};
use crate::message::Message;

/// Only the first words count: a pasted log should not outweigh the
/// request above it.
const MAX_WORDS: usize = 300;
/// Longer tokens are hashes, keys or URLs, not words.
const MAX_WORD_CHARS: usize = 32;

/// One piece of evidence: a word (or a pair of words) as it appears in the
/// message, with the features it contributes. The model weighs each piece
/// once, however many features it has, so a long word does not count more
/// than a short one.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub word: String,
    pub features: Vec<u32>,
}

/// A message as the model sees it.
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub language: Option<whatlang::Lang>,
    pub evidence: Vec<Evidence>,
    /// Each negation in the text ("not", "don't", "nie"), with the words it
    /// covers that say something (stop words left out), each as its
    /// negated feature; empty when it covers none ("do not, under any
    /// circumstances, …": the comma ends it).
    pub negations: Vec<Vec<(String, u32)>>,
}

/// Which features a message yields. [`FeatureSet::default`] is what the
/// daemon uses; the others exist so that a change of features can be
/// measured against it on the same text before it ships
/// (docs/CLASSIFICATION-LOG.md, "Features and data").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureSet {
    /// Character n-grams of each word from 3 up to this length.
    pub longest_ngram: usize,
    /// Words after a negation ("not", "never", "nicht", "pas", ...) in the
    /// same clause are other features than the same words asserted: "do
    /// not delete" is no evidence for deletion.
    pub negation: bool,
    /// The subject's words count a second time, as subject words.
    pub subject: bool,
}

impl Default for FeatureSet {
    fn default() -> FeatureSet {
        // Negation: one wrong sensitive route fewer on the third set, no
        // request lost there or in the tune half; longer n-grams and the
        // subject twice added wrong routes (docs/CLASSIFICATION-LOG.md,
        // "Features and data").
        FeatureSet { longest_ngram: 3, negation: true, subject: false }
    }
}

impl Features {
    pub fn of_message(msg: &Message) -> Features {
        Features::of_text(&clean_subject(&msg.subject), &strip_quoted(&msg.text))
    }

    pub fn of_text(subject: &str, body: &str) -> Features {
        Features::of_text_with(subject, body, FeatureSet::default())
    }

    pub fn of_message_with(msg: &Message, set: FeatureSet) -> Features {
        Features::of_text_with(&clean_subject(&msg.subject), &strip_quoted(&msg.text), set)
    }

    pub fn of_text_with(subject: &str, body: &str, set: FeatureSet) -> Features {
        // "don’t" as phones and most mail clients type it is "don't": read
        // as two words, "don" and "t", it negated nothing.
        let (subject, body) = (&typed_apostrophes(subject), &typed_apostrophes(body));
        let text = format!("{subject}\n{body}");
        let language = language(&text);
        let stemmer = Stemmer::create(stemmer_for(language));
        let mut evidence: Vec<Evidence> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut previous: Option<String> = None;
        let mut negations: Vec<Vec<(String, u32)>> = Vec::new();
        for (token, negated) in clause_words(&text, set.negation).take(MAX_WORDS) {
            if set.negation && NEGATIONS.contains(&token.as_str()) {
                negations.push(Vec::new());
            }
            let stem = stemmer.stem(&token).into_owned();
            // A negated word is another word: its stem, pairs and n-grams
            // all carry the mark, so none of them counts for the asserted one.
            let stem = if negated { format!("!{stem}") } else { stem };
            if let Some(p) = previous.replace(stem.clone()) {
                let pair = format!("{p} {stem}");
                if seen.insert(pair.clone()) {
                    evidence.push(Evidence { word: pair.clone(), features: vec![hash(b'p', &pair)] });
                }
            }
            if STOP_WORDS.contains(&token.as_str()) || !seen.insert(stem.clone()) {
                continue;
            }
            let mut features = vec![hash(b'w', &stem)];
            if let Some(scope) = negations.last_mut().filter(|_| negated) {
                scope.push((format!("not {token}"), features[0]));
            }
            let mark = if negated { "!" } else { "" };
            let padded: Vec<char> = std::iter::once('^').chain(token.chars()).chain(std::iter::once('$')).collect();
            for n in 3..=set.longest_ngram.max(3) {
                for gram in padded.windows(n) {
                    features.push(hash_gram(mark, gram));
                }
            }
            let word = if negated { format!("not {token}") } else { token };
            evidence.push(Evidence { word, features });
        }
        if set.subject {
            let mut in_subject = std::collections::HashSet::new();
            for (token, negated) in clause_words(subject, set.negation) {
                if STOP_WORDS.contains(&token.as_str()) {
                    continue;
                }
                let stem = stemmer.stem(&token).into_owned();
                let stem = if negated { format!("!{stem}") } else { stem };
                if in_subject.insert(stem.clone()) {
                    evidence.push(Evidence { word: format!("subject: {token}"), features: vec![hash(b's', &stem)] });
                }
            }
        }
        Features { language, evidence, negations }
    }

    /// What an example of `msg` keeps: these features (of its plain text)
    /// less any its HTML alternative does not carry. Staff decide on what
    /// their mail client shows, often the HTML; a message whose two bodies
    /// say different things ("add my SSH key" in one, "delete my account"
    /// in the other) must not teach the words staff never saw.
    pub fn example_hashes(&self, msg: &Message, set: FeatureSet) -> Vec<u32> {
        let mine = self.hashes();
        let Some(html) = msg.html_alternative() else { return mine };
        let shown = Features::of_text_with(&clean_subject(&msg.subject), &strip_quoted(&html), set).hashes();
        mine.into_iter().filter(|h| shown.binary_search(h).is_ok()).collect()
    }

    /// The sorted, distinct hashes: what an example stores.
    pub fn hashes(&self) -> Vec<u32> {
        let mut all: Vec<u32> = self.evidence.iter().flat_map(|e| e.features.iter().copied()).collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// Words too common to say anything alone (they still count in pairs:
/// "my account"): the most frequent function words of English, German and
/// French, the languages the shipped packs answer in.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can", "could",
    "did", "do", "does", "for", "from", "had", "has", "have", "he", "hello", "hi", "how", "i", "i'm", "if", "in", "is", "it", "its",
    "just", "me", "my", "no", "not", "of", "on", "or", "our", "please", "she", "so", "than", "thank", "thanks", "that", "the",
    "their", "them", "then", "there", "they", "this", "to", "up", "us", "was", "we", "were", "what", "when", "which", "who",
    "will", "with", "would", "you", "your", "aber", "auch", "auf", "aus", "bei", "bin", "bis", "bitte", "da", "dann", "das",
    "dass", "dem", "den", "der", "des", "die", "ein", "eine", "einen", "er", "es", "für", "hallo", "hat", "habe", "ich", "ihr",
    "ihre", "im", "ist", "ja", "kann", "mein", "meine", "meinen", "mich", "mir", "mit", "nach", "nicht", "noch", "nur", "oder",
    "sie", "sind", "so", "und", "uns", "von", "vor", "war", "was", "wie", "wir", "zu", "zum", "zur", "au", "aux", "avec", "ce",
    "ces", "dans", "de", "des", "du", "elle", "en", "est", "et", "il", "je", "la", "le", "les", "leur", "ma", "mais", "me",
    "merci", "mes", "mon", "ne", "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "sa", "se", "ses", "son",
    "sur", "ta", "te", "tu", "un", "une", "vos", "votre", "vous",
];

/// A request taken back in the same mail ("never mind", "scratch that",
/// "just kidding", "doch nicht", "laissez tomber"), in the packs'
/// languages: its words, which no taught example outweighs.
pub fn retraction(text: &str) -> Option<String> {
    static RETRACTION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(concat!(
            r"(?i)\b(?:never ?mind|scratch that|disregard (?:this|that|my|the|it)\b|ignore (?:this|that|my (?:last|previous|earlier))\b",
            r"|just kidding|j/k|(?:i(?:'ve| have)? )?changed my mind|(?:cancel|withdraw|retract)(?:ing)? (?:this|my|the) request",
            r"|doch nicht|vergiss (?:es|das)|hat sich erledigt|ziehe? (?:meine|die) anfrage zurück",
            r"|laissez tomber|laisse tomber|oubliez (?:ça|ma demande)|surtout pas|j'ai changé d'avis|annulez? ma demande",
            r"|olv[íi]d(?:a|e|al)lo|olvida eso|cambi[ée] de opini[óo]n|retiro (?:mi|la) solicitud)",
        ))
        .expect("static regex")
    });
    let text = typed_apostrophes(text);
    RETRACTION.find(&text).map(|m| m.as_str().to_string())
}

/// The typographic apostrophes (U+2019, U+02BC) as the ASCII one.
fn typed_apostrophes(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['\u{2019}', '\u{02bc}']) { text.replace(['\u{2019}', '\u{02bc}'], "'").into() } else { text.into() }
}

/// Lowercased words of letters; tokens with digits (numbers, account ids,
/// dates) and very long ones are skipped: they name a case, not a request.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .map(|w| w.trim_matches(|c| c == '\'' || c == '-'))
        .filter(|w| w.chars().count() >= 2 && w.chars().count() <= MAX_WORD_CHARS && !w.chars().any(|c| c.is_numeric()))
        .map(str::to_lowercase)
}

/// Words that turn what follows in their clause into its negation.
const NEGATIONS: &[&str] = &[
    "not", "no", "never", "don't", "dont", "doesn't", "didn't", "won't", "can't", "cannot", "isn't", "aren't", "wasn't",
    "shouldn't", "wouldn't", "without", "nicht", "kein", "keine", "keinen", "nie", "niemals", "pas", "jamais", "ni", "nunca", "sin",
];

/// [`words`], each with whether a negation earlier in its clause (up to
/// punctuation, or three words on) covers it. With `negation` off, none is.
fn clause_words(text: &str, negation: bool) -> impl Iterator<Item = (String, bool)> + '_ {
    text.split(|c: char| matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | '\n' | '(' | ')'))
        .flat_map(move |clause| {
            let mut left = 0_usize;
            words(clause).map(move |w| {
                let negated = left > 0;
                left = if negation && NEGATIONS.contains(&w.as_str()) { 3 } else { left.saturating_sub(1) };
                (w, negated)
            })
        })
}

/// The language the text is written in, when whatlang is confident. Its
/// first [`LANGUAGE_CHARS`] characters tell it: the detector's cost grows
/// with the text, and on a 3 KiB request it was a fifth of what
/// classifying with the learned model cost (docs/BENCHMARKS.md, "One pass
/// for the rules' words").
pub fn language(text: &str) -> Option<whatlang::Lang> {
    let end = text.char_indices().nth(LANGUAGE_CHARS).map_or(text.len(), |(at, _)| at);
    let start = &text[..end];
    // One message's start is told several times while it is classified
    // (the request model, the spam model, the learned features), and
    // telling it is the dearest step there is (about half of classifying
    // a short routed message): the last few answers are kept, per thread.
    if let Some(lang) = RECENT_LANGUAGES.with_borrow(|recent| recent.iter().find(|(t, _)| t == start).map(|(_, l)| *l)) {
        return lang;
    }
    let lang = whatlang::detect(start).and_then(|info| (info.is_reliable() || info.confidence() >= 0.5).then(|| info.lang()));
    RECENT_LANGUAGES.with_borrow_mut(|recent| {
        if recent.len() == RECENT_LANGUAGES_KEPT {
            recent.remove(0);
        }
        recent.push((start.to_string(), lang));
    });
    lang
}

/// How many texts' languages [`language`] keeps (their first
/// [`LANGUAGE_CHARS`] characters each).
const RECENT_LANGUAGES_KEPT: usize = 4;

thread_local! {
    static RECENT_LANGUAGES: std::cell::RefCell<Vec<(String, Option<whatlang::Lang>)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// As much of a text as its language is told from: the request model's
/// reading of the start of a message is as long (`classify::request`).
pub const LANGUAGE_CHARS: usize = 1024;

fn stemmer_for(lang: Option<whatlang::Lang>) -> Algorithm {
    use whatlang::Lang::*;
    match lang {
        Some(Deu) => Algorithm::German,
        Some(Fra) => Algorithm::French,
        Some(Spa) => Algorithm::Spanish,
        Some(Ita) => Algorithm::Italian,
        Some(Por) => Algorithm::Portuguese,
        Some(Nld) => Algorithm::Dutch,
        Some(Swe) => Algorithm::Swedish,
        Some(Nob) => Algorithm::Norwegian,
        Some(Dan) => Algorithm::Danish,
        Some(Fin) => Algorithm::Finnish,
        Some(Rus) => Algorithm::Russian,
        Some(Hun) => Algorithm::Hungarian,
        Some(Ron) => Algorithm::Romanian,
        Some(Tur) => Algorithm::Turkish,
        Some(Ell) => Algorithm::Greek,
        Some(Ara) => Algorithm::Arabic,
        Some(Tam) => Algorithm::Tamil,
        _ => Algorithm::English,
    }
}

/// FNV-1a over a kind byte and the text: stable across versions and
/// machines, which a stored example needs.
fn hash(kind: u8, s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in std::iter::once(kind).chain(s.bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// [`hash`] of kind `c` over `mark` and the characters of `gram`, without
/// building the string: a message has a few thousand n-grams.
fn hash_gram(mark: &str, gram: &[char]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    let mut feed = |b: u8| {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    };
    feed(b'c');
    mark.bytes().for_each(&mut feed);
    let mut buf = [0u8; 4];
    for c in gram {
        c.encode_utf8(&mut buf).bytes().for_each(&mut feed);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflections_share_a_stem_and_numbers_are_not_words() {
        let a = Features::of_text("Delete my account", "please delete account 12345");
        let b = Features::of_text("Deleting accounts", "");
        let words: Vec<&str> = a.evidence.iter().map(|e| e.word.as_str()).collect();
        assert_eq!(words, ["delete", "delet my", "my account", "account", "account pleas", "pleas delet", "delet account"]);
        assert_eq!(a.evidence[0].features[0], b.evidence[0].features[0], "delete and deleting stem alike");
        assert!(!a.evidence.iter().any(|e| e.word.contains("12345")));
    }

    /// The kept answers are each text's own: a text told again after
    /// others gets its language, not the last one told.
    #[test]
    fn a_language_told_again_is_the_texts_own() {
        let german = "Hallo, bitte löschen Sie mein Konto und alle meine Daten. Vielen Dank für Ihre Hilfe.";
        let french = "Bonjour, pourriez-vous supprimer mon compte et toutes mes données ? Merci beaucoup.";
        let english = "Hello, please delete my account and all of my data. Thank you for your help.";
        for _ in 0..2 {
            assert_eq!(language(german), Some(whatlang::Lang::Deu));
            assert_eq!(language(french), Some(whatlang::Lang::Fra));
            assert_eq!(language(english), Some(whatlang::Lang::Eng));
        }
        for i in 0..=RECENT_LANGUAGES_KEPT {
            language(&format!("{english} {i}"));
        }
        assert_eq!(language(german), Some(whatlang::Lang::Deu), "told again after the kept ones were replaced");
    }

    #[test]
    fn german_text_is_stemmed_as_german() {
        let f = Features::of_text("Konto löschen", "Hallo, bitte löschen Sie mein Konto und alle meine Daten. Vielen Dank.");
        assert_eq!(f.language, Some(whatlang::Lang::Deu));
        assert!(f.evidence.iter().any(|e| e.word == "konto losch"), "{:?}", f.evidence.iter().map(|e| &e.word).collect::<Vec<_>>());
    }

    #[test]
    fn the_language_is_told_from_the_start_of_a_long_text() {
        // The writer's own words first, a long English log pasted after
        // them: the start says German.
        let german = "Hallo, bitte löschen Sie mein Konto und alle meine Daten, ich brauche es nicht mehr. ".repeat(14);
        let log = "error: the build failed because the remote host closed the connection while reading the response. ".repeat(40);
        assert!(german.chars().count() > LANGUAGE_CHARS && log.len() > 3 * german.len());
        assert_eq!(language(&format!("{german}\n{log}")), Some(whatlang::Lang::Deu));
        assert_eq!(language(&log), Some(whatlang::Lang::Eng));
        // Cut on a character, never inside one: "ö" straddling the limit.
        let straddle = format!("{}ö{}", "a".repeat(LANGUAGE_CHARS - 1), "b".repeat(10));
        let _ = language(&straddle);
    }

    #[test]
    fn a_negated_word_is_no_evidence_for_the_word_asserted() {
        let asserted = Features::of_text("", "Please delete my account.").hashes();
        let denied = Features::of_text("", "Please do NOT delete my account, only the repository.");
        let words: Vec<&str> = denied.evidence.iter().map(|e| e.word.as_str()).collect();
        assert!(words.contains(&"not delete") && words.contains(&"not account"), "{words:?}");
        // The clause ends the negation: "repository" is asserted.
        assert!(words.contains(&"repository"), "{words:?}");
        let denied = denied.hashes();
        let delete = Features::of_text("", "delete").hashes();
        assert!(delete.iter().all(|h| asserted.contains(h)));
        assert!(delete.iter().all(|h| !denied.contains(h)), "no feature of \"delete\" in \"do not delete\"");
        // Off, the same words are asserted.
        let off = FeatureSet { negation: false, ..FeatureSet::default() };
        let plain = Features::of_text_with("", "Please do NOT delete my account", off).hashes();
        assert!(delete.iter().all(|h| plain.contains(h)));
    }

    #[test]
    fn a_request_taken_back_is_told_in_the_packs_languages() {
        for text in ["Please delete my account.\n\nActually, never mind.", "Scratch that. Please delete my account.", "Bitte löschen – nein, doch nicht.", "Supprimez mon compte ? Non, laissez tomber.", "I changed my mind, keep it"] {
            assert!(retraction(text).is_some(), "{text}");
        }
        for text in ["Please delete my account, I no longer need it.", "I don't mind if the repositories go too.", "Ignore the old address in my profile."] {
            assert_eq!(retraction(text), None, "{text}");
        }
    }

    /// "don’t" as phones type it (U+2019) negates as "don't" does.
    #[test]
    fn a_typographic_apostrophe_still_negates() {
        let typed = Features::of_text("", "Please don\u{2019}t delete my account");
        let words: Vec<&str> = typed.evidence.iter().map(|e| e.word.as_str()).collect();
        assert!(words.contains(&"not delete"), "{words:?}");
        assert_eq!(typed.hashes(), Features::of_text("", "Please don't delete my account").hashes());
    }

    #[test]
    fn longer_ngrams_and_the_subject_add_features_when_asked() {
        let base = Features::of_text("Refund", "refund").hashes();
        let more = Features::of_text_with("Refund", "refund", FeatureSet { longest_ngram: 5, subject: true, ..FeatureSet::default() });
        assert!(more.evidence.iter().any(|e| e.word == "subject: refund"));
        // The word, its six trigrams (^re ... nd$) and the pair "refund
        // refund"; then five 4-grams, four 5-grams and the subject word.
        assert_eq!(base.len(), 8);
        assert_eq!(more.hashes().len(), 8 + 5 + 4 + 1);
    }

    #[test]
    fn hashes_are_sorted_distinct_and_stable() {
        let h = Features::of_text("refund", "refund refund").hashes();
        assert!(h.windows(2).all(|w| w[0] < w[1]));
        // Stored examples depend on this value never changing.
        assert_eq!(hash(b'w', "refund"), 0x214d_c954);
        for (mark, gram) in [("", "^ré"), ("!", "fun"), ("", "ünd$")] {
            let chars: Vec<char> = gram.chars().collect();
            assert_eq!(hash_gram(mark, &chars), hash(b'c', &format!("{mark}{gram}")));
        }
    }
}
