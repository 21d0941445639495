#!/usr/bin/env bash
# Debian packages the test cluster needs on the host (as root): the Docker engine (only to build the
# images), containerd 1.6 + runc + CNI plugins (the cluster's runtime), debootstrap (base rootfs),
# catatonit (the pod sandbox's pause process), iptables/conntrack (kube-proxy). A no-op once installed.
set -euo pipefail
pkgs="docker.io containerd runc containernetworking-plugins debootstrap catatonit iptables conntrack socat ethtool iproute2 procps psmisc"
missing=""
for p in $pkgs; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
echo "host-packages: installing$missing" >&2
# Don't let the packages' maintainer scripts start dockerd/containerd: the cluster scripts start them.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
