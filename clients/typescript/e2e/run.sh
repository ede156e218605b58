#!/usr/bin/env bash
# Checks the TypeScript client kit and runs the example chat end to end:
#   1. npm ci (skipped while node_modules matches package-lock.json);
#   2. the generated code is up to date (npm run codegen changes nothing);
#   3. the kit's unit tests (vitest), then its build (tsc: typechecks src/,
#      writes dist/); `npm run typecheck` also checks the tests;
#   4. the example's npm ci, typecheck and vite build;
#   5. the API built from this checkout (go build ./cmd/api) on a free port
#      with a throwaway data dir, and e2e/chat.test.mjs in headless Chromium.
#
#   clients/typescript/e2e/run.sh        (from any directory)
#
# Needs Go, Node 20+, and Chromium at /usr/bin/chromium (installed from
# Debian if missing). Artifacts of a failed run land in e2e/artifacts/.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
KIT="$(dirname "$HERE")"             # clients/typescript
EXAMPLE="$KIT/example"
ROOT="$(cd "$KIT/../.." && pwd)"     # repository root
ARTIFACTS="$HERE/artifacts"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-60}"  # seconds
START=$SECONDS

say() { echo "clients/typescript: $* ($((SECONDS - START)) s)"; }

if [ ! -x /usr/bin/chromium ]; then
  say "installing chromium (Debian package)"
  "$ROOT/scripts/apt-install.sh" chromium
fi

# npm ci unless node_modules was installed from this very lockfile.
ci() {
  local dir="$1" stamp="$1/node_modules/.messenger-lock-sha256" want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}

ci "$KIT"
cd "$KIT"
npx --no-install graphql-codegen --config codegen.ts --silent
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && [ -n "$(git status --porcelain -- src/generated)" ]; then
  git status --short -- src/generated
  echo "clients/typescript: src/generated is stale: run 'npm run codegen' in clients/typescript and commit it" >&2
  exit 1
fi
say "generated code up to date"
npx --no-install vitest run --reporter=dot
npx --no-install tsc -p tsconfig.build.json
say "kit tested and built"

ci "$EXAMPLE"
(cd "$EXAMPLE" && npx --no-install tsc -p tsconfig.json && npx --no-install vite build --logLevel warn)
say "example typechecked and built"

# Embedded defaults, whatever servers `make test` started for the Go tests:
# the test forges an in-process log's cursor from before a restart.
source "$ROOT/scripts/e2e-api.sh"
e2e_api_start -u MESSENGER_CASSANDRA_HOSTS -u MESSENGER_REDIS_ADDRS -u MESSENGER_REDIS_CLUSTER_ADDRS \
  -u MESSENGER_REDIS_CLUSTER -u MESSENGER_OPENSEARCH_URL -u MESSENGER_S3_ENDPOINT
ADDR="$E2E_ADDR"
say "API healthy on $ADDR"

status=0
API_URL="http://$ADDR" node "$HERE/chat.test.mjs" || status=$?
if [ "$status" -ne 0 ]; then
  mkdir -p "$ARTIFACTS"
  cp "$E2E_TMP/api.log" "$ARTIFACTS/api.log" || true
  echo "clients/typescript: FAILED (exit $status); API log copied to $ARTIFACTS/api.log" >&2
fi
say "done"
exit "$status"
