#include "bundle/case_uco.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <vector>

#include "crypto/hash.h"

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

std::string Lower(std::string s) {
  for (char &c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

json Ref(const std::string &id) { return json{{"@id", id}}; }

// RFC 9562's NameSpace_URL, 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
constexpr Uuid kNamespaceUrl = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                                0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

json Typed(const char *type, const std::string &value) {
  return json{{"@type", type}, {"@value", value}};
}

// The @id of a node: the fixed base, the node's type, and the UUIDv5 of its
// identity (docs/formats.md, "case.jsonld identities").
std::string KbId(const std::string &type, const std::string &identity) {
  return "kb:" + type + "-" +
         UuidString(UuidV5(AmanahUuidNamespace(), type + " " + identity));
}

// data[key] if it is a string, else "".
std::string DataString(const json &data, const char *key) {
  if (!data.is_object()) return "";
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// One sentence saying what the entry records.
std::string Describe(const CustodyEntry &e, const std::string &node) {
  const std::string &what = e.subject;
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
    case EntryKind::kEvidenceExported: {
      s = what + " was exported in a bundle by " + node;
      std::string bundle = DataString(e.data, "bundle");
      if (!bundle.empty()) s += " (\"" + bundle + "\")";
      std::string manifest = DataString(e.data, "manifest");
      if (!manifest.empty()) s += " whose manifest.json is " + manifest;
      break;
    }
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
  GraphBuilder(const BundleManifest &manifest, const BundleEntries &entries,
               const std::string &legal_basis)
      : manifest_(manifest), entries_(entries), legal_basis_(legal_basis) {
    origins_[manifest.node.name] = manifest.node.origin;
    for (const auto &p : manifest.peers) origins_[p.name] = p.origin;
  }

  std::string Build() {
    const std::string case_identity =
        manifest_.node.origin + " " + manifest_.case_id;
    Organization(manifest_.node.name);
    for (const auto &p : manifest_.peers) Organization(p.name);
    tool_ = KbId("tool", std::string(kToolName) + " " + kToolVersion);
    Add(json{{"@id", tool_},
             {"@type", "uco-tool:Tool"},
             {"uco-core:name", kToolName},
             {"uco-tool:version", kToolVersion},
             {"uco-tool:toolType", "evidence preservation and exchange"}});

    size_t n = 0;
    for (const auto &item : manifest_.items) AddItem(item, ++n, case_identity);

    std::string authorization;
    if (!legal_basis_.empty()) {
      authorization = KbId("authorization", case_identity);
      Add(json{{"@id", authorization},
               {"@type", "case-investigation:Authorization"},
               {"case-investigation:authorizationType", "legal basis"},
               {"case-investigation:authorizationIdentifier", legal_basis_},
               {"uco-core:description", "The legal basis of case " +
                                            manifest_.case_id + " at " +
                                            manifest_.node.name + "."}});
    }

    json objects = json::array();
    for (const auto &node : graph_) objects.push_back(Ref(node["@id"]));
    json investigation = {
        {"@id", KbId("investigation", case_identity)},
        {"@type", "case-investigation:Investigation"},
        {"uco-core:name", manifest_.case_id},
        {"case-investigation:investigationForm", "case"},
        {"uco-core:specVersion",
         std::string("CASE ") + kCaseVersion + ", UCO " + kUcoVersion},
        {"uco-core:object", std::move(objects)}};
    if (!manifest_.case_title.empty()) {
      investigation["uco-core:description"] = manifest_.case_title;
    }
    if (!authorization.empty()) {
      investigation["case-investigation:relevantAuthorization"] =
          json::array({Ref(authorization)});
    }
    json graph = json::array();
    graph.push_back(std::move(investigation));
    for (auto &node : graph_) graph.push_back(std::move(node));

    json doc = {{"@context", Context()}, {"@graph", std::move(graph)}};
    return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  }

 private:
  json Context() const {
    const std::string uco = kUcoBase;
    return json{{"kb", kCaseUcoIriBase},
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

  std::string Origin(const std::string &node) const {
    auto it = origins_.find(node);
    return it != origins_.end() ? it->second : node + "/custody";
  }

  // The Organization standing for an amanah node.
  std::string Organization(const std::string &node) {
    std::string id = KbId("organization", node);
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
  std::string Actor(const std::string &owner, const std::string &actor) {
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
      id = KbId("person", owner + " " + actor);
      node = {{"@type", "uco-identity:Person"}, {"uco-core:name", name}};
    } else {
      id = KbId("identity", owner + " " + actor);
      node = {{"@type", "uco-identity:Identity"}, {"uco-core:name", actor}};
    }
    node["@id"] = id;
    node["uco-core:description"] =
        "Actor " + actor + " in the custody log of " + owner + ".";
    Add(std::move(node));
    return id;
  }

  // One custody entry the bundle carries about an item; `e` is null if the
  // manifest names it but the bundle lacks it.
  struct Carried {
    LogOwner owner;
    uint64_t index;
    const CustodyEntry *e;
    bool own;
  };

  // An exhibit: one File, named by the ingest that brought it into custody.
  struct Exhibit {
    std::string identity;        // "<origin> <index>" of its ingest
    const CustodyEntry *ingest;  // null if the bundle lacks the entry
    std::string file;            // its File's @id
  };

  void AddItem(const BundleItem &item, size_t n,
               const std::string &case_identity) {
    std::string sha256 = Lower(item.sha256);
    if (sha256.empty() && item.address.rfind("sha256:", 0) == 0) {
      sha256 = Lower(item.address.substr(7));
    }
    // The peers' history first: it comes before this node's receipt.
    std::vector<Carried> carried;
    for (const auto &history : item.received) {
      auto log = entries_.peers.find(history.peer);
      LogOwner owner{history.peer, Origin(history.peer)};
      for (uint64_t index : history.entries) {
        const CustodyEntry *e = nullptr;
        if (log != entries_.peers.end()) {
          auto it = log->second.find(index);
          if (it != log->second.end()) e = &it->second;
        }
        carried.push_back({owner, index, e, false});
      }
    }
    LogOwner own{manifest_.node.name, manifest_.node.origin};
    for (uint64_t index : item.entries) {
      auto it = entries_.own.find(index);
      carried.push_back(
          {own, index, it == entries_.own.end() ? nullptr : &it->second, true});
    }

    // An exhibit per ingest, wherever it happened; evidence that arrived
    // without its ingest is named by the first entry the bundle names.
    std::vector<Exhibit> exhibits;
    for (const auto &c : carried) {
      if (c.e != nullptr && c.e->kind == EntryKind::kEvidenceIngested) {
        exhibits.push_back(
            {c.owner.origin + " " + std::to_string(c.index), c.e, ""});
      }
    }
    if (exhibits.empty() && !carried.empty()) {
      exhibits.push_back(
          {carried[0].owner.origin + " " + std::to_string(carried[0].index),
           nullptr, ""});
    }
    if (exhibits.empty()) {
      exhibits.push_back({case_identity + " " + item.address, nullptr, ""});
    }

    std::vector<std::string> files, records;
    for (size_t k = 0; k < exhibits.size(); ++k) {
      Exhibit &x = exhibits[k];
      x.file = AddFile(item, sha256, x);
      files.push_back(x.file);
      std::string exhibit = manifest_.case_id + "/" + std::to_string(n);
      if (exhibits.size() > 1) {
        // Two appends, not "." + ...: GCC 12 -O3 -Wrestrict.
        exhibit += '.';
        exhibit += std::to_string(k + 1);
      }
      std::string record =
          KbId("provenance-record", case_identity + " " + x.identity);
      Add(json{{"@id", record},
               {"@type", "case-investigation:ProvenanceRecord"},
               {"case-investigation:exhibitNumber", exhibit},
               {"uco-core:description",
                "Exhibit " + exhibit + ": " + item.address + "."},
               {"uco-core:object", json::array({Ref(x.file)})}});
      records.push_back(record);
    }

    for (const auto &c : carried) {
      if (c.e == nullptr) continue;
      std::vector<std::string> results;
      if (c.e->kind == EntryKind::kEvidenceIngested) {
        for (const auto &x : exhibits) {
          if (x.ingest == c.e) results.push_back(x.file);
        }
      } else {
        results = files;
      }
      AddAction(c.owner, c.index, *c.e, results,
                c.own ? records : std::vector<std::string>{});
    }
  }

  // The File of an exhibit, with its hashes; returns its @id.
  std::string AddFile(const BundleItem &item, const std::string &sha256,
                      const Exhibit &x) {
    const std::string file = KbId("file", x.identity);
    json ingested_hashes = x.ingest != nullptr && x.ingest->data.is_object()
                               ? x.ingest->data.value("hashes", json::object())
                               : json::object();
    auto known = [&](const std::string &from_item, const char *key) {
      if (!from_item.empty()) return Lower(from_item);
      return Lower(DataString(ingested_hashes, key));
    };
    json hashes = json::array();
    // hashMethod is a plain string: UCO 1.4.0 deprecates typing it as
    // vocabulary:HashNameVocab (its SHACL warns; UCO 2.0.0 will reject it).
    const std::pair<const char *, std::string> values[] = {
        {"MD5", known(item.md5, "md5")},
        {"SHA1", known(item.sha1, "sha1")},
        {"SHA256", sha256}};
    for (const auto &[method, value] : values) {
      if (value.empty()) continue;
      hashes.push_back(
          {{"@id", KbId("hash", x.identity + " " + Lower(method))},
           {"@type", "uco-types:Hash"},
           {"uco-types:hashMethod", method},
           {"uco-types:hashValue", Typed("xsd:hexBinary", value)}});
    }
    json facet = {{"@id", KbId("content-data-facet", x.identity)},
                  {"@type", "uco-observable:ContentDataFacet"},
                  {"uco-observable:sizeInBytes", item.size},
                  {"uco-observable:hash", std::move(hashes)}};
    // What a tool lists first: the name the file had when it was ingested.
    json file_facet = {{"@id", KbId("file-facet", x.identity)},
                       {"@type", "uco-observable:FileFacet"},
                       {"uco-observable:sizeInBytes", item.size}};
    const json no_data = json::object();
    const json &data = x.ingest != nullptr ? x.ingest->data : no_data;
    std::string name = DataString(data, "source");
    if (!name.empty()) file_facet["uco-observable:fileName"] = name;
    Add(json{{"@id", file},
             {"@type", "uco-observable:File"},
             {"uco-core:description", "Evidence object " + item.address +
                                          " as it entered custody (entry " +
                                          x.identity + ")."},
             {"uco-core:hasFacet",
              json::array({std::move(file_facet), std::move(facet)})}});
    if (data.is_object() && data.contains("ewf") && data["ewf"].is_object()) {
      AddMedia(x, file, data["ewf"]);
    }
    return file;
  }

  // The media an E01 image holds, as amanah ingest hashed it: an Image with
  // the media's size and hashes, contained within the image's File, and the
  // verdict against the hashes the image stores.
  void AddMedia(const Exhibit &x, const std::string &file, const json &ewf) {
    const json media_hashes = ewf.value("media", json::object());
    json hashes = json::array();
    for (const char *method : {"MD5", "SHA1", "SHA256"}) {
      std::string value =
          Lower(DataString(media_hashes, Lower(method).c_str()));
      if (value.empty()) continue;
      hashes.push_back(
          {{"@id", KbId("media-hash", x.identity + " " + Lower(method))},
           {"@type", "uco-types:Hash"},
           {"uco-types:hashMethod", method},
           {"uco-types:hashValue", Typed("xsd:hexBinary", value)}});
    }
    json facet = {{"@id", KbId("media-content-data-facet", x.identity)},
                  {"@type", "uco-observable:ContentDataFacet"},
                  {"uco-observable:hash", std::move(hashes)}};
    if (ewf.contains("media_size") && ewf["media_size"].is_number_integer() &&
        ewf["media_size"].get<int64_t>() >= 0) {
      facet["uco-observable:sizeInBytes"] = ewf["media_size"];
    }
    const json stored = ewf.value("stored", json::object());
    std::string said;
    for (const char *method : {"md5", "sha1"}) {
      std::string value = Lower(DataString(stored, method));
      if (value.empty()) continue;
      said += std::string(said.empty() ? "" : ", ") +
              (method == std::string("md5") ? "MD5 " : "SHA-1 ") + value;
    }
    std::string verdict = DataString(ewf, "verdict");
    std::string description = "The media of the E01 image ingested as entry " +
                              x.identity + ", hashed on ingest.";
    description += said.empty() ? " The image stores no hash of its media"
                                : " The image stores " + said;
    if (!verdict.empty()) description += "; verdict: " + verdict;
    description += ".";
    const std::string image = KbId("image", x.identity);
    Add(json{{"@id", image},
             {"@type", "uco-observable:Image"},
             {"uco-core:description", description},
             {"uco-core:hasFacet", json::array({std::move(facet)})}});
    Add(json{{"@id", KbId("relationship", x.identity)},
             {"@type", "uco-observable:ObservableRelationship"},
             {"uco-core:source", Ref(image)},
             {"uco-core:target", Ref(file)},
             {"uco-core:kindOfRelationship", "Contained_Within"},
             {"uco-core:isDirectional", true}});
  }

  // Who performed the entry: its actor, but the receiving node for a
  // receipt, which the log writes as the sending peer's (that peer is the
  // action's participant, where the object came from).
  std::string Performer(const LogOwner &owner, const CustodyEntry &e) {
    if (e.kind == EntryKind::kEvidenceReceived &&
        e.actor.rfind("peer:", 0) == 0) {
      return Organization(owner.node);
    }
    return Actor(owner.node, e.actor);
  }

  // `files`: the Files the entry is about; `records`: the provenance records
  // of this node's exhibits, the result of this node's ingest or receipt.
  void AddAction(const LogOwner &owner, uint64_t index, const CustodyEntry &e,
                 const std::vector<std::string> &files,
                 const std::vector<std::string> &records) {
    const std::string at = owner.origin + " " + std::to_string(index);
    const std::string id = KbId("action", at);
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
        {"uco-action:performer", Ref(Performer(owner, e))},
        {"uco-action:instrument", Ref(tool_)},
        {"uco-core:externalReference",
         json::array(
             {{{"@id", KbId("custody-entry", at)},
               {"@type", "uco-core:ExternalReference"},
               {"uco-core:definingContext",
                "entry index in the amanah custody log " + owner.origin},
               {"uco-core:externalIdentifier", std::to_string(index)}}})}};
    json objects = json::array();
    json results = json::array();
    std::string other;  // the peer the object went to or came from
    switch (e.kind) {
      case EntryKind::kEvidenceIngested:
      case EntryKind::kEvidenceReceived:
        for (const auto &f : files) results.push_back(Ref(f));
        for (const auto &r : records) results.push_back(Ref(r));
        if (e.kind == EntryKind::kEvidenceReceived) {
          other = DataString(e.data, "from");
        }
        break;
      case EntryKind::kEvidenceTransferred:
        for (const auto &f : files) objects.push_back(Ref(f));
        other = DataString(e.data, "to");
        break;
      default:
        for (const auto &f : files) objects.push_back(Ref(f));
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

  const BundleManifest &manifest_;
  const BundleEntries &entries_;
  const std::string legal_basis_;
  std::string tool_;
  std::map<std::string, std::string> origins_;  // node name -> origin
  std::vector<json> graph_;                     // all but the investigation
  std::set<std::string> ids_;
};

}  // namespace

Uuid UuidV5(const Uuid &ns, std::string_view name) {
  Hasher sha1(HashAlgorithm::kSha1);
  sha1.Update(ByteView(ns.data(), ns.size()));
  sha1.Update(AsBytes(name));
  Bytes digest = sha1.Finish();
  Uuid u;
  std::copy(digest.begin(), digest.begin() + 16, u.begin());
  u[6] = static_cast<uint8_t>((u[6] & 0x0f) | 0x50);  // version 5
  u[8] = static_cast<uint8_t>((u[8] & 0x3f) | 0x80);  // variant 10
  return u;
}

std::string UuidString(const Uuid &u) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < u.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[u[i] >> 4];
    out += kHex[u[i] & 0xf];
  }
  return out;
}

const Uuid &AmanahUuidNamespace() {
  static const Uuid ns = UuidV5(kNamespaceUrl, kCaseUcoIriBase);
  return ns;
}

std::string CaseUcoJsonLd(const BundleManifest &manifest,
                          const BundleEntries &entries,
                          const std::string &legal_basis) {
  return GraphBuilder(manifest, entries, legal_basis).Build();
}

}  // namespace amanah
