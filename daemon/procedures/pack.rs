//! Loading and validating a procedure pack: `templates/<pack>/procedures.toml`
//! plus the reply templates beside it. Validation works like a compiler:
//! every problem (unknown key, bad regex, bad duration, unknown template,
//! unknown or unreachable step, bad condition) is reported at once with
//! `file:line`, so a pack either loads completely or not at all.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::Problem;
use crate::forward_regex::ForwardRegex;
use crate::locate::{Locator, Seg};

pub use super::procedure::{Allocate, Fact, Field, IdentityPolicy, Procedure, Route, Rule, Step, StepDeadline, TicketState};

/// A loaded, validated pack.
#[derive(Debug, Clone)]
pub struct Pack {
    pub name: String,
    pub dir: PathBuf,
    /// From the pack; falls back to `default_threshold` (the config's).
    pub threshold: Option<f64>,
    pub default_threshold: f64,
    pub confirmation: regex::Regex,
    /// How far the best procedure must lead the runner-up to be routed.
    pub margin: f64,
    /// The score a sensitive procedure needs (else the threshold).
    pub sensitive_threshold: Option<f64>,
    /// The services the team runs (`[own]`): what a procedure with
    /// `needs_own` needs a sign of (`classify::own`).
    pub own: Option<crate::classify::own::OwnServices>,
    /// The pack's model (`classify::pack_model`), when the pack ships one.
    pub model: Option<std::sync::Arc<crate::classify::pack_model::PackModel>>,
    /// Numbering series → the last number already used before triaged
    /// (`[numbering]`): allocation continues after it.
    pub numbering: BTreeMap<String, u64>,
    pub procedures: Vec<Procedure>,
    /// Template file name → source, read once at load.
    pub templates: HashMap<String, String>,
    /// The words of every rule's pattern, looked for in one pass over a
    /// text (`Rule::slot`).
    pub rule_words: super::rule_words::RuleWords,
    /// The words the rules read through one slip of the finger
    /// (`[pack] misspelt`, `classify::spelling`).
    pub spelling: crate::classify::spelling::Spelling,
}

impl Pack {
    pub fn procedure(&self, id: &str) -> Option<&Procedure> {
        self.procedures.iter().find(|p| p.id == id)
    }

    /// The identity policy of procedure `id`; none for a ticket no
    /// procedure claims (unclassified, set aside).
    pub fn identity_policy(&self, id: &str) -> IdentityPolicy {
        self.procedure(id).map(|p| p.identity).unwrap_or(IdentityPolicy::None)
    }

    pub fn effective_threshold(&self) -> f64 {
        self.threshold.unwrap_or(self.default_threshold)
    }

    /// What a reply means for the step that asked (quoted lines ignored):
    /// a confirmation only when the pack's `confirmation` pattern matches
    /// and nothing in the reply takes it back (see [`super::intent`]).
    pub fn intent(&self, reply: &crate::message::Message) -> super::intent::Intent {
        super::intent::of_message(&self.confirmation, reply)
    }

    /// Load `dir/procedures.toml` and every template it names.
    pub fn load(dir: &Path) -> Result<Pack, Vec<Problem>> {
        let file = dir.join("procedures.toml");
        let text = std::fs::read_to_string(&file).map_err(|e| {
            vec![Problem {
                file: file.clone(),
                line: None,
                message: format!("cannot read the pack: {e}; procedures.templates/procedures.pack must name a folder holding procedures.toml"),
            }]
        })?;
        Self::from_str_at(&text, dir, &file)
    }

    fn from_str_at(text: &str, dir: &Path, file: &Path) -> Result<Pack, Vec<Problem>> {
        let loc = Locator::new(text, file);
        let mut problems = loc.unknown_keys();
        let raw: RawPack = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                problems.push(loc.toml_error(&e));
                return Err(problems);
            }
        };
        let mut v = PackCheck { loc: &loc, dir, problems, templates: HashMap::new() };
        let pack = v.pack(raw);
        if v.problems.is_empty() { Ok(pack) } else { Err(v.problems) }
    }
}

// ---------------------------------------------------------------- raw file

#[derive(Deserialize)]
struct RawPack {
    pack: RawSettings,
    /// Word lists, used in patterns as `{name}`.
    #[serde(default)]
    vocabulary: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    numbering: BTreeMap<String, u64>,
    /// The team's own services (`classify::own`).
    own: Option<RawOwn>,
    #[serde(default)]
    procedure: Vec<RawProcedure>,
}

#[derive(Deserialize)]
struct RawOwn {
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    short_names: Vec<String>,
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    trackers: Vec<String>,
}

#[derive(Deserialize)]
struct RawSettings {
    name: String,
    threshold: Option<f64>,
    confirmation: Option<String>,
    margin: Option<f64>,
    sensitive_threshold: Option<f64>,
    /// Words read through one slip of the finger (`classify::spelling`).
    #[serde(default)]
    misspelt: Vec<String>,
}

#[derive(Deserialize)]
struct RawProcedure {
    id: String,
    title: String,
    identity: IdentityPolicy,
    #[serde(default)]
    billing: bool,
    #[serde(default)]
    sensitive: bool,
    /// Ticket data staff record for this procedure (`!set`); its templates
    /// may use them.
    #[serde(default)]
    facts: Vec<String>,
    #[serde(default)]
    second_account: bool,
    /// Routed to only on a sign of the team's own services.
    #[serde(default)]
    needs_own: bool,
    /// Held by the precision guard although not sensitive.
    #[serde(default)]
    needs_request: bool,
    /// Decided by what the message carries, not by what its writer asks.
    #[serde(default)]
    by_content: bool,
    /// A reply that points elsewhere and asks or promises nothing.
    #[serde(default)]
    redirect: bool,
    #[serde(default)]
    rule: Vec<RawRule>,
    #[serde(default)]
    step: Vec<RawStep>,
}

#[derive(Deserialize)]
struct RawRule {
    name: String,
    on: String,
    pattern: String,
    weight: f64,
    #[serde(default)]
    case_sensitive: bool,
}

#[derive(Deserialize)]
struct RawStep {
    name: String,
    template: Option<String>,
    staff_note: Option<String>,
    queue: Option<String>,
    state: TicketState,
    on_reply: Option<String>,
    on_confirmation: Option<String>,
    on_decline: Option<String>,
    on_resolved: Option<String>,
    staff_action: Option<String>,
    on_done: Option<String>,
    #[serde(default)]
    deadline: Vec<RawDeadline>,
    #[serde(default)]
    route: Vec<RawRoute>,
    #[serde(default)]
    set: BTreeMap<String, String>,
    allocate: Option<RawAllocate>,
    #[serde(default)]
    document: Vec<String>,
}

#[derive(Deserialize)]
struct RawDeadline {
    name: String,
    after: Option<String>,
    at: Option<String>,
    next: String,
}

#[derive(Deserialize)]
struct RawRoute {
    when: String,
    next: String,
}

#[derive(Deserialize)]
struct RawAllocate {
    series: String,
    key: String,
}

/// Every key the format knows, per table kind, for the unknown-key check.
const SCHEMA: &[(&str, &[&str])] = &[
    ("", &["pack", "vocabulary", "numbering", "own", "procedure"]),
    ("own", &["domains", "names", "short_names", "kinds", "trackers"]),
    ("pack", &["name", "threshold", "confirmation", "margin", "sensitive_threshold", "misspelt"]),
    ("procedure", &["id", "title", "identity", "billing", "sensitive", "second_account", "needs_own", "needs_request", "by_content", "redirect", "facts", "rule", "step"]),
    ("rule", &["name", "on", "pattern", "weight", "case_sensitive"]),
    (
        "step",
        &[
            "name", "template", "staff_note", "queue", "state", "on_reply", "on_confirmation", "on_decline",
            "on_resolved", "staff_action", "on_done", "deadline", "route", "set", "allocate", "document",
        ],
    ),
    ("deadline", &["name", "after", "at", "next"]),
    ("route", &["when", "next"]),
    ("allocate", &["series", "key"]),
];

// ---------------------------------------------------------------- locating

impl Locator<'_> {
    /// Keys the format does not know, anywhere, each with its line.
    fn unknown_keys(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if let Some(doc) = &self.doc {
            self.check_table(doc.as_table(), "", &mut out);
        }
        out
    }

    fn check_table(&self, table: &dyn toml_edit::TableLike, kind: &str, out: &mut Vec<Problem>) {
        let known = SCHEMA.iter().find(|(k, _)| *k == kind).map(|(_, keys)| *keys).unwrap_or(&[]);
        for (key, item) in table.iter() {
            if (kind == "step" && key == "set") || (kind.is_empty() && (key == "vocabulary" || key == "numbering")) {
                continue; // free-form: data key → expression, list name → words, series → number
            }
            if !known.contains(&key) {
                let line = table.key(key).and_then(|k| k.span()).map(|s| self.line_of_offset(s.start));
                out.push(Problem {
                    file: self.file.clone(),
                    line,
                    message: format!(
                        "unknown key `{key}`{}; known keys here: {}",
                        if kind.is_empty() { String::new() } else { format!(" in a [{kind}] table") },
                        known.join(", ")
                    ),
                });
                continue;
            }
            let child_kind = key;
            match item {
                toml_edit::Item::Table(t) => self.check_table(t, child_kind, out),
                toml_edit::Item::ArrayOfTables(a) => {
                    for t in a.iter() {
                        self.check_table(t, child_kind, out);
                    }
                }
                toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => self.check_table(t, child_kind, out),
                toml_edit::Item::Value(toml_edit::Value::Array(a)) => {
                    for v in a.iter() {
                        if let Some(t) = v.as_inline_table() {
                            self.check_table(t, child_kind, out);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

// ---------------------------------------------------------------- validating

/// The most a rule's compiled regex may take. Word lists make large
/// alternations under Unicode word boundaries; 8 MiB holds the shipped
/// packs' largest with room, and still stops a runaway pattern.
const RULE_SIZE_LIMIT: usize = 8 << 20;

/// The most a small rule's lazy DFA keeps of the states it builds while
/// searching (one cache a rule, shared by the threads: `ForwardRegex`; it
/// starts again when full); a large rule may keep more, up to
/// `RULE_DFA_CACHE_MAX` (`compile_rule`).
/// regex's default is 2 MiB a rule: with the shipped packs' rules, mail in
/// nine languages grew these caches without any bound we set. At 256 KiB
/// the classifications of a realistic backlog are the same, its CPU the
/// same within noise, and its peak 7 MiB lower (docs/BENCHMARKS.md, "A
/// realistic backlog").
const RULE_DFA_CACHE: usize = 256 << 10;

/// The most a large rule's search cache may hold (regex's own default):
/// see `compile_rule`. One cache a rule, shared by the workers.
const RULE_DFA_CACHE_MAX: usize = 2 << 20;

/// A rule's pattern compiled as `regex::RegexBuilder` would compile it with
/// these limits (leftmost-first, UTF-8, the same syntax options), with a
/// search cache the rule keeps for all threads, and searched forward only
/// ([`crate::forward_regex`]).
fn compile_rule(pattern: &str, case_insensitive: bool) -> Result<(ForwardRegex, Option<Vec<Vec<u8>>>), String> {
    // The rules read folded text through compacted classes
    // (`super::rule_text`): the same words with less than half the automata.
    let hir = super::rule_text::parse(pattern, case_insensitive);
    // A large automaton (a word list under `.{0,30}` gaps in several
    // languages) makes large lazy-DFA states: with the same cap as a small
    // rule its cache fills within one message, is cleared again and again,
    // and the search falls back to a far slower engine (6.9 ms a message
    // for the sourcehut pack against 0.25 ms). So a rule's cache may hold
    // five times its automaton, between `RULE_DFA_CACHE` and
    // `RULE_DFA_CACHE_MAX` (twice regex's, which holds a reversed
    // automaton about one and a half times the forward one beside it).
    let capacity = |automaton: usize| (automaton * 5).clamp(RULE_DFA_CACHE, RULE_DFA_CACHE_MAX);
    // With the words one of which every match holds, for the pack's one
    // pass over a text (`super::rule_words`).
    let built = hir.and_then(|hir| ForwardRegex::for_pack(&hir, RULE_SIZE_LIMIT, capacity));
    built.map_err(|e| {
        // regex's own wording of the error (the pattern with a caret under
        // the fault), which pack authors already know; the rejection
        // itself is the same, since it is the same compiler.
        regex::RegexBuilder::new(pattern)
            .case_insensitive(case_insensitive)
            .size_limit(RULE_SIZE_LIMIT)
            .dfa_size_limit(RULE_DFA_CACHE)
            .build()
            .err()
            .map_or_else(|| e, |e| e.to_string())
    })
}

/// `pattern` with each `{name}` of a word list replaced by its alternation.
/// Regex repetitions (`{2}`, `{0,30}`) and classes (`\p{L}`) stay as they are.
fn expand(pattern: &str, vocabulary: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let (before, after) = rest.split_at(open);
        out.push_str(before);
        let class = before.ends_with("\\p") || before.ends_with("\\P");
        let name_end = after[1..].find('}').map(|i| i + 1);
        match name_end {
            Some(end) if !class && after[1..end].starts_with(|c: char| c.is_ascii_lowercase()) => {
                let name = &after[1..end];
                let words = vocabulary.get(name).ok_or_else(|| {
                    let known: Vec<&str> = vocabulary.keys().map(String::as_str).collect();
                    format!("{{{name}}} names no word list; define it under [vocabulary] (known: {})", if known.is_empty() { "none".to_string() } else { known.join(", ") })
                })?;
                out.push_str(words);
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

struct PackCheck<'a> {
    loc: &'a Locator<'a>,
    dir: &'a Path,
    problems: Vec<Problem>,
    templates: HashMap<String, String>,
}

/// Template names are plain file names inside the pack (sub-folders
/// allowed), never absolute or escaping it.
fn safe_template_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && name.split('/').all(|part| !part.is_empty() && part != ".." && part != ".")
}

impl PackCheck<'_> {
    fn bad(&mut self, path: &[Seg], message: impl Into<String>) {
        let p = self.loc.problem(path, message);
        self.problems.push(p);
    }

    fn template(&mut self, path: &[Seg], name: &str) {
        if self.templates.contains_key(name) {
            return;
        }
        if !safe_template_name(name) {
            self.bad(path, format!("{name:?} must be a file name inside the pack folder"));
            return;
        }
        let p = self.dir.join(name);
        match std::fs::read_to_string(&p) {
            Ok(src) => {
                let mut env = minijinja::Environment::new();
                if let Err(e) = env.add_template_owned(name.to_string(), src.clone()) {
                    self.bad(path, format!("template {name} does not compile: {e}"));
                }
                self.templates.insert(name.to_string(), src);
            }
            Err(e) => self.bad(path, format!("unknown template {name:?}: cannot read {}: {e}", p.display())),
        }
    }

    /// `<lang>/<template>` beside the pack's templates (two-letter
    /// language folders): loaded under that name and compiled like the
    /// template they translate. A file there that translates no template
    /// of the pack is a mistake worth naming.
    fn translations(&mut self) {
        let Ok(entries) = std::fs::read_dir(self.dir) else { return };
        let mut langs: Vec<(String, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                (name.len() == 2 && name.bytes().all(|b| b.is_ascii_lowercase())).then(|| (name, e.path()))
            })
            .collect();
        langs.sort();
        let originals: Vec<String> = self.templates.keys().cloned().collect();
        for (lang, folder) in langs {
            let Ok(files) = std::fs::read_dir(&folder) else { continue };
            for file in files.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()) {
                let problem = |message: String| Problem { file: file.clone(), line: None, message };
                let Some(name) = file.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
                if !originals.contains(&name) {
                    self.problems.push(problem(format!(
                        "translates no template of the pack (none is named {name:?}); rename it after the template it translates or remove it"
                    )));
                    continue;
                }
                let key = format!("{lang}/{name}");
                match std::fs::read_to_string(&file) {
                    Ok(src) => {
                        let mut env = minijinja::Environment::new();
                        if let Err(e) = env.add_template_owned(key.clone(), src.clone()) {
                            self.problems.push(problem(format!("template {key} does not compile: {e}")));
                        }
                        self.templates.insert(key, src);
                    }
                    Err(e) => self.problems.push(problem(format!("cannot read the translation: {e}"))),
                }
            }
        }
    }

    fn expression(&mut self, path: &[Seg], src: &str) {
        let env = super::expression::env();
        if let Err(e) = env.compile_expression(src) {
            self.bad(path, format!("condition {src:?} does not parse: {e}"));
        }
    }

    fn duration(&mut self, path: &[Seg], s: &str) -> Option<jiff::Span> {
        match s.parse::<jiff::Span>() {
            Ok(span) if span.is_positive() => Some(span),
            Ok(_) => {
                self.bad(path, format!("{s:?} must be a positive duration such as \"14 days\""));
                None
            }
            Err(e) => {
                self.bad(path, format!("{s:?} is not a duration ({e}); write e.g. \"14 days\", \"3 months\", \"1 year\""));
                None
            }
        }
    }

    fn pack(&mut self, raw: RawPack) -> Pack {
        use Seg::{Index as I, Key as K};
        for (key, value) in [
            ("threshold", raw.pack.threshold),
            ("margin", raw.pack.margin),
            ("sensitive_threshold", raw.pack.sensitive_threshold),
        ] {
            if let Some(t) = value
                && !(t.is_finite() && t >= 0.0)
            {
                self.bad(&[K("pack"), K(key)], "must be a number ≥ 0, e.g. 3.0");
            }
        }
        let vocabulary = self.vocabulary(&raw.vocabulary);
        let spelling = self.misspelt(&raw.pack.misspelt);
        let own = raw.own.as_ref().and_then(|o| self.own(o));
        let confirmation_src = raw
            .pack
            .confirmation
            .clone()
            .unwrap_or_else(|| r"\b(confirm|confirmed|yes)\b".to_string());
        // A reply is a confirmation only when each of its words is wholly
        // a confirmation word or a plain one (procedures/intent.rs): an
        // open-ended word would take "confirmnothing" for one.
        if ["\\w*", "\\w+", ".*", ".+", "\\S*", "\\S+"].iter().any(|open| confirmation_src.contains(open)) {
            self.bad(
                &[K("pack"), K("confirmation")],
                "an open-ended word (\\w*, \\w+, .*, \\S*) would take a word glued to a confirmation (\"confirmnothing\") for one; list the endings, e.g. confirm(?:s|ed|ing)?",
            );
        }
        let confirmation = match regex::RegexBuilder::new(&confirmation_src).case_insensitive(true).build() {
            Ok(r) => r,
            Err(e) => {
                self.bad(&[K("pack"), K("confirmation")], format!("bad regex: {e}"));
                regex::Regex::new("$^").expect("never-matching regex")
            }
        };
        self.template(&[K("pack"), K("name")], "acknowledge.txt");
        if raw.procedure.is_empty() {
            self.bad(&[K("pack")], "the pack defines no [[procedure]]");
        }
        let mut ids = BTreeSet::new();
        let mut procedures = Vec::new();
        // A pattern that several procedures hold, compiled once: its
        // automaton and search cache are the pack's largest after the
        // request rules' (docs/BENCHMARKS.md, "One rule, one automaton").
        let mut compiled: HashMap<(String, bool), (std::sync::Arc<ForwardRegex>, usize)> = HashMap::new();
        // Each distinct pattern's words, by slot (`super::rule_words`).
        let mut slots: Vec<Option<Vec<Vec<u8>>>> = Vec::new();
        for (pi, rp) in raw.procedure.into_iter().enumerate() {
            let here = [K("procedure"), I(pi)];
            if !valid_id(&rp.id) || rp.id == super::UNCLASSIFIED {
                self.bad(&[K("procedure"), I(pi), K("id")], format!("{:?} must be lowercase letters, digits and '-', and not \"unclassified\"", rp.id));
            }
            if !ids.insert(rp.id.clone()) {
                self.bad(&[K("procedure"), I(pi), K("id")], format!("procedure {:?} is defined twice", rp.id));
            }
            let mut rules = Vec::new();
            let mut rule_names = BTreeSet::new();
            for (ri, r) in rp.rule.iter().enumerate() {
                let rpath = |k| [K("procedure"), I(pi), K("rule"), I(ri), K(k)];
                if !rule_names.insert(r.name.clone()) {
                    self.bad(&rpath("name"), format!("rule {:?} is defined twice in this procedure", r.name));
                }
                let field = Field::parse(&r.on);
                if field.is_none() {
                    self.bad(&rpath("on"), format!("{:?}: use \"subject\", \"body\", \"text\" or \"header:Name\"", r.on));
                }
                if !r.weight.is_finite() || r.weight == 0.0 {
                    self.bad(&rpath("weight"), "must be a non-zero number (negative for a rule that speaks against)");
                }
                let pattern = match expand(&r.pattern, &vocabulary) {
                    Ok(p) => p,
                    Err(e) => {
                        self.bad(&rpath("pattern"), e);
                        continue;
                    }
                };
                let key = (pattern, !r.case_sensitive);
                let regex = match compiled.get(&key) {
                    Some(found) => Ok(found.clone()),
                    None => compile_rule(&key.0, key.1).map(|(regex, words)| {
                        slots.push(words);
                        let found = (std::sync::Arc::new(regex), slots.len() - 1);
                        compiled.insert(key, found.clone());
                        found
                    }),
                };
                match (regex, field) {
                    (Ok((regex, slot)), Some(field)) => rules.push(Rule {
                        name: format!("{}/{}", rp.id, r.name),
                        field,
                        regex,
                        shared: false,
                        slot,
                        weight: r.weight,
                    }),
                    (Err(e), _) => self.bad(&rpath("pattern"), format!("bad regex: {e}")),
                    _ => {}
                }
            }
            if rp.needs_own && raw.own.is_none() {
                self.bad(&[K("procedure"), I(pi), K("needs_own")], format!("procedure {:?} needs a sign of the team's own services, but the pack has no [own] table listing them (domains, names, short_names, kinds, trackers)", rp.id));
            }
            if rp.redirect && (rp.sensitive || rp.needs_own || rp.by_content || rp.billing || !matches!(rp.identity, IdentityPolicy::None)) {
                self.bad(&[K("procedure"), I(pi), K("redirect")], format!("procedure {:?} is a redirect, so a wrong guess of it must harm no one: it cannot be sensitive, billing, by_content or needs_own, and its identity must be \"none\"", rp.id));
            }
            if !rules.iter().any(|r| r.weight > 0.0) {
                self.bad(&here, format!("procedure {:?} has no positive rule, so nothing can ever reach it", rp.id));
            }
            let steps = self.steps(pi, &rp);
            let facts = rp
                .facts
                .iter()
                .map(|name| Fact {
                    name: name.clone(),
                    number: steps
                        .iter()
                        .flat_map(Step::expressions)
                        .any(|e| super::expression::reads_as_number(e, name)),
                })
                .collect();
            procedures.push(Procedure {
                id: rp.id,
                title: rp.title,
                identity: rp.identity,
                billing: rp.billing,
                sensitive: rp.sensitive,
                second_account: rp.second_account,
                needs_own: rp.needs_own,
                needs_request: rp.needs_request || rp.sensitive,
                by_content: rp.by_content,
                redirect: rp.redirect,
                facts,
                rules,
                steps,
            });
        }
        drop(compiled);
        for r in procedures.iter_mut().flat_map(|p| &mut p.rules) {
            r.shared = std::sync::Arc::strong_count(&r.regex) > 1;
        }
        self.translations();
        let model = self.model(&procedures);
        Pack {
            name: raw.pack.name,
            dir: self.dir.to_path_buf(),
            threshold: raw.pack.threshold,
            default_threshold: 3.0,
            confirmation,
            margin: raw.pack.margin.unwrap_or(0.0),
            sensitive_threshold: raw.pack.sensitive_threshold,
            own,
            model,
            numbering: raw.numbering,
            procedures,
            templates: std::mem::take(&mut self.templates),
            rule_words: super::rule_words::RuleWords::new(&slots),
            spelling,
        }
    }

    /// `[pack] misspelt`: lowercase ASCII words of six letters or more,
    /// each once (see `classify::spelling` for why no shorter).
    fn misspelt(&mut self, words: &[String]) -> crate::classify::spelling::Spelling {
        use crate::classify::spelling::{MIN_LETTERS, Spelling};
        use Seg::{Index as I, Key as K};
        for (i, word) in words.iter().enumerate() {
            let at = [K("pack"), K("misspelt"), I(i)];
            if !word.bytes().all(|b| b.is_ascii_lowercase()) {
                self.bad(&at, format!("{word:?} must be written in lowercase ASCII letters only, e.g. \"account\""));
            } else if word.len() < MIN_LETTERS {
                self.bad(&at, format!(
                    "{word:?} has fewer than {MIN_LETTERS} letters: a letter left out of a short word is too often another word (\"close\" → \"lose\"); list only longer words"
                ));
            } else if words[..i].contains(word) {
                self.bad(&at, format!("{word:?} is listed twice"));
            }
        }
        Spelling::new(words)
    }

    /// The model beside the pack, if any: every procedure it has weights
    /// for must be one of the pack's.
    fn model(&mut self, procedures: &[Procedure]) -> Option<std::sync::Arc<crate::classify::pack_model::PackModel>> {
        use crate::classify::pack_model::{FILE, PackModel};
        let file = self.dir.join(FILE);
        match PackModel::load(self.dir) {
            Ok(None) => None,
            Ok(Some(model)) => {
                // It judges only what the writer asks: weights for a
                // procedure decided by content, or one the pack does not
                // have, are a model of another pack or version.
                let unfit: Vec<&str> = model
                    .procedures()
                    .filter(|id| !procedures.iter().any(|p| p.id == *id && !p.by_content))
                    .collect();
                if unfit.is_empty() {
                    return Some(std::sync::Arc::new(model));
                }
                self.problems.push(Problem {
                    file,
                    line: None,
                    message: format!(
                        "the pack's model has weights for {}, which is no procedure of the pack that the model may judge (unknown, or decided by content): train it again with `cargo run --release --example train_pack_model -- PACK`, or remove the file",
                        unfit.join(", ")
                    ),
                });
                None
            }
            Err(message) => {
                self.problems.push(Problem { file, line: None, message });
                None
            }
        }
    }

    /// Each word list as a regex alternation: words are literal, a
    /// word's trailing `*` stands for any word ending (stems: `delet*` is delete,
    /// deleted, deleting, deletion), a space for any run of spaces.
    fn vocabulary(&mut self, raw: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, String> {
        use Seg::Key as K;
        let mut out = BTreeMap::new();
        for (name, words) in raw {
            if !valid_id(name) || name.starts_with(|c: char| c.is_ascii_digit()) {
                self.bad(&[K("vocabulary"), K(name)], format!("{name:?}: a word list's name is lowercase letters, digits and '-', starting with a letter"));
                continue;
            }
            if words.is_empty() || words.iter().any(|w| w.trim().is_empty()) {
                self.bad(&[K("vocabulary"), K(name)], "list at least one word, and no empty ones");
                continue;
            }
            out.insert(name.clone(), word_list_regex(words));
        }
        out
    }

    /// `[own]`, compiled; each problem located at its list.
    fn own(&mut self, raw: &RawOwn) -> Option<crate::classify::own::OwnServices> {
        use Seg::Key as K;
        let built = crate::classify::own::OwnServices::new(
            &raw.domains,
            &raw.names,
            &raw.short_names,
            &raw.kinds,
            &raw.trackers,
            word_list_regex,
        );
        match built {
            Ok(own) => Some(own),
            Err(problems) => {
                for (key, message) in problems {
                    self.bad(&[K("own"), K(key)], message);
                }
                None
            }
        }
    }

    fn steps(&mut self, pi: usize, rp: &RawProcedure) -> Vec<Step> {
        use Seg::{Index as I, Key as K};
        if rp.step.is_empty() {
            self.bad(&[K("procedure"), I(pi)], format!("procedure {:?} has no [[procedure.step]]", rp.id));
        }
        let names: Vec<&str> = rp.step.iter().map(|s| s.name.as_str()).collect();
        let mut steps = Vec::new();
        let mut edges: Vec<(usize, Vec<String>)> = Vec::new();
        for (si, s) in rp.step.iter().enumerate() {
            let sp = |k| [K("procedure"), I(pi), K("step"), I(si), K(k)];
            if names.iter().filter(|n| **n == s.name).count() > 1 {
                self.bad(&sp("name"), format!("step {:?} is defined twice", s.name));
            }
            for (key, t) in [("template", &s.template), ("staff_note", &s.staff_note)] {
                if let Some(t) = t {
                    self.template(&sp(key), t);
                }
            }
            let mut next = Vec::new();
            let mut target = |v: &mut Self, path: &[Seg], n: &str| {
                if !names.contains(&n) {
                    v.bad(path, format!("no step named {n:?} in procedure {:?} (steps: {})", rp.id, names.join(", ")));
                }
                next.push(n.to_string());
            };
            for (key, t) in [
                ("on_reply", &s.on_reply),
                ("on_confirmation", &s.on_confirmation),
                ("on_decline", &s.on_decline),
                ("on_resolved", &s.on_resolved),
                ("on_done", &s.on_done),
            ] {
                if let Some(t) = t {
                    target(self, &sp(key), t);
                }
            }
            if s.on_confirmation.is_some() && s.on_reply == s.on_confirmation {
                self.bad(&sp("on_reply"), "on_reply goes where on_confirmation goes, so a reply that is not a confirmation would act as one; send it to a review step");
            }
            if s.on_confirmation.is_some() && s.on_decline == s.on_confirmation {
                self.bad(&sp("on_decline"), "on_decline goes where on_confirmation goes; a decline must never act as a confirmation");
            }
            if s.on_confirmation.is_some() && s.on_resolved == s.on_confirmation {
                self.bad(&sp("on_resolved"), "on_resolved goes where on_confirmation goes; \"it works again\" must never act as a confirmation");
            }
            match (&s.staff_action, &s.on_done) {
                (Some(a), _) if a.trim().is_empty() || a.contains(['\r', '\n']) => {
                    self.bad(&sp("staff_action"), "write what staff must do in one line, e.g. \"refund the payment, then !done N\"")
                }
                (Some(_), None) => self.bad(&sp("on_done"), "a step with a staff_action needs on_done: the step reached when staff say it is done"),
                (None, Some(_)) => self.bad(&sp("staff_action"), "on_done without staff_action: say what staff must do first"),
                _ => {}
            }
            let mut deadlines = Vec::new();
            for (di, d) in s.deadline.iter().enumerate() {
                let dp = |k| [K("procedure"), I(pi), K("step"), I(si), K("deadline"), I(di), K(k)];
                target(self, &dp("next"), &d.next);
                let after = d.after.as_deref().and_then(|a| self.duration(&dp("after"), a));
                if let Some(at) = &d.at {
                    self.expression(&dp("at"), at);
                }
                if d.after.is_none() && d.at.is_none() {
                    self.bad(&dp("name"), "a deadline needs `after = \"14 days\"`, `at = \"<date expression>\"` or both");
                }
                deadlines.push(StepDeadline { name: d.name.clone(), after, at: d.at.clone(), next: d.next.clone() });
            }
            let mut routes = Vec::new();
            for (ri, r) in s.route.iter().enumerate() {
                let rp_ = |k| [K("procedure"), I(pi), K("step"), I(si), K("route"), I(ri), K(k)];
                target(self, &rp_("next"), &r.next);
                self.expression(&rp_("when"), &r.when);
                routes.push(Route { when: r.when.clone(), next: r.next.clone() });
            }
            for (k, e) in &s.set {
                self.expression(&[K("procedure"), I(pi), K("step"), I(si), K("set"), K(k)], e);
            }
            if let Some(a) = &s.allocate
                && (a.series.is_empty() || !valid_key(&a.key))
            {
                self.bad(&sp("allocate"), "allocate needs a series (e.g. \"a20111128.3\") and a data key");
            }
            edges.push((si, next));
            steps.push(Step {
                name: s.name.clone(),
                template: s.template.clone(),
                staff_note: s.staff_note.clone(),
                queue: s.queue.clone(),
                state: s.state,
                on_reply: s.on_reply.clone(),
                on_confirmation: s.on_confirmation.clone(),
                on_decline: s.on_decline.clone(),
                on_resolved: s.on_resolved.clone(),
                staff_action: s.staff_action.clone(),
                on_done: s.on_done.clone(),
                deadlines,
                routes,
                set: s.set.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                allocate: s.allocate.as_ref().map(|a| Allocate { series: a.series.clone(), key: a.key.clone() }),
                document: s.document.clone(),
            });
        }
        // Reachability from the first step.
        let mut seen = BTreeSet::new();
        let mut todo = vec![0usize];
        while let Some(i) = todo.pop() {
            if i >= names.len() || !seen.insert(i) {
                continue;
            }
            for n in &edges[i].1 {
                if let Some(j) = names.iter().position(|x| x == n) {
                    todo.push(j);
                }
            }
        }
        for (si, s) in rp.step.iter().enumerate() {
            if !seen.contains(&si) {
                self.bad(
                    &[K("procedure"), I(pi), K("step"), I(si), K("name")],
                    format!("step {:?} is unreachable from the first step {:?}", s.name, names[0]),
                );
            }
        }
        if !steps.is_empty() {
            let edges: Vec<Vec<usize>> = edges
                .iter()
                .map(|(_, next)| next.iter().filter_map(|n| names.iter().position(|x| x == n)).collect())
                .collect();
            for u in super::guarantee::check(&steps, &edges, rp.identity, &rp.facts, &self.templates) {
                let at = u.line.map(|l| format!(" (line {l})")).unwrap_or_default();
                self.bad(
                    &[K("procedure"), I(pi), K("step"), I(u.step), K(u.key)],
                    format!(
                        "template {}{at} uses {{{{ {} }}}}, which step {:?} does not guarantee: {}",
                        u.template, u.variable, steps[u.step].name, u.why
                    ),
                );
            }
        }
        steps
    }
}

/// One word list as a regex alternation. The single-word stems share one
/// `\w*` (`(?:delet|remov)\w*`) instead of one each: every copy of the
/// Unicode `\w` class compiles to hundreds of automaton states, in each
/// rule that uses the list, and in every worker's search cache; a list of
/// twenty-seven stems made the shipped packs' rules most of the daemon's
/// heap (docs/BENCHMARKS.md, "Memory: the packs' word lists"). The
/// alternation matches the same words as one `stem\w*` per stem.
fn word_list_regex(words: &[String]) -> String {
    let token = |t: &str| match t.strip_suffix('*') {
        Some(stem) => format!(r"{}\w*", regex::escape(stem)),
        None => regex::escape(t),
    };
    let mut stems = Vec::new();
    let mut alts = Vec::new();
    for w in words {
        let tokens: Vec<&str> = w.split_whitespace().collect();
        match tokens.as_slice() {
            [one] if one.len() > 1 && one.ends_with('*') => stems.push(regex::escape(&one[..one.len() - 1])),
            _ => alts.push(tokens.iter().map(|t| token(t)).collect::<Vec<_>>().join(r"\s+")),
        }
    }
    if !stems.is_empty() {
        alts.insert(0, format!(r"(?:{})\w*", stems.join("|")));
    }
    format!(r"\b(?:{})\b", alts.join("|"))
}

fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn valid_key(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str, templates: &[&str]) -> Result<Pack, Vec<Problem>> {
        let dir = tempfile::tempdir().unwrap();
        for t in templates {
            std::fs::write(dir.path().join(t), "Hello {{ sender_name }}\n").unwrap();
        }
        std::fs::write(dir.path().join("procedures.toml"), toml).unwrap();
        Pack::load(dir.path())
    }

    const GOOD: &str = r#"
[pack]
name = "t"
threshold = 2.0

[[procedure]]
id = "delete"
title = "Delete"
identity = "one"

[[procedure.rule]]
name = "word"
on = "subject"
pattern = 'delete'
weight = 3

[[procedure.step]]
name = "ask"
template = "ask.txt"
state = "waiting"
on_confirmation = "done"
deadline = [{ name = "reminder", after = "14 days", next = "done" }]

[[procedure.step]]
name = "done"
template = "ask.txt"
state = "closed"
"#;

    #[test]
    fn identity_policies() {
        assert!(IdentityPolicy::Billing.card_digits_count());
        assert!(!IdentityPolicy::TwoFor2fa.card_digits_count());
    }

    /// A rule compiled for a shared cache finds what `regex::Regex` finds
    /// (same span, so the words shown are the same), from any thread, and
    /// still refuses what regex refuses, in regex's words.
    #[test]
    fn rules_match_as_regex_does_from_every_thread() {
        let patterns = [
            (r"\b(?:delet|remov)\w*\b.{0,40}\baccount", true),
            (r"\bkonto\b.{0,30}\bl(?:ö|oe)sch", true),
            (r"(?:two|2)[- ]?factor|2fa", true),
            (r"\bRefund\b", false),
            (r"^$", true),
        ];
        let texts = [
            "Please DELETE my old account, thanks",
            "Bitte mein Konto löschen.",
            "turn off 2FA / two-factor",
            "refund please; Refund now",
            "",
            "Supprimer mon compte: déléter? removal of the account",
        ];
        let compiled: Vec<_> = patterns.iter().map(|(p, ci)| compile_rule(p, *ci).unwrap().0).collect();
        let expected: Vec<Vec<Option<String>>> = patterns
            .iter()
            .map(|(p, ci)| {
                let r = regex::RegexBuilder::new(p).case_insensitive(*ci).build().unwrap();
                texts.iter().map(|t| r.find(t).map(|m| m.as_str().to_string())).collect()
            })
            .collect();
        assert!(expected.iter().flatten().any(Option::is_some) && expected.iter().flatten().any(Option::is_none));
        let found = |rules: &[ForwardRegex]| -> Vec<Vec<Option<String>>> {
            rules.iter().map(|r| texts.iter().map(|t| r.find(t).map(str::to_string)).collect()).collect()
        };
        assert_eq!(found(&compiled), expected);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..3).map(|_| s.spawn(|| found(&compiled))).collect();
            for h in handles {
                assert_eq!(h.join().unwrap(), expected);
            }
        });
        let cloned: Vec<_> = compiled.to_vec();
        assert_eq!(found(&cloned), expected);
        let wanted = regex::Regex::new("(unclosed").unwrap_err().to_string();
        assert_eq!(compile_rule("(unclosed", true).err(), Some(wanted));
    }

    /// Every rule of the shipped packs, searched forward only, with the
    /// words it needs looked for first and its gaps compiled as bytes,
    /// matches the same texts and finds the same words as regex's own engine
    /// with Unicode's `.`, over the real texts of tests/corpus/real (every
    /// third one, and every one that is not ASCII, for time).
    #[test]
    fn the_shipped_rules_find_the_same_words_forward_only_with_gaps_as_bytes() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/real");
        let mut texts = Vec::new();
        for entry in std::fs::read_dir(&corpus).unwrap() {
            let path = entry.unwrap().path();
            // The one-line queries of the customer and assistant sets are
            // short ASCII, of a few hundred templates: ten thousand more of
            // them would double this test's time and try no new kind of text.
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name == "clinc.tsv" || name.starts_with("customer-queries") || name == "refunds-asked-after.tsv" {
                continue;
            }
            if path.extension().is_some_and(|e| e == "tsv") {
                for (i, row) in std::fs::read_to_string(&path).unwrap().lines().skip(1).enumerate() {
                    let text = row.split('\t').skip(4).collect::<Vec<_>>().join("\n").replace("\\n", "\n");
                    if i % 3 == 0 || !text.is_ascii() {
                        texts.push(super::super::rule_text::fold(&text).into_owned());
                    }
                }
            }
        }
        // Longer mail in other languages, where searching near the words
        // skips most of the text: five texts at a time, joined.
        let others: Vec<&String> = texts.iter().filter(|t| !t.is_ascii()).collect();
        let joined: Vec<String> = others.chunks(5).map(|five| five.iter().map(|t| t.as_str()).collect::<Vec<_>>().join("\n\n")).collect();
        texts.extend(joined);
        assert!(texts.len() > 1000 && texts.iter().filter(|t| !t.is_ascii()).count() > 150, "{} texts", texts.len());
        let (mut rules, mut found, mut near) = (0, 0, 0);
        for pack in ["sourcehut", "2i2c", "cacert"] {
            let toml = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates").join(pack).join("procedures.toml")).unwrap();
            let raw: RawPack = toml::from_str(&toml).unwrap();
            let vocabulary: BTreeMap<String, String> = raw.vocabulary.iter().map(|(k, v)| (k.clone(), word_list_regex(v))).collect();
            let mut compiled = Vec::new();
            for r in raw.procedure.iter().flat_map(|p| &p.rule) {
                let pattern = expand(&r.pattern, &vocabulary).unwrap();
                let (bytes, words) = compile_rule(&pattern, !r.case_sensitive).unwrap();
                let hir = super::super::rule_text::parse_with_unicode_gaps(&pattern, !r.case_sensitive).unwrap();
                let unicode = regex_automata::meta::Builder::new()
                    .configure(regex_automata::meta::Config::new().match_kind(regex_automata::MatchKind::LeftmostFirst).utf8_empty(true).nfa_size_limit(Some(RULE_SIZE_LIMIT)))
                    .build_from_hir(&hir)
                    .unwrap();
                compiled.push((r, bytes, words, unicode));
            }
            // The pack's one pass for its rules' words marks every rule
            // that matches (and the search after it answers as regex does).
            let index = super::super::rule_words::RuleWords::new(&compiled.iter().map(|(_, _, words, _)| words.clone()).collect::<Vec<_>>());
            for text in &texts {
                let candidates = index.candidates(text);
                for (slot, (r, bytes, _, unicode)) in compiled.iter().enumerate() {
                    rules += usize::from(text == &texts[0]);
                    let expected = unicode.find(text.as_str()).map(|m| &text[m.range()]);
                    found += usize::from(expected.is_some());
                    // A rule the one pass leaves out must not match; one
                    // it keeps is searched as the daemon searches it.
                    if !candidates.may_match(slot) {
                        assert_eq!(expected, None, "{pack} rule {} on {text:?}: the one pass left out a rule that matches", r.name);
                        continue;
                    }
                    assert_eq!(bytes.find(text), expected, "{pack} rule {} on {text:?}", r.name);
                    assert_eq!(bytes.is_match_with_words(text), expected.is_some(), "{pack} rule {} on {text:?}", r.name);
                    // Text the lazy DFA cannot read all through is
                    // searched only near the rule's words: the same answer.
                    if let (Some(places), Some(runs)) = (candidates.places(slot), candidates.runs()) {
                        near += 1;
                        assert_eq!(bytes.is_match_near(text, places.iter().cloned(), runs), expected.is_some(), "{pack} rule {} near its words in {text:?}", r.name);
                    }
                }
            }
        }
        assert!(rules > 100 && found > 1000 && near > 5_000, "{rules} rules, {found} matches, {near} searched near their words");
    }

    #[test]
    fn word_list_stems_share_one_word_class_and_match_as_before() {
        let words: Vec<String> =
            ["delet*", "remov*", "close", "close* out", "cancel", "*"].iter().map(|w| w.to_string()).collect();
        let src = word_list_regex(&words);
        // One shared `\w*` for the single-word stems, one for the phrase's,
        // one for the lone `*`: not one per stem.
        assert_eq!(src.matches(r"\w*").count(), 3, "{src}");
        let shared = regex::RegexBuilder::new(&src).case_insensitive(true).build().unwrap();
        let one_each = regex::RegexBuilder::new(r"\b(?:delet\w*|remov\w*|close|close\w*\s+out|cancel|\w*)\b")
            .case_insensitive(true)
            .build()
            .unwrap();
        for text in ["deletion", "Removed", "close", "closing out", "cancel", "closet", "undelete", "cancelled", "déletion", "", "delete my account"] {
            assert_eq!(shared.is_match(text), one_each.is_match(text), "{text:?} under {src}");
        }
        let no_lone_star: Vec<String> = ["delet*", "remov*", "close"].iter().map(|w| w.to_string()).collect();
        let strict = regex::RegexBuilder::new(&word_list_regex(&no_lone_star)).case_insensitive(true).build().unwrap();
        assert!(strict.is_match("please DELETING it") && strict.is_match("removal") && strict.is_match("close"));
        assert!(!strict.is_match("closet") && !strict.is_match("undelete") && !strict.is_match("remo"));
    }

    #[test]
    fn good_pack_loads() {
        let p = load(GOOD, &["ask.txt", "acknowledge.txt"]).unwrap();
        assert_eq!(p.procedures[0].rules[0].name, "delete/word");
        assert_eq!(p.procedures[0].steps[0].deadlines[0].after.unwrap().get_days(), 14);
    }

    #[test]
    fn translations_load_beside_their_templates_and_strays_are_named() {
        let dir = tempfile::tempdir().unwrap();
        for t in ["ask.txt", "acknowledge.txt"] {
            std::fs::write(dir.path().join(t), "Hello {{ sender_name }}\n").unwrap();
        }
        std::fs::write(dir.path().join("procedures.toml"), GOOD).unwrap();
        std::fs::create_dir_all(dir.path().join("de")).unwrap();
        std::fs::create_dir_all(dir.path().join("staff")).unwrap();
        std::fs::write(dir.path().join("de/ask.txt"), "Hallo {{ sender_name }}\n").unwrap();
        let p = Pack::load(dir.path()).unwrap();
        assert_eq!(p.templates["de/ask.txt"], "Hallo {{ sender_name }}\n");
        std::fs::write(dir.path().join("de/aks.txt"), "Hallo\n").unwrap();
        std::fs::write(dir.path().join("de/acknowledge.txt"), "Hallo {{ sender_name \n").unwrap();
        let problems = Pack::load(dir.path()).unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(text.iter().any(|t| t.contains("de/aks.txt") && t.contains("translates no template")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("de/acknowledge.txt") && t.contains("does not compile")), "{text:?}");
    }

    #[test]
    fn a_route_loop_is_an_error_not_a_hang() {
        use crate::procedures::engine::{Engine, Event, ManualClock, MemoryNumbers, TicketView};
        let looping = GOOD.replace(
            "on_confirmation = \"done\"",
            "on_confirmation = \"done\"\nroute = [{ when = \"true\", next = \"done\" }]",
        )
        .replace("state = \"closed\"", "state = \"closed\"\nroute = [{ when = \"1 == 1\", next = \"ask\" }]");
        let p = load(&looping, &["ask.txt", "acknowledge.txt"]).unwrap();
        let clock = ManualClock::new(jiff::Timestamp::UNIX_EPOCH.to_zoned(jiff::tz::TimeZone::UTC));
        let data = serde_json::Map::new();
        let view = TicketView { number: 1, step: None, data: &data };
        let err = Engine::new(&p, &clock).plan("delete", view, &Event::NewMessage, &mut MemoryNumbers::default());
        let err = err.unwrap_err().to_string();
        assert!(err.contains("routes loop through ask → done → ask"), "{err}");
    }

    #[test]
    fn a_reply_that_is_no_confirmation_never_goes_where_a_confirmation_goes() {
        for key in ["on_reply", "on_decline", "on_resolved"] {
            let bad = GOOD.replace("on_confirmation = \"done\"", &format!("on_confirmation = \"done\"\n{key} = \"done\""));
            let joined = load(&bad, &["ask.txt", "acknowledge.txt"]).unwrap_err().iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n");
            assert!(joined.contains(&format!("{key} goes where on_confirmation goes")), "{key}: {joined}");
        }
        let fine = GOOD.replace("on_confirmation = \"done\"", "on_confirmation = \"done\"\non_resolved = \"ask\"");
        assert!(load(&fine, &["ask.txt", "acknowledge.txt"]).is_ok());
    }

    #[test]
    fn a_template_naming_what_its_step_does_not_guarantee_is_a_config_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("acknowledge.txt"), "Hello {{ sender_name }}\n").unwrap();
        std::fs::write(dir.path().join("ask.txt"), "Hello {{ sender_name }}\nSign {{ challenge.ssh_text }}\n").unwrap();
        std::fs::write(dir.path().join("done.txt"), "Done on {{ executed }} until {{ deadlines.reminder }}\n").unwrap();
        let toml = GOOD
            .replace("identity = \"one\"", "identity = \"none\"")
            .replace("name = \"done\"\ntemplate = \"ask.txt\"", "name = \"done\"\ntemplate = \"done.txt\"");
        std::fs::write(dir.path().join("procedures.toml"), &toml).unwrap();
        let all: Vec<String> = Pack::load(dir.path()).unwrap_err().iter().map(|p| p.to_string()).collect();
        let joined = all.join("\n");
        assert!(
            joined.contains(":19: procedure[0].step[0].template: template ask.txt (line 2) uses {{ challenge.ssh_text }}, which step \"ask\" does not guarantee: the procedure has identity = \"none\""),
            "{joined}"
        );
        assert!(joined.contains("template done.txt (line 1) uses {{ executed }}, which step \"done\" does not guarantee"), "{joined}");
        assert!(joined.contains("uses {{ deadlines.reminder }}, which step \"done\" does not guarantee: step \"done\" arms no deadline"), "{joined}");
        assert_eq!(all.len(), 3, "{joined}");

        // Set by a step before it, with a challenge issued: fine.
        let toml = toml
            .replace("identity = \"none\"", "identity = \"one\"")
            .replace("on_confirmation = \"done\"", "on_confirmation = \"done\"\nset = { executed = \"today\" }")
            .replace("{{ deadlines.reminder }}", "");
        std::fs::write(dir.path().join("done.txt"), "Done on {{ executed }}\n").unwrap();
        std::fs::write(dir.path().join("procedures.toml"), &toml).unwrap();
        Pack::load(dir.path()).unwrap();
    }

    /// "A redirect … cannot be sensitive …, and its identity must be
    /// none": a wrong guess of it must harm no one.
    #[test]
    fn a_redirect_is_a_procedure_whose_wrong_guess_harms_no_one() {
        let bad = GOOD.replace("identity = \"one\"", "identity = \"one\"\nredirect = true");
        let errs = load(&bad, &["acknowledge.txt"]).unwrap_err();
        let joined = errs.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n");
        assert!(joined.contains(":10: procedure[0].redirect: procedure \"delete\" is a redirect, so a wrong guess of it must harm no one"), "{joined}");
    }

    #[test]
    fn a_confirmation_word_open_at_its_end_is_refused() {
        let bad = GOOD.replace("threshold = 2.0", "threshold = 2.0\nconfirmation = '\\b(yes|confirm\\w*)\\b'");
        let errs = load(&bad, &["acknowledge.txt"]).unwrap_err();
        let joined = errs.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n");
        assert!(joined.contains("pack.confirmation: an open-ended word"), "{joined}");
        let good = GOOD.replace("threshold = 2.0", "threshold = 2.0\nconfirmation = '\\b(yes|confirm(?:s|ed)?)\\b'");
        assert!(load(&good, &["ask.txt", "acknowledge.txt"]).is_ok());
    }

    /// `misspelt`: words a pack's rules read through one slip of the
    /// finger; a short word, capitals or a word twice are refused with the
    /// line and the fix.
    #[test]
    fn misspelt_words_are_long_lowercase_and_listed_once() {
        let good = GOOD.replace("threshold = 2.0", "threshold = 2.0\nmisspelt = [\"delete\", \"account\"]");
        let pack = load(&good, &["ask.txt", "acknowledge.txt"]).unwrap();
        assert_eq!(pack.spelling.correct("please deelte my acount"), "please delete my account");
        let bad = GOOD.replace("threshold = 2.0", "threshold = 2.0\nmisspelt = [\"close\", \"Delete\", \"account\", \"account\"]");
        let errs = load(&bad, &["acknowledge.txt"]).unwrap_err();
        let joined = errs.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n");
        assert!(joined.contains(":5: pack.misspelt[0]: \"close\" has fewer than 6 letters"), "{joined}");
        assert!(joined.contains("pack.misspelt[1]: \"Delete\" must be written in lowercase ASCII letters only"), "{joined}");
        assert!(joined.contains("pack.misspelt[3]: \"account\" is listed twice"), "{joined}");
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let bad = GOOD
            .replace("pattern = 'delete'", "pattern = 'del(ete'\ncolour = 'red'")
            .replace("next = \"done\" }", "next = \"nowhere\" }")
            .replace("on_confirmation = \"done\"", "on_confirmation = \"ask\"")
            .replace("after = \"14 days\"", "after = \"fortnight\", nam = \"x\"");
        let errs = load(&bad, &["acknowledge.txt"]).unwrap_err();
        let all: Vec<String> = errs.iter().map(|p| p.to_string()).collect();
        let joined = all.join("\n");
        assert!(joined.contains(":15: unknown key `colour`"), "{joined}");
        assert!(joined.contains(":14: procedure[0].rule[0].pattern: bad regex"), "{joined}");
        assert!(joined.contains("unknown template \"ask.txt\""), "{joined}");
        assert!(joined.contains("no step named \"nowhere\""), "{joined}");
        assert!(joined.contains("\"fortnight\" is not a duration"), "{joined}");
        assert!(joined.contains("step \"done\" is unreachable"), "{joined}");
        assert!(joined.contains(":23: unknown key `nam` in a [deadline] table"), "{joined}");
    }
}

