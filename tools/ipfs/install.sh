#!/usr/bin/env bash
# Install the test-only IPFS node (js-ipfs 0.66.1, which serves the Kubo RPC API) and the Node.js 22 runtime it
# needs into <repo>/.cache/ipfs-node/, from the pinned package-lock.json next to this script.
# Idempotent: does nothing when the installed lock file equals the committed one and both binaries are present.
# Prints the install directory on stdout (progress goes to stderr).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dest="$repo/.cache/ipfs-node"

installed() {
  cmp -s "$here/package-lock.json" "$dest/package-lock.json" \
    && [ -x "$dest/node_modules/.bin/node" ] \
    && [ -f "$dest/node_modules/ipfs/src/cli.js" ] \
    && "$dest/node_modules/.bin/node" --version >/dev/null 2>&1
}

if ! installed; then
  command -v npm >/dev/null || { echo "install.sh: npm is required to install the IPFS test node" >&2; exit 1; }
  mkdir -p "$dest"
  cp "$here/package.json" "$here/package-lock.json" "$dest/"
  echo "installing js-ipfs and Node.js 22 into $dest (first time only)" >&2
  (cd "$dest" && npm ci --omit=optional --no-audit --no-fund --loglevel=error >&2)
  installed || { echo "install.sh: installation in $dest is incomplete" >&2; exit 1; }
fi
echo "$dest"
