//! Identity verification (issue: identity factors). Not built yet.
