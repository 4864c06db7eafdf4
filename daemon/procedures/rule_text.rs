//! What a pack's rule sees of the text, and how its character classes are
//! compiled. The two halves belong together: the classes are made small on
//! the understanding that the text was folded first.
//!
//! Unicode's `\w` is some 770 ranges of code points, and its automaton
//! (as UTF-8 bytes) hundreds of states. The packs' rules repeat it and
//! `\W` in their gaps (`\W+(?:\w+\W+){0,8}?` holds eighteen copies) and in
//! their word lists' `stem\w*`: the sourcehut pack compiled to about
//! 14 MB of automata, and each rule's search cache grew with them
//! (docs/BENCHMARKS.md, "The rules' classes"). A rule only needs to tell
//! letters from the spaces and punctuation between words, so:
//!
//! - `\w` and `\p{L}` (alone or inside a larger class) keep their ASCII
//!   part and take every non-ASCII character as a letter, except the
//!   signs, punctuation, spaces and emoji that mail often holds, which stay
//!   what Unicode makes them (`Known::not_word`);
//! - `\W` and `\P{L}` keep their ASCII part and those signs;
//! - the text is folded beforehand ([`fold`]): Unicode spaces, quotes,
//!   dashes and the full-width forms of East Asian text become their ASCII
//!   counterparts.
//!
//! Every other class (`\d`, `\s`, a script such as `\p{Greek}`, a
//! case-insensitive letter, `[^a-z]`) is left as it is. `\b` stays
//! Unicode's word boundary, which agrees with the compacted classes on
//! letters of every script and on the signs named above.
//!
//! A gap of any characters (`.{0,60}`, the packs' most common way to say
//! "then, a little further on") is compiled as bytes: one character is a
//! byte that starts one (ASCII or a UTF-8 lead byte) and the continuation
//! bytes after it. On text that is UTF-8, as a `&str` always is, that is
//! exactly one character, as `.` is, in two automaton states where
//! Unicode's `.` takes about ten; in the sourcehut pack the gaps were 85%
//! of the automata (docs/BENCHMARKS.md, "Rules that track no groups; gaps
//! as bytes").

use std::borrow::Cow;

use regex_syntax::hir::{Class, ClassBytes, ClassBytesRange, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Repetition};

/// `pattern` parsed as regex parses it, its large classes compacted.
pub fn parse(pattern: &str, case_insensitive: bool) -> Result<Hir, String> {
    let config = regex_automata::util::syntax::Config::new().case_insensitive(case_insensitive).utf8(true);
    regex_automata::util::syntax::parse_with(pattern, &config).map(compact).map_err(|e| e.to_string())
}

/// One of the code's own fixed patterns that read what the rules read
/// (the precision guard's signs), compiled the same way and searched
/// forward only, with one search cache for every thread.
pub fn fixed(pattern: &str) -> crate::forward_regex::ForwardRegex {
    parse(pattern, false)
        .and_then(|hir| crate::forward_regex::ForwardRegex::fixed_hir(&hir))
        .unwrap_or_else(|e| panic!("fixed pattern {pattern:?}: {e}"))
}

/// The classes a rule may compact, by their part above ASCII, and what
/// that part becomes (`compact_class`).
struct Known {
    /// The part above ASCII of `\w` and `\p{L}`.
    letters: [ClassUnicode; 2],
    /// The part above ASCII of `\W` and `\P{L}`.
    non_letters: [ClassUnicode; 2],
    /// What Unicode counts as no part of a word among the non-ASCII
    /// characters mail often holds: Latin-1's signs and spaces, × and ÷,
    /// Arabic and Devanagari punctuation, general punctuation (zero-width
    /// and direction marks among it), currency signs, arrows,
    /// mathematical and technical signs, box drawing, dingbats, CJK
    /// punctuation, the byte-order mark and emoji; computed from `\W`
    /// within those blocks, so it agrees with `\b` there.
    not_word: ClassUnicode,
}

static KNOWN: std::sync::LazyLock<Known> = std::sync::LazyLock::new(|| {
    let above = |pattern: &str| {
        let mut class = unicode_class(pattern);
        class.intersect(&ClassUnicode::new([ClassUnicodeRange::new('\u{80}', '\u{10FFFF}')]));
        class
    };
    let blocks = ClassUnicode::new(
        [
            ('\u{80}', '\u{BF}'),
            ('\u{D7}', '\u{D7}'),
            ('\u{F7}', '\u{F7}'),
            ('\u{600}', '\u{60F}'),
            ('\u{61B}', '\u{61F}'),
            ('\u{66A}', '\u{66D}'),
            ('\u{964}', '\u{965}'),
            ('\u{2000}', '\u{2BFF}'),
            ('\u{3000}', '\u{303F}'),
            ('\u{FEFF}', '\u{FEFF}'),
            ('\u{1F000}', '\u{1FAFF}'),
        ]
        .map(|(a, b)| ClassUnicodeRange::new(a, b)),
    );
    let mut not_word = above(r"\W");
    not_word.intersect(&blocks);
    Known { letters: [above(r"\w"), above(r"\p{L}")], non_letters: [above(r"\W"), above(r"\P{L}")], not_word }
});

fn unicode_class(pattern: &str) -> ClassUnicode {
    match regex_automata::util::syntax::parse(pattern).map(Hir::into_kind) {
        Ok(HirKind::Class(Class::Unicode(class))) => class,
        other => unreachable!("{pattern} is a Unicode class: {other:?}"),
    }
}

/// `hir` with its classes compacted and its gaps made bytes, as the module
/// says.
pub fn compact(hir: Hir) -> Hir {
    compact_as(hir, true)
}

/// `pattern` parsed and its classes compacted, but its gaps left as
/// Unicode's `.` makes them: what the gaps as bytes must agree with.
#[cfg(test)]
pub fn parse_with_unicode_gaps(pattern: &str, case_insensitive: bool) -> Result<Hir, String> {
    let config = regex_automata::util::syntax::Config::new().case_insensitive(case_insensitive).utf8(true);
    regex_automata::util::syntax::parse_with(pattern, &config).map(|hir| compact_as(hir, false)).map_err(|e| e.to_string())
}

fn compact_as(hir: Hir, gaps_as_bytes: bool) -> Hir {
    let compact = |hir| compact_as(hir, gaps_as_bytes);
    match hir.into_kind() {
        HirKind::Class(Class::Unicode(class)) => Hir::class(Class::Unicode(compact_class(class))),
        HirKind::Class(class) => Hir::class(class),
        HirKind::Repetition(mut rep) => {
            rep.sub = Box::new(match any_character(&rep.sub).filter(|_| gaps_as_bytes) {
                Some(newline) => one_character_as_bytes(newline),
                None => compact(*rep.sub),
            });
            Hir::repetition(rep)
        }
        HirKind::Capture(mut cap) => {
            cap.sub = Box::new(compact(*cap.sub));
            Hir::capture(cap)
        }
        HirKind::Concat(subs) => {
            let subs = if gaps_as_bytes { gaps_after_runs(subs) } else { subs };
            Hir::concat(subs.into_iter().map(compact).collect())
        }
        HirKind::Alternation(subs) => Hir::alternation(subs.into_iter().map(compact).collect()),
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(lit) => Hir::literal(lit.0),
        HirKind::Look(look) => Hir::look(look),
    }
}

/// A run of a class followed by a gap, `C*.{0,n}` (the packs' `\w*.{0,30}`:
/// "a word that starts so, then a little further on"), as
/// `C*(?:[^C\n].{0,n-1})?`: the run takes all of its class there is, and
/// the gap starts at the first character that is not of it. The same
/// texts match, and the same words are found: a gap that started inside
/// the run could only reach what the run's end already reaches.
///
/// Why: as written, every place in a word could be where the run ends and
/// the gap begins, and the lazy DFA's states hold each set of such
/// places. Parted, `delete-account-de-fr-es-nl` builds a fifth fewer
/// states for a German letter with a few "Konto"s, and the benchmark's
/// letter fits its cache, which it had filled four times in ten
/// readings: building the states again was a seventh of classifying it
/// (docs/BENCHMARKS.md, "German under 1 ms").
///
/// Greedy runs and gaps alone, each of any length of at least one.
fn gaps_after_runs(subs: Vec<Hir>) -> Vec<Hir> {
    let mut out: Vec<Hir> = Vec::with_capacity(subs.len());
    for hir in subs {
        let parted = match (out.last().map(Hir::kind), hir.kind()) {
            (Some(HirKind::Repetition(run)), HirKind::Repetition(gap)) if run.greedy && run.max.is_none() && gap.greedy && gap.min == 0 => {
                match (run.sub.kind(), any_character(&gap.sub), gap.max) {
                    (HirKind::Class(Class::Unicode(class)), Some(newline), Some(n)) if n >= 1 => {
                        let mut first = class.clone();
                        first.negate();
                        if !newline {
                            first.difference(&ClassUnicode::new([ClassUnicodeRange::new('\n', '\n')]));
                        }
                        let rest = Hir::repetition(Repetition { min: 0, max: Some(n - 1), greedy: true, sub: gap.sub.clone() });
                        Some(Hir::repetition(Repetition {
                            min: 0,
                            max: Some(1),
                            greedy: true,
                            sub: Box::new(Hir::concat(vec![Hir::class(Class::Unicode(first)), rest])),
                        }))
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        out.push(parted.unwrap_or(hir));
    }
    out
}

/// Whether `hir` is `.` (`Some(false)`) or `(?s:.)` (`Some(true)`, the
/// newline too), in Unicode.
fn any_character(hir: &Hir) -> Option<bool> {
    let HirKind::Class(Class::Unicode(class)) = hir.kind() else { return None };
    let all = ClassUnicode::new([ClassUnicodeRange::new('\0', '\u{10FFFF}')]);
    let mut but_newline = all.clone();
    but_newline.difference(&ClassUnicode::new([ClassUnicodeRange::new('\n', '\n')]));
    if *class == all {
        Some(true)
    } else if *class == but_newline {
        Some(false)
    } else {
        None
    }
}

/// One character of UTF-8 text as bytes: a byte that starts a character,
/// then the continuation bytes (`10xxxxxx`) that follow it. A repetition of
/// it stops between characters wherever what follows it starts with a
/// character (a letter, a class, a group of words) or is a word boundary,
/// which is how the packs use gaps; the match's ends are then character
/// boundaries, and `ForwardRegex` widens any that were not.
fn one_character_as_bytes(newline: bool) -> Hir {
    let mut starts = vec![ClassBytesRange::new(0x00, 0x7F), ClassBytesRange::new(0xC0, 0xFF)];
    if !newline {
        starts[0] = ClassBytesRange::new(0x00, 0x09);
        starts.insert(1, ClassBytesRange::new(0x0B, 0x7F));
    }
    let start = Hir::class(Class::Bytes(ClassBytes::new(starts)));
    let continuation = Hir::class(Class::Bytes(ClassBytes::new([ClassBytesRange::new(0x80, 0xBF)])));
    Hir::concat(vec![start, Hir::repetition(Repetition { min: 0, max: None, greedy: true, sub: Box::new(continuation) })])
}

/// `\w` and `\p{L}` (also inside a larger class such as `[\w:-]`) take
/// every non-ASCII character as a letter but `Known::not_word`; `\W` and
/// `\P{L}` take `Known::not_word` alone above ASCII. Every other class
/// (`\d`, `\s`, `\p{Greek}`, `\p{Latin}`, a case-insensitive letter, a
/// list of accented letters) is exactly what regex makes of it.
fn compact_class(class: ClassUnicode) -> ClassUnicode {
    let known = &*KNOWN;
    let mut ascii = class.clone();
    ascii.intersect(&ClassUnicode::new([ClassUnicodeRange::new('\0', '\x7f')]));
    let mut above = class.clone();
    above.difference(&ascii);
    if known.letters.contains(&above) {
        let mut letters = ClassUnicode::new([ClassUnicodeRange::new('\u{80}', '\u{10FFFF}')]);
        letters.difference(&known.not_word);
        ascii.union(&letters);
        ascii
    } else if known.non_letters.contains(&above) {
        ascii.union(&known.not_word);
        ascii
    } else {
        class
    }
}

/// `text` as the rules read it: every Unicode space (no-break, thin,
/// ideographic...) a plain space; typographic quotes, primes and
/// guillemets the ASCII quote; dashes and the minus sign a hyphen; the
/// ellipsis a full stop; the full-width forms of ASCII (East Asian text's
/// `！`, `，`, `０`) and the ideographic full stop and comma their ASCII
/// selves. Letters are untouched. Borrowed when there is nothing to fold,
/// which is most mail.
pub fn fold(text: &str) -> Cow<'_, str> {
    if text.chars().all(|c| folded(c).is_none()) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().map(|c| folded(c).unwrap_or(c)).collect())
}

fn folded(c: char) -> Option<char> {
    if c.is_ascii() {
        return None;
    }
    Some(match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{2035}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}' | '\u{00BB}' | '\u{2039}' | '\u{203A}' => '"',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        '\u{2026}' => '.',
        '\u{3002}' => '.',
        '\u{3001}' => ',',
        // Full-width forms of ASCII '!'..'~', at a fixed offset.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21)?,
        c if c.is_whitespace() => ' ',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str) -> regex_automata::meta::Regex {
        regex_automata::meta::Regex::builder().build_from_hir(&parse(pattern, true).unwrap()).unwrap()
    }

    fn finds<'h>(re: &regex_automata::meta::Regex, text: &'h str) -> Option<&'h str> {
        re.find(text).map(|m| &text[m.range()])
    }

    #[test]
    fn a_word_is_letters_of_any_script_and_words_are_parted_by_spaces_and_punctuation() {
        let re = rule(r"\b(delet|lösch|supprim)\w*\W+(?:\w+\W+){0,2}?(account|konto|compte)\b");
        assert_eq!(finds(&re, "Bitte löschen Sie mein Konto."), Some("löschen Sie mein Konto"));
        assert_eq!(finds(&re, "Pouvez-vous supprimer mon compte ?"), Some("supprimer mon compte"));
        assert_eq!(finds(&re, "please délete... no: delete my account"), Some("delete my account"));
        // Three words between are more than the gap allows, in any script.
        assert_eq!(finds(&re, "delete über mein altes account"), None);
        assert_eq!(finds(&re, "delete 我的 旧 朋友 account"), None);
    }

    #[test]
    fn digits_and_spaces_are_ascii_once_the_text_is_folded() {
        let re = rule(r"\b\d+\W+times\b");
        assert_eq!(finds(&re, &fold("charged 3\u{a0}times")), Some("3 times"));
        assert_eq!(finds(&re, &fold("charged \u{ff13} times")), Some("3 times"));
        // `\d` is Unicode's: other scripts' digits are digits.
        assert_eq!(finds(&re, "charged \u{663} times"), Some("\u{663} times"));
    }

    #[test]
    fn signs_and_emoji_are_no_part_of_a_word() {
        let cancel = rule(r"\bcancel\w*\b\s+(?:my|our)\s+(?:\w+\s+)?(purchase|payment)s?\b");
        assert_eq!(finds(&cancel, "please cancel my €20 payment"), None, "as with Unicode's \\w: € is no letter");
        assert_eq!(finds(&cancel, "please cancel my last payment"), Some("cancel my last payment"));
        let gap = rule(r"\bdelete\W+(?:\w+\W+){0,2}?account\b");
        assert_eq!(finds(&gap, "delete 🙏 my old account"), Some("delete 🙏 my old account"));
        assert_eq!(finds(&gap, "delete\u{200b}my\u{200b}account"), Some("delete\u{200b}my\u{200b}account"));
        let unicode = regex_automata::meta::Regex::new(r"(?i)\bdelete\W+(?:\w+\W+){0,2}?account\b").unwrap();
        for text in ["delete 🙏 my old account", "delete — © my account", "délete my account", "delete 我的 旧 朋友 account"] {
            assert_eq!(finds(&gap, text), unicode.find(text).map(|m| &text[m.range()]), "{text}");
        }
    }

    #[test]
    fn folding_turns_typographic_punctuation_into_ascii_and_leaves_letters() {
        assert_eq!(fold("I don\u{2019}t want \u{201c}this\u{201d} \u{2014} ok\u{2026}"), "I don't want \"this\" - ok.");
        assert_eq!(fold("«\u{a0}Bonjour\u{a0}»"), "\" Bonjour \"");
        assert_eq!(fold("请删除我的账户。谢谢！"), "请删除我的账户.谢谢!");
        assert!(matches!(fold("Plain ASCII, and Grüße"), Cow::Borrowed(_)));
    }

    #[test]
    fn other_classes_are_left_as_they_are() {
        let re = rule(r"caf[^a-z]\b|k.y");
        // `[^a-z]` still holds 'é', `.` any character, and the
        // case-insensitive 'k' the Kelvin sign.
        assert_eq!(finds(&re, "un café noir"), Some("café"));
        assert_eq!(finds(&re, "\u{212a}ëy"), Some("\u{212a}ëy"));
        let latin = rule(r"^\p{Latin}+$");
        assert_eq!(finds(&latin, "café"), Some("café"));
        assert_eq!(finds(&latin, "кафе"), None);
        let katakana = rule(r"\p{Katakana}+");
        assert_eq!(finds(&katakana, "カフェ"), Some("カフェ"));
        let accents = rule(r"[àâäçéèêëîïôöùûüÿ]");
        assert_eq!(finds(&accents, "中文"), None);
    }

    /// A gap of up to N characters counts characters of any script, as
    /// Unicode's `.` does, stops at a newline unless `(?s)` says otherwise,
    /// and the words found are the same.
    #[test]
    fn a_gap_counts_characters_not_bytes_and_finds_what_unicode_finds() {
        let patterns = [
            r"\bcharged\b.{0,5}\btwice\b",
            r"licen[cs]e.{0,4}(?:account|compte|账户)",
            r"(?s)\bdelete\b.{0,6}account",
            r"账户.{0,2}删除",
            r"\bplease\b.{1,5}?\bnow\b",
            r"refund.*",
            r"x.?y",
        ];
        let texts = [
            "charged é€ twice",
            "charged 中文字 twice",
            "charged 中文字字 twice",
            "charged 🙏🙏 twice",
            "licence: compte",
            "licence→ 账户",
            "licence ééééé account",
            "delete\nmy account",
            "delete\n\n\n\n\n\n\naccount",
            "账户请删除",
            "账户请你删除",
            "please ✓✓ now",
            "please ✓✓✓✓✓✓ now",
            "refund me ✓ — now",
            "xéy xy x\ny",
            "",
        ];
        let mut found = 0;
        for pattern in patterns {
            let ours = crate::forward_regex::ForwardRegex::fixed_hir(&parse(pattern, true).unwrap()).unwrap();
            let unicode = regex::RegexBuilder::new(pattern).case_insensitive(true).build().unwrap();
            for text in texts {
                let expected = unicode.find(text).map(|m| m.as_str());
                found += usize::from(expected.is_some());
                assert_eq!(ours.find(text), expected, "{pattern} in {text:?}");
                let all: Vec<_> = unicode.find_iter(text).map(|m| m.range()).collect();
                assert_eq!(ours.find_ranges(text), all, "{pattern} in {text:?}");
            }
        }
        assert!(found > 10, "the texts must hold matches, not only misses");
    }

    /// `C*.{0,n}` is searched as `C*(?:[^C\n].{0,n-1})?`
    /// ([`gaps_after_runs`]): every text of up to six characters from an
    /// alphabet of letters, spaces, a newline and a sign is matched, and
    /// its words found, as regex finds them in the pattern as written.
    #[test]
    fn a_gap_after_a_run_of_a_class_starts_where_the_run_ends_and_finds_what_regex_finds() {
        let patterns = [r"x\w*.{0,2}y", r"x\w+.{0,1}y", r"x\s*.{0,2}y", r"x\w*(?s:.){0,2}y", r"x[\w!]*.{0,3}y", r"\bx\w*.{0,2}y\b", r"x\w*.{0,2}"];
        let alphabet = ['x', 'y', 'a', 'é', ' ', '\n', '!'];
        let mut texts = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = texts.iter().filter(|t| t.chars().count() == texts.last().unwrap().chars().count()).flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}"))).collect();
            texts.extend(longer);
        }
        let mut found = 0;
        for pattern in patterns {
            let hir = parse(pattern, false).unwrap();
            let ours = crate::forward_regex::ForwardRegex::fixed_hir(&hir).unwrap();
            let regex = regex::Regex::new(pattern).unwrap();
            for text in &texts {
                let expected = regex.find(text).map(|m| m.as_str());
                found += usize::from(expected.is_some());
                assert_eq!(ours.find(text), expected, "{pattern} in {text:?}");
                assert_eq!(ours.is_match(text), expected.is_some(), "{pattern} in {text:?}");
            }
        }
        assert!(found > 10_000, "the texts must hold matches, not only misses: {found}");
    }

    /// The states the lazy DFA builds to read a letter in German with a
    /// few "Konto"s, for the rule that read it the most: a fifth fewer
    /// with the gaps parted from the runs. A capture around each run
    /// leaves it as written (the lazy DFA does not see captures).
    #[test]
    fn a_gap_after_a_run_needs_fewer_states() {
        let letter = fold(include_str!("../../benches/german-request.eml")).into_owned();
        let rule = r"(konto|account|benutzerkonto)\w*.{0,30}(lösch|entfern)|(lösch|entfern)\w*.{0,30}(konto|account)|supprim\w*.{0,30}compte|(elimina|borra|borre|cancela)\w*.{0,30}cuenta|verwijder\w*.{0,20}account|(account|konto|conta|cuenta|compte)\w*.{0,20}(verwijder|opheff)";
        let states = |pattern: &str| {
            let dfa = regex_automata::hybrid::dfa::DFA::builder()
                .configure(regex_automata::hybrid::dfa::DFA::config().cache_capacity(64 << 20))
                .build_from_nfa(regex_automata::nfa::thompson::Compiler::new().build_from_hir(&parse(pattern, true).unwrap()).unwrap())
                .unwrap();
            let mut cache = dfa.create_cache();
            let _ = dfa.try_search_fwd(&mut cache, &regex_automata::Input::new(&letter).earliest(false)).unwrap();
            cache.memory_usage()
        };
        let (parted, as_written) = (states(rule), states(&rule.replace(r"\w*", r"(\w*)")));
        assert!(parted * 10 < as_written * 9, "{parted} bytes of states, against {as_written}");
    }

    #[test]
    fn gaps_as_bytes_make_a_far_smaller_automaton() {
        let gap = r"\blicen[cs]e\b.{0,200}\b(?:another|new) (?:account|address)\b";
        let unicode_gap = regex_automata::meta::Regex::builder().configure(regex_automata::meta::Config::new().which_captures(regex_automata::nfa::thompson::WhichCaptures::Implicit)).build(&format!("(?i){gap}")).unwrap();
        assert!(rule(gap).memory_usage() * 3 < unicode_gap.memory_usage(), "{} against {}", rule(gap).memory_usage(), unicode_gap.memory_usage());
    }

    #[test]
    fn compacted_classes_make_a_far_smaller_automaton() {
        let gap = r"\bplease\W+(?:\w+\W+){0,8}?refund\w*";
        let unicode = regex_automata::meta::Regex::new(&format!("(?i){gap}")).unwrap();
        assert!(rule(gap).memory_usage() * 4 < unicode.memory_usage());
    }
}
