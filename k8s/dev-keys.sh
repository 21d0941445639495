#!/usr/bin/env bash
# Development keys for a kind/minikube network (never for real keys): runs `zkpot keys gen`, then writes
#   DIR/keys/            producer.key, aggregator.key, prover.key, prover-signer.key, validator-<i>.key, client-<i>.key, public.json,
#                        nats-<party>.nk (NATS nkey seeds) and nats-authorization.conf (`zkpot nats config`: the
#                        server's nkey users and allow-lists, which the chart's NATS includes from the Secret)
#   DIR/secret.yaml      the Secret the chart mounts (keys.existingSecret), for `kubectl apply -f`
#   DIR/values.yaml      trainer/validator replicas matching the bundle, for `helm -f`
# --member-provers (or MEMBER_PROVERS=1): each member m also gets its own prover's prover-<m>.key,
# prover-<m>-signer.key and nats-prover-<m>.nk (`zkpot keys gen --member-provers`), the NATS block is
# `zkpot nats config --member-provers`, and DIR/values.yaml sets prover.perMember: true.
# --member-producers (or MEMBER_PRODUCERS=1): each member m gets its own block producer's producer-<m>.key and
# nats-producer-<m>.nk and no aggregator exists (`zkpot keys gen --member-producers`, docs/consensus.md), and
# DIR/values.yaml sets blockProducer.perMember: true.
# Usage: k8s/dev-keys.sh [--clients M] [--validators N] [--member-provers] [--member-producers] [--out DIR]
#        [--namespace NS] [--secret NAME]
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=3 VALIDATORS=4 OUT=.cache/dev-keys NAMESPACE=zkpot SECRET=zkpot-keys
MEMBER_PROVERS="${MEMBER_PROVERS:-0}" MEMBER_PRODUCERS="${MEMBER_PRODUCERS:-0}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) CLIENTS="$2"; shift 2 ;;
    --validators) VALIDATORS="$2"; shift 2 ;;
    --member-provers) MEMBER_PROVERS=1; shift ;;
    --member-producers) MEMBER_PRODUCERS=1; shift ;;
    --out) OUT="$2"; shift 2 ;;
    --namespace) NAMESPACE="$2"; shift 2 ;;
    --secret) SECRET="$2"; shift 2 ;;
    *) echo "dev-keys: unknown argument $1" >&2; exit 2 ;;
  esac
done
ZKPOT="${ZKPOT:-$(command -v zkpot || echo .venv/bin/zkpot)}"
KUBECTL="${KUBECTL:-$(command -v kubectl || echo .cache/k8s-tools/bin/kubectl)}"

PER_MEMBER=false MODE=() PRODUCERS=false GEN=()
if [[ "$MEMBER_PROVERS" == 1 ]]; then PER_MEMBER=true MODE=(--member-provers); fi
if [[ "$MEMBER_PRODUCERS" == 1 ]]; then PRODUCERS=true GEN=(--member-producers); fi

rm -rf "$OUT/keys"
mkdir -p "$OUT"
"$ZKPOT" keys gen --out "$OUT/keys" --clients "$CLIENTS" --validators "$VALIDATORS" "${MODE[@]}" "${GEN[@]}" \
  >/dev/null
"$ZKPOT" nats config --keys "$OUT/keys/public.json" --out "$OUT/keys/nats-authorization.conf" "${MODE[@]}"
"$KUBECTL" create secret generic "$SECRET" --namespace "$NAMESPACE" --from-file="$OUT/keys" \
  --dry-run=client --output yaml > "$OUT/secret.yaml"
cat > "$OUT/values.yaml" <<VALUES
# Written by k8s/dev-keys.sh: the network the development key bundle in $OUT/keys describes.
keys:
  existingSecret: $SECRET
  publicJson: |
$(sed 's/^/    /' "$OUT/keys/public.json")
trainer:
  replicas: $CLIENTS
validator:
  replicas: $VALIDATORS
prover:
  perMember: $PER_MEMBER
blockProducer:
  perMember: $PRODUCERS
VALUES
echo "dev-keys: $CLIENTS clients, $VALIDATORS validators, member provers: $PER_MEMBER (DEVELOPMENT keys) in $OUT"
echo "  kubectl create namespace $NAMESPACE && kubectl apply -f $OUT/secret.yaml"
echo "  helm install zkpot charts/zkpot -n $NAMESPACE -f k8s/values/dev.yaml -f $OUT/values.yaml"
