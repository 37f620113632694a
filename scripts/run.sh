#!/usr/bin/env bash
# Installs what amanah needs, builds it, and runs its main job on the embedded
# default: a node in ./amanah-data (created if absent, named $AMANAH_NAME or
# amanah.local) served over HTTP on 127.0.0.1:8470. On first start it prints
# the URL and the first admin's one-time password.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
data=${AMANAH_DATA:-./amanah-data}
if [ ! -f "$data/node.toml" ]; then
  ./build/src/amanah --data "$data" init --name "${AMANAH_NAME:-amanah.local}"
fi
exec ./build/src/amanah --data "$data" serve --listen "${AMANAH_LISTEN:-127.0.0.1:8470}"
