//! Fuzz target over the front end of the KDL form: topology text → syntax → lower → referenced
//! inputs → every check, then the diagnostics rendered for people, as JSON and for GitHub.
//! Any panic is a bug: user input never panics meshgen. Seeds: `seeds/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| common::front_end("topology.kdl", data));
