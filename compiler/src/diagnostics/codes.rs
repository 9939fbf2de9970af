//! The registry of diagnostic codes. A code is stable once released: it names one distinct
//! problem, keeps its number forever, and is never reused for another problem.

use super::Severity;

/// One entry of the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Code {
    /// `MG` and four digits; the hundreds group the rule family.
    pub id: &'static str,
    /// The severity a diagnostic with this code has unless a stage says otherwise.
    pub severity: Severity,
    /// A short name for the problem, as listed in the book.
    pub title: &'static str,
}

macro_rules! registry {
    ($( $name:ident = $id:literal, $severity:ident, $title:literal; )*) => {
        $( pub const $name: Code = Code { id: $id, severity: Severity::$severity, title: $title }; )*
        /// Every code, in numeric order.
        pub const ALL: &[Code] = &[$($name),*];
    };
}

registry! {
    // The language: KDL syntax and the shape of nodes (TOPOLOGY.md, "Nodes").
    SYNTAX = "MG0001", Error, "KDL syntax error";
    UNKNOWN_NODE = "MG0002", Error, "unknown node";
    UNKNOWN_PROPERTY = "MG0003", Error, "unknown property";
    WRONG_TYPE = "MG0004", Error, "value of the wrong type";
    MISSING_ARGUMENT = "MG0005", Error, "missing argument";
    MISSING_NODE = "MG0006", Error, "missing required node";
    DUPLICATE_NODE = "MG0007", Error, "node given more than once";
    UNEXPECTED_ARGUMENT = "MG0008", Error, "unexpected argument";
    INVALID_VALUE = "MG0009", Error, "value not among the allowed ones";
    DUPLICATE_PROPERTY = "MG0010", Error, "property given more than once";
    UNEXPECTED_CHILDREN = "MG0011", Error, "node takes no children";
    MISSING_PROPERTY = "MG0012", Error, "missing required property";
    CONFLICTING_PROPERTIES = "MG0013", Error, "properties that exclude each other";
    TOPOLOGY_UNREADABLE = "MG0014", Error, "topology file cannot be read";
    NOT_FORMATTABLE = "MG0015", Error, "topology that fmt cannot format";

    // Rule 1: names.
    INVALID_CLUSTER_ID = "MG0101", Error, "invalid cluster ID";
    RESERVED_CLUSTER_ID = "MG0102", Error, "reserved cluster ID";
    INVALID_NETWORK_NAME = "MG0103", Error, "invalid network name";
    INVALID_REVISION = "MG0104", Error, "invalid revision";
    INVALID_NAMESPACE = "MG0105", Error, "invalid namespace";
    DUPLICATE_CLUSTER = "MG0106", Error, "cluster declared twice";
    DUPLICATE_NETWORK = "MG0107", Error, "network declared twice";
    INVALID_TRUST_DOMAIN = "MG0108", Error, "invalid trust domain";
    INVALID_ISTIO_VERSION = "MG0109", Error, "invalid Istio version";
    UNSUPPORTED_ISTIO_VERSION = "MG0110", Error, "unsupported Istio version";
    EMPTY_MESH_ID = "MG0111", Error, "empty mesh ID";

    // Rule 2: networks.
    UNDECLARED_NETWORK = "MG0201", Error, "cluster on an undeclared network";
    UNUSED_NETWORK = "MG0202", Warning, "network with no cluster";

    // Rule 3: roles.
    NO_PRIMARY = "MG0301", Error, "mesh without a primary";
    UNKNOWN_CONTROL_PLANE = "MG0302", Error, "control plane names an unknown cluster";
    CONTROL_PLANE_NOT_PRIMARY = "MG0303", Error, "control plane is not a primary";
    REMOTE_WITHOUT_CONTROL_PLANE = "MG0304", Error, "remote without a control plane";
    CONTROL_PLANE_ON_PRIMARY = "MG0305", Error, "control plane given to a primary";

    // Rule 4: who reads whom.
    MISSING_API_SERVER = "MG0401", Error, "cluster read by a primary has no api-server";
    MISSING_READER_TOKEN = "MG0402", Error, "cluster read by a primary has no reader-token";
    UNUSED_CREDENTIALS = "MG0403", Warning, "api-server or reader-token that no primary uses";

    // Rule 5: multi-network.
    NETWORK_WITHOUT_GATEWAY = "MG0501", Error, "network without an east-west gateway";

    // Rule 6: primary-remote.
    PRIMARY_WITHOUT_GATEWAY = "MG0601", Error, "primary serving remotes has no east-west gateway";
    INVALID_ADDRESS = "MG0602", Error, "invalid east-west gateway address";

    // Rule 7: API servers and referenced files.
    API_SERVER_NOT_HTTPS = "MG0701", Error, "api-server is not an https URL";
    API_SERVER_LOCALHOST = "MG0702", Warning, "api-server on localhost";
    FILE_UNREADABLE = "MG0703", Error, "referenced file cannot be read";
    INVALID_PEM = "MG0704", Error, "file holds no valid PEM certificate";
    INVALID_KUBECONFIG = "MG0705", Error, "kubeconfig does not parse";
    KUBECONFIG_CONTEXT_NOT_FOUND = "MG0706", Error, "context not found in kubeconfig";
    KUBECONFIG_INCOMPLETE = "MG0707", Error, "kubeconfig context lacks server or CA";
    INVALID_TLS_SERVER_NAME = "MG0708", Error, "invalid tls-server-name";
    API_SERVER_CA_NOT_VALID_NOW = "MG0709", Error, "API server CA expired or not yet valid";
    API_SERVER_CA_NOT_CA = "MG0710", Warning, "API server CA is not a CA certificate";

    // Rule 8: the CA.
    CA_ROOT_MISSING = "MG0801", Error, "plug-in CA without a root";
    ROOT_KEY_MISMATCH = "MG0802", Error, "root certificate and key do not match";
    ROOT_NOT_CA = "MG0803", Error, "root is not a signing CA";
    CERT_NOT_VALID_NOW = "MG0804", Error, "certificate expired or not yet valid";
    WEAK_SIGNATURE = "MG0805", Error, "certificate signed with a weak algorithm";
    INTERMEDIATE_NOT_FROM_ROOT = "MG0806", Error, "intermediate does not chain to the root";
    INTERMEDIATE_KEY_MISMATCH = "MG0807", Error, "intermediate certificate and key do not match";
    INTERMEDIATE_NOT_CA = "MG0808", Error, "intermediate is not a signing CA";
    INTERMEDIATE_BAD_EKU = "MG0809", Error, "intermediate has an extended key usage without serverAuth";
    INTERMEDIATE_EXPIRING = "MG0810", Warning, "intermediate expires within 30 days";
    ROOT_KEY_IN_OUTPUT = "MG0811", Error, "root key inside the output folder";
    INVALID_KEY = "MG0812", Error, "file holds no valid private key";
    INTERMEDIATE_INCOMPLETE = "MG0813", Error, "stored intermediate is incomplete";
    CA_WRITE_FAILED = "MG0814", Error, "intermediate cannot be stored";
    INTERMEDIATE_SHARED_KEY = "MG0815", Error, "two clusters share one intermediate key";
    INTERMEDIATE_DIR_IN_OUTPUT = "MG0816", Error, "intermediates folder inside the output folder";
    CA_EXTERNAL = "MG0817", Error, "pki command on an external CA";
    ROOT_EXISTS = "MG0818", Error, "root already exists";
    ROOT_WRITE_FAILED = "MG0819", Error, "root cannot be created";
    NOT_A_PRIMARY = "MG0820", Error, "cluster to renew is not a primary";
    INTERMEDIATE_NOT_ISSUED = "MG0821", Error, "intermediate not issued yet";
    ROOT_KEY_IN_CACERTS = "MG0822", Error, "intermediate with the root's key";
    PRIVATE_KEY_IN_OUTPUT = "MG0823", Error, "private key where none belongs";

    // Rule 9: secrets in the topology.
    INLINE_TOKEN = "MG0901", Error, "token written inline";
    TOKEN_TRACKED_BY_GIT = "MG0902", Warning, "token file tracked by git";
    INVALID_TOKEN = "MG0903", Error, "token file does not hold a token";

    // Inputs that exist only once clusters run.
    PENDING_TOKEN = "MG1001", Error, "reader token not available yet";
    PENDING_ADDRESS = "MG1002", Error, "east-west gateway address not known yet";
    LEFT_OUT = "MG1003", Warning, "object left out until its input exists";

    // Output.
    OUTPUT_NOT_OURS = "MG1101", Error, "output folder not written by meshgen";
    WRITE_FAILED = "MG1102", Error, "output cannot be written";
    TEMPLATE_FAILED = "MG1103", Error, "template failed to render";
    UNKNOWN_CLUSTER = "MG1104", Error, "no such cluster";
    RUNTIME_INPUT_UNUSABLE = "MG1105", Error, "runtime input for a cluster that cannot take it";
}

/// Looks a code up by its ID, accepting any letter case (`mg0101`).
pub fn lookup(id: &str) -> Option<Code> {
    ALL.iter().copied().find(|c| c.id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_well_formed_and_in_order() {
        let ids: Vec<&str> = ALL.iter().map(|c| c.id).collect();
        for id in &ids {
            assert!(id.len() == 6 && id.starts_with("MG") && id[2..].bytes().all(|b| b.is_ascii_digit()), "{id}");
        }
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted, "codes must be unique and listed in numeric order");
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(lookup("mg0106"), Some(DUPLICATE_CLUSTER));
        assert_eq!(lookup("MG9999"), None);
    }
}
