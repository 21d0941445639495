#!/usr/bin/env bash
# minikube cluster for the ZKPoT network: one node, Kubernetes 1.32 (the version tests/k8s validates against),
# Calico so NetworkPolicies are enforced, enough memory for a prover (2 x proving key) and the monitoring stack.
# Usage: k8s/minikube/start.sh [extra minikube flags]
set -euo pipefail
exec minikube start --profile zkpot --kubernetes-version=v1.32.2 --cni=calico \
  --cpus="${MINIKUBE_CPUS:-4}" --memory="${MINIKUBE_MEMORY:-10g}" --disk-size=30g "$@"
