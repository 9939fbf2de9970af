# meshgen's objects for ONE cluster of a mesh, applied with the alekc/kubectl provider.
# Use one instance of this module per cluster, each with the kubectl provider of that cluster.
# See README.md for the two-apply flow of a new mesh.

terraform {
  # terraform_data needs 1.4.
  required_version = ">= 1.4"

  required_providers {
    kubectl = {
      source  = "alekc/kubectl"
      version = "~> 2.1"
    }
    external = {
      source = "hashicorp/external"
    }
  }
}

variable "topology" {
  description = "Path of the topology file. A relative path is resolved from the directory Terraform runs in, not from this module: pass \"$${path.root}/...\" or an absolute path."
  type        = string
}

variable "cluster" {
  description = "The meshgen cluster ID of the cluster this instance applies to; the kubectl provider given to the module must point at that cluster."
  type        = string
}

variable "tokens" {
  description = "Reader tokens by cluster ID, for clusters whose topology `reader-token` file or env is not available where Terraform runs. Empty on the first apply of a new mesh."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "addresses" {
  description = "East-west gateway addresses (load balancer IP or DNS name) by cluster ID, for gateways the topology gives no `address`. Empty on the first apply of a new mesh."
  type        = map(string)
  default     = {}
}

variable "istio_install" {
  description = "Anything the objects of sync wave 0 and later must wait for: pass the Istio install of this cluster (for example the helm_release resources of istio/base, istio/istiod and istio/gateway). The Gateway and VirtualService need Istio's CRDs."
  type        = any
  default     = null
}

# `meshgen terraform` compiles the topology without writing anything and never issues
# intermediates (commit them first, or the query fails with MG0821). Objects that need a token
# or an address not known yet are left out and listed in `warnings`.
data "external" "mesh" {
  program = ["meshgen", "terraform"]

  query = {
    topology  = var.topology
    cluster   = var.cluster
    tokens    = jsonencode(var.tokens)
    addresses = jsonencode(var.addresses)
  }
}

locals {
  # `<cluster>/<Kind>/<namespace>/<name>` (`<cluster>/<Kind>/<name>` when cluster-scoped) =>
  # that object's YAML. The keys are stable: a changed object is updated in place.
  objects = jsondecode(data.external.mesh.result.objects)

  # Every object carries the sync wave of its apply order: Namespace -2; cacerts and the reader
  # token Secret -1; a remote's istiod Service and endpoints 0; Istio Gateway and VirtualService
  # 1; remote secrets 2.
  waves = {
    for key, body in local.objects :
    key => tonumber(yamldecode(body).metadata.annotations["argocd.argoproj.io/sync-wave"])
  }
}

# Ordering: Terraform applies the instances of one resource in parallel, so the waves are split
# into three resources chained with depends_on: the Namespace, then the Secrets that must exist
# before istiod starts, then the rest once `istio_install` is done.
resource "kubectl_manifest" "namespace" {
  for_each = { for key, body in local.objects : key => body if local.waves[key] <= -2 }

  yaml_body         = each.value
  server_side_apply = true
}

resource "kubectl_manifest" "before_install" {
  for_each = { for key, body in local.objects : key => body if local.waves[key] == -1 }

  yaml_body         = each.value
  server_side_apply = true
  sensitive_fields  = ["data", "stringData"]

  depends_on = [kubectl_manifest.namespace]
}

resource "terraform_data" "istio_install" {
  input = var.istio_install
}

resource "kubectl_manifest" "object" {
  for_each = { for key, body in local.objects : key => body if local.waves[key] >= 0 }

  yaml_body         = each.value
  server_side_apply = true
  # Remote secrets carry their kubeconfig (with the reader token) in `stringData`.
  sensitive_fields = split("/", each.key)[1] == "Secret" ? ["data", "stringData"] : null

  depends_on = [kubectl_manifest.before_install, terraform_data.istio_install]
}
