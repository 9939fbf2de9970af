//! Fuzz target over the front end of the topology's JSON/YAML form (`topology.yaml`), through
//! the same lowering, checks and renderers as `front_end`. Seeds: `seeds-yaml/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| common::front_end("topology.yaml", data));
