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

TMP="$(mktemp -d "${TMPDIR:-/tmp}/playground-e2e.XXXXXX")"
API_PID=""
cleanup() {
  if [ -n "$API_PID" ] && kill -0 "$API_PID" 2>/dev/null; then
    kill "$API_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$API_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$API_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

echo "run.sh: go build ./cmd/api"
(cd "$ROOT" && go build -o "$TMP/api" ./cmd/api)

PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
ADDR="127.0.0.1:$PORT"
mkdir -p "$TMP/data"
echo "run.sh: starting API on $ADDR (data dir $TMP/data)"
MESSENGER_HTTP_ADDR="$ADDR" MESSENGER_DATA_DIR="$TMP/data" "$TMP/api" >"$TMP/api.log" 2>&1 &
API_PID=$!

healthy() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time 2 "http://$ADDR/healthz" 2>/dev/null
  else
    node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "http://$ADDR/healthz"
  fi
}

deadline=$((SECONDS + HEALTH_TIMEOUT))
until healthy; do
  if ! kill -0 "$API_PID" 2>/dev/null; then
    echo "run.sh: API exited before becoming healthy; its log:" >&2
    cat "$TMP/api.log" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "run.sh: API not healthy after ${HEALTH_TIMEOUT}s; its log:" >&2
    cat "$TMP/api.log" >&2
    exit 1
  fi
  sleep 0.25
done
echo "run.sh: API healthy"

status=0
(cd "$PG" && PLAYGROUND_URL="http://$ADDR" node e2e/playground.test.mjs) || status=$?
if [ "$status" -ne 0 ]; then
  mkdir -p "$ARTIFACTS"
  cp "$TMP/api.log" "$ARTIFACTS/api.log" || true
  echo "run.sh: FAILED (exit $status); API log copied to $ARTIFACTS/api.log" >&2
fi
exit "$status"
