//! `meshgen graph`: the topology as a diagram — networks, clusters and their roles, which
//! primary serves which remote, and who reads whom — in Mermaid (for Markdown, GitHub and the
//! book) or Graphviz DOT. A view of the checked model: it decides nothing and touches no disk.

use std::fmt::Write as _;

use crate::check;
use crate::model::{Cluster, Topology};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Mermaid,
    Dot,
}

/// One cluster as the diagram shows it.
struct Vertex<'a> {
    id: String,
    name: &'a str,
    role: &'static str,
    gateway: Option<&'a str>,
}

fn describe<'a>(index: usize, cluster: &'a Cluster) -> Vertex<'a> {
    let gateway = cluster.eastwest_gateway.as_ref().map(|g| g.address.as_ref().map_or("east-west gateway", |a| a.value.as_str()));
    Vertex { id: format!("c{index}"), name: cluster.name.as_str(), role: if cluster.is_primary() { "primary" } else { "remote" }, gateway }
}

/// The diagram. Clusters are grouped by network; a remote points at its control plane; a dashed
/// edge runs from each primary to every cluster it reads (rule 4).
pub fn render(topology: &Topology, format: Format) -> String {
    let mut clusters: Vec<&Cluster> = topology.clusters.iter().collect();
    clusters.sort_by(|a, b| a.name.value.cmp(&b.name.value));
    clusters.dedup_by(|a, b| a.name.value == b.name.value);
    let boxes: Vec<Vertex> = clusters.iter().enumerate().map(|(i, c)| describe(i, c)).collect();
    let id_of = |name: &str| clusters.iter().position(|c| c.name.as_str() == name).map(|i| boxes[i].id.clone());
    let mut networks: Vec<&str> = clusters.iter().filter_map(|c| c.network_name()).collect();
    networks.sort();
    networks.dedup();
    let read = check::read_clusters(topology);
    let mut serves = Vec::new();
    let mut reads = Vec::new();
    for (cluster, b) in clusters.iter().zip(&boxes) {
        if let Some(primary) = cluster.control_plane().and_then(|p| id_of(p.as_str())) {
            serves.push((b.id.clone(), primary));
        }
        if cluster.is_primary() {
            for (other, o) in clusters.iter().zip(&boxes) {
                if other.name.value != cluster.name.value && read.contains(other.name.as_str()) {
                    reads.push((b.id.clone(), o.id.clone()));
                }
            }
        }
    }
    let label = |b: &Vertex, newline: &str| match b.gateway {
        Some(gateway) => format!("{}{newline}{} · {gateway}", b.name, b.role),
        None => format!("{}{newline}{}", b.name, b.role),
    };
    let mut out = String::new();
    match format {
        Format::Mermaid => {
            let _ = writeln!(out, "flowchart LR");
            for (n, network) in networks.iter().enumerate() {
                let _ = writeln!(out, "  subgraph n{n}[\"network {network}\"]");
                for (cluster, b) in clusters.iter().zip(&boxes).filter(|(c, _)| c.network_name() == Some(network)) {
                    let shape = if cluster.is_primary() { ("[[", "]]") } else { ("[", "]") };
                    let _ = writeln!(out, "    {}{}\"{}\"{}", b.id, shape.0, label(b, "<br/>"), shape.1);
                }
                let _ = writeln!(out, "  end");
            }
            for (from, to) in &serves {
                let _ = writeln!(out, "  {from} -- control plane --> {to}");
            }
            for (from, to) in &reads {
                let _ = writeln!(out, "  {from} -. reads .-> {to}");
            }
        }
        Format::Dot => {
            let _ = writeln!(out, "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box];", escape(topology.mesh.id.as_str()));
            for (n, network) in networks.iter().enumerate() {
                let _ = writeln!(out, "  subgraph cluster_n{n} {{\n    label=\"network {}\";", escape(network));
                for (cluster, b) in clusters.iter().zip(&boxes).filter(|(c, _)| c.network_name() == Some(network)) {
                    let style = if cluster.is_primary() { ", style=bold" } else { "" };
                    let _ = writeln!(out, "    {} [label=\"{}\"{style}];", b.id, escape(&label(b, "\n")).replace('\n', "\\n"));
                }
                let _ = writeln!(out, "  }}");
            }
            for (from, to) in &serves {
                let _ = writeln!(out, "  {from} -> {to} [label=\"control plane\"];");
            }
            for (from, to) in &reads {
                let _ = writeln!(out, "  {from} -> {to} [style=dashed, label=\"reads\"];");
            }
            let _ = writeln!(out, "}}");
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
