#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ (docs/fuzzing.md).

Seeds come from the unit tests' golden vectors and from a small real node:
  fuzz/make_seeds.py NODE_DATA BUNDLE.tar IMAGE.E01...
where NODE_DATA is a node directory (`amanah init`, a case, two ingests),
BUNDLE.tar its `amanah export`, and the images tiny `ewfacquire` images
(a 2 KiB device, as src/vault/vault_test.cc makes them, -c fast and -c
none).
Each seed is a file named for its content's SHA-1, as libFuzzer names them.
"""
import base64
import hashlib
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

    for image in images:
        with open(image, "rb") as f:
            seed("e01", f.read())


if __name__ == "__main__":
    main()
