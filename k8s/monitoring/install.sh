#!/usr/bin/env bash
# Install kube-prometheus-stack (Prometheus operator, Prometheus, Alertmanager, Grafana, kube-state-metrics,
# node-exporter) into namespace "monitoring" with k8s/monitoring/kube-prometheus-stack.yaml.
# Needs network access to the prometheus-community chart repository; the version is pinned.
set -euo pipefail
cd "$(dirname "$0")/../.."
KPS_VERSION="${KPS_VERSION:-65.1.1}"
HELM="${HELM:-helm}"
"$HELM" repo add prometheus-community https://prometheus-community.github.io/helm-charts >/dev/null
"$HELM" repo update prometheus-community >/dev/null
"$HELM" upgrade --install kube-prometheus-stack prometheus-community/kube-prometheus-stack \
  --version "$KPS_VERSION" --namespace monitoring --create-namespace \
  --values k8s/monitoring/kube-prometheus-stack.yaml --wait --timeout 10m
