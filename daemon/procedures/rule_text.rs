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
//! - a large class that holds letters (`\w`, `\p{L}`) keeps its ASCII part
//!   and takes every non-ASCII character as a letter;
//! - a large class that holds no letters (`\W`, `\d`, a negated
//!   `\p{L}`) keeps only its ASCII part;
//! - the text is folded beforehand ([`fold`]): Unicode spaces, quotes,
//!   dashes and the full-width forms of East Asian text become their ASCII
//!   counterparts, so that what separates words is ASCII.
//!
//! Small classes (`\s`, a case-insensitive letter, `.`, `[^a-z]`) and a
//! class of one script's letters (`\p{Greek}`, `\p{Han}`) are left as they
//! are. `\b` stays Unicode's word boundary, which agrees with the
//! folded text for letters in every script.

use std::borrow::Cow;

use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind};

/// `pattern` parsed as regex parses it, its large classes compacted.
pub fn parse(pattern: &str, case_insensitive: bool) -> Result<Hir, String> {
    let config = regex_automata::util::syntax::Config::new().case_insensitive(case_insensitive).utf8(true);
    regex_automata::util::syntax::parse_with(pattern, &config).map(compact).map_err(|e| e.to_string())
}

/// One of the code's own fixed patterns that read what the rules read
/// (the precision guard's signs), compiled the same way; regex's defaults
/// otherwise, so each thread that searches keeps its own cache.
pub fn fixed(pattern: &str) -> regex_automata::meta::Regex {
    parse(pattern, false)
        .and_then(|hir| regex_automata::meta::Regex::builder().build_from_hir(&hir).map_err(|e| e.to_string()))
        .unwrap_or_else(|e| panic!("fixed pattern {pattern:?}: {e}"))
}

/// A class with more ranges above ASCII than this is compacted. `\s` has
/// 8 and stays (it is small), every class named above has far more; a
/// case-insensitive letter has 1 or 2.
const LARGE_CLASS: usize = 8;

/// A letter of each of the scripts beside Latin that a rule may name.
const SCRIPT_LETTERS: [char; 9] = ['α', 'ж', 'ա', 'א', 'ا', 'अ', '中', 'あ', '한'];

/// `hir` with its large Unicode classes compacted as the module says.
pub fn compact(hir: Hir) -> Hir {
    match hir.into_kind() {
        HirKind::Class(Class::Unicode(class)) => Hir::class(Class::Unicode(compact_class(class))),
        HirKind::Class(class) => Hir::class(class),
        HirKind::Repetition(mut rep) => {
            rep.sub = Box::new(compact(*rep.sub));
            Hir::repetition(rep)
        }
        HirKind::Capture(mut cap) => {
            cap.sub = Box::new(compact(*cap.sub));
            Hir::capture(cap)
        }
        HirKind::Concat(subs) => Hir::concat(subs.into_iter().map(compact).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.into_iter().map(compact).collect()),
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(lit) => Hir::literal(lit.0),
        HirKind::Look(look) => Hir::look(look),
    }
}

fn compact_class(class: ClassUnicode) -> ClassUnicode {
    let wide = class.ranges().iter().filter(|r| r.end() > '\x7f').count();
    if wide <= LARGE_CLASS {
        return class;
    }
    let holds = |c: char| class.ranges().iter().any(|r| r.start() <= c && c <= r.end());
    // A class of one script's letters (`\p{Greek}`, `\p{Han}`) is what its
    // author meant exactly: neither widened nor cut.
    if !holds('é') && SCRIPT_LETTERS.iter().any(|&c| holds(c)) {
        return class;
    }
    let mut ranges: Vec<ClassUnicodeRange> = class
        .ranges()
        .iter()
        .filter(|r| r.start() <= '\x7f')
        .map(|r| ClassUnicodeRange::new(r.start(), r.end().min('\x7f')))
        .collect();
    // 'é' stands for the letters of every script: Unicode's letter
    // classes all hold it, its spaces, digits and punctuation do not.
    if holds('é') {
        ranges.push(ClassUnicodeRange::new('\u{80}', '\u{10FFFF}'));
    }
    ClassUnicode::new(ranges)
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
        // Unfolded, the no-break space is not punctuation to the rule.
        assert_eq!(finds(&re, "charged 3\u{a0}times"), None);
    }

    #[test]
    fn folding_turns_typographic_punctuation_into_ascii_and_leaves_letters() {
        assert_eq!(fold("I don\u{2019}t want \u{201c}this\u{201d} \u{2014} ok\u{2026}"), "I don't want \"this\" - ok.");
        assert_eq!(fold("«\u{a0}Bonjour\u{a0}»"), "\" Bonjour \"");
        assert_eq!(fold("请删除我的账户。谢谢！"), "请删除我的账户.谢谢!");
        assert!(matches!(fold("Plain ASCII, and Grüße"), Cow::Borrowed(_)));
    }

    #[test]
    fn small_classes_are_left_as_they_are() {
        let re = rule(r"caf[^a-z]\b|k.y");
        // `[^a-z]` still holds 'é', `.` any character, and the
        // case-insensitive 'k' the Kelvin sign.
        assert_eq!(finds(&re, "un café noir"), Some("café"));
        assert_eq!(finds(&re, "\u{212a}ëy"), Some("\u{212a}ëy"));
    }

    #[test]
    fn a_class_of_one_script_is_kept_exactly() {
        let re = rule(r"\p{Greek}+|\p{Han}+");
        assert_eq!(finds(&re, "abc αβγ"), Some("αβγ"));
        assert_eq!(finds(&re, "é 中文"), Some("中文"));
        assert_eq!(finds(&re, "plain café"), None);
    }

    #[test]
    fn compacted_classes_make_a_far_smaller_automaton() {
        let gap = r"\bplease\W+(?:\w+\W+){0,8}?refund\w*";
        let unicode = regex_automata::meta::Regex::new(&format!("(?i){gap}")).unwrap();
        assert!(rule(gap).memory_usage() * 4 < unicode.memory_usage());
    }
}
