#!/usr/bin/env bash
# Builds (or reuses) the cluster binaries: kube-apiserver, kube-controller-manager, kube-scheduler,
# kubelet, kube-proxy (k8s.io/kubernetes), etcd (go.etcd.io/etcd/server/v3), CoreDNS (a minimal plugin
# set), all from the Go module proxy, into $K8S_CACHE/<component>-<version>/bin. A cold build takes
# 40-60 min on 2 shared cores; it runs under nice and is a no-op once the binaries are there.
# Usage: build-binaries.sh [kubernetes|etcd|coredns|prometheus|nats ...]  (default: all)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"
JOBS="${JOBS:-2}"
export GOMAXPROCS="${GOMAXPROCS:-2}"
NICE="nice -n 19"

log() { printf '%s build-binaries: %s\n' "$(date +%T)" "$*" >&2; }

# A throwaway wrapper module: its go.mod requires the component and, for kubernetes, replaces every
# k8s.io/* staging module (which k8s.io/kubernetes' own go.mod points at ./staging) with v0.<minor>.<patch>.
wrapper() {  # dir
  rm -rf "$1"; mkdir -p "$1"
}

build_kubernetes() {
  local out="$K8S_CACHE/kubernetes-$K8S_VERSION" bins="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy"
  local missing=0; for b in $bins; do [ -x "$out/bin/$b" ] || missing=1; done
  [ $missing = 0 ] && { log "kubernetes $K8S_VERSION cached in $out/bin"; return; }
  local w="$out/src" staging minor patch
  wrapper "$w"; mkdir -p "$out/bin"
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"; patch="${K8S_VERSION##*.}"
  staging="v0.$minor.$patch"
  ( cd "$w"
    go mod download -json "k8s.io/kubernetes@$K8S_VERSION" >/dev/null
    local kmod; kmod="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.mod"
    { echo "module zkpot.local/k8sbuild"; echo; echo "go 1.24.0"; echo; echo "godebug default=go1.24"; echo
      echo "require k8s.io/kubernetes $K8S_VERSION"; echo
      echo "replace ("
      grep -E '^\s+k8s\.io/[a-z0-9-]+ => \./staging/' "$kmod" | awk -v v="$staging" '{print "\t" $1 " => " $1 " " v}'
      echo ")"; } > go.mod
    printf 'package tools\n\nimport (\n' > tools.go
    for b in $bins; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$b" >> tools.go; done
    printf ')\n' >> tools.go; sed -i '1i //go:build tools\n' tools.go
    log "kubernetes $K8S_VERSION: resolving modules"
    $NICE go mod tidy >/dev/null 2>&1 || $NICE go mod tidy
    local pkg="k8s.io/component-base/version" cpkg="k8s.io/client-go/pkg/version" ld="-s -w" date
    date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    for p in $pkg $cpkg; do
      ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=$date"
    done
    log "kubernetes $K8S_VERSION: go build $bins (cold: 40-60 min)"
    local t0=$SECONDS targets=""
    for b in $bins; do targets="$targets k8s.io/kubernetes/cmd/$b"; done
    $NICE go build -p "$JOBS" -trimpath -tags "tools,notest,grpcnotrace" -ldflags "$ld" -o "$out/bin/" $targets
    log "kubernetes $K8S_VERSION built in $(( (SECONDS-t0)/60 )) min"
    echo "$(( SECONDS-t0 ))" > "$out/build-seconds"
  )
}

build_etcd() {
  local out="$K8S_CACHE/etcd-$ETCD_VERSION"
  [ -x "$out/bin/etcd" ] && { log "etcd $ETCD_VERSION cached"; return; }
  local w="$out/src"; wrapper "$w"; mkdir -p "$out/bin"
  ( cd "$w"
    printf 'module zkpot.local/etcdbuild\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" > go.mod
    printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
    $NICE go mod tidy >/dev/null 2>&1 || $NICE go mod tidy
    local t0=$SECONDS
    $NICE go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$out/bin/etcd" go.etcd.io/etcd/server/v3
    log "etcd $ETCD_VERSION built in $(( SECONDS-t0 )) s"; echo "$(( SECONDS-t0 ))" > "$out/build-seconds"
  )
}

# CoreDNS with only the plugins a cluster's Corefile uses (the documented "compile-time plugin set"
# way: an own main that imports them and sets dnsserver.Directives), so it does not compile the cloud SDKs.
build_coredns() {
  local out="$K8S_CACHE/coredns-$COREDNS_VERSION"
  [ -x "$out/bin/coredns" ] && { log "coredns $COREDNS_VERSION cached"; return; }
  local w="$out/src"; wrapper "$w"; mkdir -p "$out/bin"
  ( cd "$w"
    printf 'module zkpot.local/corednsbuild\n\ngo 1.24.0\n\nrequire github.com/coredns/coredns %s\n' "$COREDNS_VERSION" > go.mod
    cat > main.go <<'GO'
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/template"
)

func init() {
	dnsserver.Directives = []string{"metadata", "errors", "log", "health", "ready", "prometheus", "hosts",
		"kubernetes", "template", "cache", "loop", "reload", "loadbalance", "forward"}
}

func main() { coremain.Run() }
GO
    $NICE go mod tidy >/dev/null 2>&1 || $NICE go mod tidy
    local t0=$SECONDS
    $NICE go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$out/bin/coredns" .
    log "coredns $COREDNS_VERSION built in $(( SECONDS-t0 )) s"; echo "$(( SECONDS-t0 ))" > "$out/build-seconds"
  )
}

# Prometheus with only its Kubernetes service discovery (build tags remove_all_sd,enable_kubernetes_sd): the e2e
# scrapes the pods the chart's PodMonitors select, by kubernetes_sd, as prometheus-operator configures it. (Debian's
# prometheus package is built without Kubernetes discovery.) No web UI assets: the HTTP API is what the e2e queries.
build_prometheus() {
  local out="$K8S_CACHE/prometheus-$PROMETHEUS_VERSION"
  [ -x "$out/bin/prometheus" ] && { log "prometheus $PROMETHEUS_VERSION cached"; return; }
  local w="$out/src"; wrapper "$w"; mkdir -p "$out/bin"
  ( cd "$w"
    printf 'module zkpot.local/prombuild\n\ngo 1.24.0\n\nrequire github.com/prometheus/prometheus %s\n' "$PROMETHEUS_VERSION" > go.mod
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/prometheus/prometheus/cmd/prometheus"\n' > tools.go
    $NICE go mod tidy >/dev/null 2>&1 || $NICE go mod tidy
    local t0=$SECONDS
    $NICE go build -p "$JOBS" -trimpath -tags "remove_all_sd,enable_kubernetes_sd" -ldflags "-s -w" \
      -o "$out/bin/prometheus" github.com/prometheus/prometheus/cmd/prometheus
    log "prometheus $PROMETHEUS_VERSION built in $(( SECONDS-t0 )) s"; echo "$(( SECONDS-t0 ))" > "$out/build-seconds"
  )
}

mkdir -p "$K8S_CACHE"
for c in "${@:-kubernetes etcd coredns prometheus}"; do
  for x in $c; do "build_$x"; done
done
