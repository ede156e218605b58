#!/usr/bin/env bash
# Side-by-side run of this API and Centrifugo (a pinned release, installed
# with `go install` into the cache on first use) under the same load
# generator, scenarios and cores: each server pinned to core 0 with
# GOMAXPROCS=1, the load generator on the others. The project runs twice:
# fsync on (the default a user gets) and MESSENGER_NO_SYNC=true.
# Centrifugo's memory engine persists nothing; gqlgen's _examples/chat is not
# in the module proxy's gqlgen zip (a nested module) and so is not run here.
#
#   make bench-compare                 (or: cmd/loadgen/compare.sh [results-dir])
#   COMPARE_SCALE=0.2 make bench-compare   shorter runs (duration x scale)
#
# Prints one table, p99 send -> receive in ms (and the ratio to Centrifugo),
# and writes every run's JSON to the results directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}
CENTRIFUGO_VERSION=v6.9.1
cache=${MESSENGER_CACHE_DIR:-$HOME/.cache/messenger}
centrifugo=$cache/bench/centrifugo-$CENTRIFUGO_VERSION/centrifugo
scale=${COMPARE_SCALE:-1}
secs() { awk -v s="$1" -v k="$scale" 'BEGIN { v = int(s * k); if (v < 3) v = 3; print v "s" }'; }
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-compare.XXXXXX")
out=${1:-$work/results}
mkdir -p "$out"
server_pid=
stop_server() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid"
		wait "$server_pid" 2>/dev/null || true
	fi
	server_pid=
}
cleanup() {
	stop_server
	rm -rf "$work/data" "$work/bin"
}
trap cleanup EXIT

if [[ ! -x $centrifugo ]]; then
	echo "installing Centrifugo $CENTRIFUGO_VERSION into $(dirname "$centrifugo")" >&2
	GOBIN=$(dirname "$centrifugo") $GO install "github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION"
fi
$GO build -o "$work/bin/api" ./cmd/api
$GO build -o "$work/bin/loadgen" ./cmd/loadgen

cores=$(nproc)
server_cpus=0
loadgen_cpus=1-$((cores - 1))
((cores > 1)) || loadgen_cpus=0

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url pid
	for _ in $(seq 200); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

start_centrifugo() {
	local port
	port=$(free_port)
	cat >"$work/centrifugo.json" <<EOF
{
  "http_server": { "address": "127.0.0.1", "port": $port },
  "client": { "token": { "hmac_secret_key": "loadgen-hmac-secret-at-least-32-bytes" }, "allowed_origins": ["*"] },
  "http_api": { "key": "loadgen-api-key" },
  "health": { "enabled": true },
  "log": { "level": "error" }
}
EOF
	GOMAXPROCS=1 taskset -c "$server_cpus" "$centrifugo" --config "$work/centrifugo.json" >"$work/centrifugo.log" 2>&1 &
	server_pid=$!
	url=http://127.0.0.1:$port
	wait_http "$url/health" "$server_pid" || { cat "$work/centrifugo.log"; exit 1; }
}

# start_api keeps the data directory and the port of the system's first
# start (api_port), so a restarted server still accepts the users the
# load generator cached for it ($work/users-<system>.json).
api_port=
start_api() { # extra env...
	local port=$api_port
	env "$@" GOMAXPROCS=1 MESSENGER_HTTP_ADDR=127.0.0.1:$port MESSENGER_DATA_DIR="$work/data" MESSENGER_RATE_LIMITS=false \
		taskset -c "$server_cpus" "$work/bin/api" >"$work/api.log" 2>&1 &
	server_pid=$!
	url=http://127.0.0.1:$port
	wait_http "$url/healthz" "$server_pid" || { cat "$work/api.log"; exit 1; }
}

run() { # system name loadgen-args...
	local system=$1 name=$2
	shift 2
	local target=messenger
	[[ $system == centrifugo ]] && target=centrifugo
	taskset -c "$loadgen_cpus" "$work/bin/loadgen" -target "$target" -url "$url" -server-pid "$server_pid" \
		-users-file "$work/users-$system.json" -label "$system" -out "$out/$system-$name.json" "$@" 2>"$out/$system-$name.log" || { tail -20 "$out/$system-$name.log"; exit 1; }
}

scenarios() { # system
	local s=$1
	run "$s" direct1000 -scenario direct -pairs 100 -rate 1000 -duration "$(secs 20)" -warmup 2s
	run "$s" direct2000 -scenario direct -pairs 100 -rate 2000 -duration "$(secs 20)" -warmup 2s
	run "$s" direct3000 -scenario direct -pairs 100 -rate 3000 -duration "$(secs 20)" -warmup 2s
	run "$s" group50 -scenario group -members 300 -rate 50 -duration "$(secs 20)" -warmup 2s
	run "$s" group150 -scenario group -members 300 -rate 150 -duration "$(secs 20)" -warmup 2s
}

# rss_tree is the VmRSS in KiB of a process and its children (the API's
# search index is a child process).
rss_tree() {
	local total=0 p
	for p in "$1" $(ps -o pid= --ppid "$1"); do
		total=$((total + $(awk '/VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)))
	done
	echo "$total"
}

for system in centrifugo project-fsync project-nosync; do
	echo "== $system (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
	rm -rf "$work/data"
	api_port=$(free_port)
	case $system in
	centrifugo) start_centrifugo ;;
	project-fsync) start_api MESSENGER_NO_SYNC=false ;;
	project-nosync) start_api MESSENGER_NO_SYNC=true ;;
	esac
	# The issue's memory figure: RSS after 1,000 sign-ups and the scenarios.
	# The scenarios then reuse these users instead of signing up their own.
	run "$system" signup -scenario idle -conns 1 -users 1000 -idle-window 1s -warmup 0s
	scenarios "$system"
	echo "{\"rssKiB\": $(rss_tree "$server_pid")}" >"$out/$system-rss.json"
	stop_server
	# Idle sockets on a restarted server (same data, cached users: no
	# sign-up in this process): RSS growth per subscribed socket.
	case $system in
	centrifugo) start_centrifugo ;;
	project-fsync) start_api MESSENGER_NO_SYNC=false ;;
	project-nosync) start_api MESSENGER_NO_SYNC=true ;;
	esac
	run "$system" idle -scenario idle -conns 5000 -users 1000 -idle-window 5s -warmup 3s
	stop_server
done

python3 - "$out" <<'EOF'
import json, sys, os
out = sys.argv[1]
def load(s, n):
    p = os.path.join(out, f"{s}-{n}.json")
    return json.load(open(p)) if os.path.exists(p) else None
systems = ["centrifugo", "project-fsync", "project-nosync"]
rows = [("direct 1,000/s", "direct1000"), ("direct 2,000/s", "direct2000"), ("direct 3,000/s", "direct3000"),
        ("group 300 x 50/s", "group50"), ("group 300 x 150/s", "group150")]
print("| scenario | " + " | ".join(systems) + " |")
print("|---|" + "---|" * len(systems))
for label, n in rows:
    base = None
    cells = []
    for s in systems:
        r = load(s, n)
        if not r:
            cells.append("—"); continue
        lat = r.get("latency", {})
        p99 = (lat.get("e2e") or {}).get("p99Ms")
        last = (lat.get("timeToLast") or {}).get("p99Ms")
        thr = r.get("throughputPerSec") or 0
        rate = (r.get("params") or {}).get("rate") or 0
        cell = f"{p99:.1f}" if p99 is not None else "?"
        if last is not None:
            cell += f" / {last:.1f}"
        if base is None and s == "centrifugo":
            base = p99
        elif base and p99:
            cell += f" ({p99 / base:.1f}x)"
        if rate and thr and thr < 0.95 * rate:
            cell += f", behind ({thr:.0f}/s)"
        cells.append(cell)
    print(f"| {label} | " + " | ".join(cells) + " |")
cells = []
for s in systems:
    r = load(s, "rss")
    cells.append(f"{r['rssKiB'] / 1024:.0f} MB" if r else "—")
print("| RSS after the runs | " + " | ".join(cells) + " |")
cells = []
for s in systems:
    r = load(s, "idle")
    v = ((r or {}).get("server") or {}).get("perConnKiB")
    cells.append(f"{v} KiB" if v is not None else "—")
print("| RSS per idle socket (5,000) | " + " | ".join(cells) + " |")
EOF
echo "results: $out" >&2
