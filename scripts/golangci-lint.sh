#!/usr/bin/env bash
# Run golangci-lint at the pinned version, installing it on first use into
# the cache (outside the repository):
#
#   scripts/golangci-lint.sh [run ARGS...]     default: run ./...
#
# The version is pinned here; the linters and every exclusion (each with its
# reason) are in .golangci.yml.
set -euo pipefail
VERSION=v2.15.0
CACHE_DIR=${MESSENGER_CACHE_DIR:-$HOME/.cache/messenger}
BIN_DIR=$CACHE_DIR/bin/golangci-lint-$VERSION
BIN=$BIN_DIR/golangci-lint
if [[ ! -x $BIN ]]; then
  echo "golangci-lint: installing $VERSION into $BIN_DIR (once; a few minutes)" >&2
  mkdir -p "$BIN_DIR"
  GOBIN=$BIN_DIR go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$VERSION"
fi
cd "$(dirname "$0")/.."
(($#)) || set -- run ./...
exec "$BIN" "$@"
