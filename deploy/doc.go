// Package deploy holds how the API is shipped and run: the container image
// packer (image/), the fleet on one machine (compose.yaml, nginx.conf) and
// Kubernetes manifests (k8s/). Its tests validate those files: every
// manifest decodes strictly into its Kubernetes (or Prometheus Operator)
// API type, and the parts that must agree (selectors and labels, probes
// and ports, the settings and the README's configuration table) agree.
// scripts/kubeconform.sh validates the manifests against the Kubernetes
// OpenAPI schemas as well.
package deploy
