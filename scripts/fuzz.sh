#!/usr/bin/env bash
# Runs every libFuzzer harness (fuzz/*_fuzz.cc) for SECONDS each (default
# 60) and fails if any finds a crash or breaks a property (docs/fuzzing.md).
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]
#
# Builds build-fuzz/ (clang++, -DAMANAH_FUZZ=ON) first if needed. Each
# harness runs on a copy of its committed corpus (fuzz/corpus/<name>/) in a
# temporary directory, so the committed corpus never grows by itself; set
# FUZZ_WORK=DIR to keep the working corpora in DIR across runs instead.
# FUZZ_JOBS=N runs N harnesses at once (default 1). FUZZ_BUILD=DIR builds
# in DIR instead of build-fuzz, with FUZZ_OPT (default -O1) as its
# optimisation. A failing input is saved as DIR/artifacts/<name>-crash-<sha1>;
# rerun it with DIR/fuzz/<name>_fuzz <file>.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
jobs=${FUZZ_JOBS:-1}
build=${FUZZ_BUILD:-build-fuzz}

if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DAMANAH_FUZZ=ON \
    -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DAMANAH_FUZZ_OPT="${FUZZ_OPT:--O1}" >/dev/null
fi
cmake --build "$build" -j "$(nproc)"

if [ $# -gt 0 ]; then
  names=("$@")
else
  names=()
  for f in fuzz/*_fuzz.cc; do
    n=$(basename "$f" .cc)
    names+=("${n%_fuzz}")
  done
fi

# In memory where there is room: the node and log harnesses write files on
# every input, 20 to 60 times faster on tmpfs.
tmp=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$tmp"' EXIT
work=${FUZZ_WORK:-$tmp/corpus}
mkdir -p "$build/artifacts" "$work"

# Runs one harness; writes its log to $tmp/<name>.log and its exit status
# to $tmp/<name>.rc.
run() {
  local name=$1
  mkdir -p "$work/$name"
  if [ -d "fuzz/corpus/$name" ]; then
    cp -n fuzz/corpus/"$name"/* "$work/$name/" 2>/dev/null || true
  fi
  # A harness's scratch files (fuzz/fuzz_util.h) go under $tmp.
  TMPDIR="$tmp" ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    LSAN_OPTIONS=suppressions="$PWD/tests/lsan.supp" \
    nice "$build/fuzz/${name}_fuzz" -max_total_time="$seconds" \
    -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$name-" "$work/$name" \
    > "$tmp/$name.log" 2>&1 && echo 0 > "$tmp/$name.rc" || echo $? > "$tmp/$name.rc"
}

for name in "${names[@]}"; do
  if [ ! -x "$build/fuzz/${name}_fuzz" ]; then
    echo "fuzz: no harness $name"; exit 2
  fi
done
for name in "${names[@]}"; do
  run "$name" &
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
done
wait
failed=()
for name in "${names[@]}"; do
  [ "$(cat "$tmp/$name.rc" 2>/dev/null)" = 0 ] || failed+=("$name")
done

total=0
printf '%-16s %14s %10s %s\n' harness executions exec/s result
for name in "${names[@]}"; do
  log=$tmp/$name.log
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  result=ok
  for f in "${failed[@]+"${failed[@]}"}"; do
    [ "$f" = "$name" ] && result=FAILED
  done
  printf '%-16s %14s %10s %s\n' "$name" "${runs:-?}" "${rate:-?}" "$result"
  total=$((total + ${runs:-0}))
done
echo "fuzz: $total executions in all, ${seconds} s per harness"
if [ ${#failed[@]} -gt 0 ]; then
  for name in "${failed[@]}"; do
    echo "== $name"
    grep -E 'ERROR|property failed|SUMMARY|Test unit written|^    #[0-9]+ ' \
      "$tmp/$name.log" | head -40
  done
  echo "fuzz: ${failed[*]} failed; inputs in $build/artifacts/"
  exit 1
fi
