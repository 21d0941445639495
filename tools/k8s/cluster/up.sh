#!/usr/bin/env bash
# Brings up a single-node Kubernetes cluster as plain root processes on this machine (no --privileged node
# container: kind/k3d/minikube need one, and this machine's capability bounding set lacks CAP_SYS_RESOURCE):
#   etcd (127.0.0.1:2379) -> kube-apiserver (:6443) -> controller-manager, scheduler -> containerd 1.6 (own socket,
#   root and state; restrict_oom_score_adj) -> kubelet (cgroupfs, cgroup v1) -> kube-proxy (iptables) -> CoreDNS
#   (a Deployment behind kube-dns 10.96.0.10), a local-volume StorageClass made default, and the bridge CNI
#   (10.88.0.0/16, no masquerade: pod traffic stays on this machine).
# State under $K8S_STATE, sockets and pids under $K8S_RUN; tools/k8s/cluster/down.sh undoes all of it.
# The images of the sandbox and CoreDNS must be loaded first (tools/k8s/cluster/images.sh does it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
  [ -x "$K8S_BIN/$b" ] || die "$K8S_BIN/$b missing: run tools/k8s/cluster/build-binaries.sh"
done
[ -x "$ETCD_BIN/etcd" ] || die "etcd missing: run tools/k8s/cluster/build-binaries.sh etcd"
t0=$SECONDS
NODE_IP="${NODE_IP:-$(ip -4 -o addr show scope global | awk '{split($4,a,"/"); print a[1]; exit}')}"
[ -n "$NODE_IP" ] || die "no global IPv4 address for the node"
mkdir -p "$K8S_STATE"/{pki,etcd,kubelet,containerd,cni/net.d,volumes,manifests} "$K8S_RUN" "$K8S_LOGS"
echo "$NODE_IP" > "$K8S_STATE/node-ip"
pki="$K8S_STATE/pki"

# ---- PKI (openssl): one CA; serving certs for the apiserver and kubelet; client certs per component ----------
cert() {  # name CN O [SANs]
  local name=$1 cn=$2 o=$3 san=${4:-}
  [ -s "$pki/$name.crt" ] && return
  openssl genrsa -out "$pki/$name.key" 2048 2>/dev/null
  openssl req -new -key "$pki/$name.key" -subj "/CN=$cn${o:+/O=$o}" -out "$pki/$name.csr" 2>/dev/null
  { echo "basicConstraints=CA:FALSE"; echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$san" ]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$san"
    else echo "extendedKeyUsage=clientAuth"; fi; } > "$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
    -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
}
if [ ! -s "$pki/ca.crt" ]; then
  openssl genrsa -out "$pki/ca.key" 2048 2>/dev/null
  openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=zkpot-e2e-ca" -days 30 -out "$pki/ca.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
fi
svc_ip="${SERVICE_CIDR%.0.0/*}.0.1"
cert apiserver kube-apiserver "" "IP:$NODE_IP,IP:127.0.0.1,IP:$svc_ip,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
cert admin kubernetes-admin system:masters
cert controller-manager system:kube-controller-manager ""
cert scheduler system:kube-scheduler ""
cert kube-proxy system:kube-proxy ""
cert kubelet "system:node:$NODE_NAME" system:nodes "IP:$NODE_IP,IP:127.0.0.1,DNS:$NODE_NAME,DNS:localhost"

kubeconfig() {  # name cert
  local f="$K8S_STATE/$1.kubeconfig"
  cat > "$f" <<KC
apiVersion: v1
kind: Config
clusters: [{name: zkpot-e2e, cluster: {server: "https://127.0.0.1:6443", certificate-authority: $pki/ca.crt}}]
users: [{name: $1, user: {client-certificate: $pki/$2.crt, client-key: $pki/$2.key}}]
contexts: [{name: zkpot-e2e, context: {cluster: zkpot-e2e, user: $1}}]
current-context: zkpot-e2e
KC
}
kubeconfig admin admin; kubeconfig controller-manager controller-manager; kubeconfig scheduler scheduler
kubeconfig kube-proxy kube-proxy; kubeconfig kubelet kubelet

# ---- host settings the node needs (the old values are kept and restored by down.sh) -------------------------
if [ ! -f "$K8S_STATE/sysctl.saved" ]; then
  for k in net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables; do
    echo "$k=$(sysctl -n "$k" 2>/dev/null || echo)" ; done > "$K8S_STATE/sysctl.saved"
fi
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || modprobe br_netfilter 2>/dev/null || true

# ---- etcd + control plane ---------------------------------------------------------------------------------------
start_daemon etcd "$ETCD_BIN/etcd" --name zkpot-e2e --data-dir "$K8S_STATE/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster zkpot-e2e=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
  --quota-backend-bytes=2147483648 --snapshot-count=10000
wait_for 60 etcd curl -fsS http://127.0.0.1:2381/health
start_daemon kube-apiserver "$K8S_BIN/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 \
  --advertise-address="$NODE_IP" --bind-address=0.0.0.0 --secure-port=6443 \
  --service-cluster-ip-range="$SERVICE_CIDR" --allow-privileged=true \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
  --client-ca-file="$pki/ca.crt" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
  --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types=InternalIP \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local --api-audiences=https://kubernetes.default.svc.cluster.local \
  --profiling=false --event-ttl=1h
wait_for 120 kube-apiserver curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" https://127.0.0.1:6443/readyz
start_daemon kube-controller-manager "$K8S_BIN/kube-controller-manager" --kubeconfig="$K8S_STATE/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$K8S_STATE/controller-manager.kubeconfig" --authorization-kubeconfig="$K8S_STATE/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
  --allocate-node-cidrs=true --cluster-cidr="$POD_CIDR" --node-cidr-mask-size=24 --service-cluster-ip-range="$SERVICE_CIDR" \
  --controllers='*,-cloud-node-lifecycle' --terminated-pod-gc-threshold=50
start_daemon kube-scheduler "$K8S_BIN/kube-scheduler" --kubeconfig="$K8S_STATE/scheduler.kubeconfig" \
  --authentication-kubeconfig="$K8S_STATE/scheduler.kubeconfig" --authorization-kubeconfig="$K8S_STATE/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false

# ---- containerd (its own instance: root, state and socket apart from any other containerd) -----------------------
cat > "$K8S_STATE/containerd/config.toml" <<TOML
version = 2
root = "$K8S_CACHE/containerd"
state = "$K8S_RUN/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$K8S_RUN/containerd/containerd.sock.ttrpc"
[debug]
  address = "$K8S_RUN/containerd/debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$K8S_STATE/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Lowering a process's oom_score_adj needs CAP_SYS_RESOURCE, which this machine lacks: without this every pod
  # sandbox fails to start.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$K8S_STATE/cni/net.d"
TOML
cat > "$K8S_STATE/cni/net.d/10-zkpot-e2e.conflist" <<CNI
{"cniVersion": "0.4.0", "name": "zkpot-e2e", "plugins": [
  {"type": "bridge", "bridge": "zkpotbr0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "${POD_CIDR%.0.0/16}.0.0/16"}]], "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": "$K8S_STATE/cni/ipam"}}]}
CNI
start_daemon containerd containerd --config "$K8S_STATE/containerd/config.toml"
wait_for 60 containerd ctr -a "$CONTAINERD_SOCK" version
# The sandbox (pause) and CoreDNS images, from the local Docker engine into containerd's k8s.io namespace.
"$here/images.sh" load "$PAUSE_IMAGE" "$COREDNS_IMAGE"

# ---- kubelet ----------------------------------------------------------------------------------------------------
cat > "$K8S_STATE/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
clusterDNS: [$CLUSTER_DNS]
clusterDomain: cluster.local
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $pki/kubelet.crt
tlsPrivateKeyFile: $pki/kubelet.key
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
failSwapOn: false
# A shared machine whose disk may be 80 % full: no disk-pressure evictions and no image GC of the side-loaded
# images (nothing can be pulled back).
evictionHard: {memory.available: 200Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# The kubelet may not lower its own oom_score_adj here (no CAP_SYS_RESOURCE).
oomScoreAdj: 0
maxPods: 60
serializeImagePulls: false
resolvConf: /etc/resolv.conf
podPidsLimit: 4096
YAML
start_daemon kubelet "$K8S_BIN/kubelet" --config="$K8S_STATE/kubelet/config.yaml" \
  --kubeconfig="$K8S_STATE/kubelet.kubeconfig" --root-dir="$K8S_STATE/kubelet/root" \
  --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
wait_for 120 "node $NODE_NAME registered" kubectl get node "$NODE_NAME"

# ---- kube-proxy (iptables mode; down.sh runs kube-proxy --cleanup) ---------------------------------------------
cat > "$K8S_STATE/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
clientConnection: {kubeconfig: $K8S_STATE/kube-proxy.kubeconfig}
# Leave the host's conntrack table sizes alone (shared machine).
conntrack: {maxPerCore: 0}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
YAML
start_daemon kube-proxy "$K8S_BIN/kube-proxy" --config="$K8S_STATE/kube-proxy.yaml"

# ---- cluster add-ons: CoreDNS, the default StorageClass with local PersistentVolumes -----------------------------
wait_for 120 "node Ready" sh -c "kubectl get node $NODE_NAME -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
sed -e "s|@COREDNS_IMAGE@|$COREDNS_IMAGE|g" -e "s|@CLUSTER_DNS@|$CLUSTER_DNS|g" "$here/manifests/coredns.yaml" | kubectl apply -f - >/dev/null
# Local volumes (not hostPath): the kubelet applies fsGroup to them as a real provisioner's volumes get it.
n=0; pvs=""
for i in $(seq -w 1 "${E2E_VOLUMES:-16}"); do
  mkdir -p "$K8S_STATE/volumes/pv$i"
  pvs="$pvs
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: e2e-pv$i, labels: {zkpot-e2e/volume: \"true\"}}
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce, ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: e2e-local
  local: {path: $K8S_STATE/volumes/pv$i}
  nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [$NODE_NAME]}]}]}}"
done
kubectl apply -f - >/dev/null <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: e2e-local
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
$pvs
YAML
kubectl -n kube-system rollout status deploy/coredns --timeout=180s >/dev/null || { kubectl -n kube-system get pods -o wide; die "CoreDNS not ready"; }
log "cluster up in $((SECONDS - t0)) s: $(kubectl get node "$NODE_NAME" --no-headers)"
