#!/usr/bin/env bash
# CPU per direct message (issue #24): the API with embedded defaults (fsync
# on unless NOSYNC=true) pinned to core 0 with GOMAXPROCS=1, the direct
# scenario of make bench-compare (100 pairs) from core 1, a 20 s CPU profile
# of the server from its debug listener while it is measured, then
# `go tool pprof -top -cum`. CPU per message is the server's utime+stime
# (/proc/<pid>/stat) over the messages delivered (serverCpuMicrosPerOp in
# the result): unlike latency, it survives a machine shared with others.
#
#   cmd/loadgen/cpu.sh [results-dir] [rate]     (default: a temp dir, 1000)
#
# API=<binary> and LOADGEN=<binary> use prebuilt binaries (to interleave
# runs of two commits without rebuilding either).
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}
out=${1:-$(mktemp -d "${TMPDIR:-/tmp}/cpu.XXXXXX")}
rate=${2:-1000}
mkdir -p "$out"
if [ -n "${API:-}" ]; then cp "$API" "$out/api"; else $GO build -o "$out/api" ./cmd/api; fi
if [ -n "${LOADGEN:-}" ]; then cp "$LOADGEN" "$out/loadgen"; else $GO build -o "$out/loadgen" ./cmd/loadgen; fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
dport=$(free_port)
rm -rf "$out/data"
env GOMAXPROCS=1 MESSENGER_NO_SYNC="${NOSYNC:-false}" MESSENGER_HTTP_ADDR="127.0.0.1:$port" \
	MESSENGER_DEBUG_ADDR="127.0.0.1:$dport" MESSENGER_DATA_DIR="$out/data" MESSENGER_RATE_LIMITS=false \
	taskset -c 0 "$out/api" >"$out/api.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 200); do
	curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
	sleep 0.1
done
(
	for _ in $(seq 1200); do
		grep -q "sockets open" "$out/loadgen.log" 2>/dev/null && break
		sleep 0.1
	done
	sleep 4 # past the warm-up
	curl -fsS -o "$out/cpu.pprof" "http://127.0.0.1:$dport/debug/pprof/profile?seconds=20"
) &
profiler=$!
taskset -c 1 "$out/loadgen" -target messenger -url "http://127.0.0.1:$port" -server-pid "$pid" \
	-users-file "$out/users.json" -out "$out/result.json" \
	-scenario direct -pairs 100 -rate "$rate" -duration 35s -warmup 2s 2>"$out/loadgen.log"
wait "$profiler" || true
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
$GO tool pprof -top -cum "$out/api" "$out/cpu.pprof" 2>/dev/null | head -60 >"$out/top.txt"
echo "profile: $out/cpu.pprof (top: $out/top.txt)"
