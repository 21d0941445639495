# Pinned versions of the single-node test cluster (sourced by the scripts in this folder).
# Every binary is built from the Go module proxy and cached, by version, outside the repo.
K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.14.7}"
PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.316.0}"   # Go module version of github.com/prometheus/prometheus (Prometheus 3.x)
NATS_VERSION="${NATS_VERSION:-v2.11.9}"
K8S_CACHE="${K8S_CACHE:-$HOME/.cache/zkpot-k8s}"
# Build cache shared by all components; kept with the binaries so a later session reuses it.
export GOCACHE="${ZKPOT_K8S_GOCACHE:-$K8S_CACHE/go-build}"
export GOFLAGS="-buildvcs=false -mod=mod"
export CGO_ENABLED=0
