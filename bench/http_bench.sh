#!/usr/bin/env bash
# HTTP API throughput with wrk on loopback, and HTTP upload against the CLI
# ingest of the same file, in the same run.
#
#   bench/http_bench.sh [SECONDS] [UPLOAD_MIB] [DIR]     (default 10, 1024, /tmp)
#
# Needs ./build/src/amanah, wrk and curl. Prints requests/s and latency
# percentiles for the checkpoint, inclusion proofs and request creation
# (each creation a durable custody entry), and the upload/ingest ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
upload_mib=${2:-1024}
base=${3:-/tmp}
amanah=$PWD/build/src/amanah
work=$(mktemp -d "$base/amanah-http-bench.XXXXXX")
port=$((20000 + RANDOM % 20000))
url=http://127.0.0.1:$port
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$amanah" --data "$work/node" init --name bench.example > /dev/null
# A token-only account: added (which prints its enrolment secret), then
# enrolled with that secret, which prints its first token.
enrolled_token() {
  "$amanah" --data "$work/node" user add "$1" --role "$2" 2>/dev/null |
    "$amanah" --data "$work/node" user enrol "$1" --token --days 1 2>/dev/null
}
token=$(enrolled_token bench prosecutor)
"$amanah" --data "$work/node" case open BENCH-1 --title bench --offence other \
  --legal-basis bench --lead bench > /dev/null
itoken=$(enrolled_token inv investigator)
"$amanah" --data "$work/node" case add-member BENCH-1 inv > /dev/null
"$amanah" --data "$work/node" serve --listen "127.0.0.1:$port" \
  > "$work/serve.out" 2> /dev/null &
pid=$!
for _ in $(seq 100); do curl -sf "$url/healthz" > /dev/null && break; sleep 0.1; done

cat > "$work/proof.lua" <<LUA
math.randomseed(os.time())
request = function()
  local n = tonumber(os.getenv("LOG_SIZE"))
  return wrk.format("GET", "/api/v1/log/inclusion/" .. math.random(0, n - 1))
end
LUA
cat > "$work/create.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"type":"subscriber","profile":"eu","direction":"incoming",
"fields":{"requesting_authority":{"name":"FIU","time_zone":"Asia/Kuwait"},
"requested_authority":{"name":"Bank","time_zone":"UTC"},
"offence":{"en":"Terrorist financing","ar":"تمويل الإرهاب"},
"summary_of_facts":{"en":"Transfers to a listed entity"},
"data_requested":{"en":"Account holder"}}}]]
LUA

run_wrk() {  # name, then wrk args
  local name=$1; shift
  local out
  out=$(wrk -t"${WRK_THREADS:-2}" -c"${WRK_CONNECTIONS:-32}" -d"${secs}s" --latency "$@")
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  printf '%-34s %10s req/s   p50 %8s   p99 %8s\n' "$name" "$rps" "$p50" "$p99"
}

echo "amanah HTTP bench: $(date -u +%F), $(nproc) cores, wrk -t${WRK_THREADS:-2} -c${WRK_CONNECTIONS:-32} -d${secs}s"
# Request creations first: they also grow the log for the proofs.
run_wrk "POST request (durable entry)" -H "Authorization: Bearer $token" \
  -s "$work/create.lua" "$url/api/v1/cases/BENCH-1/requests"
log_size=$(curl -s "$url/healthz" | sed 's/.*"log_size":\([0-9]*\).*/\1/')
run_wrk "GET /log/checkpoint" "$url/log/checkpoint"
LOG_SIZE=$log_size run_wrk "GET inclusion proof (log $log_size)" \
  -H "Authorization: Bearer $token" -s "$work/proof.lua" "$url"

# Upload of one file over HTTP against the CLI ingest of it.
file=$work/upload.bin
head -c $((upload_mib * 1048576)) /dev/urandom > "$file"
cat "$file" > /dev/null
begin=$(curl -s -H "Authorization: Bearer $itoken" -H 'Content-Type: application/json' \
  -d '{"name":"upload.bin"}' "$url/api/v1/cases/BENCH-1/uploads")
upload=$(echo "$begin" | sed 's/.*"url":"\([^"]*\)".*/\1/')
s=$(date +%s.%N)
curl -s -o /dev/null -X PATCH -H "Authorization: Bearer $itoken" \
  -H 'Upload-Offset: 0' -H 'Upload-Complete: ?1' -H 'Expect:' \
  -H 'Content-Type: application/octet-stream' -T "$file" "$url$upload"
e=$(date +%s.%N)
http_s=$(echo "$e - $s" | bc -l)
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
# The HTTP layer alone: the same library reading the same body, discarding it.
sink_port=$((port + 1))
./build/bench/http_sink "$sink_port" & pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$sink_port/" && break; sleep 0.1; done
s=$(date +%s.%N)
curl -s -o /dev/null -X PATCH -H 'Content-Type: application/octet-stream' \
  -H 'Expect:' -T "$file" "http://127.0.0.1:$sink_port/sink"
e=$(date +%s.%N)
sink_s=$(echo "$e - $s" | bc -l)
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
"$amanah" --data "$work/cli" init --name cli.example > /dev/null
"$amanah" --data "$work/cli" case open C --title c --offence other --legal-basis x > /dev/null
sync
s=$(date +%s.%N)
"$amanah" --data "$work/cli" ingest "$file" --case C > /dev/null
e=$(date +%s.%N)
cli_s=$(echo "$e - $s" | bc -l)
bytes=$(stat -c %s "$file")
printf 'upload %d MiB over HTTP:  %6.2f s  %6.0f MB/s\n' "$upload_mib" "$http_s" "$(echo "$bytes / $http_s / 1000000" | bc -l)"
printf 'amanah ingest (CLI):     %6.2f s  %6.0f MB/s\n' "$cli_s" "$(echo "$bytes / $cli_s / 1000000" | bc -l)"
printf 'httplib body read alone:  %6.2f s  %6.0f MB/s\n' "$sink_s" "$(echo "$bytes / $sink_s / 1000000" | bc -l)"
printf 'HTTP upload / CLI ingest: %.2f (target >= 0.70)\n' "$(echo "$cli_s / $http_s" | bc -l)"
printf 'HTTP upload / httplib body read alone: %.2f\n' "$(echo "$sink_s / $http_s" | bc -l)"
