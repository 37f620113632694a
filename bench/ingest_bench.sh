#!/usr/bin/env bash
# Ingest and fsck throughput of amanah against the tools a user would
# otherwise use, on the same file in the same run, warm cache.
#
#   bench/ingest_bench.sh [SIZE_MIB] [RUNS] [DIR]
#
# (default 2048 MiB, 3 runs, DIR /tmp). DIR holds the input and the node: on
# the machine's disk the ingest includes writing the ciphertext durably; on
# a tmpfs such as /dev/shm it shows what the pipeline does with storage that
# keeps up.
#
# Needs a built ./build/src/amanah, openssl, coreutils and dc3dd. Prints the
# median throughput of each and the ratios the issue names.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-2048}
runs=${2:-3}
amanah=./build/src/amanah
base=${3:-/tmp}
work=$(mktemp -d "$base/amanah-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
file=$work/input.bin
head -c $((size_mib * 1048576)) /dev/urandom > "$file"
bytes=$(stat -c %s "$file")
cat "$file" > /dev/null  # warm the page cache

# median_seconds CMD...: runs CMD $runs times, prints the median wall time.
# With SETUP set to a command, runs it untimed before each run.
median_seconds() {
  local times=()
  for _ in $(seq "$runs"); do
    local s e
    if [[ -n ${SETUP:-} ]]; then $SETUP; fi
    s=$(date +%s.%N)
    "$@" > /dev/null 2> "$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
    e=$(date +%s.%N)
    times+=("$(echo "$e - $s" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

fresh_node() {
  rm -rf "$work/node"
  sync
  "$amanah" --data "$work/node" init --name bench.example > /dev/null
  "$amanah" --data "$work/node" case open BENCH --title bench \
    --offence cybercrime --legal-basis bench > /dev/null
}
ingest() {  # after SETUP=fresh_node, so nothing is deduplicated
  "$amanah" --data "$work/node" ingest "$file" --case BENCH "$@"
}

declare -A t
t[openssl_sha256]=$(median_seconds openssl dgst -sha256 "$file")
t[openssl_md5]=$(median_seconds openssl dgst -md5 "$file")
t[sha256sum]=$(median_seconds sha256sum "$file")
t[md5sum]=$(median_seconds md5sum "$file")
t[dc3dd]=$(median_seconds dc3dd if="$file" hash=md5 hash=sha1 hash=sha256 of=/dev/null)
t[ingest_sha256]=$(SETUP=fresh_node median_seconds ingest)
t[ingest_3]=$(SETUP=fresh_node median_seconds ingest --md5 --sha1)
fresh_node
"$amanah" --data "$work/node" ingest "$file" --case BENCH > /dev/null
t[fsck]=$(median_seconds "$amanah" --data "$work/node" fsck)

echo "dir: $base ($(df --output=fstype "$base" | tail -1)), file: $size_mib MiB, median of $runs runs, $(nproc) cores, $(date -u +%F)"
for k in openssl_sha256 openssl_md5 sha256sum md5sum dc3dd ingest_sha256 ingest_3 fsck; do
  printf '%-16s %6.2f s  %7.0f MB/s\n' "$k" "${t[$k]}" "$(echo "$bytes / ${t[$k]} / 1000000" | bc -l)"
done
ratio() { echo "${t[$2]} / ${t[$1]}" | bc -l; }
printf 'ingest sha256 / openssl sha256:        %.2f (target >= 0.90)\n' "$(ratio ingest_sha256 openssl_sha256)"
printf 'ingest sha256 / sha256sum:             %.2f\n' "$(ratio ingest_sha256 sha256sum)"
printf 'ingest md5+sha1+sha256 / openssl md5:  %.2f (target >= 0.90)\n' "$(ratio ingest_3 openssl_md5)"
printf 'ingest md5+sha1+sha256 / dc3dd:        %.2f (target >= 2.5)\n' "$(ratio ingest_3 dc3dd)"
printf 'fsck vault throughput:                 %.0f MB/s (target >= 1000)\n' "$(echo "$bytes / ${t[fsck]} / 1000000" | bc -l)"
