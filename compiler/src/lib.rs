//! meshgen: compiles one Istio multi-cluster topology into every manifest each cluster needs.
//!
//! The pipeline (see ARCHITECTURE.md): `syntax` → `model` → `check` → `pki` → `plan` →
//! `render` → `emit`, with `diagnostics` as the common currency and `driver` running the stages
//! for each command.

pub mod check;
pub mod cli;
pub mod diagnostics;
pub mod driver;
pub mod emit;
pub mod graph;
pub mod model;
pub mod pki;
pub mod plan;
pub mod render;
pub mod schema;
pub mod syntax;
