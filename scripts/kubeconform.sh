#!/usr/bin/env bash
# Validate deploy/k8s/*.yaml against the Kubernetes API's JSON schemas with
# kubeconform, offline. kubeconform normally downloads its schemas from
# GitHub, which is not reachable here; the same OpenAPI-derived schemas ship
# in the PyPI package kubernetes-validate, whose files refer to a shared
# _definitions.json: this script rewrites each into a standalone schema (the
# layout kubeconform reads) once, into the cache. Strict: unknown fields fail.
# The ServiceMonitor (a CRD, no schema here) is checked by
# deploy/k8s_test.go, which decodes it strictly into the Prometheus
# Operator's Go type.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned versions.
KUBECONFORM_VERSION=v0.7.0
KUBERNETES_VALIDATE_VERSION=1.37.0 # PyPI; ships schemas up to Kubernetes 1.37
KUBERNETES_VERSION=1.35.0          # the API version the manifests target

CACHE_DIR=${MESSENGER_CACHE_DIR:-$HOME/.cache/messenger}
bin=$CACHE_DIR/kubeconform-$KUBECONFORM_VERSION/kubeconform
schemas=$CACHE_DIR/kubernetes-json-schema-$KUBERNETES_VALIDATE_VERSION

if [[ ! -x $bin ]]; then
  echo "kubeconform: installing $KUBECONFORM_VERSION with go install" >&2
  mkdir -p "$(dirname "$bin")"
  GOBIN=$(dirname "$bin") go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
fi

dir=$schemas/v$KUBERNETES_VERSION-standalone-strict
if [[ ! -d $dir ]]; then
  echo "kubeconform: fetching kubernetes-validate==$KUBERNETES_VALIDATE_VERSION from PyPI for the v$KUBERNETES_VERSION schemas" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2
  python3 - "$tmp"/kubernetes_validate-*.whl "v$KUBERNETES_VERSION-local-strict" "$tmp/out" <<'PY'
import json, os, sys, zipfile
wheel, version, dst = sys.argv[1:4]
base = "kubernetes_validate/kubernetes-json-schema/" + version + "/"
z = zipfile.ZipFile(wheel)
names = [n for n in z.namelist() if n.startswith(base) and n.endswith(".json")]
if not names:
    sys.exit("no schemas for %s in %s" % (version, wheel))
defs = json.loads(z.read(base + "_definitions.json"))["$defs"]

def target(ref):
    # "/api/_definitions.json#/$defs/X" (from a kind's file) or "#/$defs/X" (inside _definitions.json)
    if isinstance(ref, str) and "#/$defs/" in ref and ref.split("#", 1)[0] in ("", "/api/_definitions.json"):
        return ref.split("#/$defs/", 1)[1]
    return None

def closure(node, out):
    if isinstance(node, dict):
        name = target(node.get("$ref"))
        if name and name not in out:
            out.add(name)
            closure(defs[name], out)
        for v in node.values():
            closure(v, out)
    elif isinstance(node, list):
        for v in node:
            closure(v, out)

def rewrite(node):
    if isinstance(node, dict):
        return {k: ("#/$defs/" + target(v) if k == "$ref" and target(v) else rewrite(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [rewrite(v) for v in node]
    return node

os.makedirs(dst)
for n in names:
    if os.path.basename(n).startswith("_"):
        continue
    schema = json.loads(z.read(n))
    need = set()
    closure(schema, need)
    schema.pop("$id", None)  # refs resolve inside the file, not against kubernetes.io
    out = rewrite(schema)
    if need:
        out["$defs"] = {k: rewrite(defs[k]) for k in sorted(need)}
    with open(os.path.join(dst, os.path.basename(n)), "w") as f:
        json.dump(out, f, separators=(",", ":"))
PY
  mkdir -p "$schemas"
  mv "$tmp/out" "$dir"
fi

kubeconform() {
  "$bin" -strict -kubernetes-version "$KUBERNETES_VERSION" -skip ServiceMonitor \
    -schema-location "$schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$@"
}

# First prove the schemas bite: a Deployment with a misspelt field must fail.
if printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n' | kubeconform - >/dev/null 2>&1; then
  echo "kubeconform: a Deployment with a misspelt field passed: the schemas in $dir are not being applied" >&2
  exit 1
fi
kubeconform -summary deploy/k8s/
