#!/usr/bin/env bash
# Rebuilds the playground page into dist/ (embedded by playground.go).
# Reproducible: dependencies come from package-lock.json via `npm ci`.
# Usage: web/playground/build.sh   (from any directory)
set -euo pipefail
cd "$(dirname "$0")"

npm ci --no-audit --no-fund
npx --no-install vite build
echo "playground: built $(du -sh dist | cut -f1) into $(pwd)/dist"
