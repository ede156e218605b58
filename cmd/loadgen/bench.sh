#!/usr/bin/env bash
# Short run of every load-generator scenario against a fresh API on embedded
# defaults (a minute or two in all): builds the API and the load generator,
# starts the API on a free loopback port with a temporary data directory and
# MESSENGER_NO_SYNC=true, runs each scenario briefly, stops the API.
#
#   cmd/loadgen/bench.sh [results-dir]
#
# Each scenario prints its one-line summary and writes <results-dir>/<name>.json
# (default: a temporary directory, printed at the end). Full-size runs and
# their flags are in docs/loadgen-results.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}
work=$(mktemp -d "${TMPDIR:-/tmp}/loadgen-bench.XXXXXX")
out=${1:-$work/results}
mkdir -p "$out"
api_pid=
cleanup() {
	if [[ -n $api_pid ]] && kill -0 "$api_pid" 2>/dev/null; then
		kill "$api_pid"
		wait "$api_pid" 2>/dev/null || true
	fi
	rm -rf "$work/data" "$work/bin"
}
trap cleanup EXIT

$GO build -o "$work/bin/api" ./cmd/api
$GO build -o "$work/bin/loadgen" ./cmd/loadgen

MESSENGER_HTTP_ADDR=127.0.0.1:0 MESSENGER_DATA_DIR="$work/data" MESSENGER_NO_SYNC=true MESSENGER_RATE_LIMITS=false \
	"$work/bin/api" >"$work/api.log" 2>&1 &
api_pid=$!
url=
for _ in $(seq 100); do
	if addr=$(grep -m1 -o 'listening on [0-9.:]*' "$work/api.log" 2>/dev/null); then
		url="http://${addr#listening on }"
		break
	fi
	kill -0 "$api_pid" || { cat "$work/api.log"; exit 1; }
	sleep 0.1
done
[[ -n $url ]] || { echo "API did not start"; cat "$work/api.log"; exit 1; }
echo "API at $url (pid $api_pid), load average $(cut -d' ' -f1-3 /proc/loadavg)"

lg() {
	local name=$1
	shift
	"$work/bin/loadgen" -url "$url" -server-pid "$api_pid" -users-file "$work/users.json" \
		-label bench -out "$out/$name.json" "$@" 2>"$out/$name.log" || { cat "$out/$name.log"; exit 1; }
}
lg direct -scenario direct -pairs 100 -rate 1000 -duration 10s -warmup 2s
lg group -scenario group -members 200 -rate 50 -duration 10s -warmup 2s
lg idle -scenario idle -conns 2000 -users 200 -idle-window 5s -warmup 2s
lg storm -scenario storm -conns 1000 -users 200 -rate 500
lg history -scenario history -history-convs 10 -history-messages 120 -rate 100 -duration 10s -warmup 2s
echo "results: $out"
