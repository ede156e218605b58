#!/usr/bin/env bash
# Build the API's container image without a Docker daemon into an OCI archive
# (default dist/messenger-oci.tar): a static binary (CGO_ENABLED=0) on an empty
# base, run as uid 65532. `make image` runs this; deploy/image/ is the packer
# and deploy/image/image_test.go inspects the result.
#
# Why not ko: ko (v0.18) takes its base image from a registry or a Docker
# daemon, and neither is reachable here; a static Go binary needs no base, so
# deploy/image writes the one layer itself with go-containerregistry.
#
#   scripts/image.sh [OUT]       # then: podman load -i dist/messenger-oci.tar
#                                #   or: skopeo copy oci-archive:dist/messenger-oci.tar docker://REGISTRY/messenger:TAG
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/messenger-oci.tar}
mkdir -p "$(dirname "$out")" dist
rev=$(git rev-parse HEAD 2>/dev/null || echo unknown)
tag=messenger:$(git describe --always --dirty 2>/dev/null || echo dev)
# The commit time keeps the image's digest the same for the same source.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}

echo "image: building the static API binary (CGO_ENABLED=0; a first build takes minutes, see the README's First run)" >&2
start=$SECONDS
CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" -o dist/messenger ./cmd/api
echo "image: binary built in $((SECONDS - start)) s" >&2
case "$out" in /*) abs=$out ;; *) abs=$PWD/$out ;; esac
(cd deploy && go run ./image -binary ../dist/messenger -out "$abs" -tag "$tag" -revision "$rev")
