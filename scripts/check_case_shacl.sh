#!/usr/bin/env bash
# Validates the case.jsonld of real bundles against the CASE 1.4.0 / UCO
# 1.4.0 SHACL shapes (tools/case-validate): (a) a plain bundle, (b) a bundle
# with an E01 ingest made by ewfacquire, (c) both sides of a two-node
# delivery (amanah demo). Each must have 0 violations, 0 warnings, 0 infos
# and 0 terms the ontology does not define.
# Usage: check_case_shacl.sh [BUILD_DIR]   (default: build)
# Skips, saying so, if the ontology (../shared/data/case-uco-1.4.0 beside
# the repository, or $CASE_UCO_DIR) is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
ontology=${CASE_UCO_DIR:-../shared/data/case-uco-1.4.0}
if [ ! -d "$ontology" ]; then
  echo "check_case_shacl: skipped: no CASE/UCO ontology at $ontology"
  exit 0
fi
ontology=$(cd "$ontology" && pwd)
case $build in /*) ;; *) build=$PWD/$build ;; esac
amanah="$build/src/amanah"
[ -x "$amanah" ] || { echo "check_case_shacl: no $amanah; build it first" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "check_case_shacl: node and npm are needed (scripts/install-deps.sh)" >&2; exit 1; }
# The SPARQL parser of the locked Comunica (@traqula) needs node 20.19 or
# later; Debian 12's own nodejs is 18.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
              process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "check_case_shacl: skipped: node $(node --version) is older than 20.19," \
    "which tools/case-validate's SPARQL engine needs"
  exit 0
fi

# The engine and its dependencies, as locked; npm ci again only when the
# lock file changed since the last install.
lock_sum=$(sha256sum tools/case-validate/package-lock.json | cut -d' ' -f1)
stamp=tools/case-validate/node_modules/.installed-lock.sha256
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  (cd tools/case-validate && npm ci --no-audit --no-fund --silent)
  echo "$lock_sum" > "$stamp"
fi

# The validator itself: it must find what is wrong in a broken file.
bash tools/case-validate/test/run.sh "$ontology"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

extract() {  # bundle.tar -> dir/case.jsonld
  mkdir -p "$2" && tar -xf "$1" -C "$2" case.jsonld
}

# (a) and (b): one node, a plain file and an E01 image of the same case.
node="$work/node"
"$amanah" --data "$node" init --name ccd.moi.gov.kw >/dev/null
"$amanah" --data "$node" case open KW-2026-0001 --title "Fraud ring" \
  --offence cybercrime --legal-basis "Law 63/2015 art. 12" >/dev/null
printf 'seized phone notes\n' > "$work/notes.txt"
"$amanah" --data "$node" ingest --case KW-2026-0001 --md5 "$work/notes.txt" >/dev/null
"$amanah" --data "$node" export --case KW-2026-0001 --out "$work/plain.tar" \
  --no-witness >/dev/null
extract "$work/plain.tar" "$work/plain"
head -c 1048576 /dev/urandom > "$work/disk.raw"
ewfacquire -u -q -d sha1 -c none -t "$work/disk" "$work/disk.raw" >/dev/null 2>&1
"$amanah" --data "$node" ingest --case KW-2026-0001 "$work/disk.E01" >/dev/null
"$amanah" --data "$node" export --case KW-2026-0001 --out "$work/e01.tar" \
  --no-witness >/dev/null
extract "$work/e01.tar" "$work/e01"
grep -q '"uco-observable:Image"' "$work/e01/case.jsonld"

# (c): both sides of a delivery.
"$amanah" demo --dir "$work/demo" >/dev/null
for side in ccd.moi.gov.kw cyber.doj.example; do
  case_id=$("$amanah" --data "$work/demo/$side" case list | awk 'NR==1{print $1}')
  "$amanah" --data "$work/demo/$side" export --case "$case_id" \
    --out "$work/$side.tar" --no-witness >/dev/null
  extract "$work/$side.tar" "$work/$side"
done

node tools/case-validate/validate.js --ontology "$ontology" \
  "$work/plain/case.jsonld" "$work/e01/case.jsonld" \
  "$work/ccd.moi.gov.kw/case.jsonld" "$work/cyber.doj.example/case.jsonld"
