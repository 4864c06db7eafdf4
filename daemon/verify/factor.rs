//! One identity factor's outcome. A factor is `pass` only when every
//! condition holds; anything uncertain is `fail` or `none`, with a reason a
//! person can act on.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Factor {
    pub result: Outcome,
    pub reason: String,
    /// `none` because of a passing condition (DNS timeout, server down):
    /// worth checking again later. Never set on `pass` or `fail`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub temporary: bool,
}

impl Factor {
    pub fn pass(reason: impl Into<String>) -> Factor {
        Factor {
            result: Outcome::Pass,
            reason: reason.into(),
            temporary: false,
        }
    }

    pub fn fail(reason: impl Into<String>) -> Factor {
        Factor {
            result: Outcome::Fail,
            reason: reason.into(),
            temporary: false,
        }
    }

    pub fn none(reason: impl Into<String>) -> Factor {
        Factor {
            result: Outcome::None,
            reason: reason.into(),
            temporary: false,
        }
    }

    /// `none (temporary)`: could not be checked now; retry later.
    pub fn temporary(reason: impl Into<String>) -> Factor {
        Factor {
            result: Outcome::None,
            reason: format!("temporary: {}", reason.into()),
            temporary: true,
        }
    }

    pub fn passed(&self) -> bool {
        self.result == Outcome::Pass
    }
}

/// One piece of evidence towards a factor: one signature, one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    Pass(String),
    /// Could not be checked now (DNS timeout, server down); may pass later.
    Temporary(String),
    Fail(String),
    /// Nothing that counts (e.g. a DKIM key in testing mode, RFC 6376
    /// 3.6.1; no record published).
    None(String),
}

/// The factor from several pieces of evidence: any pass wins; otherwise
/// "try again later" when something could not be checked, then the
/// failures (the first three), then nothing. `empty` says why when there is
/// no evidence at all.
pub fn combine(evidence: Vec<Evidence>, empty: &str) -> Factor {
    let (mut temporary, mut fail, mut none) = (Vec::new(), Vec::new(), Vec::new());
    for e in evidence {
        match e {
            Evidence::Pass(r) => return Factor::pass(r),
            Evidence::Temporary(r) => temporary.push(r),
            Evidence::Fail(r) => fail.push(r),
            Evidence::None(r) => none.push(r),
        }
    }
    fail.truncate(3);
    if !temporary.is_empty() {
        Factor::temporary(temporary.join("; "))
    } else if !fail.is_empty() {
        Factor::fail(fail.join("; "))
    } else if !none.is_empty() {
        Factor::none(none.join("; "))
    } else {
        Factor::none(empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_wins_then_temporary_then_fail_then_none() {
        assert!(combine(vec![Evidence::Fail("x".into()), Evidence::Pass("ok".into())], "-").passed());
        let f = combine(vec![Evidence::Fail("f".into()), Evidence::Temporary("t".into())], "-");
        assert!(f.temporary && f.result == Outcome::None);
        let f = combine(vec![Evidence::None("n".into()), Evidence::Fail("f".into())], "-");
        assert_eq!(f.result, Outcome::Fail);
        assert_eq!(combine(Vec::new(), "no signature").reason, "no signature");
    }
}
