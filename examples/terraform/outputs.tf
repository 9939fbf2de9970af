output "warnings" {
  description = "meshgen's warnings as `CODE: message` strings, for the whole mesh: above all MG1003, one per object left out until a reader token or gateway address is known. Empty once nothing is pending."
  value       = jsondecode(data.external.mesh.result.warnings)
}

output "index" {
  description = "index.json of the build, decoded: every cluster, file and object, with a sha256 per file."
  value       = jsondecode(data.external.mesh.result.index)
}

output "objects" {
  description = "The keys (`<cluster>/<Kind>/<namespace>/<name>`) of the objects this instance applies."
  value       = sort(keys(local.objects))
}

output "namespace" {
  description = "The Istio namespace, available once it and the Secrets that istiod needs at start (cacerts, reader token) exist. Use it as the namespace of this cluster's Istio Helm releases: istiod then starts with the mesh's CA."
  value       = one([for ns in kubectl_manifest.namespace : ns.name])
  depends_on  = [kubectl_manifest.before_install]
}
