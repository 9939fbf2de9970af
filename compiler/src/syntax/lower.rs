//! Lowering of the KDL syntax tree to the typed model. Every node is checked against its shape
//! (arguments, properties, children) before its values are read, and every problem is reported
//! with the span of the offending text. A node with problems still lowers as far as it can, so
//! later checks see as much of the topology as possible.

use std::path::{Path, PathBuf};

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};

use crate::diagnostics::{codes, Diagnostic, Diagnostics, FileId, Span};
use crate::model::*;

use super::grammar::*;

/// How many positional arguments a node takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Args {
    None,
    One,
    OptionalOne,
}

struct Shape {
    args: Args,
    props: &'static [&'static str],
    children: bool,
    /// What the argument is, for messages ("the mesh ID").
    arg_name: &'static str,
}

pub(super) fn lower(
    document: &KdlDocument,
    file: FileId,
    file_name: String,
    dir: PathBuf,
    secrets: &[(usize, usize)],
    diags: &mut Diagnostics,
) -> (Option<Topology>, Vec<Span>) {
    let mut lowerer = Lowerer { file, dir, secrets, diags, inline_secrets: Vec::new() };
    let topology = lowerer.topology(document, file_name);
    (topology, lowerer.inline_secrets)
}

struct Lowerer<'a> {
    file: FileId,
    dir: PathBuf,
    secrets: &'a [(usize, usize)],
    diags: &'a mut Diagnostics,
    /// Inline tokens found by shape (not by their look), to be hidden from snippets.
    inline_secrets: Vec<Span>,
}

impl Lowerer<'_> {
    fn span(&self, span: miette::SourceSpan) -> Span {
        Span::new(self.file, span.offset(), span.len())
    }

    fn node_span(&self, node: &KdlNode) -> Span {
        self.span(node.span())
    }

    fn name_span(&self, node: &KdlNode) -> Span {
        self.span(node.name().span())
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    fn topology(&mut self, document: &KdlDocument, file_name: String) -> Option<Topology> {
        let mut mesh_node = None;
        let mut ca_node = None;
        let mut networks = Vec::new();
        let mut clusters = Vec::new();
        for node in document.nodes() {
            match node.name().value() {
                "mesh" => {
                    if self.first_of(&mut mesh_node, node, "the mesh") {
                        continue;
                    }
                }
                "ca" => {
                    if self.first_of(&mut ca_node, node, "the CA") {
                        continue;
                    }
                }
                "network" => {
                    if let Some(network) = self.network(node) {
                        networks.push(network);
                    }
                }
                "cluster" => {
                    if let Some(cluster) = self.cluster(node) {
                        clusters.push(cluster);
                    }
                }
                other => self.unknown_node(node, other, TOP_NODES, "at the top level"),
            }
        }
        let mesh = match mesh_node {
            Some(node) => self.mesh(node),
            None => {
                self.push(
                    Diagnostic::new(codes::MISSING_NODE, "the topology has no `mesh` node")
                        .primary(Span::new(self.file, 0, 0), "expected `mesh \"<mesh-id>\"` in this file")
                        .help("start the file with `mesh \"my-mesh\"`; the mesh ID becomes global.meshID in every cluster"),
                );
                None
            }
        };
        let ca = self.ca(ca_node);
        Some(Topology { file_name, dir: self.dir.clone(), mesh: mesh?, ca, networks, clusters })
    }

    /// Records the first node of a kind that may appear once; reports the later ones.
    /// Returns true when `node` is a repeat.
    fn first_of<'n>(&mut self, slot: &mut Option<&'n KdlNode>, node: &'n KdlNode, what: &str) -> bool {
        if let Some(first) = slot {
            let name = node.name().value();
            let first_span = self.name_span(first);
            self.push(
                Diagnostic::new(codes::DUPLICATE_NODE, format!("`{name}` is given more than once"))
                    .primary(self.name_span(node), "given again here")
                    .secondary(first_span, "first given here")
                    .help(format!("keep one `{name}` node for {what} and merge the two")),
            );
            true
        } else {
            *slot = Some(node);
            false
        }
    }

    fn unknown_node(&mut self, node: &KdlNode, name: &str, allowed: &[&str], place: &str) {
        let span = self.name_span(node);
        let mut diagnostic = Diagnostic::new(codes::UNKNOWN_NODE, format!("unknown node `{name}` {place}"))
            .primary(span, "not a node meshgen knows here");
        let home = [("mesh", MESH_NODES), ("ca", CA_NODES), ("cluster", CLUSTER_NODES), ("the top level", TOP_NODES)]
            .into_iter()
            .find(|(_, nodes)| nodes.contains(&name) && !std::ptr::eq(*nodes, allowed));
        if let Some((home, _)) = home {
            let place = if home == "the top level" { "at the top level".to_string() } else { format!("inside `{home} {{ … }}`") };
            diagnostic = diagnostic.help(format!("`{name}` belongs {place}"));
        } else if let Some(suggestion) = did_you_mean(name, allowed) {
            diagnostic = diagnostic.help(format!("did you mean `{suggestion}`?"));
        } else {
            diagnostic = diagnostic.help(format!("the nodes allowed {place} are: {}", list(allowed)));
        }
        self.push(diagnostic);
    }

    /// Checks a node against its shape: arguments, properties (known, not repeated) and children.
    fn shape(&mut self, node: &KdlNode, shape: &Shape) {
        let name = node.name().value();
        let mut seen: Vec<(&str, Span)> = Vec::new();
        let mut args = 0;
        for entry in node.entries() {
            let span = self.span(entry.span());
            match entry.name() {
                None => {
                    args += 1;
                    let allowed = match shape.args {
                        Args::None => 0,
                        Args::One | Args::OptionalOne => 1,
                    };
                    if args > allowed && !self.is_known_secret(span) {
                        let message = if allowed == 0 {
                            format!("`{name}` takes no argument")
                        } else {
                            format!("`{name}` takes one argument ({})", shape.arg_name)
                        };
                        let mut d = Diagnostic::new(codes::UNEXPECTED_ARGUMENT, message).primary(span, "unexpected argument");
                        d = d.help(if shape.props.is_empty() {
                            format!("remove this argument from `{name}`")
                        } else {
                            format!("remove it, or write it as a property: {}", list_props(shape.props))
                        });
                        self.push(d);
                    }
                }
                Some(key) => {
                    let key_name = key.value();
                    let key_span = self.span(key.span());
                    if !shape.props.contains(&key_name) {
                        if self.is_known_secret(span) {
                            continue;
                        }
                        let mut d = Diagnostic::new(codes::UNKNOWN_PROPERTY, format!("unknown property `{key_name}` on `{name}`"))
                            .primary(key_span, "not a property of this node");
                        d = d.help(match did_you_mean(key_name, shape.props) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None if shape.props.is_empty() => format!("`{name}` takes no properties"),
                            None => format!("the properties of `{name}` are: {}", list_props(shape.props)),
                        });
                        self.push(d);
                    } else if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key_name) {
                        let first = *first;
                        self.push(
                            Diagnostic::new(codes::DUPLICATE_PROPERTY, format!("`{key_name}` is given twice on `{name}`"))
                                .primary(key_span, "given again here")
                                .secondary(first, "first given here")
                                .help(format!("keep one `{key_name}=`")),
                        );
                    } else {
                        seen.push((key_name, key_span));
                    }
                }
            }
        }
        if shape.args == Args::One && args == 0 {
            self.push(
                Diagnostic::new(codes::MISSING_ARGUMENT, format!("`{name}` needs an argument: {}", shape.arg_name))
                    .primary(self.node_span(node), format!("expected `{name} \"…\"`"))
                    .help(format!("write {} after `{name}`, in quotes", shape.arg_name)),
            );
        }
        if !shape.children
            && node.children().is_some() {
                self.push(
                    Diagnostic::new(codes::UNEXPECTED_CHILDREN, format!("`{name}` takes no children"))
                        .primary(self.node_span(node), "this node has a `{ … }` block")
                        .help(format!("remove the `{{ … }}` block after `{name}`")),
                );
            }
    }

    fn is_known_secret(&self, span: Span) -> bool {
        self.secrets.iter().any(|&(offset, len)| offset < span.offset + span.len && span.offset < offset + len)
    }

    fn arg<'n>(&self, node: &'n KdlNode) -> Option<&'n KdlEntry> {
        node.entries().iter().find(|e| e.name().is_none())
    }

    fn prop<'n>(&self, node: &'n KdlNode, key: &str) -> Option<&'n KdlEntry> {
        node.entries().iter().find(|e| e.name().map(|n| n.value()) == Some(key))
    }

    /// The entry's value as a string, or a WRONG_TYPE diagnostic.
    fn string(&mut self, node: &KdlNode, entry: &KdlEntry, what: &str) -> Option<Sp<String>> {
        let span = self.span(entry.span());
        match entry.value() {
            KdlValue::String(s) => Some(Sp::new(s.clone(), span)),
            other => {
                let name = node.name().value();
                let quoted = match other {
                    KdlValue::Integer(_) | KdlValue::Float(_) => {
                        let text = entry.to_string();
                        let text = text.trim();
                        let value = text.rsplit('=').next().unwrap_or(text);
                        format!("write it in quotes: \"{value}\"")
                    }
                    _ => "write it as a string in quotes".to_string(),
                };
                self.push(
                    Diagnostic::new(codes::WRONG_TYPE, format!("{what} of `{name}` must be a string, not {}", type_name(other)))
                        .primary(span, format!("{} here", type_name(other)))
                        .help(quoted),
                );
                None
            }
        }
    }

    fn string_arg(&mut self, node: &KdlNode, what: &str) -> Option<Sp<String>> {
        let entry = self.arg(node)?;
        self.string(node, entry, what)
    }

    fn string_prop(&mut self, node: &KdlNode, key: &str) -> Option<Sp<String>> {
        let entry = self.prop(node, key)?;
        self.string(node, entry, &format!("`{key}`"))
    }

    fn path_prop(&mut self, node: &KdlNode, key: &str) -> Option<FilePath> {
        let value = self.string_prop(node, key)?;
        Some(self.file_path(value))
    }

    fn file_path(&self, value: Sp<String>) -> FilePath {
        let resolved = if Path::new(&value.value).is_absolute() { PathBuf::from(&value.value) } else { self.dir.join(&value.value) };
        FilePath { written: value.value, resolved, span: value.span }
    }

    /// A positive whole number of days.
    fn days_prop(&mut self, node: &KdlNode, key: &str, default: u32, default_span: Span) -> Sp<u32> {
        let Some(entry) = self.prop(node, key) else {
            return Sp::new(default, default_span);
        };
        let span = self.span(entry.span());
        match entry.value() {
            KdlValue::Integer(n) if (1..=36_500).contains(n) => Sp::new(*n as u32, span),
            KdlValue::Integer(_) => {
                self.push(
                    Diagnostic::new(codes::INVALID_VALUE, format!("`{key}` must be between 1 and 36500 days"))
                        .primary(span, "out of range")
                        .help(format!("write a whole number of days, such as {key}={default}")),
                );
                Sp::new(default, span)
            }
            other => {
                self.push(
                    Diagnostic::new(codes::WRONG_TYPE, format!("`{key}` must be a whole number of days, not {}", type_name(other)))
                        .primary(span, format!("{} here", type_name(other)))
                        .help(format!("write a bare number, such as {key}={default}")),
                );
                Sp::new(default, span)
            }
        }
    }

    fn algorithm_prop(&mut self, node: &KdlNode, default_span: Span) -> Sp<KeyAlgorithm> {
        let default = Sp::new(KeyAlgorithm::EcdsaP256, default_span);
        let Some(value) = self.string_prop(node, "algorithm") else {
            return default;
        };
        match KeyAlgorithm::from_name(&value.value) {
            Some(algorithm) => Sp::new(algorithm, value.span),
            None => {
                let mut d = Diagnostic::new(codes::INVALID_VALUE, format!("unknown key algorithm \"{}\"", value.value))
                    .primary(value.span, "not a supported algorithm");
                d = d.help(match did_you_mean(&value.value, KeyAlgorithm::NAMES) {
                    Some(s) => format!("did you mean \"{s}\"? The algorithms are: {}", list(KeyAlgorithm::NAMES)),
                    None => format!("the algorithms are: {}", list(KeyAlgorithm::NAMES)),
                });
                self.push(d);
                default
            }
        }
    }

    /// Lowers the children of a block node, each name at most once.
    fn children<'n>(&mut self, node: &'n KdlNode, allowed: &[&str], place: &str) -> Vec<(&'n str, &'n KdlNode)> {
        let mut found: Vec<(&'n str, &'n KdlNode)> = Vec::new();
        let Some(children) = node.children() else {
            return found;
        };
        for child in children.nodes() {
            let name = child.name().value();
            if !allowed.contains(&name) {
                self.unknown_node(child, name, allowed, place);
                continue;
            }
            if let Some((_, first)) = found.iter().find(|(n, _)| *n == name) {
                let first_span = self.name_span(first);
                self.push(
                    Diagnostic::new(codes::DUPLICATE_NODE, format!("`{name}` is given more than once {place}"))
                        .primary(self.name_span(child), "given again here")
                        .secondary(first_span, "first given here")
                        .help(format!("keep one `{name}`")),
                );
                continue;
            }
            found.push((name, child));
        }
        found
    }

    fn mesh(&mut self, node: &KdlNode) -> Option<Mesh> {
        self.shape(node, &Shape { args: Args::One, props: &[], children: true, arg_name: "the mesh ID" });
        let span = self.node_span(node);
        let name_span = self.name_span(node);
        let id = self.string_arg(node, "the mesh ID");
        let mut mesh = Mesh {
            id: id.clone().unwrap_or_else(|| Sp::new(String::new(), name_span)),
            span,
            trust_domain: Sp::new(DEFAULT_TRUST_DOMAIN.to_string(), name_span),
            istio_version: Sp::new(DEFAULT_ISTIO_VERSION.to_string(), name_span),
            revision: None,
            namespace: Sp::new(DEFAULT_NAMESPACE.to_string(), name_span),
        };
        for (name, child) in self.children(node, MESH_NODES, "inside `mesh`") {
            let what = match name {
                "trust-domain" => "the trust domain",
                "istio-version" => "the Istio minor version, such as \"1.30\"",
                "revision" => "the control-plane revision",
                _ => "the Istio namespace",
            };
            self.shape(child, &Shape { args: Args::One, props: &[], children: false, arg_name: what });
            let Some(value) = self.string_arg(child, what) else { continue };
            match name {
                "trust-domain" => mesh.trust_domain = value,
                "istio-version" => mesh.istio_version = value,
                "revision" => mesh.revision = Some(value),
                _ => mesh.namespace = value,
            }
        }
        id.map(|_| mesh)
    }

    fn ca(&mut self, node: Option<&KdlNode>) -> Ca {
        let intermediate_default = |this: &Self, span: Span| Intermediate {
            span: None,
            algorithm: Sp::new(KeyAlgorithm::EcdsaP256, span),
            valid_days: Sp::new(DEFAULT_INTERMEDIATE_VALID_DAYS, span),
            dir: this.file_path(Sp::new(DEFAULT_INTERMEDIATE_DIR.to_string(), span)),
        };
        let Some(node) = node else {
            let nowhere = Span::new(self.file, 0, 0);
            return Ca { mode: CaMode::Plugin, span: None, root: None, root_node: None, intermediate: intermediate_default(self, nowhere) };
        };
        self.shape(node, &Shape { args: Args::None, props: CA_PROPS, children: true, arg_name: "" });
        let span = self.node_span(node);
        let name_span = self.name_span(node);
        let mode = match self.string_prop(node, "mode") {
            None => CaMode::Plugin,
            Some(v) if v.value == "plugin" => CaMode::Plugin,
            Some(v) if v.value == "external" => CaMode::External,
            Some(v) => {
                let mut d = Diagnostic::new(codes::INVALID_VALUE, format!("unknown CA mode \"{}\"", v.value))
                    .primary(v.span, "expected \"plugin\" or \"external\"");
                d = d.help(did_you_mean_or(&v.value, CA_MODES, || {
                    "use mode=\"plugin\" (meshgen issues cacerts from your root) or mode=\"external\" (you bring the CA)".to_string()
                }));
                self.push(d);
                // Judging the CA of a mode nobody chose would only repeat this error.
                CaMode::External
            }
        };
        let mut ca = Ca { mode, span: Some(span), root: None, root_node: None, intermediate: intermediate_default(self, name_span) };
        for (name, child) in self.children(node, CA_NODES, "inside `ca`") {
            let child_span = self.name_span(child);
            if name == "root" {
                ca.root_node = Some(self.node_span(child));
                self.shape(child, &Shape { args: Args::None, props: ROOT_PROPS, children: false, arg_name: "" });
                let cert = self.path_prop(child, "cert");
                let key = self.path_prop(child, "key");
                for (prop, missing) in [("cert", cert.is_none()), ("key", key.is_none())] {
                    if missing && self.prop(child, prop).is_none() {
                        self.push(
                            Diagnostic::new(codes::MISSING_PROPERTY, format!("`root` needs `{prop}=`"))
                                .primary(self.node_span(child), format!("no `{prop}` here"))
                                .help("write `root cert=\"pki/root-cert.pem\" key=\"pki/root-key.pem\"`"),
                        );
                    }
                }
                let algorithm = self.algorithm_prop(child, child_span);
                let valid_days = self.days_prop(child, "valid-days", DEFAULT_ROOT_VALID_DAYS, child_span);
                if let (Some(cert), Some(key)) = (cert, key) {
                    ca.root = Some(Root { span: self.node_span(child), cert, key, algorithm, valid_days });
                }
            } else {
                self.shape(child, &Shape { args: Args::None, props: INTERMEDIATE_PROPS, children: false, arg_name: "" });
                ca.intermediate.span = Some(self.node_span(child));
                ca.intermediate.algorithm = self.algorithm_prop(child, child_span);
                ca.intermediate.valid_days = self.days_prop(child, "valid-days", DEFAULT_INTERMEDIATE_VALID_DAYS, child_span);
                if let Some(dir) = self.path_prop(child, "dir") {
                    ca.intermediate.dir = dir;
                } else {
                    ca.intermediate.dir.span = child_span;
                }
            }
        }
        ca
    }

    fn network(&mut self, node: &KdlNode) -> Option<Network> {
        self.shape(node, &Shape { args: Args::One, props: &[], children: false, arg_name: "the network name" });
        let name = self.string_arg(node, "the network name")?;
        Some(Network { name, span: self.node_span(node) })
    }

    fn cluster(&mut self, node: &KdlNode) -> Option<Cluster> {
        self.shape(node, &Shape { args: Args::One, props: &[], children: true, arg_name: "the cluster ID" });
        let name = self.string_arg(node, "the cluster ID")?;
        let mut cluster = Cluster {
            name,
            span: self.node_span(node),
            network: None,
            role: None,
            api_server: None,
            reader_token: None,
            eastwest_gateway: None,
        };
        let children = self.children(node, CLUSTER_NODES, "inside `cluster`");
        for &(name, child) in &children {
            match name {
                "network" => {
                    self.shape(child, &Shape { args: Args::One, props: &[], children: false, arg_name: "the name of a declared network" });
                    cluster.network = self.string_arg(child, "the network name");
                }
                "role" => cluster.role = self.role(child),
                "api-server" => cluster.api_server = self.api_server(child),
                "reader-token" => cluster.reader_token = self.reader_token(child),
                _ => {
                    self.shape(child, &Shape { args: Args::None, props: EASTWEST_GATEWAY_PROPS, children: false, arg_name: "" });
                    let address = self.string_prop(child, "address");
                    cluster.eastwest_gateway = Some(EastwestGateway { span: self.node_span(child), address });
                }
            }
        }
        for (required, example) in [("network", "network \"east\""), ("role", "role \"primary\"")] {
            if !children.iter().any(|(n, _)| *n == required) {
                let id = cluster.name.value.clone();
                self.push(
                    Diagnostic::new(codes::MISSING_NODE, format!("cluster `{id}` has no `{required}`"))
                        .primary(cluster.name.span, format!("`{required}` missing in this cluster"))
                        .help(format!("add `{example}` inside `cluster \"{id}\" {{ … }}`")),
                );
            }
        }
        Some(cluster)
    }

    fn role(&mut self, node: &KdlNode) -> Option<Sp<Role>> {
        self.shape(node, &Shape { args: Args::One, props: ROLE_PROPS, children: false, arg_name: "\"primary\" or \"remote\"" });
        let value = self.string_arg(node, "the role")?;
        let control_plane = self.string_prop(node, "control-plane");
        match value.value.as_str() {
            "primary" => {
                if let Some(cp) = control_plane {
                    self.push(
                        Diagnostic::new(codes::CONTROL_PLANE_ON_PRIMARY, "a primary runs its own control plane and takes no `control-plane`")
                            .primary(cp.span, "only remotes name a control plane")
                            .secondary(value.span, "this cluster is a primary")
                            .help(format!("remove `control-plane=\"{}\"`, or make this cluster `role \"remote\"`", cp.value)),
                    );
                }
                Some(Sp::new(Role::Primary, value.span))
            }
            "remote" => Some(Sp::new(Role::Remote { control_plane }, value.span)),
            other => {
                let mut d = Diagnostic::new(codes::INVALID_VALUE, format!("unknown role \"{other}\""))
                    .primary(value.span, "expected \"primary\" or \"remote\"");
                d = d.help(did_you_mean_or(other, ROLES, || {
                    "a cluster is `role \"primary\"` (runs istiod) or `role \"remote\" control-plane=\"<primary>\"`".to_string()
                }));
                self.push(d);
                None
            }
        }
    }

    fn api_server(&mut self, node: &KdlNode) -> Option<ApiServer> {
        let span = self.node_span(node);
        let tls_server_name = self.string_prop(node, "tls-server-name");
        let source = self.api_server_source(node);
        Some(ApiServer { span, source, tls_server_name })
    }

    fn api_server_source(&mut self, node: &KdlNode) -> Option<ApiServerSource> {
        self.shape(
            node,
            &Shape {
                args: Args::OptionalOne,
                props: API_SERVER_PROPS,
                children: false,
                arg_name: "the https:// URL of the API server",
            },
        );
        let span = self.node_span(node);
        let url = self.string_arg(node, "the API server URL");
        let ca_file = self.path_prop(node, "ca-file");
        let kubeconfig = self.path_prop(node, "kubeconfig");
        let context = self.string_prop(node, "context");
        match (kubeconfig, ca_file) {
            (Some(kubeconfig), Some(ca_file)) => {
                self.push(
                    Diagnostic::new(codes::CONFLICTING_PROPERTIES, "`api-server` takes its CA either from `ca-file` or from `kubeconfig`, not both")
                        .primary(ca_file.span, "CA given here")
                        .secondary(kubeconfig.span, "and a kubeconfig here")
                        .help("remove `ca-file=` to use the kubeconfig's CA, or remove `kubeconfig=` and `context=`"),
                );
                None
            }
            (Some(path), None) => {
                let Some(context) = context else {
                    if self.prop(node, "context").is_none() {
                        self.push(
                            Diagnostic::new(codes::MISSING_PROPERTY, "`api-server kubeconfig=` needs `context=`")
                                .primary(path.span, "which context of this kubeconfig?")
                                .help("add `context=\"<context name>\"`: its cluster's server and CA are used"),
                        );
                    }
                    return None;
                };
                Some(ApiServerSource::Kubeconfig { path, context, url })
            }
            (None, ca_file) => {
                if let Some(context) = &context {
                    self.push(
                        Diagnostic::new(codes::MISSING_PROPERTY, "`context=` needs `kubeconfig=`")
                            .primary(context.span, "a context of which kubeconfig?")
                            .help("add `kubeconfig=\"<path>\"`, or remove `context=`"),
                    );
                }
                let Some(url) = url else {
                    if self.arg(node).is_none() {
                        self.push(
                            Diagnostic::new(codes::MISSING_ARGUMENT, "`api-server` needs the API server's URL or a kubeconfig")
                                .primary(span, "no URL here")
                                .help("write `api-server \"https://<host>:6443\" ca-file=\"<CA PEM>\"`, or `api-server kubeconfig=\"<path>\" context=\"<name>\"`"),
                        );
                    }
                    return None;
                };
                let Some(ca_file) = ca_file else {
                    if self.prop(node, "ca-file").is_none() {
                        self.push(
                            Diagnostic::new(codes::MISSING_PROPERTY, "`api-server` needs `ca-file=`, the CA of that API server")
                                .primary(span, "no CA for this API server")
                                .help("add `ca-file=\"<PEM file>\"` (the cluster's CA, `certificate-authority-data` of its kubeconfig), or take both from a kubeconfig with `kubeconfig=` and `context=`"),
                        );
                    }
                    return None;
                };
                Some(ApiServerSource::Direct { url, ca_file })
            }
        }
    }

    fn reader_token(&mut self, node: &KdlNode) -> Option<ReaderToken> {
        // A token written as an argument or an unknown property is a secret in the file; say so
        // (rule 9) instead of calling it an unexpected argument.
        let mut inline = false;
        for entry in node.entries() {
            let span = self.span(entry.span());
            let is_source = matches!(entry.name().map(|n| n.value()), Some("file" | "env"));
            inline |= !is_source && self.is_known_secret(span);
            if !is_source && matches!(entry.value(), KdlValue::String(_)) && !self.is_known_secret(span) {
                inline = true;
                let value_span = match entry.name() {
                    Some(key) => Span::new(self.file, key.span().offset() + key.span().len() + 1, span.len.saturating_sub(key.span().len() + 1)),
                    None => span,
                };
                self.inline_secrets.push(value_span);
                self.push(
                    Diagnostic::new(codes::INLINE_TOKEN, "a reader token is written inline in the topology")
                        .primary(span, "token value here")
                        .help("keep tokens out of the topology: use `reader-token file=\"tokens/<cluster>.token\"` or `reader-token env=\"VAR\"`, and rotate this token, since it has been committed to a file"),
                );
            }
        }
        let secrets_only = |this: &Self| {
            node.entries()
                .iter()
                .filter(|e| !matches!(e.name().map(|n| n.value()), Some("file" | "env")))
                .all(|e| matches!(e.value(), KdlValue::String(_)) || this.is_known_secret(this.span(e.span())))
        };
        if !secrets_only(self) {
            self.shape(node, &Shape { args: Args::None, props: READER_TOKEN_PROPS, children: false, arg_name: "" });
        }
        let span = self.node_span(node);
        let file = self.path_prop(node, "file");
        let env = self.string_prop(node, "env");
        match (file, env) {
            (Some(file), None) => Some(ReaderToken { span, source: Some(TokenSource::File(file)) }),
            (None, Some(env)) => Some(ReaderToken { span, source: Some(TokenSource::Env(env)) }),
            (Some(file), Some(env)) => {
                self.push(
                    Diagnostic::new(codes::CONFLICTING_PROPERTIES, "`reader-token` takes exactly one of `file=` and `env=`")
                        .primary(env.span, "a variable here")
                        .secondary(file.span, "and a file here")
                        .help("keep one: `file=` for a token file, `env=` for an environment variable"),
                );
                Some(ReaderToken { span, source: None })
            }
            (None, None) => {
                if !inline && self.prop(node, "file").is_none() && self.prop(node, "env").is_none() {
                    self.push(
                        Diagnostic::new(codes::MISSING_PROPERTY, "`reader-token` needs `file=` or `env=`")
                            .primary(span, "no token source here")
                            .help("write `reader-token file=\"tokens/<cluster>.token\"` or `reader-token env=\"<VARIABLE>\"`"),
                    );
                }
                Some(ReaderToken { span, source: None })
            }
        }
    }
}

/// The closest known name, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(distance, k)| *distance <= (k.len() / 3).max(1) || k.to_ascii_lowercase().starts_with(&lower) && lower.len() >= 3)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

/// The help line of a name that is not among `known`: `did you mean "…"?` when one is close,
/// else `otherwise`.
pub fn did_you_mean_or(name: &str, known: &[&str], otherwise: impl FnOnce() -> String) -> String {
    match did_you_mean(name, known) {
        Some(s) => format!("did you mean \"{s}\"?"),
        None => otherwise(),
    }
}

fn list(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

fn list_props(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}=`")).collect::<Vec<_>>().join(", ")
}

fn type_name(value: &KdlValue) -> &'static str {
    match value {
        KdlValue::String(_) => "a string",
        KdlValue::Integer(_) => "a number",
        KdlValue::Float(_) => "a number",
        KdlValue::Bool(_) => "a boolean",
        KdlValue::Null => "#null",
    }
}
