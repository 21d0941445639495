#!/usr/bin/env bash
# `make k8s-e2e`: the chart on a real single-node cluster (tools/k8s/cluster/), end to end:
#   binaries (built once, cached) -> cluster up -> local images -> helm install (dev keys, k8s/values/e2e.yaml)
#   -> all pods Ready -> >= 2 blocks final (block-producer log + zkpot_chain_height) -> Prometheus (configured from
#   the chart's PodMonitors) queried -> helm upgrade rolls a config change -> the load-test Job -> helm uninstall
#   leaves nothing -> cluster down. Needs root. Output: a summary here, everything in $E2E_OUT (.cache/k8s-e2e).
# Env: E2E_KEEP=1 leaves the cluster up at the end (tools/k8s/cluster/down.sh takes it down); E2E_SKIP_LOADTEST=1.
set -euo pipefail
. "$(dirname "$0")/cluster/lib.sh"
cl="$REPO/tools/k8s/cluster"
E2E_OUT="${E2E_OUT:-$REPO/.cache/k8s-e2e}"
NS=zkpot REL=zkpot
mkdir -p "$E2E_OUT"; : > "$E2E_OUT/summary.txt"
[ "$(id -u)" = 0 ] || die "needs root (it runs the kubelet and containerd)"
say() { echo "$*" | tee -a "$E2E_OUT/summary.txt"; }
step() { say ""; say "== $(date +%T) $* (t=$((SECONDS))s)"; }
failed=0
check() {  # DESCRIPTION CMD...: records PASS/FAIL
  local what=$1; shift
  echo "== $what: $*" >>"$E2E_OUT/checks.log"
  if "$@" >>"$E2E_OUT/checks.log" 2>&1; then say "PASS $what"; else say "FAIL $what"; failed=1; fi
}
collect() {  # logs of every pod and daemon into $E2E_OUT before teardown
  mkdir -p "$E2E_OUT/pods"
  kubectl get pods -A -o wide > "$E2E_OUT/pods.txt" 2>&1 || true
  kubectl get events -A --sort-by=.lastTimestamp > "$E2E_OUT/events.txt" 2>&1 || true
  for p in $(kubectl get pods -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}' 2>/dev/null); do
    kubectl logs -n "${p%/*}" "${p#*/}" --all-containers --prefix --tail=400 > "$E2E_OUT/pods/${p/\//_}.log" 2>&1 || true
  done
  cp -r "$K8S_LOGS" "$E2E_OUT/daemons" 2>/dev/null || true
}
finish() {
  local rc=$?
  [ $rc != 0 ] && failed=1
  collect
  if [ "${E2E_KEEP:-0}" = 1 ]; then say "cluster kept up (E2E_KEEP=1): tools/k8s/cluster/down.sh"
  else
    step "teardown"; "$cl/down.sh" 2>&1 | tee -a "$E2E_OUT/summary.txt"
    host_clean() {
      ! iptables-save 2>/dev/null | grep -q KUBE- && ! ip6tables-save 2>/dev/null | grep -q KUBE- \
        && ! ip link show zkpotbr0 >/dev/null 2>&1 && ! grep -qE " ($K8S_STATE|$K8S_RUN|$K8S_CACHE)/" /proc/self/mountinfo \
        && ! pgrep -f "$K8S_BIN/|$ETCD_BIN/|containerd --config $K8S_STATE|dockerd --data-root $K8S_CACHE" >/dev/null \
        && [ ! -e "$K8S_STATE" ] && [ ! -e "$K8S_RUN" ]
    }
    check "teardown leaves no iptables chain, bridge, mount, process or state" host_clean
  fi
  say ""; say "k8s-e2e: $([ $failed = 0 ] && echo PASSED || echo FAILED) in $((SECONDS / 60)) min (details: $E2E_OUT)"
  exit $failed
}

step "host packages, binaries, helm/kubectl"
"$cl/host-packages.sh"
t=$SECONDS; "$cl/build-binaries.sh" kubernetes etcd coredns prometheus; say "binaries ready in $((SECONDS - t)) s (cached in $K8S_CACHE)"
"$REPO/tools/k8s/fetch-tools.sh" --no-apt >/dev/null

step "images"
t=$SECONDS; "$cl/images.sh" build; say "images ready in $((SECONDS - t)) s"

# A cluster left up by an earlier run (E2E_KEEP=1, or a killed run) goes first.
for d in kubelet kube-apiserver containerd etcd; do
  if pidfile_alive "$K8S_RUN/$d.pid"; then log "an earlier cluster is up: taking it down"; "$cl/down.sh" --keep-docker; break; fi
done
trap finish EXIT
step "cluster up"
t=$SECONDS; "$cl/up.sh"; say "cluster up in $((SECONDS - t)) s"
imgs="$("$cl/images.sh" list | awk '$1 != "pause" && $1 != "coredns" {print $2}')"
t=$SECONDS; "$cl/images.sh" load $imgs; say "images loaded into containerd in $((SECONDS - t)) s"
kubectl apply -f "$cl/manifests/monitoring-crds.yaml" >/dev/null
kubectl wait --for=condition=Established crd/podmonitors.monitoring.coreos.com crd/prometheusrules.monitoring.coreos.com --timeout=60s >/dev/null

step "dev keys and helm install"
keys="$E2E_OUT/dev-keys"
# Keys for 3 members (a round closes early once every registered member has a decided transaction; a member with
# no trainer would hold each round to its 10-minute deadline) and 4 validators (quorum 3).
ZKPOT="$REPO/.venv/bin/zkpot" KUBECTL="$(command -v kubectl)" "$REPO/k8s/dev-keys.sh" --clients 3 --validators 4 --out "$keys" >/dev/null
kubectl create namespace "$NS" >/dev/null
kubectl apply -f "$keys/secret.yaml" >/dev/null
VALUES=(-f "$REPO/k8s/values/dev.yaml" -f "$REPO/k8s/values/e2e.yaml" -f "$keys/values.yaml")
t=$SECONDS
check "helm install --dry-run=server" helm install "$REL" "$REPO/charts/zkpot" -n "$NS" "${VALUES[@]}" --dry-run=server
helm install "$REL" "$REPO/charts/zkpot" -n "$NS" "${VALUES[@]}" --wait --timeout 25m 2>&1 | tail -3 | tee -a "$E2E_OUT/summary.txt" \
  || { kubectl -n "$NS" get pods -o wide; die "helm install failed"; }
say "helm install --wait in $((SECONDS - t)) s"

step "pods Ready"
ready() { kubectl -n "$NS" wait --for=condition=Ready pod -l "app.kubernetes.io/instance=$REL,zkpot.io/tier in (service,infra)" --timeout=10s; }
wait_for 600 "every pod Ready" ready
kubectl get pods -A -o wide | tee -a "$E2E_OUT/summary.txt"

step "rounds: two blocks final"
final_blocks() { kubectl -n "$NS" logs "deploy/$REL-block-producer" --tail=-1 2>/dev/null | grep -c '"block final"\|block final' || true; }
end=$((SECONDS + ${E2E_ROUND_TIMEOUT:-1800}))
until [ "$(final_blocks)" -ge 2 ] || [ $SECONDS -ge $end ]; do sleep 10; done
kubectl -n "$NS" logs "deploy/$REL-block-producer" --tail=-1 | grep 'block final' | tee -a "$E2E_OUT/summary.txt" || true
check "two blocks final from pods" test "$(final_blocks)" -ge 2

step "Prometheus from the chart's PodMonitors"
kubectl create namespace monitoring >/dev/null 2>&1 || true
kubectl get podmonitors -A -o json | "$PY" "$cl/podmonitor_prom.py" > "$E2E_OUT/prometheus.yml"
kubectl get prometheusrules -A -o json | "$PY" -c 'import json,sys,yaml; print(yaml.safe_dump({"groups": [g for i in json.load(sys.stdin)["items"] for g in i["spec"]["groups"]]}))' > "$E2E_OUT/rules.yml"
printf 'rule_files: [/etc/prometheus/rules.yml]\n' >> "$E2E_OUT/prometheus.yml"
kubectl -n monitoring create configmap prometheus-config --from-file="$E2E_OUT/prometheus.yml" --from-file="$E2E_OUT/rules.yml" \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null
sed -e "s|@PROMETHEUS_IMAGE@|zkpot-local/prometheus:$PROMETHEUS_VERSION|" -e "s|@CONFIG_HASH@|$(cat "$E2E_OUT"/prometheus.yml "$E2E_OUT"/rules.yml | sha256sum | cut -c1-12)|" \
  "$cl/manifests/prometheus.yaml" | kubectl apply -f - >/dev/null
kubectl -n monitoring rollout status deploy/prometheus --timeout=180s >/dev/null
prom_ip="$(kubectl -n monitoring get pod -l app.kubernetes.io/name=prometheus -o jsonpath='{.items[0].status.podIP}')"
query() { curl -fsS --get "http://$prom_ip:9090/api/v1/query" --data-urlencode "query=$1"; }
show() {  # QUERY: prints "QUERY => labels value" lines
  say "query: $1"
  query "$1" | "$PY" -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; [print("   ", {k: v for k, v in s["metric"].items() if k in ("component","pod","__name__","container","job","endpoint","alertname","alertstate")}, s["value"][1]) for s in r] or print("    (empty)")' | tee -a "$E2E_OUT/summary.txt"
}
targets_up() { [ "$(query 'count(up{namespace="zkpot"} == 1)' | "$PY" -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')" -ge "${1:-12}" ]; }
wait_for 180 "Prometheus scraping the zkpot pods" targets_up 12
sleep 20
show 'count by (job) (up{namespace="zkpot"})'
show 'up{namespace="zkpot"} == 0'
show 'max by (component) (zkpot_chain_height)'
show 'sum by (component) (zkpot_blocks_finalized_total)'
show 'sum by (component) (nats_varz_connections)'
show 'pg_up'
show 'ALERTS'
check "Prometheus scrapes every zkpot service and exporter" targets_up 12
check "zkpot_chain_height >= 2 in Prometheus" sh -c "curl -fsS --get http://$prom_ip:9090/api/v1/query --data-urlencode 'query=max(zkpot_chain_height) >= 2' | grep -q '\"value\"'"
curl -fsS "http://$prom_ip:9090/api/v1/targets" > "$E2E_OUT/targets.json" || true

step "helm upgrade rolls a config change (logLevel INFO -> DEBUG)"
t=$SECONDS
helm upgrade "$REL" "$REPO/charts/zkpot" -n "$NS" "${VALUES[@]}" --set logLevel=DEBUG --wait --timeout 20m 2>&1 | tail -2 | tee -a "$E2E_OUT/summary.txt"
say "helm upgrade --wait in $((SECONDS - t)) s"
rolled() {
  local bad=0 p
  for p in $(kubectl -n "$NS" get pods -l "app.kubernetes.io/instance=$REL,zkpot.io/tier=service" -o name); do
    kubectl -n "$NS" get "$p" -o jsonpath='{.spec.containers[0].env[?(@.name=="ZKPOT_LOG_LEVEL")].value}' | grep -qx DEBUG || { echo "$p not rolled"; bad=1; }
  done
  return $bad
}
check "every zkpot service pod rolled to ZKPOT_LOG_LEVEL=DEBUG" rolled
wait_for 600 "every pod Ready after the upgrade" ready
check "every pod Ready after the upgrade" ready

if [ "${E2E_SKIP_LOADTEST:-0}" != 1 ]; then
  step "load-test Job (members 1, 2 played by the Job; trainer 0 keeps running)"
  rev=$(( $(helm -n "$NS" history "$REL" -o json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[-1]["revision"])') + 1 ))
  helm upgrade "$REL" "$REPO/charts/zkpot" -n "$NS" "${VALUES[@]}" --set logLevel=DEBUG --set loadtest.enabled=true \
    --set trainer.replicas=1 --set loadtest.firstClient=1 --set loadtest.clients=2 --set loadtest.rounds=1 --set loadtest.concurrency=2 \
    --set loadtest.resources.requests.cpu=200m --set loadtest.resources.requests.memory=1Gi \
    --set loadtest.resources.limits.cpu=2 --set loadtest.resources.limits.memory=2Gi --timeout 20m >/dev/null
  job="$REL-loadtest-r$rev"
  kubectl -n "$NS" wait --for=condition=Complete "job/$job" --timeout="${E2E_LOADTEST_TIMEOUT:-1500}s" >/dev/null 2>&1 || true
  kubectl -n "$NS" logs "job/$job" --tail=1 > "$E2E_OUT/loadtest-report.json" 2>&1 || true
  say "load-test report (last line of job/$job): $(head -c 600 "$E2E_OUT/loadtest-report.json")"
  check "load-test Job completed" kubectl -n "$NS" wait --for=condition=Complete "job/$job" --timeout=5s
fi

step "helm uninstall leaves nothing behind"
kubectl delete -n monitoring deploy/prometheus >/dev/null 2>&1 || true
helm uninstall "$REL" -n "$NS" --wait --timeout 5m | tee -a "$E2E_OUT/summary.txt"
# The chart keeps two things on purpose (docs/kubernetes.md): the artifacts PVC (helm.sh/resource-policy: keep) and
# the StatefulSets' data PVCs (Kubernetes never deletes volumeClaimTemplates' claims). Everything else must go.
leftovers() {
  kubectl -n "$NS" get all,configmap,secret,serviceaccount,role,rolebinding,networkpolicy,pdb,job,podmonitor,prometheusrule,pvc \
    -o name 2>/dev/null | grep -vE '^(configmap/kube-root-ca.crt|serviceaccount/default|secret/zkpot-keys)$' \
    | grep -vE "^persistentvolumeclaim/($REL-artifacts|(data|jetstream)-$REL-.*-[0-9]+)$" || true
}
end=$((SECONDS + 180)); until [ -z "$(leftovers)" ] || [ $SECONDS -ge $end ]; do sleep 3; done  # pods terminating
left="$(leftovers)"; say "left in namespace $NS after uninstall (besides the kept PVCs): ${left:-nothing}"
kubectl -n "$NS" get pvc --no-headers 2>/dev/null | awk '{print "  kept: pvc/" $1}' | tee -a "$E2E_OUT/summary.txt"
check "helm uninstall leaves nothing but the kept volumes" test -z "$left"
check "no cluster-scoped leftovers of the release" sh -c "! kubectl get clusterrole,clusterrolebinding,pv -o name -l app.kubernetes.io/instance=$REL | grep ."
