#!/usr/bin/env bash
# Installs what amanah needs, builds it, and runs its main job on the embedded
# default: a node in ./amanah-data (created if absent), a sample ingested, its
# custody entry, inclusion proof and verification printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
exec ./build/src/amanah --data "${AMANAH_DATA:-./amanah-data}" tour
