//! plan: lowers a checked topology to the files each cluster gets (OUTPUT.md), the compiler's
//! intermediate representation. Deciding *what* to emit lives here and nowhere else: which
//! objects a cluster gets, with which names, labels and values. *How* an object is spelled in
//! YAML is the business of `render` and its templates.
//!
//! Pure: no I/O. It assumes `check` and `pki` passed (it skips, never panics on, what they
//! would have rejected).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::check;
use crate::diagnostics::{codes, Diagnostic, Diagnostics};
use crate::model::{Address, CaMode, Cluster, Topology};
use crate::pki::CaBundle;
use crate::syntax::inputs::{Inputs, Token};

/// Everything a build writes, before rendering.
#[derive(Debug)]
pub struct Plan {
    /// The topology's file name, for every file's header.
    pub topology_file: String,
    pub mesh_id: String,
    pub clusters: Vec<ClusterPlan>,
    /// Files whose content is identical in several clusters (a cluster's remote secret is the
    /// same in every primary that reads it): rendered once, written wherever referenced.
    pub shared: Vec<Object>,
}

#[derive(Debug)]
pub struct ClusterPlan {
    pub name: String,
    pub role: &'static str,
    pub network: String,
    /// Sorted by path.
    pub files: Vec<PlannedFile>,
}

#[derive(Debug)]
pub struct PlannedFile {
    /// Relative to the cluster's folder: `namespace.yaml`, `install/istioctl.yaml`.
    pub path: String,
    pub body: Body,
}

impl PlannedFile {
    /// Kubernetes objects for `kubectl apply -k`: everything but `install/` (istioctl and Helm
    /// inputs) and the kustomization itself. The kustomization, `--stdout` and Terraform all
    /// list exactly these.
    pub fn is_manifest(&self) -> bool {
        is_manifest_path(&self.path)
    }
}

pub fn is_manifest_path(path: &str) -> bool {
    !path.starts_with("install/") && path != "kustomization.yaml"
}

#[derive(Debug)]
pub enum Body {
    Own(Box<Object>),
    /// An index into [`Plan::shared`].
    Shared(usize),
}

/// One object family, rendered by the template of the same name.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Object {
    Namespace(NamespaceObject),
    CaCerts(CaCerts),
    ReaderToken(ReaderToken),
    RemoteSecret(RemoteSecret),
    ExposeIstiod(ExposeIstiod),
    CrossNetworkGateway(CrossNetworkGateway),
    IstiodRemote(IstiodRemote),
    Kustomization(Kustomization),
    ControlPlane(ControlPlane),
    EastwestGateway(EastwestGateway),
}

/// Which install file of a control plane, or of an east-west gateway, to render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallFlavor {
    Istioctl,
    HelmBase,
    HelmIstiod,
    HelmGateway,
}

/// The annotation Argo CD orders a sync by.
pub const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";

impl Object {
    /// The Argo CD sync wave of this object's documents, in the install order of Istio's guides:
    /// the namespace first; `cacerts` and the token Secret before a control plane reads them;
    /// then the istiod stand-in and the Istio gateway resources (whose CRDs the install brings);
    /// remote secrets last, once the clusters they name are set up. `None` for files that are
    /// not Kubernetes manifests.
    pub fn sync_wave(&self) -> Option<i32> {
        match self {
            Object::Namespace(_) => Some(-2),
            Object::CaCerts(_) | Object::ReaderToken(_) => Some(-1),
            Object::IstiodRemote(_) => Some(0),
            Object::ExposeIstiod(_) | Object::CrossNetworkGateway(_) => Some(1),
            Object::RemoteSecret(_) => Some(2),
            Object::Kustomization(_) | Object::ControlPlane(_) | Object::EastwestGateway(_) => None,
        }
    }

    /// The template that renders this object (without the `.yaml.j2` suffix).
    pub fn template(&self, path: &str) -> &'static str {
        match self {
            Object::Namespace(_) => "namespace",
            Object::CaCerts(_) => "cacerts",
            Object::ReaderToken(_) => "reader-token",
            Object::RemoteSecret(_) => "remote-secret",
            Object::ExposeIstiod(_) => "expose-istiod",
            Object::CrossNetworkGateway(_) => "cross-network-gateway",
            Object::IstiodRemote(_) => "istiod-remote",
            Object::Kustomization(_) => "kustomization",
            Object::ControlPlane(_) => match path {
                "install/base.values.yaml" => "base.values",
                "install/istiod.values.yaml" => "istiod.values",
                _ => "istioctl",
            },
            Object::EastwestGateway(_) => match path {
                "install/eastwest-gateway.values.yaml" => "eastwest-gateway.values",
                _ => "eastwest-gateway.istioctl",
            },
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct NamespaceObject {
    pub name: String,
    /// `topology.istio.io/network`, on a mesh of more than one network.
    pub network: Option<String>,
    /// `topology.istio.io/controlPlaneClusters`, on a remote.
    pub control_plane_clusters: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CaCerts {
    pub namespace: String,
    pub ca_cert_pem: String,
    pub ca_key_pem: String,
    pub cert_chain_pem: String,
    pub root_cert_pem: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReaderToken {
    pub namespace: String,
}

/// The Secret `istioctl create-remote-secret` prints for cluster `cluster`.
#[derive(Clone, Debug, Serialize)]
pub struct RemoteSecret {
    pub namespace: String,
    pub cluster: String,
    pub server: String,
    pub tls_server_name: Option<String>,
    pub ca_data: String,
    pub token: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExposeIstiod {
    pub namespace: String,
    pub virtual_service: String,
    /// `istiod[-<rev>].<ns>.svc.cluster.local`
    pub istiod_host: String,
    /// SNI hosts routed on 15012 and 15017: `*`, or the revisioned istiod names (plus the
    /// gateway's host name on 15017, which remotes' webhooks call).
    pub sni_hosts_xds: Vec<String>,
    pub sni_hosts_webhook: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CrossNetworkGateway {
    pub namespace: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct IstiodRemote {
    pub namespace: String,
    /// `istiod[-<rev>]`
    pub name: String,
    /// `istio.io/rev`: the revision, or `default`.
    pub revision_label: String,
    /// The primary's east-west gateway: an IP (with its family), or a host name.
    pub ip: Option<String>,
    pub ip_family: Option<&'static str>,
    pub hostname: Option<String>,
    /// EndpointSlice from Istio 1.28, `Endpoints` before.
    pub endpoint_slice: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Kustomization {
    pub resources: Vec<String>,
}

/// A cluster's Istio install: the IstioOperator for istioctl and the Helm values for base and
/// istiod are three spellings of these values.
#[derive(Clone, Debug, Serialize)]
pub struct ControlPlane {
    pub namespace: String,
    /// Set when the namespace is not `istio-system`.
    pub custom_namespace: bool,
    pub revision: Option<String>,
    /// `default` for a primary, `remote` for a remote.
    pub profile: &'static str,
    pub mesh_id: String,
    pub cluster: String,
    pub network: String,
    pub trust_domain: String,
    /// A primary that serves remotes: `global.externalIstiod` and `EXTERNAL_ISTIOD`.
    pub external_istiod: bool,
    /// istiod environment (`values.pilot.env`, Helm `env`).
    pub env: BTreeMap<String, String>,
    /// On a remote: the injection path carrying its cluster and network.
    pub injection_path: Option<String>,
    /// On a remote whose primary's gateway is a host name: webhook URLs on that host's 15017.
    pub injection_url: Option<String>,
    pub validation_url: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EastwestGateway {
    pub namespace: String,
    pub custom_namespace: bool,
    pub revision: Option<String>,
    /// The network label, env and `global.network`; `None` on a single-network mesh.
    pub network: Option<String>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    pub allow_pending: bool,
}

pub fn plan(topology: &Topology, inputs: &Inputs, ca: Option<&CaBundle>, options: Options, diags: &mut Diagnostics) -> Plan {
    let mesh = &topology.mesh;
    let namespace = mesh.namespace.value.clone();
    let revision = mesh.revision.as_ref().map(|r| r.value.clone());
    let multi_network = check::used_networks(topology).len() > 1;
    let read = check::read_clusters(topology);
    let endpoint_slice = check::parse_version(&mesh.istio_version.value).is_some_and(|v| v >= (1, 28));
    let istiod_name = match &revision {
        Some(rev) => format!("istiod-{rev}"),
        None => "istiod".to_string(),
    };

    let mut clusters: Vec<&Cluster> = topology.clusters.iter().filter(|c| c.role.is_some() && c.network.is_some()).collect();
    clusters.sort_by(|a, b| a.name.value.cmp(&b.name.value));
    clusters.dedup_by(|a, b| a.name.value == b.name.value);

    // The remote secret of every read cluster, shared by all primaries that hold it.
    let mut shared = Vec::new();
    let mut remote_secret_of: BTreeMap<&str, usize> = BTreeMap::new();
    for cluster in &clusters {
        let id = cluster.name.as_str();
        if !read.contains(id) {
            continue;
        }
        let input = inputs.cluster(id);
        let (Some(endpoint), Some(token)) = (input.and_then(|i| i.api_server.as_ref()), input.and_then(|i| i.token.as_ref())) else {
            continue;
        };
        let Token::Available(token) = token else { continue };
        remote_secret_of.insert(id, shared.len());
        shared.push(Object::RemoteSecret(RemoteSecret {
            namespace: namespace.clone(),
            cluster: id.to_string(),
            server: endpoint.server.clone(),
            tls_server_name: endpoint.tls_server_name.clone(),
            ca_data: endpoint.ca_data(),
            token: token.expose().to_string(),
        }));
    }

    let address_of = |cluster: &Cluster| cluster.eastwest_gateway.as_ref().and_then(|g| g.address.as_ref()).and_then(|a| Address::parse(&a.value));
    let mut planned = Vec::new();
    for cluster in &clusters {
        let id = cluster.name.as_str();
        let network = cluster.network_name().unwrap_or_default().to_string();
        let mut files: Vec<PlannedFile> = Vec::new();
        let mut add = |path: String, object: Object| files.push(PlannedFile { path, body: Body::Own(Box::new(object)) });
        let control_plane = cluster.control_plane().and_then(|p| topology.cluster(p.as_str()));
        let remotes: Vec<&&Cluster> = clusters.iter().filter(|c| c.control_plane().map(|p| p.as_str()) == Some(id)).collect();

        add(
            "namespace.yaml".into(),
            Object::Namespace(NamespaceObject {
                name: namespace.clone(),
                network: multi_network.then(|| network.clone()),
                control_plane_clusters: control_plane.map(|p| p.name.value.clone()),
            }),
        );
        if read.contains(id) {
            add("reader-token.yaml".into(), Object::ReaderToken(ReaderToken { namespace: namespace.clone() }));
        }

        let mut install = ControlPlane {
            namespace: namespace.clone(),
            custom_namespace: namespace != crate::model::DEFAULT_NAMESPACE,
            revision: revision.clone(),
            profile: if cluster.is_primary() { "default" } else { "remote" },
            mesh_id: mesh.id.value.clone(),
            cluster: id.to_string(),
            network: network.clone(),
            trust_domain: mesh.trust_domain.value.clone(),
            external_istiod: false,
            env: BTreeMap::new(),
            injection_path: None,
            injection_url: None,
            validation_url: None,
        };

        if cluster.is_primary() {
            if let (CaMode::Plugin, Some(bundle)) = (topology.ca.mode, ca)
                && let Some(material) = bundle.clusters.get(id) {
                    add(
                        "cacerts.yaml".into(),
                        Object::CaCerts(CaCerts {
                            namespace: namespace.clone(),
                            ca_cert_pem: material.ca_cert_pem.clone(),
                            ca_key_pem: material.ca_key_pem.clone(),
                            cert_chain_pem: material.cert_chain_pem.clone(),
                            root_cert_pem: bundle.root_cert_pem.clone(),
                        }),
                    );
                }
            if multi_network {
                add("cross-network-gateway.yaml".into(), Object::CrossNetworkGateway(CrossNetworkGateway { namespace: namespace.clone() }));
            }
            if !remotes.is_empty() {
                install.external_istiod = true;
                install.env.insert("EXTERNAL_ISTIOD".into(), "true".into());
                let hostname = match address_of(cluster) {
                    Some(Address::Hostname(host)) => Some(host),
                    _ => None,
                };
                if let Some(host) = &hostname {
                    // Remotes call this istiod's webhooks at the gateway's host name, so its
                    // serving certificate must carry that name.
                    install.env.insert("ISTIOD_CUSTOM_HOST".into(), host.clone());
                }
                let (sni_hosts_xds, sni_hosts_webhook) = match &revision {
                    None => (vec!["*".to_string()], vec!["*".to_string()]),
                    Some(_) => {
                        let names = vec![format!("{istiod_name}.{namespace}.svc"), format!("{istiod_name}.{namespace}.svc.cluster.local")];
                        let mut webhook = names.clone();
                        webhook.extend(hostname.clone());
                        (names, webhook)
                    }
                };
                add(
                    "expose-istiod.yaml".into(),
                    Object::ExposeIstiod(ExposeIstiod {
                        namespace: namespace.clone(),
                        virtual_service: match &revision {
                            Some(rev) => format!("istiod-vs-{rev}"),
                            None => "istiod-vs".to_string(),
                        },
                        istiod_host: format!("{istiod_name}.{namespace}.svc.cluster.local"),
                        sni_hosts_xds,
                        sni_hosts_webhook,
                    }),
                );
            }
        } else if let Some(primary) = control_plane {
            install.injection_path = Some(format!("/inject/cluster/{id}/net/{network}"));
            match address_of(primary) {
                Some(address) => {
                    let (ip, ip_family, hostname) = match address {
                        Address::Ip(ip) => (Some(ip.to_string()), Some(if ip.is_ipv6() { "IPv6" } else { "IPv4" }), None),
                        Address::Hostname(host) => {
                            // The API server calls webhooks of an ExternalName service at
                            // host:443, where the gateway does not listen: point them at 15017.
                            install.injection_url = Some(format!("https://{host}:15017/inject/cluster/{id}/net/{network}"));
                            install.validation_url = Some(format!("https://{host}:15017/validate"));
                            (None, None, Some(host))
                        }
                    };
                    add(
                        "istiod-remote.yaml".into(),
                        Object::IstiodRemote(IstiodRemote {
                            namespace: namespace.clone(),
                            name: istiod_name.clone(),
                            revision_label: revision.clone().unwrap_or_else(|| "default".to_string()),
                            ip,
                            ip_family,
                            hostname,
                            endpoint_slice,
                        }),
                    );
                }
                None => left_out(
                    diags,
                    options,
                    primary,
                    format!("Service {namespace}/{istiod_name} of \"{id}\" (its istiod endpoint) is left out: the east-west gateway address of \"{}\" is not known yet", primary.name.value),
                    format!("after installing the gateway of \"{}\", read its address with `{}`, write it as `address=` and build again", primary.name.value, check::fetch_address_command(topology, primary)),
                ),
            }
        }

        if cluster.eastwest_gateway.is_some() {
            let gateway = EastwestGateway {
                namespace: namespace.clone(),
                custom_namespace: install.custom_namespace,
                revision: revision.clone(),
                network: multi_network.then(|| network.clone()),
            };
            add("install/eastwest-gateway.istioctl.yaml".into(), Object::EastwestGateway(gateway.clone()));
            add("install/eastwest-gateway.values.yaml".into(), Object::EastwestGateway(gateway));
        }
        add("install/istioctl.yaml".into(), Object::ControlPlane(install.clone()));
        add("install/base.values.yaml".into(), Object::ControlPlane(install.clone()));
        add("install/istiod.values.yaml".into(), Object::ControlPlane(install));

        if cluster.is_primary() {
            for other in &clusters {
                let other_id = other.name.as_str();
                if other_id == id {
                    continue;
                }
                match remote_secret_of.get(other_id) {
                    Some(&index) => files.push(PlannedFile { path: format!("remote-secret-{other_id}.yaml"), body: Body::Shared(index) }),
                    None if read.contains(other_id) => left_out(
                        diags,
                        options,
                        other,
                        format!("Secret {namespace}/istio-remote-secret-{other_id} in \"{id}\" is left out: the reader token of \"{other_id}\" is not available yet"),
                        format!("apply the output of \"{other_id}\", fetch its token with `{}`, and build again", check::fetch_token_command(topology, other)),
                    ),
                    None => {}
                }
            }
        }

        let resources: BTreeSet<String> = files.iter().filter(|f| f.is_manifest()).map(|f| f.path.clone()).collect();
        files.push(PlannedFile {
            path: "kustomization.yaml".into(),
            body: Body::Own(Box::new(Object::Kustomization(Kustomization { resources: resources.into_iter().collect() }))),
        });
        files.sort_by(|a, b| a.path.cmp(&b.path));
        planned.push(ClusterPlan {
            name: id.to_string(),
            role: if cluster.is_primary() { "primary" } else { "remote" },
            network,
            files,
        });
    }
    Plan { topology_file: topology.file_name.clone(), mesh_id: mesh.id.value.clone(), clusters: planned, shared }
}

/// An object left out because an input exists only once clusters run. `check` has already made
/// this an error unless the build allows pending inputs.
fn left_out(diags: &mut Diagnostics, options: Options, owner: &Cluster, message: String, help: String) {
    if options.allow_pending {
        diags.push(Diagnostic::new(codes::LEFT_OUT, message).primary(owner.name.span, "input pending for this cluster").help(help));
    }
}
