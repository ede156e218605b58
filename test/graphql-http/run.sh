#!/usr/bin/env bash
# Protocol conformance against the real binary: builds the API, starts it on
# a free port with a temporary data directory, runs the graphql-http server
# audits (fails on any failed MUST) and the graphql-ws client, stops the API.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
(cd "$root" && go build -o "$tmp/api" ./cmd/api)
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
MESSENGER_HTTP_ADDR="127.0.0.1:$port" MESSENGER_DATA_DIR="$tmp/data" MESSENGER_NO_SYNC=true \
  "$tmp/api" >"$tmp/api.out" 2>"$tmp/api.log" &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/api.log"; echo "the API exited"; exit 1; }
  sleep 0.1
done
status=0
node "$here/audit.mjs" "http://127.0.0.1:$port/graphql" || status=1
node "$here/wsclient.mjs" "http://127.0.0.1:$port" || status=1
exit $status
