// A bundle's manifest.json: what a node exported for court, and the custody
// entries that make up each item's history. Its SHA-256 is written into the
// node's log (one evidence.exported entry per item) before the bundle is
// written, so the verifier can tie the manifest to a signed checkpoint.
//
// {"bundle":"amanah-bundle/v1",
//  "case":{"id":"…","title":"…"},
//  "created":"2026-11-23T21:00:00.000000Z","exported_by":"local:alice",
//  "files":{"VERIFY.txt":"<sha256 hex>","case.jsonld":"<sha256 hex>"},
//  "items":[{"address":"sha256:<hex>","path":"blobs/sha256/<hex>","size":N,
//            "hashes":{"md5":"…"?,"sha1":"…"?,"sha256":"<hex>"},
//            "entries":[I, …],
//            "received":[{"peer":"<name>","entries":[J, …]}]?}],
//  "node":{"name":"…","origin":"…/custody","key":"<verifier key>"},
//  "peers":[{"name":"…","origin":"…","key":"<verifier key>"}]}
//
// The layout is docs/formats.md's "Bundle".

#ifndef AMANAH_BUNDLE_MANIFEST_H_
#define AMANAH_BUNDLE_MANIFEST_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ledger/custody_entry.h"

namespace amanah {

// v2: the entries are custody entries of version 2; each sealed one comes
// with disclosures/<n> (docs/formats.md, "Bundle"). v1 bundles, exported
// before, are still verified.
inline constexpr char kBundleFormat[] = "amanah-bundle/v2";
inline constexpr char kBundleFormatV1[] = "amanah-bundle/v1";
inline constexpr size_t kMaxManifestBytes = 64 << 20;
inline constexpr size_t kMaxBundleItems = 100000;
inline constexpr size_t kMaxBundleEntries = 1000000;

// A peer's entries about an item that this node received from that peer,
// as the peer's evidence.manifest carried them (indices in the peer's log).
struct ReceivedHistory {
  std::string peer;  // the peer's node name
  std::vector<uint64_t> entries;
};

struct BundleItem {
  std::string address;  // "sha256:<hex>"
  uint64_t size = 0;
  std::string sha256, md5, sha1;  // hex; md5 and sha1 may be empty
  // Indices in the exporting node's log of every entry about the object
  // before the export, in log order.
  std::vector<uint64_t> entries;
  std::vector<ReceivedHistory> received;
  // "blobs/sha256/<hex>".
  std::string path() const;
};

struct BundleNode {
  std::string name, origin, key;  // key: C2SP verifier key
};

struct BundleManifest {
  std::string format = kBundleFormat;  // or kBundleFormatV1, when parsed
  std::string case_id, case_title;
  std::string created;      // RFC 3339, FormatTime
  std::string exported_by;  // the actor
  BundleNode node;
  std::vector<BundleNode> peers;  // as the exporting node pinned them
  std::vector<BundleItem> items;
  // Other files of the bundle and their SHA-256 (hex): VERIFY.txt,
  // case.jsonld.
  std::map<std::string, std::string> files;
};

// Compact JSON, keys sorted (the exact bytes that are hashed).
std::string FormatManifest(const BundleManifest& manifest);
// Parses and checks shape and limits: kInvalidInput naming the field.
Result<BundleManifest> ParseManifest(std::string_view bytes);

// A bundle's custody entries, parsed: the exporting node's by index, and
// each peer's by name then index.
struct BundleEntries {
  std::map<uint64_t, CustodyEntry> own;
  std::map<std::string, std::map<uint64_t, CustodyEntry>> peers;
};

}  // namespace amanah

#endif  // AMANAH_BUNDLE_MANIFEST_H_
