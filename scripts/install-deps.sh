#!/usr/bin/env bash
# Installs the Debian 12 packages amanah needs to build, test and benchmark.
# Idempotent: safe to run again; apt-get skips what is already installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  libssl-dev libsodium-dev libsqlite3-dev sqlite3
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
  libewf-dev ewf-tools libcpp-httplib-dev zlib1g-dev libbrotli-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # scripts/fuzz.sh: clang++ and, in libclang-rt-14-dev, libFuzzer's and the
  # sanitizers' runtimes (libclang_rt.fuzzer-x86_64.a), only recommended.
  clang libclang-rt-14-dev
  openssl coreutils bc dc3dd dcfldd wrk curl python3 python3-rdflib iproute2
)

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# tools/case-validate (scripts/check_case_shacl.sh): node and npm, Debian's
# unless a node is installed already. Its SPARQL engine needs node 20.19 or
# later; with Debian 12's own (18), check_case_shacl.sh says it skipped.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
  for p in nodejs npm; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
