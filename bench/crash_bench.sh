#!/usr/bin/env bash
# Crash consistency of a whole node, at length: the crash test
# (src/cli/crash_test.cc, CrashTest.NothingAcknowledgedIsLostAcrossKills)
# with KILLS kill -9 of a serving node under concurrent API writers and a
# peer node that sends it requests and evidence.
#
#   bench/crash_bench.sh [KILLS] [DIR]      (default 200 kills, DIR /tmp)
#
# Needs a built ./build/src/cli_test and ./build/src/amanah. Prints the
# test's summary (kills, writes acknowledged by kind, lost, half applied,
# fsck failures, failures to open, restart and fsck times) and any failure
# it reported; exits non-zero if the test failed. KEEP=DIR keeps a copy of
# both nodes as the test left them.
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-200}
base=${2:-/tmp}
if [ ! -x build/src/cli_test ] || [ ! -x build/src/amanah ]; then
  echo "build first: ninja -C build cli_test amanah" >&2
  exit 2
fi
work=$(mktemp -d "$base/amanah-crash.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "amanah crash bench: $(date -u +%F), $(nproc) cores, $kills kills, in $base"
begin=$(date +%s)
set +e
# From inside the build directory, as every test binary is run.
(cd build && TEST_TMPDIR="$work/" AMANAH_CRASH_KILLS="$kills" \
  AMANAH_CRASH_KEEP="${KEEP:-}" ./src/cli_test \
  --gtest_filter=CrashTest.NothingAcknowledgedIsLostAcrossKills) \
  > "$work/out.txt" 2>&1
rc=$?
set -e
end=$(date +%s)
sed -n '/^crash summary/,/^\[/p' "$work/out.txt" | grep -v '^\['
if [ "$rc" -ne 0 ]; then
  grep -A4 'Failure' "$work/out.txt" | head -60 || true
fi
echo "wall time: $((end - begin)) s; the test $([ "$rc" -eq 0 ] && echo passed || echo FAILED)"
exit "$rc"
