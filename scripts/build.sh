#!/usr/bin/env bash
# Configures and builds amanah into build/ (or $1), with extra CMake args after.
# The project's own builds treat warnings as errors (AMANAH_WERROR).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAMANAH_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
