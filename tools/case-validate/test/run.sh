#!/usr/bin/env bash
# Tests the validator itself: it must find what is wrong in broken.jsonld
# (each kind of finding, exactly: broken.expected), pass sound.jsonld, and
# refuse dropped-key.jsonld, whose unprefixed key JSON-LD would drop, and
# refuse shapes it cannot fully check.
# Usage: run.sh ONTOLOGY_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
ontology=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "case-validate test: FAIL: $*" >&2; exit 1; }

rc=0
node validate.js --ontology "$ontology" test/sound.jsonld test/broken.jsonld \
  >"$out/stdout" 2>"$out/stderr" || rc=$?
[ "$rc" = 1 ] || { cat "$out/stderr" >&2; fail "broken.jsonld: exit $rc, not 1"; }
grep -qx 'case-validate: test/sound.jsonld: 11 triples, 0 violations, 0 warnings, 0 infos, 0 undefined terms, 0 unchecked' \
  "$out/stdout" || { cat "$out/stdout" >&2; fail "sound.jsonld did not pass"; }
# Blank node labels depend on the parse order; compared as _:b.
grep '^test/broken.jsonld: \|^case-validate: test/broken.jsonld: ' "$out/stdout" |
  sed -E 's/_:[A-Za-z0-9_]+/_:b/g' >"$out/broken" || true
diff -u test/broken.expected "$out/broken" >&2 || fail "broken.jsonld: findings differ"

rc=0
node validate.js --ontology "$ontology" test/dropped-key.jsonld \
  >"$out/stdout" 2>"$out/stderr" || rc=$?
[ "$rc" = 2 ] || fail "dropped-key.jsonld: exit $rc, not 2"
grep -q 'does not parse as JSON-LD: Invalid predicate IRI: sizeInBytes' "$out/stderr" ||
  { cat "$out/stderr" >&2; fail "dropped-key.jsonld: no parse error for the key"; }
# A shape with a constraint the validator does not implement must not pass
# unchecked: an ontology with one more shape, using sh:equalsIgnoreCase.
cp -r "$ontology" "$out/ontology"
cat >"$out/ontology/extra.ttl" <<'TTL'
@prefix sh: <http://www.w3.org/ns/shacl#> .
<urn:example:shape> sh:targetClass <urn:example:Class> ;
  sh:path <urn:example:p> ; sh:equalsIgnoreCase <urn:example:q> .
TTL
rc=0
node validate.js --ontology "$out/ontology" test/sound.jsonld \
  >"$out/stdout" 2>"$out/stderr" || rc=$?
[ "$rc" = 1 ] || fail "an unimplemented constraint: exit $rc, not 1"
grep -q 'does not implement, which it would not check: sh:equalsIgnoreCase$' "$out/stderr" ||
  { cat "$out/stderr" >&2; fail "an unimplemented constraint was not named"; }
echo "case-validate test: ok"
