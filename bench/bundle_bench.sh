#!/usr/bin/env bash
# Export and offline verification of a bundle, against `openssl dgst -sha256`
# over the same data, in the same run (issue 5's target: each >= 90% of
# openssl's throughput).
#
#   bench/bundle_bench.sh [SIZE_MIB] [RUNS] [DIR]
#
# (default 2048 MiB, 3 runs, DIR /tmp). Untimed: a fresh node ingests one
# random file (SHA-256 only) into a case. Timed, each run:
#   openssl   openssl dgst -sha256 FILE (warm cache): the single-stream limit
#   export    amanah export --case C --out B.tar --no-witness: the object is
#             decrypted from the vault (every chunk's tag checked), written into the tar,
#             which is fsynced and renamed
#   verify    amanah-verify B.tar --key K: the tar is read once, the object
#             hashed, every signature and proof checked
#   copy      dd if=FILE of=COPY bs=1M conv=fsync: what writing the same
#             bytes durably costs on DIR, the floor for any export (not a
#             target; shown so the export's figure can be read)
# The bundle from each run is removed before the next. Prints medians and
# the ratios to openssl's throughput.
#
# Caches: by default each tool starts with its own input in the page cache
# (warm, as openssl's file is): the input file for openssl and dd, the vault
# object for export, the bundle for verify. amanah writes vault objects and
# bundles around the page cache (O_DIRECT), so without this step export and
# verify would read from the disk while openssl reads from memory. With
# COLD=1 (root only) every cache is dropped before each tool instead, and all
# four read from the disk.
#
# Needs a built ./build/src/amanah and ./build/src/amanah-verify.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-2048}
runs=${2:-3}
amanah=$PWD/build/src/amanah
verifier=$PWD/build/src/amanah-verify
base=${3:-/tmp}
work=$(mktemp -d "$base/amanah-bundle.XXXXXX")
trap 'rm -rf "$work"' EXIT
file=$work/input.bin
head -c $((size_mib * 1048576)) /dev/urandom > "$file"
bytes=$(stat -c %s "$file")

node() { "$amanah" --data "$work/node" "$@"; }
node init --name ccd.moi.gov.kw > /dev/null
node case open BENCH-1 --title bench --offence cybercrime \
  --legal-basis bench > /dev/null
node ingest "$file" --case BENCH-1 > /dev/null
key=$(cat "$work/node/keys/verifier.key")
object=$(find "$work/node/vault/sha256" -type f)
# Puts the named files in the page cache, or with COLD=1 empties it.
prepare() {
  if [[ -n ${COLD:-} ]]; then
    sync
    echo 3 > /proc/sys/vm/drop_caches
  else
    cat "$@" > /dev/null
  fi
}

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rate() { echo "scale=1; $bytes / $1 / 1000000" | bc; }

: > "$work/openssl"; : > "$work/export"; : > "$work/verify"; : > "$work/copy"
for run in $(seq "$runs"); do
  prepare "$file"
  t0=$(now); openssl dgst -sha256 "$file" > /dev/null; t1=$(now)
  echo "$t1 - $t0" | bc >> "$work/openssl"
  prepare "$object"
  t0=$(now)
  node export --case BENCH-1 --out "$work/b.tar" --no-witness > /dev/null
  t1=$(now)
  echo "$t1 - $t0" | bc >> "$work/export"
  prepare "$work/b.tar"
  t0=$(now)
  "$verifier" "$work/b.tar" --key "$key" > "$work/report"
  t1=$(now)
  echo "$t1 - $t0" | bc >> "$work/verify"
  grep -q '^PASS' "$work/report"
  rm -f "$work/b.tar"
  prepare "$file"
  t0=$(now)
  dd if="$file" of="$work/copy.bin" bs=1M conv=fsync 2> /dev/null
  t1=$(now)
  echo "$t1 - $t0" | bc >> "$work/copy"
  rm -f "$work/copy.bin"
  echo "run $run: openssl $(tail -1 "$work/openssl") s, export" \
    "$(tail -1 "$work/export") s, verify $(tail -1 "$work/verify") s," \
    "copy $(tail -1 "$work/copy") s" >&2
done
o=$(median < "$work/openssl"); e=$(median < "$work/export")
v=$(median < "$work/verify"); c=$(median < "$work/copy")
echo "size: $size_mib MiB, runs: $runs, dir: $base, caches: $([[ -n ${COLD:-} ]] && echo cold || echo warm) (medians)"
echo "openssl dgst -sha256: $(rate "$o") MB/s"
echo "amanah export:        $(rate "$e") MB/s  ratio $(echo "scale=2; $o / $e" | bc)"
echo "amanah-verify:        $(rate "$v") MB/s  ratio $(echo "scale=2; $o / $v" | bc)"
echo "dd conv=fsync (copy): $(rate "$c") MB/s  (export / copy: $(echo "scale=2; $c / $e" | bc))"
