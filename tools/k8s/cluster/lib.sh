# Shared paths and helpers of the single-node test cluster (sourced). Runtime state lives under
# $K8S_STATE (removed by teardown); caches (binaries, Docker data, images) under $K8S_CACHE (kept).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/versions.sh"
REPO="$(cd "$here/../../.." && pwd)"
K8S_STATE="${K8S_STATE:-/var/lib/zkpot-k8s}"
K8S_RUN="${K8S_RUN:-/run/zkpot-k8s}"
K8S_LOGS="${K8S_LOGS:-$K8S_STATE/logs}"
K8S_BIN="$K8S_CACHE/kubernetes-$K8S_VERSION/bin"
ETCD_BIN="$K8S_CACHE/etcd-$ETCD_VERSION/bin"
COREDNS_BIN="$K8S_CACHE/coredns-$COREDNS_VERSION/bin"
TOOLS_BIN="$REPO/.cache/k8s-tools/bin"
export DOCKER_HOST="unix://$K8S_RUN/docker.sock"
CONTAINERD_SOCK="$K8S_RUN/containerd/containerd.sock"
export KUBECONFIG="${KUBECONFIG_E2E:-$K8S_STATE/admin.kubeconfig}"
export PATH="$TOOLS_BIN:$K8S_BIN:$PATH"
POD_CIDR="10.88.0.0/16"
SERVICE_CIDR="10.96.0.0/16"
CLUSTER_DNS="10.96.0.10"
PY="${PYTHON:-python3}"
NODE_NAME="zkpot-e2e"
PAUSE_IMAGE="zkpot-local/pause:1"
COREDNS_IMAGE="zkpot-local/coredns:${COREDNS_VERSION#v}"

log() { printf '%s %s: %s\n' "$(date +%T)" "$(basename "$0" .sh)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
# wait_for SECONDS DESCRIPTION CMD...: retry CMD every 2 s.
wait_for() {
  local t=$1 what=$2; shift 2; local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $end ] && die "timed out after ${t}s waiting for $what"
    sleep 2
  done
}
pidfile_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
# start_daemon NAME CMD...: runs CMD in the background, logging to $K8S_LOGS/NAME.log, pid in $K8S_RUN/NAME.pid.
start_daemon() {
  local name=$1; shift
  mkdir -p "$K8S_LOGS" "$K8S_RUN"
  if pidfile_alive "$K8S_RUN/$name.pid"; then log "$name already running"; return; fi
  setsid "$@" >>"$K8S_LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$K8S_RUN/$name.pid"
}
# stop_daemon NAME: TERM, then KILL after 15 s, the process started by start_daemon.
stop_daemon() {
  local name=$1 f="$K8S_RUN/$1.pid" pid i
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

docker_up() {
  command -v dockerd >/dev/null || "$here/host-packages.sh"
  mkdir -p "$K8S_CACHE/docker" "$K8S_RUN"
  # No bridge and no iptables rules: builds use the host network; nothing is left behind on the host.
  start_daemon dockerd dockerd --data-root "$K8S_CACHE/docker" --exec-root "$K8S_RUN/docker-exec" \
    -H "$DOCKER_HOST" --pidfile "$K8S_RUN/dockerd.real.pid" --iptables=false --ip-masq=false --ip-forward=false \
    --bridge=none --storage-driver=overlay2
  wait_for 60 dockerd docker version
}
docker_down() { stop_daemon dockerd; }
