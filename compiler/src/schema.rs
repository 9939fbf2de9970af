//! The JSON Schema of the topology's JSON/YAML form, which `meshgen schema` prints for editors.
//! It lives in `schemas/topology.schema.json`; the tests below hold its names and values to the
//! ones the KDL front end accepts, so the two cannot drift apart.

pub const TOPOLOGY_SCHEMA: &str = include_str!("../../schemas/topology.schema.json");

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::TOPOLOGY_SCHEMA;
    use crate::model::KeyAlgorithm;
    use crate::syntax::grammar;

    fn schema() -> Value {
        serde_json::from_str(TOPOLOGY_SCHEMA).unwrap()
    }

    fn keys(object: &Value) -> Vec<String> {
        let mut keys: Vec<String> = object.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    }

    fn sorted(names: &[&str], extra: &[&str]) -> Vec<String> {
        let mut all: Vec<String> = names.iter().chain(extra).map(|s| s.to_string()).collect();
        all.sort();
        all
    }

    #[test]
    fn nodes_and_properties_match_the_kdl_front_end() {
        let schema = schema();
        let top = &schema["properties"];
        // Top-level `network` and `cluster` nodes become the `networks` and `clusters` lists.
        assert_eq!(keys(top), sorted(&["mesh", "ca", "networks", "clusters"], &[]));
        assert_eq!(grammar::TOP_NODES, ["mesh", "ca", "network", "cluster"]);
        assert_eq!(keys(&top["mesh"]["properties"]), sorted(grammar::MESH_NODES, &["id"]));
        assert_eq!(keys(&top["ca"]["properties"]), sorted(grammar::CA_NODES, grammar::CA_PROPS));
        assert_eq!(keys(&top["ca"]["properties"]["root"]["properties"]), sorted(grammar::ROOT_PROPS, &[]));
        assert_eq!(keys(&top["ca"]["properties"]["intermediate"]["properties"]), sorted(grammar::INTERMEDIATE_PROPS, &[]));
        let cluster = &schema["$defs"]["cluster"]["properties"];
        assert_eq!(keys(cluster), sorted(grammar::CLUSTER_NODES, &["name", "control-plane"]));
        assert_eq!(keys(&cluster["api-server"]["properties"]), sorted(grammar::API_SERVER_PROPS, &["url"]));
        assert_eq!(keys(&cluster["reader-token"]["properties"]), sorted(grammar::READER_TOKEN_PROPS, &[]));
        assert_eq!(keys(&cluster["eastwest-gateway"]["properties"]), sorted(grammar::EASTWEST_GATEWAY_PROPS, &[]));
        assert_eq!(grammar::ROLE_PROPS, ["control-plane"]);
    }

    #[test]
    fn enumerations_and_defaults_match_the_model() {
        let schema = schema();
        let algorithms: Vec<&str> = schema["$defs"]["algorithm"]["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(algorithms, KeyAlgorithm::NAMES);
        let mesh = &schema["properties"]["mesh"]["properties"];
        assert_eq!(mesh["trust-domain"]["default"], crate::model::DEFAULT_TRUST_DOMAIN);
        assert_eq!(mesh["istio-version"]["default"], crate::model::DEFAULT_ISTIO_VERSION);
        assert_eq!(mesh["namespace"]["default"], crate::model::DEFAULT_NAMESPACE);
        let ca = &schema["properties"]["ca"]["properties"];
        assert_eq!(ca["mode"]["enum"], serde_json::json!(grammar::CA_MODES));
        assert_eq!(ca["intermediate"]["properties"]["dir"]["default"], crate::model::DEFAULT_INTERMEDIATE_DIR);
        assert_eq!(ca["intermediate"]["properties"]["valid-days"]["default"], crate::model::DEFAULT_INTERMEDIATE_VALID_DAYS);
        assert_eq!(ca["root"]["properties"]["valid-days"]["default"], crate::model::DEFAULT_ROOT_VALID_DAYS);
        assert_eq!(schema["$defs"]["cluster"]["properties"]["role"]["enum"], serde_json::json!(grammar::ROLES));
    }
}
