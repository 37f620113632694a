#include "bundle/case_uco.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <vector>

namespace amanah {

using json = nlohmann::json;

namespace {

// The tool named as instrument of every action (CMakeLists.txt's version).
constexpr char kToolName[] = "amanah";
constexpr char kToolVersion[] = "0.1.0";

// Namespaces of CASE 1.4.0 / UCO 1.4.0, as their ontology files declare them
// (casework/CASE ontology/investigation/investigation.ttl and
// ucoProject/UCO ontology/uco/*/*.ttl at tag 1.4.0).
constexpr char kCaseInvestigation[] =
    "https://ontology.caseontology.org/case/investigation/";
constexpr char kUcoBase[] = "https://ontology.unifiedcyberontology.org/uco/";
constexpr char kXsd[] = "http://www.w3.org/2001/XMLSchema#";

// Percent-encodes every byte but RFC 3986's unreserved characters, so that
// any string can be one path segment of an IRI ("." and ".." too).
std::string IriSegment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const bool dots = s == "." || s == "..";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                      c == '~' || (c == '.' && !dots);
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

json Ref(const std::string& id) { return json{{"@id", id}}; }

json Typed(const char* type, const std::string& value) {
  return json{{"@type", type}, {"@value", value}};
}

// data[key] if it is a string, else "".
std::string DataString(const json& data, const char* key) {
  if (!data.is_object()) return "";
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// One sentence saying what the entry records.
std::string Describe(const CustodyEntry& e, const std::string& node) {
  const std::string& what = e.subject;
  std::string s;
  switch (e.kind) {
    case EntryKind::kEvidenceIngested: {
      s = what + " entered the vault of " + node;
      std::string source = DataString(e.data, "source");
      if (!source.empty()) s += " from \"" + source + "\"";
      break;
    }
    case EntryKind::kEvidenceAccessed: {
      s = what + " was read out of the vault of " + node;
      std::string purpose = DataString(e.data, "purpose");
      if (!purpose.empty()) s += " for \"" + purpose + "\"";
      break;
    }
    case EntryKind::kEvidenceVerified: {
      s = what + " was hashed again at " + node;
      std::string result = DataString(e.data, "result");
      if (!result.empty()) s += ": " + result;
      break;
    }
    case EntryKind::kEvidenceTransferred: {
      s = what + " was released by " + node;
      std::string to = DataString(e.data, "to");
      if (!to.empty()) s += " to " + to;
      break;
    }
    case EntryKind::kEvidenceReceived: {
      s = what + " arrived at " + node;
      std::string from = DataString(e.data, "from");
      if (!from.empty()) s += " from " + from;
      s += " and hashed as expected";
      break;
    }
    case EntryKind::kEvidenceExported:
      s = what + " was exported in a bundle by " + node;
      break;
    default:
      s = std::string(EntryKindName(e.kind)) + " on " + what + " at " + node;
      break;
  }
  return s + ".";
}

// A custody log the bundle carries entries of.
struct LogOwner {
  std::string node;    // its node's name
  std::string origin;  // "<node>/custody"
};

class GraphBuilder {
 public:
  GraphBuilder(const BundleManifest& manifest, const BundleEntries& entries)
      : manifest_(manifest), entries_(entries) {
    // The bundle's nodes are named under the exporting node's DNS name, which
    // the agency owns: IRIs minted there are globally unique without any
    // registry (an unregistered "urn:amanah:" namespace would break RFC
    // 8141), and two nodes' exports of one case never clash when a tool
    // merges them. They are names, not promised to resolve.
    kb_ = "https://" + IriSegment(manifest.node.name) + "/amanah/kb/";
    origins_[manifest.node.name] = manifest.node.origin;
    for (const auto& p : manifest.peers) origins_[p.name] = p.origin;
  }

  std::string Build() {
    std::string case_segment = IriSegment(manifest_.case_id);
    Organization(manifest_.node.name);
    for (const auto& p : manifest_.peers) Organization(p.name);
    tool_ =
        "kb:tool/" + IriSegment(std::string(kToolName) + "-" + kToolVersion);
    Add(json{{"@id", tool_},
             {"@type", "uco-tool:Tool"},
             {"uco-core:name", kToolName},
             {"uco-tool:version", kToolVersion},
             {"uco-tool:toolType", "evidence preservation and exchange"}});

    size_t n = 0;
    for (const auto& item : manifest_.items) AddItem(item, ++n, case_segment);

    json objects = json::array();
    for (const auto& node : graph_) objects.push_back(Ref(node["@id"]));
    json investigation = {
        {"@id", "kb:investigation/" + case_segment},
        {"@type", "case-investigation:Investigation"},
        {"uco-core:name", manifest_.case_id},
        {"case-investigation:investigationForm", "case"},
        {"uco-core:specVersion",
         std::string("CASE ") + kCaseVersion + ", UCO " + kUcoVersion},
        {"uco-core:object", std::move(objects)}};
    if (!manifest_.case_title.empty()) {
      investigation["uco-core:description"] = manifest_.case_title;
    }
    json graph = json::array();
    graph.push_back(std::move(investigation));
    for (auto& node : graph_) graph.push_back(std::move(node));

    json doc = {{"@context", Context()}, {"@graph", std::move(graph)}};
    return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  }

 private:
  json Context() const {
    const std::string uco = kUcoBase;
    return json{{"kb", kb_},
                {"case-investigation", kCaseInvestigation},
                {"uco-action", uco + "action/"},
                {"uco-core", uco + "core/"},
                {"uco-identity", uco + "identity/"},
                {"uco-observable", uco + "observable/"},
                {"uco-tool", uco + "tool/"},
                {"uco-types", uco + "types/"},
                {"uco-vocabulary", uco + "vocabulary/"},
                {"xsd", kXsd}};
  }

  // Appends a top-level node unless one with its @id is there already.
  bool Add(json node) {
    if (!ids_.insert(node["@id"].get<std::string>()).second) return false;
    graph_.push_back(std::move(node));
    return true;
  }

  std::string Origin(const std::string& node) const {
    auto it = origins_.find(node);
    return it != origins_.end() ? it->second : node + "/custody";
  }

  // The Organization standing for an amanah node.
  std::string Organization(const std::string& node) {
    std::string id = "kb:organization/" + IriSegment(node);
    Add(json{{"@id", id},
             {"@type", "uco-identity:Organization"},
             {"uco-core:name", node},
             {"uco-core:description",
              "amanah node " + node + "; custody log " + Origin(node) + "."}});
    return id;
  }

  // Who `actor` is, as written in `owner`'s log: "peer:<name>" is that
  // peer's organization, "system:…" the node itself, "local:<name>" and
  // "user:<name>" a person at the node, anything else an Identity.
  std::string Actor(const std::string& owner, const std::string& actor) {
    size_t colon = actor.find(':');
    std::string prefix =
        colon == std::string::npos ? "" : actor.substr(0, colon);
    std::string name =
        colon == std::string::npos ? actor : actor.substr(colon + 1);
    if (prefix == "peer" && !name.empty()) return Organization(name);
    if (prefix == "system") return Organization(owner);
    std::string id;
    json node;
    if ((prefix == "local" || prefix == "user") && !name.empty()) {
      id = "kb:person/" + IriSegment(owner) + "/" + prefix + "/" +
           IriSegment(name);
      node = {{"@type", "uco-identity:Person"}, {"uco-core:name", name}};
    } else {
      id = "kb:identity/" + IriSegment(owner) + "/" + IriSegment(actor);
      node = {{"@type", "uco-identity:Identity"}, {"uco-core:name", actor}};
    }
    node["@id"] = id;
    node["uco-core:description"] =
        "Actor " + actor + " in the custody log of " + owner + ".";
    Add(std::move(node));
    return id;
  }

  void AddItem(const BundleItem& item, size_t n,
               const std::string& case_segment) {
    std::string sha256 = Lower(item.sha256);
    if (sha256.empty() && item.address.rfind("sha256:", 0) == 0) {
      sha256 = Lower(item.address.substr(7));
    }
    const std::string key = IriSegment(sha256);
    const std::string file = "kb:file/" + key;
    json hashes = json::array();
    // hashMethod is a plain string: UCO 1.4.0 deprecates typing it as
    // vocabulary:HashNameVocab (its SHACL warns; UCO 2.0.0 will reject it).
    const struct {
      const char* method;
      const std::string* value;
    } known[] = {{"MD5", &item.md5}, {"SHA1", &item.sha1}, {"SHA256", &sha256}};
    for (const auto& h : known) {
      if (h.value->empty()) continue;
      hashes.push_back(
          {{"@id", "kb:hash/" + key + "/" + Lower(h.method)},
           {"@type", "uco-types:Hash"},
           {"uco-types:hashMethod", h.method},
           {"uco-types:hashValue", Typed("xsd:hexBinary", Lower(*h.value))}});
    }
    json facet = {{"@id", "kb:content-data-facet/" + key},
                  {"@type", "uco-observable:ContentDataFacet"},
                  {"uco-observable:sizeInBytes", item.size},
                  {"uco-observable:hash", std::move(hashes)}};
    Add(json{{"@id", file},
             {"@type", "uco-observable:File"},
             {"uco-core:description", "Evidence object " + item.address + "; " +
                                          item.path() + " in the bundle."},
             {"uco-core:hasFacet", json::array({std::move(facet)})}});

    const std::string exhibit = manifest_.case_id + "/" + std::to_string(n);
    const std::string record =
        "kb:provenance-record/" + case_segment + "/" + key;
    Add(json{{"@id", record},
             {"@type", "case-investigation:ProvenanceRecord"},
             {"case-investigation:exhibitNumber", exhibit},
             {"uco-core:description",
              "Exhibit " + exhibit + ": " + item.address + "."},
             {"uco-core:object", json::array({Ref(file)})}});

    // The peers' history first: it comes before this node's receipt.
    for (const auto& history : item.received) {
      auto log = entries_.peers.find(history.peer);
      if (log == entries_.peers.end()) continue;
      LogOwner owner{history.peer, Origin(history.peer)};
      for (uint64_t index : history.entries) {
        auto e = log->second.find(index);
        if (e == log->second.end()) continue;
        AddAction(owner, index, e->second, file, "");
      }
    }
    LogOwner own{manifest_.node.name, manifest_.node.origin};
    for (uint64_t index : item.entries) {
      auto e = entries_.own.find(index);
      if (e == entries_.own.end()) continue;
      AddAction(own, index, e->second, file, record);
    }
  }

  // `record` is the item's provenance record if the entry is this node's.
  void AddAction(const LogOwner& owner, uint64_t index, const CustodyEntry& e,
                 const std::string& file, const std::string& record) {
    const std::string at = IriSegment(owner.node) + "/" + std::to_string(index);
    const std::string id = "kb:action/" + at;
    if (ids_.count(id)) return;
    const json time = Typed("xsd:dateTime", FormatTime(e.time_unix_micros));
    json action = {
        {"@id", id},
        {"@type", "case-investigation:InvestigativeAction"},
        {"uco-core:name", std::string(EntryKindName(e.kind))},
        {"uco-core:description", Describe(e, owner.node) + " Custody log " +
                                     owner.origin + ", entry " +
                                     std::to_string(index) + "."},
        {"uco-action:startTime", time},
        {"uco-action:endTime", time},
        {"uco-action:performer", Ref(Actor(owner.node, e.actor))},
        {"uco-action:instrument", Ref(tool_)},
        {"uco-core:externalReference",
         json::array(
             {{{"@id", "kb:custody-entry/" + at},
               {"@type", "uco-core:ExternalReference"},
               {"uco-core:definingContext",
                "entry index in the amanah custody log " + owner.origin},
               {"uco-core:externalIdentifier", std::to_string(index)}}})}};
    json objects = json::array();
    json results = json::array();
    std::string other;  // the peer the object went to or came from
    switch (e.kind) {
      case EntryKind::kEvidenceIngested:
        results.push_back(Ref(file));
        if (!record.empty()) results.push_back(Ref(record));
        break;
      case EntryKind::kEvidenceReceived:
        results.push_back(Ref(file));
        if (!record.empty()) results.push_back(Ref(record));
        other = DataString(e.data, "from");
        break;
      case EntryKind::kEvidenceTransferred:
        objects.push_back(Ref(file));
        other = DataString(e.data, "to");
        break;
      default:
        objects.push_back(Ref(file));
        break;
    }
    if (!objects.empty()) action["uco-action:object"] = std::move(objects);
    if (!results.empty()) action["uco-action:result"] = std::move(results);
    if (!other.empty()) {
      action["uco-action:participant"] =
          json::array({Ref(Organization(other))});
    }
    Add(std::move(action));
  }

  const BundleManifest& manifest_;
  const BundleEntries& entries_;
  std::string kb_;
  std::string tool_;
  std::map<std::string, std::string> origins_;  // node name -> origin
  std::vector<json> graph_;                     // all but the investigation
  std::set<std::string> ids_;
};

}  // namespace

std::string CaseUcoJsonLd(const BundleManifest& manifest,
                          const BundleEntries& entries) {
  return GraphBuilder(manifest, entries).Build();
}

}  // namespace amanah
