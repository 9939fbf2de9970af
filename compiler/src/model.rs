//! The typed topology: what a topology file says, lowered from KDL by `syntax`, with a source
//! span on every value a diagnostic may point at. Plain data: no I/O, no rules. Values are kept
//! as written (a cluster ID that breaks a naming rule is still here); `check` judges them.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::diagnostics::Span;

/// A value and the text it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Sp<T> {
    pub fn new(value: T, span: Span) -> Sp<T> {
        Sp { value, span }
    }
}

impl Sp<String> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// A path as written in the topology, and resolved against the topology's folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePath {
    pub written: String,
    pub resolved: PathBuf,
    pub span: Span,
}

#[derive(Debug)]
pub struct Topology {
    /// The topology's file name, as it appears in every generated file's header.
    pub file_name: String,
    /// The folder relative paths are resolved against.
    pub dir: PathBuf,
    pub mesh: Mesh,
    pub ca: Ca,
    pub networks: Vec<Network>,
    pub clusters: Vec<Cluster>,
}

impl Topology {
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name.value == name)
    }

    /// The IDs of the primary clusters, in declaration order.
    pub fn primaries(&self) -> Vec<&str> {
        self.clusters.iter().filter(|c| c.is_primary()).map(|c| c.name.as_str()).collect()
    }
}

#[derive(Debug)]
pub struct Mesh {
    pub id: Sp<String>,
    /// The `mesh` node itself, for diagnostics about the mesh as a whole.
    pub span: Span,
    /// Defaults to `cluster.local`; a default carries the `mesh` node's span.
    pub trust_domain: Sp<String>,
    pub istio_version: Sp<String>,
    pub revision: Option<Sp<String>>,
    pub namespace: Sp<String>,
}

pub const DEFAULT_TRUST_DOMAIN: &str = "cluster.local";
pub const DEFAULT_ISTIO_VERSION: &str = "1.30";
pub const DEFAULT_NAMESPACE: &str = "istio-system";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaMode {
    /// meshgen emits `cacerts` for every primary from a shared root.
    Plugin,
    /// The user brings the CA (cert-manager/istio-csr, Vault); nothing CA-related is emitted.
    External,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAlgorithm {
    EcdsaP256,
    EcdsaP384,
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

impl KeyAlgorithm {
    pub const NAMES: &[&str] = &["ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096"];

    pub fn from_name(name: &str) -> Option<KeyAlgorithm> {
        Some(match name {
            "ecdsa-p256" => KeyAlgorithm::EcdsaP256,
            "ecdsa-p384" => KeyAlgorithm::EcdsaP384,
            "rsa-2048" => KeyAlgorithm::Rsa2048,
            "rsa-3072" => KeyAlgorithm::Rsa3072,
            "rsa-4096" => KeyAlgorithm::Rsa4096,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256 => "ecdsa-p256",
            KeyAlgorithm::EcdsaP384 => "ecdsa-p384",
            KeyAlgorithm::Rsa2048 => "rsa-2048",
            KeyAlgorithm::Rsa3072 => "rsa-3072",
            KeyAlgorithm::Rsa4096 => "rsa-4096",
        }
    }
}

#[derive(Debug)]
pub struct Ca {
    pub mode: CaMode,
    /// The `ca` node, or `None` when the topology has none (then the mode is `plugin`).
    pub span: Option<Span>,
    pub root: Option<Root>,
    /// The `root` node when one is written, even if it lowered to no [`Root`] (its problems are
    /// already reported, so nobody reports the root as missing).
    pub root_node: Option<Span>,
    pub intermediate: Intermediate,
}

#[derive(Debug)]
pub struct Root {
    pub span: Span,
    pub cert: FilePath,
    pub key: FilePath,
    /// Used only by `meshgen pki init`.
    pub algorithm: Sp<KeyAlgorithm>,
    pub valid_days: Sp<u32>,
}

pub const DEFAULT_ROOT_VALID_DAYS: u32 = 3650;
pub const DEFAULT_INTERMEDIATE_VALID_DAYS: u32 = 365;
pub const DEFAULT_INTERMEDIATE_DIR: &str = "pki/clusters";

#[derive(Debug)]
pub struct Intermediate {
    /// The `intermediate` node, if written.
    pub span: Option<Span>,
    pub algorithm: Sp<KeyAlgorithm>,
    pub valid_days: Sp<u32>,
    pub dir: FilePath,
}

#[derive(Debug)]
pub struct Network {
    pub name: Sp<String>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Cluster {
    pub name: Sp<String>,
    pub span: Span,
    /// `None` only when the topology left it out, which `syntax` already reported.
    pub network: Option<Sp<String>>,
    pub role: Option<Sp<Role>>,
    pub api_server: Option<ApiServer>,
    pub reader_token: Option<ReaderToken>,
    pub eastwest_gateway: Option<EastwestGateway>,
}

impl Cluster {
    pub fn is_primary(&self) -> bool {
        matches!(self.role.as_ref().map(|r| &r.value), Some(Role::Primary))
    }

    /// The primary this cluster is a remote of.
    pub fn control_plane(&self) -> Option<&Sp<String>> {
        match self.role.as_ref().map(|r| &r.value) {
            Some(Role::Remote { control_plane }) => control_plane.as_ref(),
            _ => None,
        }
    }

    pub fn network_name(&self) -> Option<&str> {
        self.network.as_ref().map(|n| n.value.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Primary,
    /// `None` when `control-plane` is missing, which `check` reports.
    Remote { control_plane: Option<Sp<String>> },
}

#[derive(Debug)]
pub struct ApiServer {
    pub span: Span,
    /// `None` when the node is written but its properties are wrong (already reported): the
    /// cluster still has an `api-server`, so no rule reports it missing.
    pub source: Option<ApiServerSource>,
    pub tls_server_name: Option<Sp<String>>,
}

#[derive(Debug)]
pub enum ApiServerSource {
    /// `api-server "https://…" ca-file="…"`
    Direct { url: Sp<String>, ca_file: FilePath },
    /// `api-server kubeconfig="…" context="…"`; a URL argument, when given, overrides the
    /// kubeconfig's server (for clusters whose kubeconfig names an address only the owner reaches).
    Kubeconfig { path: FilePath, context: Sp<String>, url: Option<Sp<String>> },
}

#[derive(Debug)]
pub struct ReaderToken {
    pub span: Span,
    /// `None` when the node is written but its properties are wrong (already reported).
    pub source: Option<TokenSource>,
}

#[derive(Debug)]
pub enum TokenSource {
    File(FilePath),
    Env(Sp<String>),
}

#[derive(Debug)]
pub struct EastwestGateway {
    pub span: Span,
    pub address: Option<Sp<String>>,
}

/// What an east-west gateway address is, which decides how a remote reaches its primary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Ip(IpAddr),
    Hostname(String),
}

impl Address {
    /// Classifies an address; `None` when it is neither an IP nor a DNS name.
    pub fn parse(text: &str) -> Option<Address> {
        let unbracketed = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            return Some(Address::Ip(ip));
        }
        // Something that looks like a dotted quad but is not a valid IPv4 address is a typo,
        // not a host name.
        if text.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())) {
            return None;
        }
        is_dns_name(text).then(|| Address::Hostname(text.to_ascii_lowercase()))
    }
}

/// A DNS name (RFC 1123): dot-separated labels of letters, digits and inner hyphens, at most 253
/// characters. A trailing dot is not accepted (Kubernetes rejects it in `externalName`).
pub fn is_dns_name(text: &str) -> bool {
    !text.is_empty() && text.len() <= 253 && text.split('.').all(is_dns_label_any_case)
}

/// A lower-case RFC 1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn is_dns1123_label(text: &str) -> bool {
    is_dns_label_any_case(text) && !text.bytes().any(|b| b.is_ascii_uppercase())
}

fn is_dns_label_any_case(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// A Kubernetes label value that is not empty: at most 63 characters,
/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`.
pub fn is_label_value(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_classified() {
        assert_eq!(Address::parse("203.0.113.10"), Some(Address::Ip("203.0.113.10".parse().unwrap())));
        assert_eq!(Address::parse("2001:db8::10"), Some(Address::Ip("2001:db8::10".parse().unwrap())));
        assert_eq!(Address::parse("[2001:db8::10]"), Some(Address::Ip("2001:db8::10".parse().unwrap())));
        assert_eq!(Address::parse("ew.example.com"), Some(Address::Hostname("ew.example.com".into())));
        assert_eq!(Address::parse("EW.Example.com"), Some(Address::Hostname("ew.example.com".into())));
        assert_eq!(Address::parse("203.0.113.300"), None);
        assert_eq!(Address::parse("not a host"), None);
        assert_eq!(Address::parse("-bad.example.com"), None);
        assert_eq!(Address::parse(""), None);
    }

    #[test]
    fn naming_rules() {
        assert!(is_dns1123_label("east-1"));
        assert!(!is_dns1123_label("East-1"));
        assert!(!is_dns1123_label("east_1"));
        assert!(!is_dns1123_label("-east"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(is_label_value("net_1.a"));
        assert!(!is_label_value("net/1"));
        assert!(!is_label_value("_net"));
        assert!(is_dns_name("cluster.local"));
        assert!(!is_dns_name("cluster..local"));
    }
}
