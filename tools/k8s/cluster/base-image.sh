#!/usr/bin/env bash
# The base image every local image builds on (no registry is reachable): a Debian bookworm minbase rootfs made by
# debootstrap from the Debian mirror, with Python 3.11 (the zkpot image's interpreter), CA certificates and
# catatonit (the pod sandbox's pause process), imported with `docker import` as zkpot-local/bookworm:<date>.
# Cached as a tarball in $K8S_CACHE/rootfs; a no-op when the image exists.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BASE_IMAGE="${BASE_IMAGE:-zkpot-local/bookworm:1}"
MIRROR="${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || echo http://deb.debian.org/debian)}"
INCLUDE="ca-certificates,python3,python3-venv,python-is-python3,catatonit,tzdata,libgomp1"
docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 && { log "$BASE_IMAGE present"; exit 0; }
tarball="$K8S_CACHE/rootfs/bookworm-minbase-1.tar"
if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || "$here/host-packages.sh"
  rootfs="$K8S_CACHE/rootfs/bookworm"; rm -rf "$rootfs"; mkdir -p "$rootfs"
  log "debootstrap bookworm ($MIRROR) into $rootfs"
  nice -n 19 debootstrap --variant=minbase --include="$INCLUDE" bookworm "$rootfs" "$MIRROR" >"$K8S_CACHE/rootfs/debootstrap.log" 2>&1 \
    || { tail -20 "$K8S_CACHE/rootfs/debootstrap.log"; die "debootstrap failed"; }
  # Same sources as the host (the deb822 file), so `apt-get install` works in image builds (host network).
  [ -f /etc/apt/sources.list.d/debian.sources ] && cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/" \
    && rm -f "$rootfs/etc/apt/sources.list"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  mountpoint -q "$rootfs/proc" && umount "$rootfs/proc"
  tar -C "$rootfs" --numeric-owner --exclude=./proc/\* --exclude=./sys/\* -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$rootfs"
fi
docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' "$tarball" "$BASE_IMAGE" >/dev/null
log "imported $BASE_IMAGE"
