//! Classification: the rules and the local model over corpora, the
//! `classify` and `learn` commands.

// One support module for every test binary, from its folder.
#[path = "../support/mod.rs"]
mod support;

mod asked_after;
mod cli;
mod corpus;
mod languages;
mod learn_cli;
mod learn_daemon;
mod twin_attacks;
mod own;
mod pack_model;
mod real;
mod request_model;
mod spam;
