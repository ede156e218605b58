#!/usr/bin/env bash
# Builds and starts the messenger API on a free local port with a throwaway
# data dir, then runs the real-browser playground test against it.
#
#   web/playground/e2e/run.sh        (from any directory)
#
# Needs Go, Node 20+, and Chromium at /usr/bin/chromium (installed from Debian
# if missing). Artifacts of a failed run (screenshots, browser log, API log)
# land in web/playground/e2e/artifacts/.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
PG="$(dirname "$HERE")"            # web/playground
ROOT="$(cd "$PG/../.." && pwd)"     # repository root
ARTIFACTS="$HERE/artifacts"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-60}"  # seconds

if [ ! -x /usr/bin/chromium ]; then
  echo "run.sh: installing chromium (Debian package)"
  "$ROOT/scripts/apt-install.sh" chromium
fi

if [ ! -d "$PG/node_modules" ]; then
  echo "run.sh: npm ci"
  (cd "$PG" && npm ci --no-audit --no-fund)
fi

if [ ! -f "$PG/dist/index.html" ]; then
  echo "run.sh: dist/ missing, building the page"
  "$PG/build.sh"
fi

source "$ROOT/scripts/e2e-api.sh"
echo "run.sh: building and starting the API"
e2e_api_start
ADDR="$E2E_ADDR"
echo "run.sh: API healthy"

status=0
(cd "$PG" && PLAYGROUND_URL="http://$ADDR" node e2e/playground.test.mjs) || status=$?
if [ "$status" -ne 0 ]; then
  mkdir -p "$ARTIFACTS"
  cp "$E2E_TMP/api.log" "$ARTIFACTS/api.log" || true
  echo "run.sh: FAILED (exit $status); API log copied to $ARTIFACTS/api.log" >&2
fi
exit "$status"
