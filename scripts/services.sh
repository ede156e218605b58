#!/usr/bin/env bash
# Start and stop the real servers the messenger backend talks to, without
# Docker: Cassandra, Redis (single and a 3-node cluster), OpenSearch, MinIO.
# Run `scripts/services.sh help` for usage. Facts and pitfalls behind the
# choices below: shared/REAL-SERVERS.md.
#
# Contract with callers (scripts/test.sh, people, CI):
#   * STDOUT carries only `export NAME=value` lines, so
#       eval "$(scripts/services.sh up redis cassandra)"
#     works; everything else (progress, timings, log tails) goes to STDERR.
#   * Every server listens on 127.0.0.1 only, on ports picked free at `up`
#     time; `stop`/`start` keep the same ports and data.
#   * Installs are cached outside the repo and pinned (versions below).
# shellcheck disable=SC2317  # the `main "$@"; exit` line at the end makes shellcheck think every function is unreachable
set -euo pipefail
# Also inside $(...): a failing step there must fail the assignment's caller.
shopt -s inherit_errexit

usage() {
  cat >&2 <<'EOF'
usage: scripts/services.sh COMMAND [SERVICE...]

services: cassandra redis redis-cluster opensearch minio   (or: all)

  up SVC...       install on first use, start on free loopback ports, wait
                  until ready; print `export ...` lines on stdout.
                  Already running: just print its exports again.
                  Stopped with `stop`: start it again on the same ports/data.
                  Several services start in parallel.
  down [SVC...]   stop (TERM, bounded wait, KILL) and delete the data dirs;
                  no SVC = everything this run dir knows about.
  stop SVC...     stop the process(es) but KEEP ports and data ...
  start SVC...    ... and start them again on the SAME ports with the SAME data.
                  (e.g. "stop Cassandra mid-run and restart it":
                     scripts/services.sh stop cassandra; ...; scripts/services.sh start cassandra
                   or in one go: scripts/services.sh restart cassandra)
  restart SVC...  stop + start.
  env             print the exports of every running service.
  status [SVC...] one line per service on stderr; exit 0 iff all given are running.
  logs SVC        print the path of the service's log file(s).
  install SVC...  only install (fill the caches), start nothing.

environment:
  MESSENGER_CACHE_DIR   installs       (default ~/.cache/messenger)
  MESSENGER_RUN_DIR     pids, state    (default ~/.cache/messenger/run)
  MESSENGER_DATA_DIR    where per-run temp data dirs go (default $TMPDIR or /tmp)
  MESSENGER_CASSANDRA_HEAP  Cassandra's JVM heap (default 2g)
  MESSENGER_OPENSEARCH_DIR  where OpenSearch is unpacked; must be readable by
                        the `opensearch` user when running as root
                        (default: the cache dir if that user can reach it,
                        else /var/cache/messenger)
  MESSENGER_START_TIMEOUT   readiness timeout in seconds (default 180)
  MESSENGER_CASSANDRA_JVM_OPTS  extra JVM options for Cassandra (word-split;
                        later -D options override earlier ones)

caches (delete these for a from-scratch install):
  $MESSENGER_CACHE_DIR          Cassandra jars, MinIO binary, downloads, logs
  /var/cache/messenger          OpenSearch when root and the cache dir is not
                                reachable for the opensearch user
  ~/.m2/repository, Go's module and build caches (Maven and go install fill them)
  Redis is a Debian package (apt-get remove redis-server redis-tools).

example:
  eval "$(scripts/services.sh up redis cassandra)"
  go test ./...
  scripts/services.sh down
EOF
}

# ---------------------------------------------------------------------------
# Pinned versions. Bump here (and in scripts/cassandra/pom.xml for Cassandra).
# ---------------------------------------------------------------------------
# Cassandra 5.0.x: the newest line that runs on JDK 17 (4.1 does not).
CASSANDRA_VERSION=5.0.9
# The integ-test zip is the only OpenSearch distribution on Maven Central:
# core + transport modules only (no security, painless, reindex, analysis-common).
OPENSEARCH_VERSION=2.19.6
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
# Redis comes from Debian's redis-server package (7.0.x on bookworm); it is not
# pinned beyond what the distribution ships.

ALL_SERVICES=(cassandra redis redis-cluster opensearch minio)

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_DIR=${MESSENGER_CACHE_DIR:-$HOME/.cache/messenger}
RUN_DIR=${MESSENGER_RUN_DIR:-$HOME/.cache/messenger/run}
DATA_BASE=${MESSENGER_DATA_DIR:-${TMPDIR:-/tmp}}
START_TIMEOUT=${MESSENGER_START_TIMEOUT:-180}

# Fixed, test-only credentials for MinIO (never used outside this machine).
MINIO_USER=messenger
MINIO_PASSWORD=messenger-secret
S3_BUCKET=messenger
S3_REGION=us-east-1

SVC=services # prefix of log lines; set to the service name while working on one

log() { printf '[%s] %s\n' "$SVC" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s; }

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

valid_service() {
  local s
  for s in "${ALL_SERVICES[@]}"; do [[ $1 == "$s" ]] && return 0; done
  return 1
}

# Expand "all", reject unknown names, drop duplicates (order kept).
expand_services() {
  local out=() s x seen
  for s in "$@"; do
    if [[ $s == all ]]; then set -- "${ALL_SERVICES[@]}"; out=(); break; fi
  done
  for s in "$@"; do
    valid_service "$s" || { usage; die "unknown service: $s"; }
    seen=0
    for x in "${out[@]+"${out[@]}"}"; do [[ $x == "$s" ]] && seen=1; done
    ((seen)) || out+=("$s")
  done
  printf '%s\n' "${out[@]+"${out[@]}"}"
}

# Run a command with a lock file held (installs and port picking must not
# race when several services start in parallel, or two scripts run at once).
with_lock() {
  local lock=$1; shift
  mkdir -p "$(dirname "$lock")"
  (
    flock 9
    "$@"
  ) 9>"$lock"
}

# Run "$@" with output into an install log; on failure show its tail.
run_logged() {
  local logf=$1; shift
  mkdir -p "$(dirname "$logf")"
  if ! "$@" >>"$logf" 2>&1; then
    log "command failed: $*  (last lines of $logf:)"
    tail -n 40 "$logf" | sed 's/^/    /' >&2
    return 1
  fi
}

java_home() {
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then echo "$JAVA_HOME"; return; fi
  local j
  j=$(readlink -f "$(command -v java)") || die "java not found (JDK 17 needed)"
  dirname "$(dirname "$j")"
}

# True if something accepts TCP connections on 127.0.0.1:$1 (bash /dev/tcp, no nc needed).
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True if we could bind 127.0.0.1:$1 right now. python3 checks a real bind;
# without python3 fall back to "nobody listens there".
port_free() {
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.close()
PY
  elif port_open "$1"; then
    return 1
  fi
}

# Ports already promised to a service of this run dir (running or stopped).
reserved_ports() {
  cat "$RUN_DIR"/*.ports 2>/dev/null || true
}

# alloc_ports SVC N [BUS_OFFSET]: pick N free loopback ports for SVC and
# record them in $RUN_DIR/SVC.ports. Ports come from 20000-29999, below
# Linux's ephemeral range (32768+), so outgoing connections cannot grab them
# between pick and bind. With BUS_OFFSET (Redis Cluster's bus = port+10000)
# the port is taken from 11000-19999 and port+offset must be free too.
# A port that is free now may still be promised to a server that has not
# bound it yet (Cassandra binds ~10 s after start), possibly of another run
# dir (test.sh runs use private ones, several may run at once). So picks
# happen under one lock per cache dir, and every pick of the last 10 minutes
# is remembered in $CACHE_DIR/ports.recent and skipped.
_alloc_ports() {
  local svc=$1 n=$2 off=${3:-0} lo=20000 span=10000 got=() p tries=0 reserved t
  local recent=$CACHE_DIR/ports.recent
  if ((off)); then lo=11000; span=9000; fi
  t=$(now)
  if [[ -f $recent ]]; then
    awk -v min=$((t - 600)) '$1 >= min' "$recent" >"$recent.tmp" && mv "$recent.tmp" "$recent"
  fi
  reserved=" $( { reserved_ports; cat "$recent" 2>/dev/null || true; } | awk '{print $NF}' | tr '\n' ' ') "
  while ((${#got[@]} < n)); do
    ((tries++ < 2000)) || { echo "no free port found" >&2; return 1; }
    p=$((lo + RANDOM % span))
    [[ $reserved == *" $p "* ]] && continue
    if ((off)); then [[ $reserved == *" $((p + off)) "* ]] && continue; fi
    port_free "$p" || continue
    if ((off)); then port_free "$((p + off))" || continue; fi
    got+=("$p"); reserved+="$p "
    if ((off)); then reserved+="$((p + off)) "; fi
  done
  {
    printf '%s\n' "${got[@]}"
    if ((off)); then for p in "${got[@]}"; do echo $((p + off)); done; fi
  } >"$RUN_DIR/$svc.ports"
  sed "s/^/$t /" "$RUN_DIR/$svc.ports" >>"$recent"
  echo "${got[*]}"
}
alloc_ports() { with_lock "$CACHE_DIR/.ports.lock" _alloc_ports "$@"; }

# --- state: what `stop`/`start`/`env` need to know about a started service ---
# $RUN_DIR/SVC.state  sourced shell assignments (ports, data dir, log file)
# $RUN_DIR/SVC.pid    one pid per line (redis-cluster: three)

state_file() { echo "$RUN_DIR/$1.state"; }
pid_file() { echo "$RUN_DIR/$1.pid"; }

save_state() { # save_state SVC KEY=VALUE...
  local svc=$1 kv; shift
  : >"$(state_file "$svc").tmp"
  for kv in "$@"; do
    printf '%s=%q\n' "${kv%%=*}" "${kv#*=}" >>"$(state_file "$svc").tmp"
  done
  mv "$(state_file "$svc").tmp" "$(state_file "$svc")"
}

load_state() { # loads into the current shell; fails if none
  local f
  f=$(state_file "$1")
  [[ -f $f ]] || return 1
  # shellcheck disable=SC1090
  source "$f"
}

# A pid counts as ours only if it is alive (not a zombie) and its command line
# contains the service's marker: guards against a recycled pid.
pid_alive() { # pid_alive PID MARKER
  local pid=$1 marker=$2 cmd
  [[ -n $pid ]] && proc_alive "$pid" || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$marker"* ]]
}

# What the command line of a service's process contains (state loaded): its
# data dir, which is unique per instance. Except Redis, which rewrites its
# argv to "redis-server 127.0.0.1:PORT".
marker() {
  case $1 in
    redis | redis-cluster) echo "redis-server" ;;
    *) echo "$DATA_DIR" ;;
  esac
}

# Running = state exists and every recorded pid is alive.
is_running() {
  local svc=$1 pf pid n=0
  pf=$(pid_file "$svc")
  [[ -s $pf ]] || return 1
  ( load_state "$svc" || exit 1
    while read -r pid; do
      [[ -n $pid ]] || continue
      pid_alive "$pid" "$(marker "$svc")" || exit 1
      n=$((n + 1))
    done <"$pf"
    ((n > 0)) )
}

# Stop pids: TERM, wait up to $timeout s, then KILL. Polls (the servers are
# not our children once the `up` that started them has exited).
stop_pids() { # stop_pids TIMEOUT MARKER PID...
  local timeout=$1 marker=$2 pid deadline alive; shift 2
  for pid in "$@"; do
    if pid_alive "$pid" "$marker"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  deadline=$(($(now) + timeout))
  while :; do
    alive=()
    for pid in "$@"; do pid_alive "$pid" "$marker" && alive+=("$pid"); done
    ((${#alive[@]})) || return 0
    if (($(now) >= deadline)); then
      log "still alive after ${timeout}s, sending KILL to ${alive[*]}"
      kill -KILL "${alive[@]}" 2>/dev/null || true
      sleep 1
      return 0
    fi
    sleep 0.5
  done
}

# Start a server in the background, detached from our session (so a Ctrl-C
# in the caller's terminal does not hit it, and `$(...)` capturing our stdout
# does not wait for it), stdin closed, stdout+stderr appended to $logf.
# Prints nothing; sets SPAWNED_PID. In a script (no job control) the
# background child is not a group leader, so setsid execs in place and $! is
# the server's own pid.
spawn() { # spawn LOGFILE CMD...
  local logf=$1; shift
  setsid "$@" </dev/null >>"$logf" 2>&1 &
  SPAWNED_PID=$!
}

# Alive and not a zombie (a server that is not our child may stay a zombie
# for a while before init reaps it; kill -0 would still succeed).
proc_alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z ]]
}

# wait_until DESC TIMEOUT CHECK_FN [ARGS]: poll CHECK_FN every second.
# Between polls, WATCH_PIDS (if set) must stay alive, else fail early.
wait_until() {
  local desc=$1 timeout=$2 deadline pid; shift 2
  deadline=$(($(now) + timeout))
  until "$@"; do
    for pid in ${WATCH_PIDS:-}; do
      if ! proc_alive "$pid"; then log "process $pid exited while waiting for $desc"; return 1; fi
    done
    if (($(now) >= deadline)); then log "timed out after ${timeout}s waiting for $desc"; return 1; fi
    sleep 1
  done
}

show_log_tail() { # show_log_tail FILE...
  local f
  for f in "$@"; do
    [[ -f $f ]] || continue
    log "---- last lines of $f ----"
    tail -n 60 "$f" | sed 's/^/    /' >&2
  done
}

new_data_dir() { # new_data_dir SVC -> path of a fresh temp dir
  mkdir -p "$DATA_BASE"
  mktemp -d "$DATA_BASE/messenger-$1.XXXXXX"
}

# ---------------------------------------------------------------------------
# Redis (single node)
# ---------------------------------------------------------------------------

# Debian's redis-server; installed only if missing. Installing it would also
# start the distribution's own service on 6379 (invoke-rc.d), which we never
# use, so a temporary policy-rc.d forbids service starts during the install.
_install_redis() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
  local sudo=() policy=/usr/sbin/policy-rc.d made_policy=0 ilog=$CACHE_DIR/logs/install-redis.log
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "redis-server is missing and we are not root: install Debian's redis-server"
    sudo=(sudo -n)
  fi
  log "installing Debian's redis-server (log: $ilog)"
  if [[ ! -e $policy ]]; then
    "${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy"
    made_policy=1
    # Never leave it behind (it would block every service start on the
    # machine), even if we are interrupted. We run in with_lock's subshell,
    # so this trap is ours alone.
    # (Expanded now: the function's locals are gone when the trap runs.)
    # shellcheck disable=SC2064
    trap "${sudo[*]} rm -f $policy" EXIT
  fi
  local rc=0
  export DEBIAN_FRONTEND=noninteractive
  # apt-install.sh waits for the dpkg lock, repairs an interrupted dpkg run
  # and updates the package lists when they are missing.
  run_logged "$ilog" "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" --no-install-recommends redis-server redis-tools || rc=1
  ((made_policy)) && "${sudo[@]}" rm -f "$policy"
  ((rc == 0)) || die "could not install redis-server"
  command -v redis-server >/dev/null || die "redis-server still missing after install"
}
install_redis() { with_lock "$CACHE_DIR/.install-redis.lock" _install_redis; }
install_redis_cluster() { install_redis; }

redis_ping() { [[ $(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]; }

# Start one redis-server on $port with data in $dir; extra args appended.
start_redis_node() { # start_redis_node PORT DIR LOG [EXTRA...]
  local port=$1 dir=$2 logf=$3; shift 3
  mkdir -p "$dir"
  # --save '' + appendonly: data survives `stop`/`start` through the AOF only.
  # --logfile '' logs to stdout, which spawn() sends to $logf.
  spawn "$logf" redis-server --port "$port" --bind 127.0.0.1 --save '' \
    --appendonly yes --dir "$dir" --daemonize no --logfile '' "$@"
}

start_redis() { # fresh=1|0; state already loaded when fresh=0
  local fresh=$1
  install_redis
  if ((fresh)); then
    local ports
    ports=$(alloc_ports redis 1)
    # One assignment per line: in `A=$(x) B=$(y)` a failing x goes unnoticed.
    PORT=$ports
    DATA_DIR=$(new_data_dir redis)
    LOG=$RUN_DIR/logs/redis.log
    : >"$LOG"
    save_state redis PORT="$PORT" DATA_DIR="$DATA_DIR" LOG="$LOG"
  fi
  start_redis_node "$PORT" "$DATA_DIR" "$LOG"
  echo "$SPAWNED_PID" >"$(pid_file redis)"
  WATCH_PIDS=$SPAWNED_PID wait_until "redis PING on $PORT" 30 redis_ping "$PORT" ||
    { show_log_tail "$LOG"; return 1; }
}

exports_redis() { echo "export MESSENGER_REDIS_ADDRS=127.0.0.1:$PORT"; }

# ---------------------------------------------------------------------------
# Redis Cluster (3 masters, no replicas)
# ---------------------------------------------------------------------------

cluster_ok_all() {
  local p info
  for p in $PORTS; do
    # Captured first: `cmd | grep -q` can fail under pipefail (SIGPIPE).
    info=$(redis-cli -h 127.0.0.1 -p "$p" cluster info 2>/dev/null) || return 1
    [[ $info == *cluster_state:ok* ]] || return 1
  done
}

cluster_pinged_all() {
  local p
  for p in $PORTS; do redis_ping "$p" || return 1; done
}

start_redis_cluster() {
  local fresh=$1 p i=0 pids=() addrs=()
  install_redis
  if ((fresh)); then
    PORTS=$(alloc_ports redis-cluster 3 10000)
    DATA_DIR=$(new_data_dir redis-cluster)
    LOG=$RUN_DIR/logs/redis-cluster.log
    : >"$LOG"
    save_state redis-cluster PORTS="$PORTS" DATA_DIR="$DATA_DIR" LOG="$LOG"
  fi
  for p in $PORTS; do
    i=$((i + 1))
    # Each node keeps its own nodes.conf: on `start` the nodes find each other
    # again from it, so the cluster is not re-created.
    start_redis_node "$p" "$DATA_DIR/node$i" "$LOG" \
      --cluster-enabled yes --cluster-config-file "$DATA_DIR/node$i/nodes.conf" \
      --cluster-node-timeout 5000
    pids+=("$SPAWNED_PID")
    addrs+=("127.0.0.1:$p")
  done
  printf '%s\n' "${pids[@]}" >"$(pid_file redis-cluster)"
  WATCH_PIDS="${pids[*]}" wait_until "redis cluster nodes to answer PING" 30 cluster_pinged_all ||
    { show_log_tail "$LOG"; return 1; }
  if ((fresh)); then
    log "creating the cluster: ${addrs[*]}"
    if ! redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >>"$LOG" 2>&1; then
      show_log_tail "$LOG"; return 1
    fi
  fi
  WATCH_PIDS="${pids[*]}" wait_until "cluster_state:ok on all nodes" 60 cluster_ok_all ||
    { show_log_tail "$LOG"; return 1; }
}

exports_redis_cluster() {
  local p addrs=()
  for p in $PORTS; do addrs+=("127.0.0.1:$p"); done
  local joined
  joined=$(IFS=,; echo "${addrs[*]}")
  echo "export MESSENGER_REDIS_CLUSTER_ADDRS=$joined"
  log "# to run the API on this cluster: MESSENGER_REDIS_ADDRS=$joined MESSENGER_REDIS_CLUSTER=true"
}

# ---------------------------------------------------------------------------
# Cassandra
# ---------------------------------------------------------------------------

cassandra_lib() { echo "$CACHE_DIR/cassandra-$CASSANDRA_VERSION/lib"; }

# Resolve cassandra-all and its runtime deps from Maven Central into the
# cache, once. Maven runs are serialised (one local repo, shared plugins).
_install_cassandra() {
  local lib tmp
  lib=$(cassandra_lib)
  [[ -f $lib/.complete ]] && return 0
  command -v mvn >/dev/null || die "mvn (Maven) is needed to fetch Cassandra"
  log "resolving cassandra-all $CASSANDRA_VERSION with Maven (log: $CACHE_DIR/logs/install-cassandra.log)"
  tmp=$lib.tmp.$$
  rm -rf "$tmp"
  run_logged "$CACHE_DIR/logs/install-cassandra.log" with_lock "$CACHE_DIR/.maven.lock" \
    mvn -q -B -f "$SCRIPT_DIR/cassandra/pom.xml" -Dcassandra.version="$CASSANDRA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" ||
    die "Maven could not resolve Cassandra"
  compgen -G "$tmp/jamm-*.jar" >/dev/null || die "no jamm jar among Cassandra's dependencies"
  rm -rf "$lib"
  mv "$tmp" "$lib"
  touch "$lib/.complete"
}
install_cassandra() { with_lock "$CACHE_DIR/.install-cassandra.lock" _install_cassandra; }

# JDK 17 module-access flags, copied from Cassandra's conf/jvm17-server.options
# (the jar does not ship that file). A missing one shows up at start as
# InaccessibleObjectException or IllegalAccessError.
CASSANDRA_JVM17_FLAGS=(
  -Djdk.attach.allowAttachSelf=true
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
  --add-exports java.sql/java.sql=ALL-UNNAMED
  --add-exports java.base/java.lang.ref=ALL-UNNAMED
  --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
  --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
  --add-opens java.base/java.lang.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
  --add-opens java.base/jdk.internal.math=ALL-UNNAMED
  --add-opens java.base/jdk.internal.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.io=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/java.util=ALL-UNNAMED
  # Netty settings from the same file.
  -Dio.netty.tryReflectionSetAccessible=true
  -Dio.netty.allocator.useCacheForAllThreads=true
  -Dio.netty.allocator.maxOrder=11
)

# A real CQL round trip (native protocol v4, no driver and no cqlsh needed):
# STARTUP, then SELECT release_version FROM system.local. Prints the version.
cql_release_version() { # cql_release_version PORT
  command -v python3 >/dev/null || return 2
  python3 - "$1" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
def frame(op, body): return struct.pack(">BBhBi", 4, 0, 1, op, len(body)) + body
def read_exact(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: sys.exit("connection closed")
        b += c
    return b
def read():
    _, _, _, op, ln = struct.unpack(">BBhBi", read_exact(9))
    return op, read_exact(ln)
def string(x): x = x.encode(); return struct.pack(">H", len(x)) + x
s.sendall(frame(0x01, struct.pack(">H", 1) + string("CQL_VERSION") + string("3.0.0")))
op, body = read()
if op != 0x02: sys.exit("STARTUP answered opcode %d" % op)          # READY
q = b"SELECT release_version FROM system.local"
s.sendall(frame(0x07, struct.pack(">i", len(q)) + q + struct.pack(">HB", 0x0001, 0)))
op, b = read()
if op != 0x08: sys.exit("QUERY answered opcode %d: %r" % (op, b[:200]))  # RESULT
kind, flags, ncols = struct.unpack(">iii", b[:12]); i = 12
if kind != 2: sys.exit("not a Rows result")
def skip_string(i): (n,) = struct.unpack(">H", b[i:i+2]); return i + 2 + n
if flags & 1: i = skip_string(skip_string(i))                        # global table spec
for _ in range(ncols):
    if not flags & 1: i = skip_string(skip_string(i))
    i = skip_string(i) + 2                                            # name, type (varchar)
(nrows,) = struct.unpack(">i", b[i:i+4]); i += 4
if nrows < 1: sys.exit("no row")
(n,) = struct.unpack(">i", b[i:i+4]); i += 4
print(b[i:i+n].decode())
PY
}

cassandra_ready() {
  # Only lines written by the current start count: after `stop`/`start` the
  # log still holds the previous run's line.
  awk -v from="$LOG_FROM" 'NR > from && /Starting listening for CQL clients/ { ok = 1 } END { exit !ok }' \
    "$LOG" 2>/dev/null || return 1
  port_open "$NATIVE_PORT" || return 1
  local v rc=0
  v=$(cql_release_version "$NATIVE_PORT" 2>/dev/null) || rc=$?
  ((rc == 2)) && return 0   # no python3: log line + open port is all we can check
  ((rc == 0)) || return 1
  log "CQL answers: release_version=$v"
}

start_cassandra() {
  local fresh=$1 lib jamm conf
  install_cassandra
  lib=$(cassandra_lib)
  jamm=$(compgen -G "$lib/jamm-*.jar" | head -n1)
  if ((fresh)); then
    local ports
    ports=$(alloc_ports cassandra 2)
    NATIVE_PORT=${ports%% *} STORAGE_PORT=${ports##* }
    DATA_DIR=$(new_data_dir cassandra)
    LOG=$RUN_DIR/logs/cassandra.log
    : >"$LOG"
    save_state cassandra NATIVE_PORT="$NATIVE_PORT" STORAGE_PORT="$STORAGE_PORT" DATA_DIR="$DATA_DIR" LOG="$LOG"
    mkdir -p "$DATA_DIR"/{data,commitlog,hints,saved_caches,cdc_raw,conf}
    sed -e "s#@DATA_DIR@#$DATA_DIR#g" -e "s#@STORAGE_PORT@#$STORAGE_PORT#g" \
      -e "s#@NATIVE_PORT@#$NATIVE_PORT#g" "$SCRIPT_DIR/cassandra/cassandra.yaml" >"$DATA_DIR/conf/cassandra.yaml"
    cp "$SCRIPT_DIR/cassandra/logback.xml" "$DATA_DIR/conf/logback.xml"
  fi
  # JNA and netty unpack native libraries; they need a dir that allows exec
  # (a noexec /tmp breaks them), so use one under the cache.
  mkdir -p "$CACHE_DIR/tmp/jna" "$CACHE_DIR/tmp/netty"
  conf=$DATA_DIR/conf
  local extra_opts=()
  read -ra extra_opts <<<"${MESSENGER_CASSANDRA_JVM_OPTS:-}"
  LOG_FROM=$(wc -l <"$LOG")
  echo "---- start $(date -Is) ----" >>"$LOG"
  # -Xms/-Xmx: otherwise the heap defaults to a quarter of the machine's RAM.
  # No AlwaysPreTouch, no CMS flags (gone in 17). JMX stays off because
  # cassandra.jmx.local.port is not set, so it cannot clash with anything.
  # cassandra.config must be a URL; a plain path fails.
  # skip_wait_for_gossip_to_settle=0 and ring_delay_ms: a lone seed node has
  # nobody to wait for (ring_delay_ms=100 measured ~2 s faster than the
  # default 30 s). Measured startup: 5-6 s on an idle 2-core machine,
  # 15-40 s while other JVMs or a MinIO build compete for the cores.
  # ExitOnOutOfMemoryError: a test node that ran out of heap should die
  # loudly, not limp on (Cassandra's own startup check asks for it).
  # Heap: 2 GiB by default (MESSENGER_CASSANDRA_HEAP). Every table of every
  # test keyspace holds heap; 1 GiB ran out once several test runs had made
  # a few hundred keyspaces of ~70 tables each on one node.
  local heap=${MESSENGER_CASSANDRA_HEAP:-2g}
  spawn "$LOG" "$(java_home)/bin/java" \
    -Xms"$heap" -Xmx"$heap" -Xss256k \
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxGCPauseMillis=300 \
    -XX:+ExitOnOutOfMemoryError \
    "${CASSANDRA_JVM17_FLAGS[@]}" \
    -javaagent:"$jamm" \
    -Djava.net.preferIPv4Stack=true \
    -Djna.tmpdir="$CACHE_DIR/tmp/jna" \
    -Dio.netty.native.workdir="$CACHE_DIR/tmp/netty" \
    -Dlogback.configurationFile="$conf/logback.xml" \
    -Dcassandra.config="file://$conf/cassandra.yaml" \
    -Dcassandra-foreground=yes \
    -Dcassandra.storagedir="$DATA_DIR" \
    -Dcassandra.skip_wait_for_gossip_to_settle=0 \
    -Dcassandra.ring_delay_ms=100 \
    -Dcassandra.unsafesystem=true \
    "${extra_opts[@]+"${extra_opts[@]}"}" \
    -cp "$lib/*" \
    org.apache.cassandra.service.CassandraDaemon
  echo "$SPAWNED_PID" >"$(pid_file cassandra)"
  WATCH_PIDS=$SPAWNED_PID wait_until "Cassandra CQL on port $NATIVE_PORT" "$START_TIMEOUT" cassandra_ready ||
    { show_log_tail "$LOG"; return 1; }
}

exports_cassandra() { echo "export MESSENGER_CASSANDRA_HOSTS=127.0.0.1:$NATIVE_PORT"; }

# ---------------------------------------------------------------------------
# OpenSearch
# ---------------------------------------------------------------------------

OS_USER=opensearch

# OpenSearch refuses to run as root (no override). As root we run it as a
# system user, which must be able to read the install: /root is usually
# mode 700, so the default cache under ~root is not reachable for it.
opensearch_base() {
  if [[ -n ${MESSENGER_OPENSEARCH_DIR:-} ]]; then echo "$MESSENGER_OPENSEARCH_DIR"; return; fi
  if ((EUID != 0)) || runuser -u "$OS_USER" -- test -x "$CACHE_DIR" 2>/dev/null; then
    echo "$CACHE_DIR"
  else
    echo /var/cache/messenger
  fi
}

as_os_user() {
  if ((EUID == 0)); then runuser -u "$OS_USER" -- "$@"; else "$@"; fi
}

ensure_os_user() {
  ((EUID == 0)) || return 0
  id "$OS_USER" >/dev/null 2>&1 && return 0
  log "creating system user $OS_USER (OpenSearch refuses to run as root)"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$OS_USER" 2>/dev/null ||
    id "$OS_USER" >/dev/null 2>&1 || die "could not create user $OS_USER"
}

_install_opensearch() {
  local base home zip tmp ilog=$CACHE_DIR/logs/install-opensearch.log
  ensure_os_user
  base=$(opensearch_base)
  home=$base/opensearch-$OPENSEARCH_VERSION
  [[ -f $home/.complete ]] && return 0
  command -v mvn >/dev/null || die "mvn (Maven) is needed to fetch OpenSearch"
  command -v unzip >/dev/null || die "unzip is needed to unpack OpenSearch"
  zip=$CACHE_DIR/downloads/opensearch-$OPENSEARCH_VERSION.zip
  if [[ ! -s $zip ]]; then
    log "downloading OpenSearch $OPENSEARCH_VERSION (integ-test zip) with Maven (log: $ilog)"
    mkdir -p "$CACHE_DIR/downloads"
    run_logged "$ilog" with_lock "$CACHE_DIR/.maven.lock" \
      mvn -q -B dependency:copy \
      -Dartifact="org.opensearch.distribution.integ-test-zip:opensearch:$OPENSEARCH_VERSION:zip" \
      -DoutputDirectory="$CACHE_DIR/downloads" || die "Maven could not fetch OpenSearch"
  fi
  log "unpacking into $home"
  mkdir -p "$base"
  tmp=$(mktemp -d "$base/.opensearch-unpack.XXXXXX")
  run_logged "$ilog" unzip -q "$zip" -d "$tmp" || die "unzip failed"
  rm -rf "$home"
  mv "$tmp/opensearch-$OPENSEARCH_VERSION" "$home"
  rm -rf "$tmp"
  # The zip does not keep the exec bits of its launchers.
  chmod +x "$home"/bin/*
  if ((EUID == 0)); then
    chmod 755 "$base"
    # It writes its keystore and a few temp files into the tree, so it owns it.
    chown -R "$OS_USER:" "$home"
  fi
  touch "$home/.complete"
}
install_opensearch() { with_lock "$CACHE_DIR/.install-opensearch.lock" _install_opensearch; }

# True once the pid file exists, or once no process of this instance is left
# (pgrep only finds: nothing is ever killed by name here).
opensearch_pid_or_dead() {
  [[ -s $DATA_DIR/opensearch.pid ]] && return 0
  ! pgrep -f -- "-Epath.data=$DATA_DIR/data" >/dev/null
}

opensearch_ready() {
  curl -fsS --max-time 10 "http://127.0.0.1:$HTTP_PORT/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null 2>&1
}

start_opensearch() {
  local fresh=$1 home pid
  install_opensearch
  home=$(opensearch_base)/opensearch-$OPENSEARCH_VERSION
  if ((fresh)); then
    local ports
    ports=$(alloc_ports opensearch 2)
    HTTP_PORT=${ports%% *} TRANSPORT_PORT=${ports##* }
    DATA_DIR=$(new_data_dir opensearch)
    LOG=$DATA_DIR/logs/messenger-dev.log
    mkdir -p "$DATA_DIR/data" "$DATA_DIR/logs" "$DATA_DIR/tmp"
    ((EUID == 0)) && chown -R "$OS_USER:" "$DATA_DIR"
    as_os_user test -w "$DATA_DIR/data" ||
      die "$OS_USER cannot write $DATA_DIR (set MESSENGER_DATA_DIR to a dir it can reach)"
    save_state opensearch HTTP_PORT="$HTTP_PORT" TRANSPORT_PORT="$TRANSPORT_PORT" DATA_DIR="$DATA_DIR" LOG="$LOG"
  fi
  rm -f "$DATA_DIR/opensearch.pid"
  # -d daemonises after the node started (or prints why it could not);
  # -p writes the real pid. Startup output goes to startup.log.
  # disk.threshold_enabled=false: a nearly full dev disk must not turn
  # indices read-only in the middle of a test run.
  # setsid: its own session, like the other servers (see spawn()).
  ( cd "$DATA_DIR" && as_os_user setsid env \
      OPENSEARCH_JAVA_HOME="$(java_home)" \
      OPENSEARCH_JAVA_OPTS="-Xms512m -Xmx512m" \
      OPENSEARCH_TMPDIR="$DATA_DIR/tmp" \
      "$home/bin/opensearch" -d -p "$DATA_DIR/opensearch.pid" \
      -Ecluster.name=messenger-dev -Enode.name=messenger-dev \
      -Ediscovery.type=single-node \
      -Enetwork.host=127.0.0.1 \
      -Ehttp.port="$HTTP_PORT" -Etransport.port="$TRANSPORT_PORT" \
      -Epath.data="$DATA_DIR/data" -Epath.logs="$DATA_DIR/logs" \
      -Ecluster.routing.allocation.disk.threshold_enabled=false \
      </dev/null >>"$DATA_DIR/startup.log" 2>&1 ) ||
    { log "bin/opensearch -d failed"; show_log_tail "$DATA_DIR/startup.log" "$LOG"; return 1; }
  # bin/opensearch -d returns at once; the JVM writes the pid file a few
  # seconds into its bootstrap. Fail fast if the JVM is gone before that.
  wait_until "OpenSearch pid file" 90 opensearch_pid_or_dead ||
    { show_log_tail "$DATA_DIR/startup.log" "$LOG"; return 1; }
  pid=$(cat "$DATA_DIR/opensearch.pid" 2>/dev/null || true)
  [[ -n $pid ]] || { log "OpenSearch exited during startup"; show_log_tail "$DATA_DIR/startup.log" "$LOG"; return 1; }
  echo "$pid" >"$(pid_file opensearch)"
  WATCH_PIDS=$pid wait_until "OpenSearch health (yellow) on $HTTP_PORT" "$START_TIMEOUT" opensearch_ready ||
    { show_log_tail "$DATA_DIR/startup.log" "$LOG"; return 1; }
}

exports_opensearch() { echo "export MESSENGER_OPENSEARCH_URL=http://127.0.0.1:$HTTP_PORT"; }

# ---------------------------------------------------------------------------
# MinIO
# ---------------------------------------------------------------------------

minio_bin() { echo "$CACHE_DIR/minio-$MINIO_VERSION/bin/minio"; }

# Built from source with the Go toolchain (no prebuilt binaries reachable);
# takes a few minutes the first time. nice: on 2 cores the build must not
# starve the servers starting beside it.
_install_minio() {
  local bin ilog=$CACHE_DIR/logs/install-minio.log
  bin=$(minio_bin)
  [[ -x $bin ]] && return 0
  command -v go >/dev/null || die "go is needed to build MinIO"
  log "building MinIO $MINIO_VERSION with go install (a few minutes; log: $ilog)"
  mkdir -p "$(dirname "$bin")"
  # Outside any module/workspace so the repo's go.mod plays no part.
  ( cd "$CACHE_DIR" && run_logged "$ilog" env GOWORK=off GOFLAGS=-buildvcs=false \
      GOBIN="$(dirname "$bin").tmp" nice -n 10 go install "$MINIO_MODULE@$MINIO_VERSION" ) ||
    die "go install of MinIO failed"
  mv "$(dirname "$bin").tmp/minio" "$bin"
  rmdir "$(dirname "$bin").tmp" 2>/dev/null || true
}
install_minio() { with_lock "$CACHE_DIR/.install-minio.lock" _install_minio; }

minio_ready() { curl -fsS --max-time 5 "http://127.0.0.1:$PORT/minio/health/live" >/dev/null 2>&1; }

# Create the bucket with one signed S3 request (curl's --aws-sigv4), so tests
# find it present; "already exists" is fine.
minio_make_bucket() {
  local code
  code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -X PUT \
    --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$MINIO_USER:$MINIO_PASSWORD" \
    "http://127.0.0.1:$PORT/$S3_BUCKET") || return 1
  [[ $code == 200 || $code == 409 ]] || { log "creating bucket $S3_BUCKET: HTTP $code"; return 1; }
}

start_minio() {
  local fresh=$1
  install_minio
  if ((fresh)); then
    local ports
    ports=$(alloc_ports minio 2)
    PORT=${ports%% *} CONSOLE_PORT=${ports##* }
    DATA_DIR=$(new_data_dir minio)
    LOG=$RUN_DIR/logs/minio.log
    : >"$LOG"
    save_state minio PORT="$PORT" CONSOLE_PORT="$CONSOLE_PORT" DATA_DIR="$DATA_DIR" LOG="$LOG"
  fi
  # MINIO_UPDATE=off: it must not try to reach the internet to check for updates.
  spawn "$LOG" env MINIO_ROOT_USER="$MINIO_USER" MINIO_ROOT_PASSWORD="$MINIO_PASSWORD" \
    MINIO_UPDATE=off "$(minio_bin)" server "$DATA_DIR" \
    --address "127.0.0.1:$PORT" --console-address "127.0.0.1:$CONSOLE_PORT" --quiet
  echo "$SPAWNED_PID" >"$(pid_file minio)"
  WATCH_PIDS=$SPAWNED_PID wait_until "MinIO /minio/health/live on $PORT" 60 minio_ready ||
    { show_log_tail "$LOG"; return 1; }
  minio_make_bucket || { show_log_tail "$LOG"; return 1; }
}

exports_minio() {
  echo "export MESSENGER_S3_ENDPOINT=http://127.0.0.1:$PORT"
  echo "export MESSENGER_S3_REGION=$S3_REGION"
  echo "export MESSENGER_S3_ACCESS_KEY=$MINIO_USER"
  echo "export MESSENGER_S3_SECRET_KEY=$MINIO_PASSWORD"
  echo "export MESSENGER_S3_BUCKET=$S3_BUCKET"
}

# ---------------------------------------------------------------------------
# Generic per-service operations (each runs in its own subshell: the state
# variables PORT, DATA_DIR, ... are per service)
# ---------------------------------------------------------------------------

fn_name() { echo "${1//-/_}"; } # redis-cluster -> redis_cluster

print_exports() { ( load_state "$1" && "exports_$(fn_name "$1")" ); }

install_one() { "install_$(fn_name "$1")"; }

# up_one SVC: reuse, restart (same ports/data) or start fresh. Prints exports.
up_one() {
  local svc=$1 t0 t1 fresh=1
  SVC=$svc
  t0=$(now)
  if is_running "$svc"; then
    log "already running"
    print_exports "$svc"
    return 0
  fi
  if load_state "$svc" && [[ -d $DATA_DIR ]]; then
    fresh=0
    log "was stopped (or died); starting again on the same ports and data"
    # A partly alive redis-cluster would hold ports the restart needs.
    stop_one "$svc"
  else
    rm -f "$(state_file "$svc")" "$(pid_file "$svc")" "$RUN_DIR/$svc.ports"
  fi
  # Called plainly (never in `if`/`||`), so set -e stops at the first failure;
  # the failing step has already said why.
  install_one "$svc"
  t1=$(now)
  if ((t1 - t0 > 1)); then log "installed in $((t1 - t0))s"; fi
  "start_$(fn_name "$svc")" "$fresh"
  log "ready in $(($(now) - t1))s (total $(($(now) - t0))s)"
  "exports_$(fn_name "$svc")"
}

# stop_one SVC: stop processes, keep state and data for `start`.
stop_one() {
  local svc=$1 pids=() pid timeout=30
  SVC=$svc
  load_state "$svc" || { log "not started"; return 0; }
  [[ -f $(pid_file "$svc") ]] && mapfile -t pids <"$(pid_file "$svc")"
  # Interrupted between spawning and recording the pid (OpenSearch records
  # its pid only seconds after start): find the instance by its unique temp
  # data dir in the command line. Redis rewrites its argv, but its pid is
  # recorded right after the spawn.
  if ((${#pids[@]} == 0)) && [[ $svc != redis* && -n ${DATA_DIR:-} ]]; then
    mapfile -t pids < <(pgrep -f -- "$DATA_DIR" || true)
  fi
  # Cassandra drains (flushes memtables) on TERM; give it time.
  [[ $svc == cassandra || $svc == opensearch ]] && timeout=60
  local live=()
  for pid in "${pids[@]+"${pids[@]}"}"; do
    if pid_alive "$pid" "$(marker "$svc")"; then live+=("$pid"); fi
  done
  if ((${#live[@]})); then
    log "stopping pid(s) ${live[*]}"
    stop_pids "$timeout" "$(marker "$svc")" "${live[@]}"
  fi
  rm -f "$(pid_file "$svc")"
}

start_one() {
  local svc=$1 t0
  SVC=$svc
  load_state "$svc" || die "never started: use 'up $svc' first"
  [[ -d $DATA_DIR ]] || die "its data dir $DATA_DIR is gone: use 'down $svc' then 'up $svc'"
  if is_running "$svc"; then log "already running"; return 0; fi
  stop_one "$svc" # leftovers of a partly alive service hold its ports
  t0=$(now)
  "start_$(fn_name "$svc")" 0
  # A state left by an interrupted 'up' (no ports, say) starts nothing.
  is_running "$svc" || die "did not start from its saved state $(state_file "$svc"): use 'down $svc' then 'up $svc'"
  log "started again in $(($(now) - t0))s"
}

down_one() {
  local svc=$1
  SVC=$svc
  [[ -f $(state_file "$svc") ]] || return 0
  stop_one "$svc"
  load_state "$svc"
  # Only ever delete what we created (mktemp names start with messenger-).
  if [[ -n ${DATA_DIR:-} && $(basename "$DATA_DIR") == messenger-"$svc".* ]]; then
    rm -rf "$DATA_DIR"
  fi
  rm -f "$(state_file "$svc")" "$RUN_DIR/$svc.ports"
  log "down"
}

known_services() { # services with state in this run dir, in canonical order
  local s
  for s in "${ALL_SERVICES[@]}"; do [[ -f $(state_file "$s") ]] && echo "$s"; done
  return 0
}

# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

cmd_up() {
  local svcs=() s tmp failed=() pids=()
  mapfile -t svcs < <(expand_services "$@")
  ((${#svcs[@]})) || { usage; die "up: name at least one service"; }
  tmp=$(mktemp -d)
  # Start in parallel: installs that share a resource take locks (apt, Maven),
  # so this is safe, and MinIO's build overlaps the JVMs' startup.
  for s in "${svcs[@]}"; do
    ( up_one "$s" >"$tmp/$s.exports" ) &
    pids+=("$!")
  done
  local i=0
  for s in "${svcs[@]}"; do
    wait "${pids[$i]}" || failed+=("$s")
    i=$((i + 1))
  done
  for s in "${svcs[@]}"; do cat "$tmp/$s.exports" 2>/dev/null || true; done
  rm -rf "$tmp"
  if ((${#failed[@]})); then
    log "FAILED: ${failed[*]}  (the others are running; 'scripts/services.sh down' stops all)"
    return 1
  fi
}

cmd_down() {
  local svcs=() s
  if (($#)); then mapfile -t svcs < <(expand_services "$@"); else mapfile -t svcs < <(known_services); fi
  for s in "${svcs[@]+"${svcs[@]}"}"; do ( down_one "$s" ) & done
  wait
  # Leftover logs stay in $RUN_DIR/logs for post-mortems; the run dir itself
  # is removed when nothing is left in it (test.sh uses private run dirs).
  return 0
}

cmd_stop() {
  local svcs s
  mapfile -t svcs < <(expand_services "$@")
  ((${#svcs[@]})) || die "stop: name at least one service"
  for s in "${svcs[@]}"; do ( stop_one "$s" ) & done
  wait
}

cmd_start() {
  local svcs s rc=0
  mapfile -t svcs < <(expand_services "$@")
  ((${#svcs[@]})) || die "start: name at least one service"
  # `( ... ) &` + wait, not `( ... ) || rc=1`: inside a || list bash
  # ignores set -e, also in the subshell, and a failed step would not stop it.
  for s in "${svcs[@]}"; do
    ( start_one "$s" ) &
    wait $! || rc=1
  done
  return $rc
}

cmd_env() {
  local s
  for s in "${ALL_SERVICES[@]}"; do
    if is_running "$s"; then print_exports "$s"; fi
  done
  return 0
}

cmd_status() {
  local svcs=() s rc=0
  if (($#)); then mapfile -t svcs < <(expand_services "$@"); else svcs=("${ALL_SERVICES[@]}"); fi
  for s in "${svcs[@]}"; do
    if is_running "$s"; then
      printf '%-14s running  (pid %s)\n' "$s" "$(tr '\n' ' ' <"$(pid_file "$s")")" >&2
    elif [[ -f $(state_file "$s") ]]; then
      printf '%-14s stopped  (ports and data kept; "start %s")\n' "$s" "$s" >&2; rc=1
    else
      printf '%-14s down\n' "$s" >&2; rc=1
    fi
  done
  return $rc
}

cmd_logs() {
  local s
  for s in $(expand_services "$@"); do
    ( load_state "$s" && echo "$s: $LOG" ) || echo "$s: not started"
  done
}

cmd_install() {
  local s
  local pids=() p rc=0
  for s in $(expand_services "$@"); do ( SVC=$s; install_one "$s" ) & pids+=("$!"); done
  for p in "${pids[@]+"${pids[@]}"}"; do wait "$p" || rc=1; done
  return $rc
}

main() {
  local cmd=${1:-help}
  (($#)) && shift
  mkdir -p "$CACHE_DIR" "$RUN_DIR/logs"
  # Reject unknown service names up front (expand_services runs in process
  # substitutions later, where its exit status would be lost).
  case $cmd in
    up | down | stop | start | restart | status | logs | install) expand_services "$@" >/dev/null ;;
  esac
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    stop) cmd_stop "$@" ;;
    start) cmd_start "$@" ;;
    restart) cmd_stop "$@" && cmd_start "$@" ;;
    restart-cassandra) cmd_stop cassandra && cmd_start cassandra ;;
    env) cmd_env ;;
    status) cmd_status "$@" ;;
    logs) cmd_logs "$@" ;;
    install) cmd_install "$@" ;;
    help | -h | --help) usage ;;
    *) usage; exit 2 ;;
  esac
}

# `; exit` on the same line: bash never reads past it, so editing this file
# while a long `up` runs cannot make the running copy execute new lines.
main "$@"; exit
