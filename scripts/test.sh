#!/usr/bin/env bash
# Run the test suite against real servers (called by `make test`).
#
#   scripts/test.sh [COMMAND...]      default: go test -count=1 ./...
#
# For every server whose variable the caller has NOT set, it starts one with
# scripts/services.sh (installing on first use, all in parallel), exports the
# variables, runs COMMAND, and always stops what it started (EXIT/INT/TERM),
# exiting with COMMAND's exit code. A developer with their own Cassandra sets
# MESSENGER_CASSANDRA_HOSTS and none is started; same for the others:
#
#   cassandra      MESSENGER_CASSANDRA_HOSTS
#   redis          MESSENGER_REDIS_ADDRS
#   redis-cluster  MESSENGER_REDIS_CLUSTER_ADDRS
#   opensearch     MESSENGER_OPENSEARCH_URL
#   minio          MESSENGER_S3_ENDPOINT (then also set the other MESSENGER_S3_*)
#
# To reuse servers across many runs:
#   eval "$(scripts/services.sh up all)"; make test; make test; scripts/services.sh down
#
# MESSENGER_TEST_SERVICES="redis cassandra" limits what is started (default: all).
#
# Unless MESSENGER_RUN_DIR is set, the servers of one run live in a private
# run dir, so two runs at once never share (or stop) each other's servers.
set -euo pipefail

# The whole script is one { ... } block: bash parses it completely before
# running it, so editing this file (or a git checkout) during a long test run
# cannot make the running copy execute half-read lines.
{
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVICES_SH=$ROOT/scripts/services.sh
cd "$ROOT"

log() { printf '[test.sh] %s\n' "$*" >&2; }

var_of() {
  case $1 in
    cassandra) echo MESSENGER_CASSANDRA_HOSTS ;;
    redis) echo MESSENGER_REDIS_ADDRS ;;
    redis-cluster) echo MESSENGER_REDIS_CLUSTER_ADDRS ;;
    opensearch) echo MESSENGER_OPENSEARCH_URL ;;
    minio) echo MESSENGER_S3_ENDPOINT ;;
    *) log "unknown service in MESSENGER_TEST_SERVICES: $1"; exit 2 ;;
  esac
}

read -ra wanted <<<"${MESSENGER_TEST_SERVICES:-cassandra redis redis-cluster opensearch minio}"

need=()
for svc in "${wanted[@]}"; do
  var=$(var_of "$svc")
  if [[ -n ${!var:-} ]]; then
    log "$svc: using the caller's $var=${!var}"
  else
    need+=("$svc")
  fi
done

CACHE_DIR=${MESSENGER_CACHE_DIR:-$HOME/.cache/messenger}
private_run_dir=
if [[ -z ${MESSENGER_RUN_DIR:-} ]]; then
  mkdir -p "$CACHE_DIR"
  private_run_dir=$(mktemp -d "$CACHE_DIR/run-test.XXXXXX")
  export MESSENGER_RUN_DIR=$private_run_dir
fi

# Services already running in a shared run dir were not started by us: we
# reuse them and leave them running.
started=()
for svc in "${need[@]+"${need[@]}"}"; do
  if ! "$SERVICES_SH" status "$svc" 2>/dev/null; then started+=("$svc"); fi
done

rc=1
child=

# Run "$@" in its own process group and wait for it. Not in the foreground:
# bash runs a trap only after the foreground command ends, so a CI timeout's
# TERM would wait for the whole test run. Its own group lets us stop the
# whole tree (`go test` does not pass TERM on to the test binaries).
run_child() {
  setsid "$@" &
  child=$!
  local status=0
  wait "$child" || status=$?
  child=
  return "$status"
}

# On INT/TERM: pass the signal to the child's group, give it 30 s to finish
# (go test prints what it was doing), then KILL; the EXIT trap cleans up.
# shellcheck disable=SC2317  # (called from traps)
on_signal() {
  local sig=$1 code=$2 i
  trap - INT TERM
  if [[ -n $child ]]; then
    log "got SIG$sig, stopping the running command"
    kill -"$sig" -- -"$child" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do kill -0 "$child" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- -"$child" 2>/dev/null || true
  fi
  exit "$code"
}

# shellcheck disable=SC2317  # (called from the trap)
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if ((${#started[@]})); then
    log "stopping: ${started[*]}"
    "$SERVICES_SH" down "${started[@]}" || true
  fi
  if [[ -n $private_run_dir ]]; then
    if ((status == 0)); then
      rm -rf "$private_run_dir"
    else
      log "server logs kept in $private_run_dir/logs"
    fi
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

if ((${#need[@]})); then
  log "starting: ${need[*]}"
  t0=$(date +%s)
  exports_file=$(mktemp)
  if ! run_child "$SERVICES_SH" up "${need[@]}" >"$exports_file"; then
    rm -f "$exports_file"
    log "servers did not start"
    exit 1
  fi
  # shellcheck disable=SC1090
  source "$exports_file"
  rm -f "$exports_file"
  log "servers ready in $(($(date +%s) - t0))s"
fi

(($#)) || set -- go test -count=1 ./...
log "running: $*"
t0=$(date +%s)
rc=0
run_child "$@" || rc=$?
log "command exited $rc after $(($(date +%s) - t0))s"
exit "$rc"
}
