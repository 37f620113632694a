#include "bundle/manifest.h"

#include <nlohmann/json.hpp>

#include "base/json_writer.h"

namespace amanah {

using json = nlohmann::json;

namespace {

bool IsLowerHex(std::string_view s, size_t length) {
  if (s.size() != length) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Field accessors that name what is wrong, for ParseManifest.
class Fields {
 public:
  Fields(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

  Result<std::string> String(const char* key, bool optional = false) const {
    auto it = j_.find(key);
    if (it == j_.end()) {
      if (optional) return std::string();
      return Missing(key);
    }
    if (!it->is_string()) return Wrong(key, "a string");
    return it->get<std::string>();
  }
  Result<uint64_t> Uint(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end()) return Missing(key);
    if (!it->is_number_unsigned()) return Wrong(key, "a whole number");
    return it->get<uint64_t>();
  }
  Result<const json*> Object(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end()) return Missing(key);
    if (!it->is_object()) return Wrong(key, "an object");
    return &*it;
  }
  Result<const json*> Array(const char* key, bool optional = false) const {
    static const json kEmpty = json::array();
    auto it = j_.find(key);
    if (it == j_.end()) {
      if (optional) return &kEmpty;
      return Missing(key);
    }
    if (!it->is_array()) return Wrong(key, "an array");
    return &*it;
  }
  std::string Where(const char* key) const { return where_ + "." + key; }

 private:
  Status Missing(const char* key) const {
    return Status::InvalidInput("manifest.json: " + Where(key) + " is missing");
  }
  Status Wrong(const char* key, const char* what) const {
    return Status::InvalidInput("manifest.json: " + Where(key) + " is not " +
                                what);
  }
  const json& j_;
  std::string where_;
};

Result<std::vector<uint64_t>> Indices(const json& array,
                                      const std::string& where) {
  std::vector<uint64_t> out;
  out.reserve(array.size());
  for (const auto& v : array) {
    if (!v.is_number_unsigned()) {
      return Status::InvalidInput("manifest.json: " + where +
                                  " holds something other than an index");
    }
    uint64_t index = v.get<uint64_t>();
    if (!out.empty() && index <= out.back()) {
      return Status::InvalidInput("manifest.json: " + where +
                                  " is not in increasing log order");
    }
    out.push_back(index);
  }
  return out;
}

Result<BundleNode> ParseNode(const json& j, const std::string& where) {
  if (!j.is_object()) {
    return Status::InvalidInput("manifest.json: " + where +
                                " is not an object");
  }
  Fields f(j, where);
  BundleNode node;
  ASSIGN_OR_RETURN(node.name, f.String("name"));
  ASSIGN_OR_RETURN(node.origin, f.String("origin"));
  ASSIGN_OR_RETURN(node.key, f.String("key"));
  // A node's log is "<name>/custody": a key given for a name is then the
  // key of that name's log, and no other.
  if (node.name.empty() || node.origin != node.name + "/custody") {
    return Status::InvalidInput("manifest.json: " + f.Where("origin") +
                                " is not " + f.Where("name") + " + /custody");
  }
  return node;
}

json NodeJson(const BundleNode& node) {
  return {{"name", node.name}, {"origin", node.origin}, {"key", node.key}};
}

Result<BundleItem> ParseItem(const json& j, const std::string& where,
                             size_t* entry_count) {
  if (!j.is_object()) {
    return Status::InvalidInput("manifest.json: " + where +
                                " is not an object");
  }
  Fields f(j, where);
  BundleItem item;
  ASSIGN_OR_RETURN(item.address, f.String("address"));
  if (item.address.rfind("sha256:", 0) != 0 ||
      !IsLowerHex(std::string_view(item.address).substr(7), 64)) {
    return Status::InvalidInput("manifest.json: " + f.Where("address") +
                                " is not sha256:<64 lowercase hex>");
  }
  ASSIGN_OR_RETURN(std::string path, f.String("path"));
  if (path != item.path()) {
    return Status::InvalidInput("manifest.json: " + f.Where("path") +
                                " is not " + item.path());
  }
  ASSIGN_OR_RETURN(item.size, f.Uint("size"));
  ASSIGN_OR_RETURN(const json* hashes, f.Object("hashes"));
  Fields h(*hashes, f.Where("hashes"));
  ASSIGN_OR_RETURN(item.sha256, h.String("sha256"));
  ASSIGN_OR_RETURN(item.md5, h.String("md5", true));
  ASSIGN_OR_RETURN(item.sha1, h.String("sha1", true));
  if (item.sha256 != item.address.substr(7)) {
    return Status::InvalidInput("manifest.json: " + h.Where("sha256") +
                                " is not the item's address");
  }
  if ((!item.md5.empty() && !IsLowerHex(item.md5, 32)) ||
      (!item.sha1.empty() && !IsLowerHex(item.sha1, 40))) {
    return Status::InvalidInput("manifest.json: " + f.Where("hashes") +
                                " holds a malformed md5 or sha1");
  }
  ASSIGN_OR_RETURN(const json* entries, f.Array("entries"));
  ASSIGN_OR_RETURN(item.entries, Indices(*entries, f.Where("entries")));
  *entry_count += item.entries.size();
  ASSIGN_OR_RETURN(const json* received, f.Array("received", true));
  for (size_t i = 0; i < received->size(); ++i) {
    const json& r = (*received)[i];
    std::string rw = f.Where("received") + "[" + std::to_string(i) + "]";
    if (!r.is_object()) {
      return Status::InvalidInput("manifest.json: " + rw + " is not an object");
    }
    Fields rf(r, rw);
    ReceivedHistory history;
    ASSIGN_OR_RETURN(history.peer, rf.String("peer"));
    ASSIGN_OR_RETURN(const json* pe, rf.Array("entries"));
    ASSIGN_OR_RETURN(history.entries, Indices(*pe, rf.Where("entries")));
    if (history.entries.empty()) {
      return Status::InvalidInput("manifest.json: " + rf.Where("entries") +
                                  " is empty");
    }
    *entry_count += history.entries.size();
    item.received.push_back(std::move(history));
  }
  if (*entry_count > kMaxBundleEntries) {
    return Status::TooLarge("manifest.json lists more than " +
                            std::to_string(kMaxBundleEntries) + " entries");
  }
  return item;
}

}  // namespace

std::string BundleItem::path() const {
  return "blobs/sha256/" + address.substr(address.find(':') + 1);
}

std::string FormatManifest(const BundleManifest& m) {
  json items = json::array();
  for (const auto& item : m.items) {
    json hashes = {{"sha256", item.sha256}};
    if (!item.md5.empty()) hashes["md5"] = item.md5;
    if (!item.sha1.empty()) hashes["sha1"] = item.sha1;
    json j = {{"address", item.address},
              {"path", item.path()},
              {"size", item.size},
              {"hashes", hashes},
              {"entries", item.entries}};
    if (!item.received.empty()) {
      json received = json::array();
      for (const auto& r : item.received) {
        received.push_back({{"peer", r.peer}, {"entries", r.entries}});
      }
      j["received"] = std::move(received);
    }
    items.push_back(std::move(j));
  }
  json peers = json::array();
  for (const auto& p : m.peers) peers.push_back(NodeJson(p));
  json j = {{"bundle", m.format},
            {"case", {{"id", m.case_id}, {"title", m.case_title}}},
            {"created", m.created},
            {"exported_by", m.exported_by},
            {"files", m.files},
            {"items", std::move(items)},
            {"node", NodeJson(m.node)},
            {"peers", std::move(peers)}};
  std::string out;
  AppendJson(&out, j);
  return out;
}

Result<BundleManifest> ParseManifest(std::string_view bytes) {
  if (bytes.size() > kMaxManifestBytes) {
    return Status::TooLarge("manifest.json is larger than " +
                            std::to_string(kMaxManifestBytes) + " bytes");
  }
  json j = json::parse(bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidInput("manifest.json is not a JSON object");
  }
  Fields f(j, "");
  ASSIGN_OR_RETURN(std::string format, f.String("bundle"));
  if (format != kBundleFormat && format != kBundleFormatV1) {
    return Status::InvalidInput("manifest.json is " + format + ", not " +
                                kBundleFormat + " or " + kBundleFormatV1);
  }
  BundleManifest m;
  m.format = format;
  ASSIGN_OR_RETURN(const json* c, f.Object("case"));
  Fields cf(*c, ".case");
  ASSIGN_OR_RETURN(m.case_id, cf.String("id"));
  ASSIGN_OR_RETURN(m.case_title, cf.String("title"));
  ASSIGN_OR_RETURN(m.created, f.String("created"));
  ASSIGN_OR_RETURN(m.exported_by, f.String("exported_by"));
  ASSIGN_OR_RETURN(const json* node, f.Object("node"));
  ASSIGN_OR_RETURN(m.node, ParseNode(*node, ".node"));
  ASSIGN_OR_RETURN(const json* peers, f.Array("peers"));
  for (size_t i = 0; i < peers->size(); ++i) {
    ASSIGN_OR_RETURN(
        BundleNode p,
        ParseNode((*peers)[i], ".peers[" + std::to_string(i) + "]"));
    m.peers.push_back(std::move(p));
  }
  ASSIGN_OR_RETURN(const json* files, f.Object("files"));
  if (files->size() != 2 || !files->contains("VERIFY.txt") ||
      !files->contains("case.jsonld")) {
    return Status::InvalidInput(
        "manifest.json: .files must name VERIFY.txt and case.jsonld, and "
        "nothing else");
  }
  for (const auto& [name, hash] : files->items()) {
    if (!hash.is_string() || !IsLowerHex(hash.get<std::string>(), 64)) {
      return Status::InvalidInput("manifest.json: .files." + name +
                                  " is not a SHA-256 in lowercase hex");
    }
    m.files[name] = hash.get<std::string>();
  }
  ASSIGN_OR_RETURN(const json* items, f.Array("items"));
  if (items->empty()) {
    // Nothing would tie such a manifest to the log.
    return Status::InvalidInput("manifest.json: .items is empty");
  }
  if (items->size() > kMaxBundleItems) {
    return Status::TooLarge("manifest.json lists more than " +
                            std::to_string(kMaxBundleItems) + " items");
  }
  size_t entry_count = 0;
  for (size_t i = 0; i < items->size(); ++i) {
    ASSIGN_OR_RETURN(BundleItem item,
                     ParseItem((*items)[i], ".items[" + std::to_string(i) + "]",
                               &entry_count));
    m.items.push_back(std::move(item));
  }
  return m;
}

}  // namespace amanah
