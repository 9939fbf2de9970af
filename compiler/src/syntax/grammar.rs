//! The names of the topology language: which nodes each block holds, which properties each node
//! takes, and the values of its enumerations. The KDL front end checks against these, and the
//! JSON Schema of the topology (`schemas/topology.schema.json`) is tested against them.

/// The nodes of the top level.
pub const TOP_NODES: &[&str] = &["mesh", "ca", "network", "cluster"];
/// The nodes inside `mesh { … }`.
pub const MESH_NODES: &[&str] = &["trust-domain", "istio-version", "revision", "namespace"];
/// The nodes inside `ca { … }`.
pub const CA_NODES: &[&str] = &["root", "intermediate"];
/// The nodes inside `cluster "…" { … }`.
pub const CLUSTER_NODES: &[&str] = &["network", "role", "api-server", "reader-token", "eastwest-gateway"];

pub const CA_PROPS: &[&str] = &["mode"];
pub const ROOT_PROPS: &[&str] = &["cert", "key", "algorithm", "valid-days"];
pub const INTERMEDIATE_PROPS: &[&str] = &["algorithm", "valid-days", "dir"];
pub const ROLE_PROPS: &[&str] = &["control-plane"];
pub const API_SERVER_PROPS: &[&str] = &["ca-file", "tls-server-name", "kubeconfig", "context"];
pub const READER_TOKEN_PROPS: &[&str] = &["file", "env"];
pub const EASTWEST_GATEWAY_PROPS: &[&str] = &["address"];

pub const CA_MODES: &[&str] = &["plugin", "external"];
pub const ROLES: &[&str] = &["primary", "remote"];
