#include "bundle/verify_text.h"

namespace amanah {

namespace {

// Replaces every "{NAME}" in `text` by its value.
std::string Fill(std::string text,
                 const std::vector<std::pair<std::string, std::string>>& vars) {
  for (const auto& [name, value] : vars) {
    std::string token = "{" + name + "}";
    for (size_t at = text.find(token); at != std::string::npos;
         at = text.find(token, at + value.size())) {
      text.replace(at, token.size(), value);
    }
  }
  return text;
}

constexpr char kText[] = R"txt(HOW TO VERIFY THIS BUNDLE
=========================

This bundle was exported by the amanah node {NODE} on {CREATED}, by
{ACTOR}, for case {CASE}. It holds {ITEMS} evidence object(s), each with
the custody history the node keeps of it, and, for evidence the node
received from a partner node, that partner's history of it too.

Nothing in the bundle needs to be trusted on its own word. Everything is
checked against one key: the node's public verifier key, which you should
obtain from the node's operator through a channel you trust (not from this
bundle). For reference, the bundle says it is:

    {KEY}

What is in it
-------------
manifest.json         the items: content address, size, hashes, and the
                      index of every custody entry about each one
blobs/sha256/<hex>    each object's exact bytes; <hex> is their SHA-256
entries/<n>           custody entry n of the node's log, exact bytes (JSON)
disclosures/<n>       what entry n seals: the log, which the node's
                      partners read, holds for each value about a case only
                      the SHA-256 of a line ["<salt>","<name>",<value>]; the
                      lines are here, one each
proofs/<n>            entry n's inclusion proof (C2SP tlog-proof@v1): the
                      Merkle path from the entry to the checkpoint's root
checkpoint            the node's signed checkpoint (C2SP signed note) with
                      the cosignatures of the partner nodes that witnessed it
peers/<name>/...      the partner's entries and proofs, against the
                      partner's own signed checkpoint
case.jsonld           the same history as CASE/UCO JSON-LD, for forensic tools
VERIFY.txt            this file

The export itself is in the log: for each item an "evidence.exported"
entry names the SHA-256 of manifest.json. So the manifest, the entries and
the objects are all tied to the signed checkpoint.

1. With amanah-verify
---------------------
    amanah-verify bundle.tar --key '{KEY}'

Add --witness KEY for each witness whose cosignature you require (and
--min-witnesses N). It checks every signature, proof, hash and link, and
prints what holds; the exit code is 0 only if everything does. It works
offline, on the tar or on an extracted directory. amanah-verify builds from
amanah's source with only OpenSSL, libsodium and nlohmann-json:

    cmake -S amanah -B build -DAMANAH_VERIFY_ONLY=ON
    cmake --build build --target amanah-verify

2. By hand, with tar, sha256sum and openssl
-------------------------------------------
Extract the bundle into an empty directory, save the script below there as
check.sh, and run it with the key you obtained from the node's operator:

    sh check.sh 'the node's verifier key'

Read it first: it is short, it needs only a POSIX shell, coreutils and
OpenSSL 3, and the same script is in amanah's source
(src/bundle/verify_text.cc), so a bundle cannot change what it does
unnoticed. It checks:

  a. the checkpoint is signed by the key you give (Ed25519 over the text
     before the blank line; the signature line's base64 is a 4-byte key ID
     then the 64-byte signature), and is that key's log;
  b. every entry is in the log the checkpoint commits to: the leaf hash is
     SHA-256(0x00 || entry); each proof line is a sibling, combined as
     SHA-256(0x01 || left || right) following RFC 9162 section 2.1.3.2;
     the result must be the checkpoint's root (its third line); and every
     line of disclosures/<n> hashes (SHA-256 of the line, without its
     newline) to a digest that entry n holds;
  c. every item of manifest.json is here, its SHA-256 is its name, and an
     evidence.exported entry for it names the SHA-256 of manifest.json (so
     the manifest is the one the node logged); no other object is here.

It does not check what only amanah-verify does: that each item's history in
the manifest is complete and about it, the MD5 and SHA-1 (compare them with
md5sum and sha1sum), the cosignatures, and the partners' histories (peers/).

#!/bin/sh
set -eu
KEY=${1:?"usage: sh check.sh 'VERIFIER KEY' (from the node's operator)"}
ORIGIN=$(echo "$KEY" | cut -d+ -f1)
fail() { echo "FAIL: $*"; exit 1; }
# disclosed N NAME VALUE: disclosures/N has the line ["<salt>","NAME",VALUE]
# and its SHA-256 is in entries/N (a sealed entry holds only digests).
disclosed() {
  [ -f "disclosures/$1" ] || return 1
  grep -F "\",\"$2\",$3]" "disclosures/$1" | while IFS= read -r line; do
    h=$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)
    if grep -q "$h" "entries/$1"; then echo yes; fi
  done | grep -q yes
}
number() { case $1 in '' | *[!0-9]* | 0?*) return 1 ;; esac; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# a. checkpoint signature
echo "$KEY" | cut -d+ -f3- | base64 -d | tail -c 32 > "$work/pub.raw"
{ printf '\060\052\060\005\006\003\053\145\160\003\041\000'
  cat "$work/pub.raw"; } > "$work/pub.der"
openssl pkey -pubin -inform DER -in "$work/pub.der" -out "$work/pub.pem"
sed '/^$/,$d' checkpoint > "$work/body.txt"
grep "^— $ORIGIN " checkpoint | head -n 1 | cut -d' ' -f3 | base64 -d |
  tail -c 64 > "$work/sig.bin"
openssl pkeyutl -verify -pubin -inkey "$work/pub.pem" -rawin \
  -in "$work/body.txt" -sigfile "$work/sig.bin" > /dev/null ||
  fail "the checkpoint is not signed by $KEY"
[ "$(sed -n 1p checkpoint)" = "$ORIGIN" ] || fail "checkpoint of another log"
size=$(sed -n 2p checkpoint)
root=$(sed -n 3p checkpoint)
number "$size" || fail "the checkpoint's size is not a number"
echo "ok  checkpoint: $ORIGIN at size $size, signed by the key"

# b. entries against the checkpoint
entries=0
for e in entries/*; do
  n=${e##*/}
  number "$n" || fail "$e is not named by an index"
  p=proofs/$n
  [ -f "$p" ] || fail "$p is missing"
  [ "$(sed -n 2p "$p")" = "index $n" ] || fail "$p is not for entry $n"
  sed '1,/^$/d' "$p" | sed '/^$/,$d' | cmp -s - "$work/body.txt" ||
    fail "$p: another checkpoint"
  { printf '\000'; cat "$e"; } | openssl dgst -sha256 -binary > "$work/r"
  fn=$n
  sn=$((size - 1))
  [ "$fn" -le "$sn" ] || fail "$e lies beyond the checkpoint"
  awk 'NR > 2 && /^$/ { exit } NR > 2 { print }' "$p" > "$work/path"
  while read -r line; do
    [ "$sn" -ne 0 ] || fail "$p is too long"
    echo "$line" | base64 -d > "$work/p"
    if [ $((fn % 2)) -eq 1 ] || [ "$fn" -eq "$sn" ]; then
      { printf '\001'; cat "$work/p" "$work/r"; } |
        openssl dgst -sha256 -binary > "$work/t"
      while [ $((fn % 2)) -eq 0 ] && [ "$fn" -ne 0 ]; do
        fn=$((fn / 2)); sn=$((sn / 2))
      done
    else
      { printf '\001'; cat "$work/r" "$work/p"; } |
        openssl dgst -sha256 -binary > "$work/t"
    fi
    mv "$work/t" "$work/r"
    fn=$((fn / 2)); sn=$((sn / 2))
  done < "$work/path"
  [ "$sn" -eq 0 ] && [ "$(base64 < "$work/r")" = "$root" ] ||
    fail "$e is not in the log: $p does not lead to the root"
  if [ -f "disclosures/$n" ]; then
    while IFS= read -r line; do
      h=$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)
      grep -q "$h" "$e" || fail "disclosures/$n: a line matches nothing in $e"
    done < "disclosures/$n"
  fi
  entries=$((entries + 1))
done
echo "ok  $entries entries: each proved against the checkpoint's root"

# c. the items, and the export entries that name this manifest
m=$(sha256sum manifest.json | cut -d' ' -f1)
items=0
for a in $(grep -o '"address":"sha256:[0-9a-f]*"' manifest.json |
    cut -d: -f3 | tr -d '"'); do
  f=blobs/sha256/$a
  [ -f "$f" ] || fail "$f is missing"
  h=$(sha256sum "$f" | cut -d' ' -f1)
  [ "$h" = "$a" ] || fail "$f hashes to $h, not its name"
  found=no
  for e in entries/*; do
    grep -q '"kind":"evidence.exported"' "$e" || continue
    n=${e##*/}
    if { grep -q "\"subject\":\"sha256:$a\"" "$e" &&
         grep -q "\"manifest\":\"sha256:$m\"" "$e"; } ||
       { disclosed "$n" subject "\"sha256:$a\"" &&
         disclosed "$n" manifest "\"sha256:$m\""; }; then
      found=yes
    fi
  done
  [ "$found" = yes ] || fail "no evidence.exported entry names $a in manifest sha256:$m"
  items=$((items + 1))
done
[ "$items" -gt 0 ] || fail "manifest.json lists no item"
for f in blobs/sha256/*; do
  [ -f "$f" ] || continue
  grep -q "\"sha256:${f##*/}\"" manifest.json || fail "$f is not in manifest.json"
done
echo "ok  $items item(s): each here, hashing to its name, exported under manifest sha256:$m"
echo "PASS"
# end of script
)txt";

}  // namespace

std::string BundleVerifyInstructions(const BundleManifest& m) {
  return Fill(kText, {{"NODE", m.node.name},
                      {"CREATED", m.created},
                      {"ACTOR", m.exported_by},
                      {"CASE", m.case_id},
                      {"ITEMS", std::to_string(m.items.size())},
                      {"KEY", m.node.key}});
}

}  // namespace amanah
