#!/usr/bin/env bash
# Tears the single-node cluster down and leaves the host as up.sh found it: deletes the pods (so the kubelet
# unmounts their volumes), stops kube-proxy (and removes its iptables rules with --cleanup), the kubelet,
# containerd's pod containers and containerd, the control plane and etcd, the Docker engine; removes the CNI bridge,
# the kubelet's cgroups, every mount under the state folders, and the state; restores the sysctls it changed.
# Caches (binaries, Docker data, containerd's images, the wheelhouse) stay in $K8S_CACHE.
# Usage: down.sh [--keep-docker]
set -uo pipefail
. "$(dirname "$0")/lib.sh"
keep_docker=0; [ "${1:-}" = --keep-docker ] && keep_docker=1
t0=$SECONDS
if pidfile_alive "$K8S_RUN/kube-apiserver.pid" && pidfile_alive "$K8S_RUN/kubelet.pid"; then
  for ns in $(kubectl get ns -o name 2>/dev/null | cut -d/ -f2 | grep -vE '^(kube-system|kube-public|kube-node-lease|default)$'); do
    kubectl delete ns "$ns" --wait=false >/dev/null 2>&1
  done
  kubectl delete pods --all -A --grace-period=5 --wait=true --timeout=90s >/dev/null 2>&1 || true
fi
stop_daemon kube-proxy
[ -x "$K8S_BIN/kube-proxy" ] && "$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1
stop_daemon kubelet
# The kubelet's own chains (KUBE-FIREWALL, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT), which --cleanup leaves, and
# whatever KUBE-* chain is left: first the jumps to them from the built-in chains, then the chains.
for ipt in iptables ip6tables; do
  command -v "$ipt-save" >/dev/null || continue
  for t in filter nat mangle; do
    "$ipt-save" -t "$t" 2>/dev/null | grep -E '^-A [A-Z]+ .*-j KUBE-' | grep -v '^-A KUBE-' | sed 's/^-A /-D /' \
      | while read -r rule; do eval "$ipt -t $t $rule" 2>/dev/null; done
    chains="$("$ipt-save" -t "$t" 2>/dev/null | awk '/^:KUBE-/ {print substr($1, 2)}')"
    for c in $chains; do "$ipt" -t "$t" -F "$c" 2>/dev/null; done
    for c in $chains; do "$ipt" -t "$t" -X "$c" 2>/dev/null; done
  done
done
if pidfile_alive "$K8S_RUN/containerd.pid"; then
  c="ctr -a $CONTAINERD_SOCK -n k8s.io"
  for t in $($c tasks ls -q 2>/dev/null); do $c tasks kill -s SIGKILL "$t" >/dev/null 2>&1; done
  sleep 1
  for t in $($c tasks ls -q 2>/dev/null); do $c tasks delete -f "$t" >/dev/null 2>&1; done
  for x in $($c containers ls -q 2>/dev/null); do $c containers delete "$x" >/dev/null 2>&1; done
fi
stop_daemon containerd
# containerd-shim processes of this containerd (their command line names its socket's namespace folder).
for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
stop_daemon kube-scheduler; stop_daemon kube-controller-manager; stop_daemon kube-apiserver; stop_daemon etcd
[ $keep_docker = 1 ] || docker_down
# Network: the CNI bridge and the pods' veths went with the netns; the bridge stays unless deleted.
ip link show zkpotbr0 >/dev/null 2>&1 && ip link delete zkpotbr0
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^cni-'); do ip netns delete "$ns" 2>/dev/null; done
# Mounts under our folders (pod volumes, containerd rootfs/shm, netns bind mounts), deepest first.
for root in "$K8S_STATE" "$K8S_RUN" "$K8S_CACHE/containerd" /run/netns; do
  grep -E " $root[/ ]" /proc/self/mountinfo 2>/dev/null | awk '{print $5}' | sort -r | while read -r m; do
    [ "$root" = /run/netns ] && ! echo "$m" | grep -q '/cni-' && continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
done
# The kubelet's cgroups (cgroup v1, cgroupfs driver), deepest first.
for hier in /sys/fs/cgroup/*/; do
  [ -d "$hier/kubepods" ] && find "$hier/kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null
done
if [ -f "$K8S_STATE/sysctl.saved" ]; then
  while IFS='=' read -r k v; do [ -n "$v" ] && sysctl -qw "$k=$v" 2>/dev/null; done < "$K8S_STATE/sysctl.saved"
fi
[ "$K8S_STATE" != / ] && rm -rf "$K8S_STATE"
[ "$K8S_RUN" != / ] && rm -rf "$K8S_RUN"
log "cluster down in $((SECONDS - t0)) s"
