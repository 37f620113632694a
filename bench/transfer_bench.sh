#!/usr/bin/env bash
# Evidence transfer between two local nodes over TLS, against downloading
# and hashing the same file with the tools a user would otherwise use, in
# the same run.
#
#   bench/transfer_bench.sh [SIZE_MIB] [RUNS] [DIR]
#
# (default 2048 MiB, 3 runs, DIR /tmp). Each run sets up two fresh nodes
# (untimed): cyber.doj.example, served over TLS, ingests the file and
# delivers it for a request of ccd.moi.gov.kw, which pulls it. The transfer
# is timed from the answering node's evidence.accessed entry (written before
# the first byte leaves) to the requesting node's evidence.received entry
# (written once the object is verified, re-encrypted and durable in its
# vault): end to end.
#
# The baselines fetch the plain file from `openssl s_server -WWW` over TLS:
# `curl -k https://... | openssl dgst -sha256` (a download that is verified
# but neither stored nor encrypted) and the same with `tee FILE` (verified
# and stored in DIR, not encrypted, not synced).
#
# Needs a built ./build/src/amanah, openssl and curl. Prints medians.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-2048}
runs=${2:-3}
amanah=$PWD/build/src/amanah
base=${3:-/tmp}
work=$(mktemp -d "$base/amanah-transfer.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  wait 2> /dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
file=$work/input.bin
head -c $((size_mib * 1048576)) /dev/urandom > "$file"
bytes=$(stat -c %s "$file")
cat "$file" > /dev/null

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/us.key" -out "$work/us.pem" 2> /dev/null
cat > "$work/fields.json" << 'EOF'
{"requesting_authority": {"name": "CCD", "time_zone": "Asia/Kuwait"},
 "requested_authority": {"name": "DOJ", "time_zone": "America/New_York"},
 "offence": {"en": "Fraud"}, "summary_of_facts": {"en": "Phishing"},
 "data_requested": {"en": "Mailbox"}}
EOF

kw() { "$amanah" --data "$work/kw" "$@"; }
us() { "$amanah" --data "$work/us" "$@"; }
serve() {  # serve NODE PORT [TLS...]: starts it, prints its pid
  local node=$1 port=$2
  shift 2
  "$amanah" --data "$work/$node" serve --listen "127.0.0.1:$port" "$@" \
    >> "$work/$node.log" 2>&1 &
  echo $!
}
wait_for() {  # wait_for CMD...: until CMD succeeds, at most a minute
  for _ in $(seq 600); do
    if "$@" > /dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "timed out: $*" >&2
  exit 1
}
stop() { kill "$1" && while kill -0 "$1" 2> /dev/null; do sleep 0.05; done; }
entry_time() {  # entry_time NODE KIND: the time of NODE's last KIND entry
  "$amanah" --data "$work/$1" log show | grep "\"kind\":\"$2\"" | tail -1 |
    grep -o '"time":"[^"]*"' | cut -d'"' -f4
}
seconds() { date -d "$1" +%s.%N; }

kw_port=18471
us_port=18472
transfer_once() {
  rm -rf "$work/kw" "$work/us"
  kw init --name ccd.moi.gov.kw > /dev/null
  us init --name cyber.doj.example > /dev/null
  kw peer add cyber.doj.example --url "https://127.0.0.1:$us_port" \
    --key "$(cat "$work/us/keys/verifier.key")" --tls-cert "$work/us.pem" > /dev/null
  # Nodes authenticate each other by TLS certificate: the US node pins the
  # one `amanah init` made for the Kuwaiti node, which its courier presents.
  us peer add ccd.moi.gov.kw --url "http://127.0.0.1:$kw_port" \
    --key "$(cat "$work/kw/keys/verifier.key")" \
    --tls-cert "$work/kw/keys/tls.pem" > /dev/null
  kw case open KW-1 --title t --offence cybercrime --legal-basis x > /dev/null
  local req msg theirs
  req=$(kw --json request create --case KW-1 --type production \
    --profile budapest --direction outgoing --fields "$work/fields.json" |
    grep -o '"id": "[^"]*"' | head -1 | cut -d'"' -f4)
  msg=$(kw --json request send "$req" --to cyber.doj.example |
    grep -o '"message": "[^"]*"' | cut -d'"' -f4)
  local kw_pid us_pid
  kw_pid=$(serve kw $kw_port)
  us_pid=$(serve us $us_port --tls-cert "$work/us.pem" --tls-key "$work/us.key")
  pids=("$kw_pid" "$us_pid")
  wait_for bash -c "'$amanah' --data '$work/us' --json inbox | grep -q '\"id\"'"
  stop "$us_pid"
  us case open US-1 --title t --offence cybercrime --legal-basis x > /dev/null
  theirs=$(us --json inbox file "$msg" --case US-1 |
    grep -o '"id": "[^"]*"' | head -1 | cut -d'"' -f4)
  us request move "$theirs" --to acknowledged > /dev/null
  local address
  address=$(us --json ingest "$file" --case US-1 |
    grep -o '"address": "[^"]*"' | cut -d'"' -f4)
  us request deliver "$theirs" --item "$address" > /dev/null
  us_pid=$(serve us $us_port --tls-cert "$work/us.pem" --tls-key "$work/us.key")
  pids=("$kw_pid" "$us_pid")
  wait_for bash -c "'$amanah' --data '$work/kw' --json transfers | grep -q '\"state\": \"done\"'"
  stop "$kw_pid"
  stop "$us_pid"
  pids=()
  local start end
  start=$(seconds "$(entry_time us evidence.accessed)")
  end=$(seconds "$(entry_time kw evidence.received)")
  echo "$end - $start" | bc -l
}

baseline_once() {  # baseline_once [stored]
  local s e out=/dev/null
  if [[ -n ${1:-} ]]; then out=$work/download.bin; fi
  s=$(date +%s.%N)
  curl -sk "https://127.0.0.1:$((us_port + 1))/input.bin" | tee "$out" |
    openssl dgst -sha256 > /dev/null
  e=$(date +%s.%N)
  rm -f "$work/download.bin"
  echo "$e - $s" | bc -l
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

(cd "$work" && exec openssl s_server -quiet -WWW -accept $((us_port + 1)) \
  -cert us.pem -key us.key > /dev/null 2>&1) &
pids+=($!)
base_pid=$!
wait_for curl -skf -o /dev/null -r 0-0 "https://127.0.0.1:$((us_port + 1))/input.bin"
amanah_times=()
curl_times=()
stored_times=()
for _ in $(seq "$runs"); do
  curl_times+=("$(baseline_once)")
  stored_times+=("$(baseline_once stored)")
  amanah_times+=("$(transfer_once)")
  pids=("$base_pid")
done
t_amanah=$(printf '%s\n' "${amanah_times[@]}" | median)
t_curl=$(printf '%s\n' "${curl_times[@]}" | median)
t_stored=$(printf '%s\n' "${stored_times[@]}" | median)
mbs() { echo "$bytes / $1 / 1000000" | bc -l | xargs printf '%.0f'; }
echo "size: $bytes bytes; runs: $runs; dir: $base"
echo "amanah transfer (TLS, verify, re-encrypt, durable): $(mbs "$t_amanah") MB/s (runs: ${amanah_times[*]})"
echo "curl https | openssl dgst -sha256:                   $(mbs "$t_curl") MB/s (runs: ${curl_times[*]})"
echo "curl https | tee FILE | openssl dgst -sha256:        $(mbs "$t_stored") MB/s (runs: ${stored_times[*]})"
echo "ratio amanah / curl+sha256: $(echo "$t_curl / $t_amanah" | bc -l | xargs printf '%.2f')"
echo "ratio amanah / curl+tee+sha256: $(echo "$t_stored / $t_amanah" | bc -l | xargs printf '%.2f')"
echo "target: >= 250 MB/s end to end"
