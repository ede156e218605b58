# Sourced by the browser end-to-end scripts (web/playground/e2e/run.sh,
# clients/typescript/e2e/run.sh): the real API binary on a free loopback port
# with a throwaway data dir, stopped when the script exits.
#
#   source "$ROOT/scripts/e2e-api.sh"
#   e2e_api_start [ENV=value | -u NAME ...]   # extra environment, as env(1) takes it
#   ... "$E2E_ADDR" ...                       # host:port; log in "$E2E_TMP/api.log"
#
# Needs ROOT (the repository) and node; HEALTH_TIMEOUT (default 60 s) bounds
# the wait for /healthz. The EXIT trap it sets stops the API and deletes
# E2E_TMP.

E2E_TMP="$(mktemp -d "${TMPDIR:-/tmp}/e2e-api.XXXXXX")"
E2E_API_PID=""
E2E_ADDR=""

e2e_api_cleanup() {
  if [ -n "$E2E_API_PID" ] && kill -0 "$E2E_API_PID" 2>/dev/null; then
    kill "$E2E_API_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$E2E_API_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$E2E_API_PID" 2>/dev/null || true
  fi
  rm -rf "$E2E_TMP"
}
trap e2e_api_cleanup EXIT

e2e_api_start() {
  (cd "$ROOT" && go build -o "$E2E_TMP/api" ./cmd/api)
  local port
  port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  E2E_ADDR="127.0.0.1:$port"
  mkdir -p "$E2E_TMP/data"
  env "$@" MESSENGER_HTTP_ADDR="$E2E_ADDR" MESSENGER_DATA_DIR="$E2E_TMP/data" "$E2E_TMP/api" >"$E2E_TMP/api.log" 2>&1 &
  E2E_API_PID=$!
  local deadline=$((SECONDS + ${HEALTH_TIMEOUT:-60}))
  until node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "http://$E2E_ADDR/healthz"; do
    if ! kill -0 "$E2E_API_PID" 2>/dev/null; then
      echo "e2e: API exited before becoming healthy; its log:" >&2
      cat "$E2E_TMP/api.log" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "e2e: API not healthy after ${HEALTH_TIMEOUT:-60}s; its log:" >&2
      cat "$E2E_TMP/api.log" >&2
      return 1
    fi
    sleep 0.25
  done
}
