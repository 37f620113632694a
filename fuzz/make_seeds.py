#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ (docs/fuzzing.md).

Seeds come from the unit tests' golden vectors and from a small real node:
  fuzz/make_seeds.py NODE_DATA BUNDLE.tar IMAGE.E01...
where NODE_DATA is a node directory (`amanah init`, a case, two ingests),
BUNDLE.tar its `amanah export`, and the images tiny `ewfacquire` images
(a 2 KiB device, as src/vault/vault_test.cc makes them, -c fast and -c
none, and one with header values). The corpus of version 2 was made so,
with build/src/amanah:

  export AMANAH_DATA=$T/node
  amanah init --name ccd.moi.gov.kw
  amanah case open KW-2026-0042 --title 'Fraud ring' --offence cybercrime \
    --legal-basis 'UNTOC art. 18'
  head -c 2048 /dev/urandom > $T/dev.raw
  ewfacquire -u -q -c none -C KW-2026-0042 -D '<Arabic text>' \
    -e 'Lt. Fahad' -E EV-7 -N 'seized 2026-12-01' -t $T/header $T/dev.raw
  printf 'phone extract\n' > $T/phone.txt
  amanah ingest --case KW-2026-0042 --note seized $T/header.E01 $T/phone.txt
  amanah export --case KW-2026-0042 --out $T/bundle.tar --no-witness
  fuzz/make_seeds.py $T/node $T/bundle.tar $T/header.E01

Each seed is a file named for its content's SHA-1, as libFuzzer names them;
seeds made before stay (those of version 1 entries and bundles too).
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import tarfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def seed(harness, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(ROOT, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def leaf(b):
    return hashlib.sha256(b"\x00" + b).digest()


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def mth(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def subproof(m, leaves, b):
    # RFC 9162 2.1.4.1 SUBPROOF.
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def b64(b):
    return base64.b64encode(b).decode()


# Golden vectors of src/ledger/note_test.cc and custody_entry_test.cc.
PETER_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SIGNER = ("PRIVATE+KEY+PeterNeumann+c74f20a3+"
                "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
PETER_SIGNED = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n\n"
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FF"
    "YC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")
GOLDEN_ENTRY = (
    '{"v":1,"kind":"evidence.ingested","time":"2026-11-27T23:00:00.123456Z",'
    '"node":"ccd.moi.gov.kw","actor":"local:alice","case":"KW-2026-0042",'
    '"subject":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca49599'
    '1b7852b855","data":{"note":"\u0645\u0644\u0627\u062d\u0638\u0629",'
    '"size":0,"source":"empty.bin"}}')

HEX64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# The golden sealed entry of src/ledger/disclosure_test.cc.
GOLDEN_SEALED = (
    '{"v":2,"kind":"case.opened","time":"2026-12-07T00:00:00.000000Z",'
    '"node":"ccd.moi.gov.kw",'
    '"actor":"sd:e7ab9e032cbec85788111814b5f677eef7b9079bd75c6b23d6df621b141578'
    '58","case":"sd:6f74f1c31b3791a55ebf06a8d88f4115e7ad8e355c2e97c8ac9b0b2378d'
    'bd08f","subject":"sd:ac010b8b8fe79050e8a99a0808dfbc3f8ecf05a8350ac20a46950'
    '03ff26bdad1","data":{"sd":["53a40950eb2afad531953690874b28636524b8a44c31aa'
    '6f0817a28d65960e3d","9bf3294bc2cb1cb97f2917149a38f7b180f8de4f5b5e2f3b37a07'
    '2a723b29681","b3056c64a797f1e405c683cc3d3403cd5c85f70c986e244c1310d99af86e'
    'f0b9"]}}')


# Sealed entries (docs/formats.md, "Version 2"), written here from the
# format's description; checked against the golden entry.
def jdump(v):
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True)


def disclosure(salt, name, value):
    return "[%s,%s,%s]" % (jdump(salt.hex()), jdump(name), jdump(value))


def derived_salt(secret, name, value):
    msg = ("amanah-salt/v1\n" + name + "\n" + value).encode()
    return hmac.new(secret, msg, hashlib.sha256).digest()[:16]


def sd(text):
    return hashlib.sha256(text.encode()).hexdigest()


def format_entry(v, kind, time, node, actor, case, subject, data):
    return ('{"v":%d,"kind":%s,"time":"%s","node":%s,"actor":%s,"case":%s,'
            '"subject":%s,"data":%s}' % (v, jdump(kind), time, jdump(node),
                                         jdump(actor), jdump(case),
                                         jdump(subject), jdump(data)))


def seal(secret, salts, kind, time, node, actor, case, subject, data):
    """The entry's bytes and its disclosures, in SealCustodyEntry's order."""
    ds = [disclosure(next(salts), "actor", actor),
          disclosure(derived_salt(secret, "case", case), "case", case),
          disclosure(derived_salt(secret, "subject", subject), "subject",
                     subject)]
    ds += [disclosure(next(salts), k, data[k]) for k in sorted(data)]
    entry = format_entry(2, kind, time, node, "sd:" + sd(ds[0]),
                         "sd:" + sd(ds[1]), "sd:" + sd(ds[2]),
                         {"sd": sorted(sd(d) for d in ds[3:])})
    return entry, ds


def golden_sealed():
    def salts():  # 0xa0, 0xa1, ... as the test's random source
        b = 0xa0
        while True:
            yield bytes((b + i) & 0xff for i in range(16))
            b += 16
    entry, ds = seal(bytes(range(1, 33)), salts(), "case.opened",
                     "2026-12-07T00:00:00.000000Z", "ccd.moi.gov.kw",
                     "user:alice", "KW-2026-0042", "case:KW-2026-0042",
                     {"title": "\u0634\u0628\u0643\u0629 "
                               "\u062a\u0635\u064a\u062f",
                      "offence": "fraud", "legal_basis": "UNTOC art. 18"})
    assert entry == GOLDEN_SEALED, entry
    return entry, ds


def main():
    data_dir, bundle, images = sys.argv[1], sys.argv[2], sys.argv[3:]
    tf = tarfile.open(bundle)
    files = {m.name: tf.extractfile(m).read() for m in tf.getmembers()
             if m.isfile()}

    # tar: the bundle itself, and the bundle less its large files.
    with open(bundle, "rb") as f:
        seed("tar", f.read())

    seed("manifest", files["manifest.json"])
    for name, content in files.items():
        if name.startswith("entries/"):
            seed("custody_entry", content)
        if name.startswith("proofs/"):
            seed("proof_text", content)
            # With extra data, as C2SP tlog-proof allows.
            seed("proof_text", content.replace(
                b"\nindex ", b"\nextra YWdlLXYxLjIuMQ==\nindex ", 1))
    seed("custody_entry", GOLDEN_ENTRY)

    # disclosure: an entry, a newline, and its disclosures one a line, as a
    # bundle's entries/<n> and disclosures/<n>; all of them, and some.
    for name, content in files.items():
        if name.startswith("entries/"):
            d = files.get("disclosures/" + name[len("entries/"):])
            if d is None:
                seed("disclosure", content)
                continue
            seed("disclosure", content + b"\n" + d)
            lines = d.splitlines(keepends=True)
            seed("disclosure", content + b"\n" + b"".join(lines[::2]))
    entry, ds = golden_sealed()
    seed("disclosure", entry + "\n" + "".join(d + "\n" for d in ds))
    seed("disclosure", entry + "\n" + ds[0] + "\n" + ds[4] + "\n")
    seed("disclosure", ds[5])
    seed("disclosure", GOLDEN_ENTRY)  # in clear: sealed again by the harness
    seed("disclosure", format_entry(
        2, "user.added", "2026-12-07T10:00:00.000000Z", "ccd.moi.gov.kw",
        "local:root", "", "user:bob", {"role": "investigator"}))

    checkpoint = files["checkpoint"].decode()
    seed("note", checkpoint)
    seed("note", checkpoint[:checkpoint.index("\n\n") + 1])
    seed("note", PETER_SIGNED)
    seed("verifier_key", PETER_VERIFIER)
    seed("verifier_key", PETER_SIGNER)
    with open(os.path.join(data_dir, "keys/verifier.key")) as f:
        seed("verifier_key", f.read().strip())

    # tiles: the node's partial tiles and entry bundle, a tile index path,
    # and the reader's input ('L', size, then length-prefixed files).
    log = os.path.join(data_dir, "log/tile")
    tile0 = bundle0 = b""
    for level in ("0", "entries"):
        d = os.path.join(log, level, "000.p")
        widest = max(os.listdir(d), key=int)
        with open(os.path.join(d, widest), "rb") as f:
            content = f.read()
        seed("tiles", content)
        if level == "0":
            tile0, width = content, int(widest)
        else:
            bundle0 = content
    seed("tiles", "x001/x234/067")

    def piece(b):
        return len(b).to_bytes(2, "big") + b
    seed("tiles", b"L" + (width - 1).to_bytes(2, "big") + piece(tile0) +
         piece(bundle0))
    full = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(256))
    seed("tiles", b"L" + (299).to_bytes(2, "big") + piece(full) +
         piece(bundle0) + piece(full[:44 * 32]) + piece(bundle0))

    # The HTTP API: a route byte, then the body (fuzz/api_body_fuzz.cc).
    fields = {
        "requesting_authority": {"name": "CCD", "time_zone": "Asia/Kuwait"},
        "requested_authority": {"name": "DOJ",
                                "time_zone": "America/New_York"},
        "offence": {"en": "Fraud", "ar": "\u0627\u062d\u062a\u064a\u0627\u0644"},
        "summary_of_facts": {"en": "Phishing"},
        "data_requested": {"en": "Mailbox contents"},
        "relation_to_offence": {"en": "Used in the fraud"},
        "provider": "Example Mail", "account_identifiers": ["a@example.com"],
        "necessity": {"en": "Deletion risk"}, "mla_to_follow": True,
        "date_range": {"from": "2026-01-01", "to": "2026-02-01"},
        "related_tickets": ["R-2026-00001"]}
    bodies = [
        (0, {"name": "alice", "password": "a long passphrase"}),
        (1, {"name": "alice", "role": "investigator"}),
        (2, {"label": "ci", "days": 30}),
        (3, {"id": "KW-2026-0042", "title": "Fraud ring",
             "offence": "cybercrime", "legal_basis": "Law 63/2015"}),
        (4, {"user": "alice"}),
        (5, {"status": "closed", "reason": "done"}),
        (6, {"type": "preservation", "profile": "us-2703f",
             "direction": "outgoing", "reference": "T-1", "fields": fields}),
        (6, {"type": "emergency", "profile": "eu", "direction": "incoming",
             "fields": dict(list(fields.items())[:5],
                            supervisor="Lt. Fahad",
                            threat={"en": "Threat to life"})}),
        (7, {"to": "refused", "reason": "no dual criminality"}),
        (8, {"peer": "cyber.doj.example"}),
        (9, {"items": ["sha256:" + HEX64], "again": True}),
        (10, {"case": "US-2026-0007"}),
        (11, {"name": "disk.E01", "note": "seized", "md5": True,
              "sha1": False}),
        (12, {"items": ["sha256:" + HEX64]}),
        (13, {"messages": [{"body": "{}", "signature": "AA=="}]}),
    ]
    for route, body in bodies:
        seed("api_body", bytes([route]) +
             json.dumps(body, ensure_ascii=False).encode())

    for text in ["KW-2026-0042", "R-2026-00001", "0123456789abcdef" * 2,
                 "alice", "a.b-c_d", "sha256:" + HEX64, "1234567890123456789",
                 "tile/0/x001/x234/067.p/7", "tile/entries/000",
                 "tile/1/000.p/255", "?1", "007"]:
        seed("api_params", text)

    # Federation messages, alone and in a batch.
    msg = json.dumps({"from": "ccd.moi.gov.kw", "id": "0" * 32,
                      "payload": {"request": {"id": "R-2026-00001"}},
                      "time": "2026-11-23T16:00:00.000000Z",
                      "to": "cyber.doj.example", "type": "request", "v": 1},
                     separators=(",", ":"), sort_keys=True)
    seed("messages", msg)
    seed("messages", json.dumps({"messages": [
        {"body": msg, "signature": b64(bytes(64))}]}))

    # add-checkpoint: from the cosigned size 8 of a tree of leaves
    # "entry i" to 13, with the consistency proof; the note text is signed
    # by the harness.
    leaves = [leaf(b"entry %d" % i) for i in range(13)]
    origin = "cyber.doj.example/custody"
    for old, new in [(8, 13), (8, 8), (0, 13)]:
        proof = subproof(old, leaves[:new], True) if old else []
        body = "old %d\n" % old + "".join(b64(h) + "\n" for h in proof)
        body += "\n%s\n%d\n%s\n" % (origin, new, b64(mth(leaves[:new])))
        seed("witness", body)

    # Amanah-Pull: "@now" and "@sig" are filled in by the harness.
    seed("pull_header", "cyber.doj.example @now @sig\nsha256:" + HEX64)
    seed("pull_header", "cyber.doj.example 1700000000 " + b64(bytes(64)) +
         "\nsha256:" + HEX64)
    # A byte above 0x7f in the time (a negative char).
    seed("pull_header", b"cyber.doj.example 170000000\xb2 @sig\nsha256:" +
         HEX64.encode())

    for image in images:
        with open(image, "rb") as f:
            seed("e01", f.read())


if __name__ == "__main__":
    main()
