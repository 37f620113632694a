#!/usr/bin/env python3
"""The layering rules of docs/architecture.md, checked on every #include.

Run by CTest as `layering_test` (python3 tests/layering_test.py src/). Reads
each source and header under src/ and fails, naming the file, the line and
the rule, when an #include breaks a rule. Tests (*_test.cc, testutil.h,
*_testutil.h) are not held to the rules: they set up and inspect what the
code under test keeps, at whatever layer it keeps it.

Files of app/ not yet behind their storage port break the adapter rule on
purpose; each is in ALLOWED below with the rule it still breaks, so the
list shows what remains of the seam (docs/architecture.md, "Seam
progress"). An entry whose file no longer breaks its rule fails the test
too: take it off the list.

`--self-test` plants a violation of each rule, and a needless allowance,
in a scratch tree and checks that each is reported (CTest:
layering_selftest).
"""

import os
import re
import sys
import tempfile

# Layers, by the first folder under src/.
DOMAIN = {"base", "crypto", "ledger", "vault", "bundle", "cases"}
ABOVE_DOMAIN = ("app/", "server/", "cli/", "federation/", "verifier/")
ADAPTERS = ("sqlite", "postgres", "posix", "s3", "memory")

# The composition root: the one file outside the adapters that chooses and
# opens them (Node::Open's stores). It may include adapters' headers.
COMPOSITION_ROOT = "app/open_stores.cc"

# Client libraries of the storage engines, and the adapter that alone may
# include each.
CLIENTS = [
    (re.compile(r"^sqlite3\.h$"), "sqlite"),
    (re.compile(r"^(libpq-fe\.h|libpq/|pqxx/|postgresql/)"), "postgres"),
    (re.compile(r"^curl/"), "s3"),
]

RULES = {
    "client": "a storage client library (sqlite3.h, libpq/pqxx, curl/) is "
    "included only in its adapter's folder, storage/<adapter>/",
    "adapter": "a storage adapter's headers (storage/<adapter>/) are "
    "included only in its own folder and by the composition root, "
    + COMPOSITION_ROOT,
    "domain": "a domain module (base/, crypto/, ledger/, vault/, bundle/, "
    "cases/) includes neither app/, server/, cli/, federation/ nor "
    "verifier/",
    "server": "server/ reaches storage only through app/: it includes no "
    "storage/ header, port or adapter",
    "app": "app/ includes neither server/ nor cli/",
}

# Files of app/ whose aggregate is not behind its port yet: they use the
# SQLite database directly (storage/sqlite/sqlite.h). Each goes when its
# aggregate moves behind a port (docs/architecture.md, "Seam progress").
ALLOWED = {
    # cases, members, proposals and case secrets (CaseStore to come)
    ("app/cases.cc", "adapter"),
    # the custody index over the log (CustodyIndexStore to come); its header
    # hands a SqliteDb* to every user of CustodyIndex
    ("app/custody_index.h", "adapter"),
    # evidence and ingests, vault intents (EvidenceStore to come)
    ("app/evidence_db.h", "adapter"),
    # request links and inbox outcomes (part of RequestStore to come)
    ("app/exchange.cc", "adapter"),
    # the custody a court bundle carries, read from the index
    ("app/export.cc", "adapter"),
    # fsck reads the custody index and evidence tables row by row
    ("app/fsck.cc", "adapter"),
    # outbox and inbox (MessageStore to come)
    ("app/messages.cc", "adapter"),
    # requests and their moves (RequestStore to come)
    ("app/requests.cc", "adapter"),
    # evidence offers and transfers (part of MessageStore to come)
    ("app/transfers.cc", "adapter"),
    # resumable uploads (UploadStore to come)
    ("app/uploads.cc", "adapter"),
    # witnessed logs, alarms, cosignatures (WitnessStore to come)
    ("app/witness.cc", "adapter"),
}

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')


def is_test(rel):
    name = os.path.basename(rel)
    return (name.endswith("_test.cc") or name == "testutil.h"
            or name.endswith("_testutil.h"))


def adapter_of(path):
    """'sqlite' for storage/sqlite/..., None for anything else."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] == "storage" and parts[1] in ADAPTERS:
        return parts[1]
    return None


def broken_rules(rel, included):
    """The rules that `rel` (a path under src/) breaks by including
    `included`."""
    layer = rel.split("/")[0]
    out = []
    for pattern, adapter in CLIENTS:
        if pattern.search(included) and adapter_of(rel) != adapter:
            out.append("client")
    target = adapter_of(included)
    if (target is not None and adapter_of(rel) != target
            and rel != COMPOSITION_ROOT):
        out.append("adapter")
    if layer in DOMAIN and included.startswith(ABOVE_DOMAIN):
        out.append("domain")
    if layer == "server" and included.startswith("storage/"):
        out.append("server")
    if layer == "app" and included.startswith(("server/", "cli/")):
        out.append("app")
    return out


def check(src, allowed):
    """Returns the problems found under `src`, one line each."""
    problems = []
    used = set()
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith((".cc", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            if is_test(rel):
                continue
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    for rule in broken_rules(rel, m.group(1)):
                        if (rel, rule) in allowed:
                            used.add((rel, rule))
                            continue
                        problems.append(
                            "src/%s:%d: includes %s: %s (rule '%s')" %
                            (rel, n, m.group(1), RULES[rule], rule))
    for rel, rule in sorted(set(allowed) - used):
        problems.append(
            "src/%s: allowed to break rule '%s' but no longer does: take it "
            "off ALLOWED in tests/layering_test.py" % (rel, rule))
    return problems


def self_test():
    """Plants one violation of each rule and one needless allowance; each
    must be reported, and a clean tree must pass."""
    planted = {
        "storage/sqlite/db.cc": '#include <sqlite3.h>\n',  # fine
        "storage/sqlite/db.h": '#include "storage/database.h"\n',  # fine
        COMPOSITION_ROOT: '#include "storage/sqlite/db.h"\n',  # fine
        "app/a_test.cc": '#include <sqlite3.h>\n',  # tests are exempt
        "app/raw.cc": '#include <sqlite3.h>\n',
        "app/pg.cc": '#include <pqxx/pqxx>\n',
        "storage/sqlite/fetch.cc": '#include <curl/curl.h>\n',
        "app/reach.cc": '#include "storage/sqlite/db.h"\n',
        "ledger/up.h": '#include "app/node.h"\n',
        "vault/down.cc": ' #  include "storage/posix/env.h"\n',
        "server/route.cc": '#include "storage/peer_store.h"\n',
        "app/http.cc": '#include "server/server.h"\n',
        "app/ok.cc": '#include "storage/stores.h"\n',  # a port: fine
    }
    expected = [
        ("src/app/raw.cc:1", "'client'"),
        ("src/app/pg.cc:1", "'client'"),
        ("src/storage/sqlite/fetch.cc:1", "'client'"),
        ("src/app/reach.cc:1", "'adapter'"),
        ("src/ledger/up.h:1", "'domain'"),
        ("src/vault/down.cc:1", "'adapter'"),
        ("src/server/route.cc:1", "'server'"),
        ("src/app/http.cc:1", "'app'"),
        ("src/app/ok.cc:", "no longer does"),
    ]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in planted.items():
            path = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        problems = check(tmp, {("app/ok.cc", "adapter")})
        for where, what in expected:
            if not any(p.startswith(where) and what in p for p in problems):
                failures.append("not reported: %s %s" % (where, what))
        if len(problems) != len(expected):
            failures.append("reported %d problems, expected %d:\n  %s" %
                            (len(problems), len(expected),
                             "\n  ".join(problems)))
        for rel in list(planted):
            if rel not in ("storage/sqlite/db.cc", "storage/sqlite/db.h",
                           COMPOSITION_ROOT, "app/a_test.cc", "app/ok.cc"):
                os.remove(os.path.join(tmp, rel))
        clean = check(tmp, set())
        if clean:
            failures.append("a clean tree failed:\n  " + "\n  ".join(clean))
    for f in failures:
        print("layering self-test: " + f)
    return 1 if failures else 0


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) != 2:
        print("usage: layering_test.py SRC_DIR | --self-test")
        return 2
    problems = check(argv[1], ALLOWED)
    for p in problems:
        print(p)
    if problems:
        print("%d layering problem(s); the rules are in docs/architecture.md"
              % len(problems))
        return 1
    print("layering: every #include under %s keeps the rules (%d "
          "allowances left)" % (argv[1], len(ALLOWED)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
