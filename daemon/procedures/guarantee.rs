//! Which variables a step's templates may use: what the daemon sets on
//! every ticket, the challenge when the procedure verifies identity, the
//! facts the procedure declares staff record, and what the step itself and
//! the steps that can lead to it `set` or `allocate`. A template naming
//! anything else would fail on a customer's mail (strict undefined); the
//! pack check finds it first, for every template of every step, also in
//! branches a test never takes.

use std::collections::{BTreeSet, HashMap};

use super::procedure::{IdentityPolicy, Step};

/// Set by the daemon on every ticket before any step runs (act/mod.rs
/// `new_ticket` and `Actor::context`, which adds what identity allows) or by the
/// engine for every plan. Account facts (`account`) are there only once
/// the sender is verified, so no template may count on them.
pub const ALWAYS: &[&str] = &[
    "sender_name",
    "sender_email",
    "subject",
    "signature",
    "classification",
    "credential_kinds",
    "age_blocks",
    "verified",
    "factors",
    "identity_summary",
    "received",
    "ticket",
    "today",
    "now",
    "procedure_title",
    "billing",
    "deadlines",
];

/// The fields of `challenge`, issued when the procedure verifies identity.
pub const CHALLENGE_FIELDS: &[&str] = &["ssh_text", "ssh_command", "dns_name", "dns_label", "dns_value", "web_path"];

/// Template functions and tests minijinja reports like variables.
const BUILTINS: &[&str] = &["range", "dict", "namespace", "debug", "loop", "true", "false", "none"];

/// A template variable a step does not guarantee.
#[derive(Debug, Clone, PartialEq)]
pub struct Unguaranteed {
    pub step: usize,
    /// "template" or "staff_note".
    pub key: &'static str,
    pub template: String,
    pub variable: String,
    /// 1-based line in the template where it is first named.
    pub line: Option<usize>,
    pub why: String,
}

/// Every variable the templates of `steps` name that their step does not
/// guarantee. `edges[i]`: the steps step `i` can move to.
pub fn check(
    steps: &[Step],
    edges: &[Vec<usize>],
    identity: IdentityPolicy,
    facts: &[String],
    sources: &HashMap<String, String>,
) -> Vec<Unguaranteed> {
    let reach: Vec<BTreeSet<usize>> = (0..steps.len()).map(|i| reachable(edges, i)).collect();
    let mut out = Vec::new();
    for (j, step) in steps.iter().enumerate() {
        if !reach[0].contains(&j) {
            continue; // reported as unreachable already
        }
        // The step itself and every step on a path from the first to it.
        let before: Vec<&Step> = (0..steps.len())
            .filter(|i| *i == j || (reach[0].contains(i) && reach[*i].contains(&j)))
            .map(|i| &steps[i])
            .collect();
        let mut known: BTreeSet<String> = ALWAYS.iter().map(|s| s.to_string()).collect();
        known.extend(facts.iter().cloned());
        for s in &before {
            known.extend(s.set.iter().map(|(k, _)| k.clone()));
            known.extend(s.allocate.iter().map(|a| a.key.clone()));
        }
        let entered_by_reply = steps.iter().any(|s| {
            [&s.on_reply, &s.on_confirmation, &s.on_decline, &s.on_resolved].iter().any(|t| t.as_deref() == Some(step.name.as_str()))
        });
        for (key, name) in [("template", &step.template), ("staff_note", &step.staff_note)] {
            let Some(name) = name else { continue };
            let Some(src) = sources.get(name) else { continue };
            for var in variables(name, src) {
                let mut parts = var.splitn(2, '.');
                let root = parts.next().unwrap_or_default();
                let field = parts.next();
                let why = match (root, field) {
                    (r, _) if BUILTINS.contains(&r) => None,
                    ("challenge", _) if identity == IdentityPolicy::None => Some(format!(
                        "the procedure has identity = \"none\", so no challenge is issued; give it an identity policy or use another template"
                    )),
                    ("challenge", Some(f)) if !CHALLENGE_FIELDS.iter().any(|c| f == *c || f.starts_with(&format!("{c}."))) => {
                        Some(format!("a challenge has only {}", CHALLENGE_FIELDS.join(", ")))
                    }
                    ("challenge", _) => None,
                    ("deadlines", Some(f)) if !step.deadlines.iter().any(|d| d.name == f) => Some(format!(
                        "step {:?} arms {}",
                        step.name,
                        if step.deadlines.is_empty() {
                            "no deadline".to_string()
                        } else {
                            step.deadlines.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
                        }
                    )),
                    ("reply_intent", _) if entered_by_reply => None,
                    (r, _) if known.contains(r) => None,
                    _ => Some(format!(
                        "neither the daemon, the procedure's facts, nor a `set` of step {:?} or a step before it provides it",
                        step.name
                    )),
                };
                if let Some(why) = why {
                    out.push(Unguaranteed {
                        step: j,
                        key,
                        template: name.clone(),
                        line: line_of(src, root),
                        variable: var,
                        why,
                    });
                }
            }
        }
    }
    out
}

/// Variables (dotted where the template reads fields) a template names.
fn variables(name: &str, src: &str) -> BTreeSet<String> {
    let mut env = minijinja::Environment::new();
    if env.add_template_owned(name.to_string(), src.to_string()).is_err() {
        return BTreeSet::new(); // reported as not compiling
    }
    env.get_template(name)
        .map(|t| t.undeclared_variables(true).into_iter().collect())
        .unwrap_or_default()
}

fn line_of(src: &str, var: &str) -> Option<usize> {
    let word = regex::Regex::new(&format!(r"\b{}\b", regex::escape(var))).ok()?;
    src.lines().position(|l| (l.contains("{{") || l.contains("{%")) && word.is_match(l)).map(|i| i + 1)
}

fn reachable(edges: &[Vec<usize>], from: usize) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from];
    while let Some(i) = todo.pop() {
        if i < edges.len() && seen.insert(i) {
            todo.extend(edges[i].iter().copied());
        }
    }
    seen
}
