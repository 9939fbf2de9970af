//! check: the semantic rules of TOPOLOGY.md ("Rules"), one function per rule family, over a
//! lowered topology and its inputs. Every rule runs over everything and pushes every violation;
//! nothing stops at the first. Pure: no I/O, no decisions about output (that is `plan`).
//! Rule 8 (the CA) needs key material and lives in `pki`.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostics::{codes, Diagnostic, Diagnostics};
use crate::model::{self, Address, Cluster, Role, Topology};
use crate::syntax::inputs::{Inputs, Token};

#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Inputs that exist only once clusters run are left for a second pass instead of failing.
    pub allow_pending: bool,
    /// The time certificates are judged against.
    pub now: time::OffsetDateTime,
}

/// The clusters some primary reads (rule 4): every primary reads every other cluster.
pub fn read_clusters(topology: &Topology) -> BTreeSet<&str> {
    let primaries = topology.primaries();
    topology
        .clusters
        .iter()
        .map(|c| c.name.as_str())
        .filter(|name| primaries.iter().any(|p| p != name))
        .collect()
}

/// The declared networks clusters sit on (declared networks no cluster uses do not count, and
/// neither do undeclared ones, which are errors of their own).
pub fn used_networks(topology: &Topology) -> BTreeSet<&str> {
    let declared: BTreeSet<&str> = topology.networks.iter().map(|n| n.name.as_str()).collect();
    topology.clusters.iter().filter_map(Cluster::network_name).filter(|n| declared.contains(n)).collect()
}

pub fn check(topology: &Topology, inputs: &Inputs, options: Options, diags: &mut Diagnostics) {
    names(topology, diags);
    networks(topology, diags);
    roles(topology, diags);
    readers(topology, inputs, options, diags);
    multi_network(topology, diags);
    primary_remote(topology, options, diags);
    api_servers(topology, inputs, diags);
    api_server_cas(topology, inputs, options.now, diags);
}

/// Rule 1: names follow their formats, and no two clusters or networks share one.
fn names(topology: &Topology, diags: &mut Diagnostics) {
    let mesh = &topology.mesh;
    if mesh.id.value.trim().is_empty() {
        diags.push(
            Diagnostic::new(codes::EMPTY_MESH_ID, "the mesh ID is empty")
                .primary(mesh.id.span, "empty")
                .help("name the mesh, such as `mesh \"acme-prod\"`; it becomes global.meshID in every cluster"),
        );
    }
    if !model::is_dns_name(&mesh.trust_domain.value) {
        diags.push(
            Diagnostic::new(codes::INVALID_TRUST_DOMAIN, format!("trust domain \"{}\" is not a DNS name", mesh.trust_domain.value))
                .primary(mesh.trust_domain.span, "not a DNS name")
                .help("the trust domain is a DNS name such as \"cluster.local\" or \"prod.acme.example\"; it appears in every SPIFFE ID"),
        );
    }
    match parse_version(&mesh.istio_version.value) {
        None => diags.push(
            Diagnostic::new(codes::INVALID_ISTIO_VERSION, format!("\"{}\" is not an Istio minor version", mesh.istio_version.value))
                .primary(mesh.istio_version.span, "expected MAJOR.MINOR")
                .help("write the minor version the clusters run, such as `istio-version \"1.30\"`"),
        ),
        Some(version) if version < (1, 24) => diags.push(
            Diagnostic::new(codes::UNSUPPORTED_ISTIO_VERSION, format!("Istio {} is not supported", mesh.istio_version.value))
                .primary(mesh.istio_version.span, "older than 1.24")
                .help("meshgen supports Istio 1.24 and later (the Helm `remote` profile arrived in 1.24); upgrade, or use an older toolchain"),
        ),
        Some(_) => {}
    }
    if let Some(revision) = &mesh.revision
        && !model::is_dns1123_label(&revision.value) {
            diags.push(
                Diagnostic::new(codes::INVALID_REVISION, format!("revision \"{}\" is not a DNS-1123 label", revision.value))
                    .primary(revision.span, "not a lower-case DNS label")
                    .help("a revision is lower-case letters, digits and '-', at most 63 characters, such as \"1-30\"; it ends up in object names like istiod-<revision>"),
            );
        }
    if !model::is_dns1123_label(&mesh.namespace.value) {
        diags.push(
            Diagnostic::new(codes::INVALID_NAMESPACE, format!("namespace \"{}\" is not a DNS-1123 label", mesh.namespace.value))
                .primary(mesh.namespace.span, "not a valid namespace name")
                .help("a namespace is lower-case letters, digits and '-', at most 63 characters, such as \"istio-system\""),
        );
    }
    let mut clusters: BTreeMap<&str, &Cluster> = BTreeMap::new();
    for cluster in &topology.clusters {
        let id = cluster.name.as_str();
        if id.eq_ignore_ascii_case("kubernetes") {
            diags.push(
                Diagnostic::new(codes::RESERVED_CLUSTER_ID, format!("cluster ID \"{id}\" is reserved"))
                    .primary(cluster.name.span, "istiod's default cluster ID")
                    .help("\"Kubernetes\" is the CLUSTER_ID every istiod has when none is set, so remote secrets keyed by it are ignored; choose a name that says where the cluster is, such as \"east-1\""),
            );
        } else if !model::is_dns1123_label(id) {
            let lowered = id.to_ascii_lowercase().replace(['_', '.', ' '], "-");
            let help = if model::is_dns1123_label(&lowered) {
                format!("cluster IDs are lower-case DNS labels (they become Secret names and label values); write \"{lowered}\"")
            } else {
                "cluster IDs are lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit".to_string()
            };
            diags.push(
                Diagnostic::new(codes::INVALID_CLUSTER_ID, format!("cluster ID \"{id}\" is not a lower-case DNS-1123 label"))
                    .primary(cluster.name.span, "invalid cluster ID")
                    .help(help),
            );
        }
        if let Some(first) = clusters.get(id) {
            diags.push(
                Diagnostic::new(codes::DUPLICATE_CLUSTER, format!("cluster \"{id}\" is declared twice"))
                    .primary(cluster.name.span, "declared again here")
                    .secondary(first.name.span, "first declared here")
                    .help("cluster IDs must be unique across the mesh (istiod ignores a second cluster with the same ID); rename one"),
            );
        } else {
            clusters.insert(id, cluster);
        }
    }
    let mut networks: BTreeMap<&str, &model::Network> = BTreeMap::new();
    for network in &topology.networks {
        let name = network.name.as_str();
        if !model::is_label_value(name) {
            diags.push(
                Diagnostic::new(codes::INVALID_NETWORK_NAME, format!("network name \"{name}\" is not a valid label value"))
                    .primary(network.name.span, "invalid network name")
                    .help("the network name becomes the topology.istio.io/network label: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"),
            );
        }
        if let Some(first) = networks.get(name) {
            diags.push(
                Diagnostic::new(codes::DUPLICATE_NETWORK, format!("network \"{name}\" is declared twice"))
                    .primary(network.name.span, "declared again here")
                    .secondary(first.name.span, "first declared here")
                    .help("remove one of the two declarations"),
            );
        } else {
            networks.insert(name, network);
        }
    }
}

/// `"1.30"` → `(1, 30)`.
pub fn parse_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.split_once('.')?;
    let number = |s: &str| if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) { s.parse().ok() } else { None };
    Some((number(major)?, number(minor)?))
}

/// Rule 2: a cluster's network is declared; a declared network has a cluster.
fn networks(topology: &Topology, diags: &mut Diagnostics) {
    let declared: Vec<&str> = topology.networks.iter().map(|n| n.name.as_str()).collect();
    for cluster in &topology.clusters {
        let Some(network) = &cluster.network else { continue };
        if declared.contains(&network.as_str()) {
            continue;
        }
        let help = crate::syntax::did_you_mean_or(&network.value, &declared, || format!("declare it at the top level: `network \"{}\"`", network.value));
        diags.push(
            Diagnostic::new(codes::UNDECLARED_NETWORK, format!("cluster \"{}\" is on network \"{}\", which is not declared", cluster.name.value, network.value))
                .primary(network.span, "undeclared network")
                .help(help),
        );
    }
    // A cluster on an undeclared network is most likely a typo of an unused one, which the
    // error's "did you mean" already names: no second diagnostic for the same mistake.
    let typo = topology.clusters.iter().filter_map(Cluster::network_name).any(|n| !declared.contains(&n));
    let used = used_networks(topology);
    for network in topology.networks.iter().filter(|_| !typo) {
        if !used.contains(network.name.as_str()) {
            diags.push(
                Diagnostic::new(codes::UNUSED_NETWORK, format!("network \"{}\" has no cluster", network.name.value))
                    .primary(network.name.span, "no cluster is on this network")
                    .help("remove the declaration, or put a cluster on it with `network \"…\"` inside the cluster"),
            );
        }
    }
}

/// Rule 3: at least one primary; a remote's control plane is a primary.
fn roles(topology: &Topology, diags: &mut Diagnostics) {
    if !topology.clusters.is_empty() && !topology.clusters.iter().any(Cluster::is_primary) && topology.clusters.iter().all(|c| c.role.is_some()) {
        diags.push(
            Diagnostic::new(codes::NO_PRIMARY, "the mesh has no primary cluster")
                .primary(topology.mesh.id.span, "no cluster of this mesh runs a control plane")
                .help("make at least one cluster `role \"primary\"`: remotes need a primary's istiod"),
        );
    }
    if topology.clusters.is_empty() {
        diags.push(
            Diagnostic::new(codes::NO_PRIMARY, "the mesh has no clusters")
                .primary(topology.mesh.id.span, "this mesh is empty")
                .help("declare clusters with `cluster \"<id>\" { network \"…\"; role \"primary\" }`"),
        );
    }
    let names: Vec<&str> = topology.clusters.iter().map(|c| c.name.as_str()).collect();
    for cluster in &topology.clusters {
        let Some(role) = &cluster.role else { continue };
        let Role::Remote { control_plane } = &role.value else { continue };
        let Some(control_plane) = control_plane else {
            let primaries = topology.primaries();
            let example = primaries.first().copied().unwrap_or("<primary>");
            diags.push(
                Diagnostic::new(codes::REMOTE_WITHOUT_CONTROL_PLANE, format!("remote \"{}\" does not name its control plane", cluster.name.value))
                    .primary(role.span, "which primary serves this remote?")
                    .help(format!("write `role \"remote\" control-plane=\"{example}\"`")),
            );
            continue;
        };
        match topology.cluster(control_plane.as_str()) {
            None => {
                let help = crate::syntax::did_you_mean_or(&control_plane.value, &names, || "name a cluster of this topology whose role is \"primary\"".to_string());
                diags.push(
                    Diagnostic::new(codes::UNKNOWN_CONTROL_PLANE, format!("control plane \"{}\" is not a cluster of this mesh", control_plane.value))
                        .primary(control_plane.span, "no such cluster")
                        .help(help),
                );
            }
            Some(target) if !target.is_primary() && target.role.is_some() => {
                let what = if target.name.value == cluster.name.value { "itself" } else { "a remote" };
                diags.push(
                    Diagnostic::new(codes::CONTROL_PLANE_NOT_PRIMARY, format!("control plane \"{}\" is {what}, not a primary", control_plane.value))
                        .primary(control_plane.span, "not a primary")
                        .secondary(target.role.as_ref().map_or(target.name.span, |r| r.span), "its role is declared here")
                        .help("a remote's control plane must be a cluster with `role \"primary\"`"),
                );
            }
            Some(_) => {}
        }
    }
}

/// Rule 4: a cluster some primary reads has an API server and a reader token; one that nobody
/// reads and has them gets a warning. A token not there yet is a pending input.
fn readers(topology: &Topology, inputs: &Inputs, options: Options, diags: &mut Diagnostics) {
    let read = read_clusters(topology);
    for cluster in &topology.clusters {
        let id = cluster.name.as_str();
        if read.contains(id) {
            if cluster.api_server.is_none() {
                diags.push(
                    Diagnostic::new(codes::MISSING_API_SERVER, format!("cluster \"{id}\" is read by {} but has no `api-server`", readers_of(topology, id)))
                        .primary(cluster.name.span, "needs `api-server`")
                        .help("add `api-server \"https://<host>:6443\" ca-file=\"<CA PEM>\"`: the primaries' istiod watches this cluster through it"),
                );
            }
            if cluster.reader_token.is_none() {
                diags.push(
                    Diagnostic::new(codes::MISSING_READER_TOKEN, format!("cluster \"{id}\" is read by {} but has no `reader-token`", readers_of(topology, id)))
                        .primary(cluster.name.span, "needs `reader-token`")
                        .help(format!(
                            "add `reader-token file=\"tokens/{id}.token\"`; meshgen emits the token Secret for this cluster, and once it is applied `{} > tokens/{id}.token` fetches the token",
                            fetch_token_command(topology, cluster)
                        )),
                );
            }
            let pending = inputs.cluster(id).and_then(|i| i.token.as_ref()) == Some(&Token::Pending);
            if pending && !options.allow_pending
                && let Some(token) = &cluster.reader_token {
                    let (what, span) = match &token.source {
                        Some(model::TokenSource::File(path)) => (format!("token file {} does not exist yet or is empty", path.written), path.span),
                        Some(model::TokenSource::Env(var)) => (format!("environment variable {} is not set", var.value), var.span),
                        None => continue,
                    };
                    diags.push(
                        Diagnostic::new(codes::PENDING_TOKEN, format!("the reader token of \"{id}\" is not available: {what}"))
                            .primary(span, "no token yet")
                            .help(format!(
                                "apply this cluster's output first (it holds the token Secret), then fetch the token: {}; or build with --allow-pending to leave out what needs it",
                                fetch_token_command(topology, cluster)
                            )),
                    );
                }
        } else if topology.clusters.iter().all(|c| c.role.is_some()) {
            // With a role unknown (already reported), who reads whom is unknown too: no warning
            // about credentials nobody uses.
            let unused: Vec<_> = [cluster.api_server.as_ref().map(|a| a.span), cluster.reader_token.as_ref().map(|t| t.span)]
                .into_iter()
                .flatten()
                .collect();
            if let Some(&first) = unused.first() {
                let mut d = Diagnostic::new(codes::UNUSED_CREDENTIALS, format!("no primary reads cluster \"{id}\", so its API server and token are unused"))
                    .primary(first, "unused");
                if let Some(&second) = unused.get(1) {
                    d = d.secondary(second, "unused");
                }
                let why = if cluster.is_primary() { "it is the only primary, and a primary never reads itself" } else { "no other cluster is a primary" };
                diags.push(d.help(format!("{why}; remove these lines, or keep them for when a second primary joins")));
            }
        }
    }
}

fn readers_of(topology: &Topology, id: &str) -> String {
    let primaries: Vec<String> = topology.clusters.iter().filter(|c| c.is_primary() && c.name.value != id).map(|c| format!("\"{}\"", c.name.value)).collect();
    match primaries.len() {
        1 => format!("primary {}", primaries[0]),
        _ => format!("primaries {}", primaries.join(", ")),
    }
}

/// The kubectl context a cluster is most likely reached by: the kubeconfig context named in the
/// topology, or else the cluster ID.
pub fn kube_context(cluster: &Cluster) -> &str {
    match cluster.api_server.as_ref().and_then(|a| a.source.as_ref()) {
        Some(model::ApiServerSource::Kubeconfig { context, .. }) => context.as_str(),
        _ => cluster.name.as_str(),
    }
}

/// The command that fetches a cluster's reader token once its token Secret exists.
pub fn fetch_token_command(topology: &Topology, cluster: &Cluster) -> String {
    let fetch = format!(
        "kubectl --context {} -n {} get secret istio-reader-service-account-istio-remote-secret-token -o jsonpath='{{.data.token}}' | base64 -d",
        kube_context(cluster),
        topology.mesh.namespace.value
    );
    match cluster.reader_token.as_ref().and_then(|t| t.source.as_ref()) {
        Some(model::TokenSource::File(path)) => format!("{fetch} > {}", path.written),
        Some(model::TokenSource::Env(var)) => format!("export {}=\"$({fetch})\"", var.value),
        None => fetch,
    }
}

/// The command that reads a cluster's east-west gateway address once its load balancer exists.
pub fn fetch_address_command(topology: &Topology, cluster: &Cluster) -> String {
    format!(
        "kubectl --context {} -n {} get service istio-eastwestgateway -o jsonpath='{{.status.loadBalancer.ingress[0].ip}}{{.status.loadBalancer.ingress[0].hostname}}'",
        kube_context(cluster),
        topology.mesh.namespace.value
    )
}

/// Rule 5: on more than one network, every network has a cluster with an east-west gateway.
fn multi_network(topology: &Topology, diags: &mut Diagnostics) {
    let used = used_networks(topology);
    if used.len() < 2 {
        return;
    }
    for network in &used {
        let on_it: Vec<&Cluster> = topology.clusters.iter().filter(|c| c.network_name() == Some(network)).collect();
        if on_it.iter().any(|c| c.eastwest_gateway.is_some()) {
            continue;
        }
        let mut d = Diagnostic::new(codes::NETWORK_WITHOUT_GATEWAY, format!("network \"{network}\" has no east-west gateway"))
            .primary(on_it[0].network.as_ref().map_or(on_it[0].name.span, |n| n.span), "no cluster on this network runs one");
        if let Some(declared) = topology.networks.iter().find(|n| n.name.as_str() == *network) {
            d = d.secondary(declared.name.span, "network declared here");
        }
        diags.push(d.help(format!(
            "the clusters sit on {} networks, and traffic from other networks enters \"{network}\" through an east-west gateway: add `eastwest-gateway` to cluster \"{}\"",
            used.len(),
            on_it[0].name.value
        )));
    }
}

/// Rule 6: a primary that serves remotes exposes istiod through an east-west gateway with a
/// known address. Also: every address written is an IP or a DNS name.
fn primary_remote(topology: &Topology, options: Options, diags: &mut Diagnostics) {
    for cluster in &topology.clusters {
        if let Some(address) = cluster.eastwest_gateway.as_ref().and_then(|g| g.address.as_ref())
            && Address::parse(&address.value).is_none() {
                diags.push(
                    Diagnostic::new(codes::INVALID_ADDRESS, format!("east-west gateway address \"{}\" is neither an IP address nor a DNS name", address.value))
                        .primary(address.span, "invalid address")
                        .help("write the load balancer's IPv4 or IPv6 address, or its DNS name, such as address=\"203.0.113.10\""),
                );
            }
        if !cluster.is_primary() {
            continue;
        }
        let remotes: Vec<&Cluster> = topology.clusters.iter().filter(|c| c.control_plane().map(|p| p.as_str()) == Some(cluster.name.as_str())).collect();
        let Some(first_remote) = remotes.first() else { continue };
        let remote_label = first_remote.control_plane().map_or(first_remote.name.span, |p| p.span);
        match &cluster.eastwest_gateway {
            None => diags.push(
                Diagnostic::new(codes::PRIMARY_WITHOUT_GATEWAY, format!("primary \"{}\" serves remotes but has no east-west gateway", cluster.name.value))
                    .primary(cluster.name.span, "needs `eastwest-gateway address=\"…\"`")
                    .secondary(remote_label, format!("remote \"{}\" is served by it", first_remote.name.value))
                    .help("remotes reach istiod through the primary's east-west gateway: add `eastwest-gateway address=\"<load balancer address>\"` to this cluster"),
            ),
            Some(gateway) if gateway.address.is_none() && !options.allow_pending => diags.push(
                Diagnostic::new(codes::PENDING_ADDRESS, format!("the east-west gateway of primary \"{}\" has no address", cluster.name.value))
                    .primary(gateway.span, "needs `address=\"…\"`")
                    .secondary(remote_label, format!("remote \"{}\" reaches istiod through it", first_remote.name.value))
                    .help(format!(
                        "install the gateway, then read its load balancer's address with `{}` and write it as `eastwest-gateway address=\"…\"`; or build with --allow-pending to leave out what needs it",
                        fetch_address_command(topology, cluster)
                    )),
            ),
            Some(_) => {}
        }
    }
}

/// Rule 7: API servers are reached over https, from other clusters; tls-server-name is a DNS name.
fn api_servers(topology: &Topology, inputs: &Inputs, diags: &mut Diagnostics) {
    for cluster in &topology.clusters {
        let Some(api) = &cluster.api_server else { continue };
        if let Some(name) = &api.tls_server_name
            && !model::is_dns_name(&name.value) {
                diags.push(
                    Diagnostic::new(codes::INVALID_TLS_SERVER_NAME, format!("tls-server-name \"{}\" is not a DNS name", name.value))
                        .primary(name.span, "not a DNS name")
                        .help("tls-server-name is the name the API server's certificate carries, such as \"kubernetes.default.svc\""),
                );
            }
        // A URL written in the topology is judged even when its cluster is not read; one taken
        // from a kubeconfig is known only for read clusters.
        let (url, span) = match (api.source.as_ref(), inputs.cluster(cluster.name.as_str()).and_then(|i| i.api_server.as_ref())) {
            (_, Some(endpoint)) => (endpoint.server.clone(), endpoint.server_span),
            (Some(model::ApiServerSource::Direct { url, .. }), None) => (url.value.clone(), url.span),
            (Some(model::ApiServerSource::Kubeconfig { url: Some(url), .. }), None) => (url.value.clone(), url.span),
            _ => continue,
        };
        match https_host(&url) {
            Err(problem) => diags.push(
                Diagnostic::new(codes::API_SERVER_NOT_HTTPS, format!("API server of \"{}\" is not an https URL: {problem}", cluster.name.value))
                    .primary(span, problem)
                    .help("write the API server as `https://<host>:<port>`, as other clusters reach it; istiod refuses plain http"),
            ),
            Ok(host) if is_loopback(&host) => diags.push(
                Diagnostic::new(codes::API_SERVER_LOCALHOST, format!("API server of \"{}\" is on {host}, which other clusters cannot reach", cluster.name.value))
                    .primary(span, "a loopback address")
                    .help("use an address the primaries can reach, such as the node or load balancer address (for kind, the control-plane container's IP)"),
            ),
            Ok(_) => {}
        }
    }
}

/// Rule 7, inside the referenced files: the CA a remote secret trusts is valid now, and a CA.
fn api_server_cas(topology: &Topology, inputs: &Inputs, now: time::OffsetDateTime, diags: &mut Diagnostics) {
    for cluster in &topology.clusters {
        let Some(endpoint) = inputs.cluster(cluster.name.as_str()).and_then(|i| i.api_server.as_ref()) else { continue };
        let Ok(certificates) = crate::pki::summarize(&endpoint.ca_pem, None, now) else { continue };
        for certificate in certificates {
            if certificate.not_after < now || certificate.not_before > now {
                let (what, when) = if certificate.not_after < now { ("expired", certificate.not_after) } else { ("is not valid until", certificate.not_before) };
                diags.push(
                    Diagnostic::new(codes::API_SERVER_CA_NOT_VALID_NOW, format!("the API server CA of \"{}\" {what} {}", cluster.name.value, date(when)))
                        .primary(endpoint.ca_span, format!("{} {what} {}", certificate.subject, date(when)))
                        .help("istiod could not verify this API server: use the cluster's current CA (`certificate-authority-data` of a working kubeconfig)"),
                );
            } else if !certificate.is_ca {
                diags.push(
                    Diagnostic::new(codes::API_SERVER_CA_NOT_CA, format!("the API server CA of \"{}\" is not a CA certificate", cluster.name.value))
                        .primary(endpoint.ca_span, format!("{} has no CA:true", certificate.subject))
                        .help("remote secrets should trust the CA that issued the API server's certificate, not the server certificate itself, which changes when it is renewed"),
                );
            }
        }
    }
}

fn date(when: time::OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", when.year(), u8::from(when.month()), when.day())
}

/// The host of an `https://host[:port][/path]` URL, or what is wrong with it.
pub fn https_host(url: &str) -> Result<String, String> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(match url.split_once("://") {
            Some((scheme, _)) => format!("scheme \"{scheme}\" instead of https"),
            None => "no https:// scheme".to_string(),
        });
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("credentials in the URL".to_string());
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or("unclosed IPv6 bracket")?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("invalid IPv6 address".to_string());
        }
        (host.to_string(), after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host.to_string(), Some(port)),
            None => (authority.to_string(), None),
        }
    };
    if let Some(port) = port
        && port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(format!("invalid port \"{port}\""));
        }
    if host.is_empty() {
        return Err("no host".to_string());
    }
    if host.parse::<std::net::IpAddr>().is_err() && !model::is_dns_name(&host) {
        return Err(format!("invalid host \"{host}\""));
    }
    Ok(host)
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("1.30"), Some((1, 30)));
        assert_eq!(parse_version("1.3x"), None);
        assert_eq!(parse_version("1"), None);
        assert_eq!(parse_version("1.30.1"), None);
    }

    #[test]
    fn https_urls() {
        assert_eq!(https_host("https://203.0.113.1:6443"), Ok("203.0.113.1".into()));
        assert_eq!(https_host("https://[2001:db8::1]:6443/"), Ok("2001:db8::1".into()));
        assert_eq!(https_host("https://api.example.com"), Ok("api.example.com".into()));
        assert!(https_host("http://api.example.com").is_err());
        assert!(https_host("https://:6443").is_err());
        assert!(https_host("https://api.example.com:99999").is_err());
        assert!(https_host("api.example.com").is_err());
        assert!(is_loopback("127.0.0.1") && is_loopback("LOCALHOST") && is_loopback("::1") && !is_loopback("10.0.0.1"));
    }
}
