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
