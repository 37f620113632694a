#!/usr/bin/env bash
# Two builds of amanah side by side: alternating runs of `openssl dgst -ALG`
# and each build's ingest of the same file into a fresh node, so that a
# change is measured against what it replaces in the same minutes.
#
#   bench/ingest_ab.sh RUNS ALG OLD_AMANAH NEW_AMANAH [SIZE_MIB] [DIR] -- [INGEST ARGS]
#
# e.g. bench/ingest_ab.sh 5 md5 /tmp/old/amanah build/src/amanah 2048 /tmp \
#        -- --md5 --sha1
# Prints each run's seconds (openssl, old, new) and the medians with the
# ratios openssl / ingest (1.0: as fast as openssl).
set -euo pipefail
runs=$1; alg=$2; old=$3; new=$4
size_mib=2048; base=/tmp
shift 4
if [[ $# -gt 0 && $1 != -- ]]; then size_mib=$1; shift; fi
if [[ $# -gt 0 && $1 != -- ]]; then base=$1; shift; fi
[[ ${1:-} == -- ]] && shift
work=$(mktemp -d "$base/amanah-ab.XXXXXX")
trap 'rm -rf "$work"' EXIT
head -c $((size_mib * 1048576)) /dev/urandom > "$work/input.bin"
cat "$work/input.bin" > /dev/null

now() { date +%s.%N; }
ingest() {  # BINARY ARGS...: seconds of one ingest into a fresh node
  local bin=$1; shift
  rm -rf "$work/node"; sync
  "$bin" --data "$work/node" init --name bench.example > /dev/null
  "$bin" --data "$work/node" case open B --title b --offence cybercrime \
    --legal-basis b > /dev/null
  local s e
  s=$(now)
  "$bin" --data "$work/node" ingest "$work/input.bin" --case B "$@" > /dev/null
  e=$(now)
  echo "$e - $s" | bc
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: > "$work/o"; : > "$work/a"; : > "$work/b"
for _ in $(seq "$runs"); do
  s=$(now); openssl dgst "-$alg" "$work/input.bin" > /dev/null; e=$(now)
  echo "$e - $s" | bc >> "$work/o"
  ingest "$old" "$@" >> "$work/a"
  ingest "$new" "$@" >> "$work/b"
done
paste "$work/o" "$work/a" "$work/b"
o=$(median < "$work/o"); a=$(median < "$work/a"); b=$(median < "$work/b")
echo "medians: openssl $o s | old $a s, ratio $(echo "scale=2; $o / $a" | bc)" \
  "| new $b s, ratio $(echo "scale=2; $o / $b" | bc)"
