//! One-line explanations of a classification for staff (IRC notices, the
//! audit log, `status`): the procedure, its score against the threshold,
//! each rule that fired with its weight, and the runner-up. Only pack-defined
//! names appear, never message text.

use super::{Classification, UNCLASSIFIED};
use crate::procedures::Pack;

pub fn explain(pack: &Pack, c: &Classification) -> String {
    let weight = |name: &str| {
        pack.procedures
            .iter()
            .flat_map(|p| &p.rules)
            .find(|r| r.name == name)
            .map(|r| r.weight)
    };
    let rules: Vec<String> = c
        .rules
        .iter()
        .map(|r| match weight(r) {
            Some(w) => format!("{r} {w:+}"),
            None => r.clone(),
        })
        .collect();
    let threshold = pack.effective_threshold();
    let verdict = if let Some(m) = c.pack_model.as_ref() {
        format!("{} (the pack's model, probability {}; rules' best score {} < {threshold})", c.procedure, m.probability, c.score)
    } else if let Some(m) = c.model.as_ref().filter(|m| m.decided) {
        format!("{} (model, probability {} from {} examples; rules' best score {} < {threshold})", c.procedure, m.vote.probability, m.vote.examples, c.score)
    } else if let Some(why) = c.held_back.as_deref().filter(|_| c.procedure == UNCLASSIFIED) {
        format!("unclassified ({why})")
    } else if c.procedure == UNCLASSIFIED {
        format!("unclassified (best score {} < {threshold})", c.score)
    } else {
        format!("{} (score {} ≥ {threshold})", c.procedure, c.score)
    };
    let mut out = verdict;
    if !rules.is_empty() {
        out.push_str(": ");
        out.push_str(&rules.join(", "));
    }
    if let Some(r) = &c.runner_up {
        out.push_str("; runner-up ");
        out.push_str(r);
    }
    if let Some(m) = &c.model {
        out.push_str("; ");
        out.push_str(&m.explain());
    }
    if let Some(own) = c.own.as_ref().and_then(|o| o.explain()) {
        out.push_str("; ");
        out.push_str(&own);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explanation_names_rules_weights_and_runner_up() {
        let pack = Pack::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/sourcehut")).unwrap();
        let c = Classification {
            procedure: "refund".into(),
            score: 6.0,
            rules: vec!["refund/refund".into(), "refund/wrong-charge".into()],
            runner_up: Some("cannot-pay".into()),
            ..Default::default()
        };
        assert_eq!(
            explain(&pack, &c),
            "refund (score 6 ≥ 3): refund/refund +3, refund/wrong-charge +2; runner-up cannot-pay"
        );
        let u = Classification { procedure: UNCLASSIFIED.into(), score: 0.0, rules: vec![], runner_up: None, ..Default::default() };
        assert_eq!(explain(&pack, &u), "unclassified (best score 0 < 3)");
    }
}
