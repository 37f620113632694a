#include "bundle/case_uco.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace amanah {
namespace {

using json = nlohmann::json;

constexpr char kNode[] = "ccd.moi.gov.kw";
constexpr char kPeer[] = "cyber.doj.example";
constexpr char kLocalSha256[] =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
constexpr char kLocalMd5[] = "098F6BCD4621D373CADE4E832627B4F6";
constexpr char kLocalSha1[] = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3";
constexpr char kPeerSha256[] =
    "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
constexpr int64_t kT0 = 1795820400123456;  // 2026-11-27T23:00:00.123456Z

CustodyEntry Entry(EntryKind kind, int64_t time, const std::string& node,
                   const std::string& actor, const std::string& sha256,
                   json data) {
  CustodyEntry e;
  e.kind = kind;
  e.time_unix_micros = time;
  e.node = node;
  e.actor = actor;
  e.case_id = "KW-2026-0042";
  e.subject = std::string("sha256:") + sha256;
  e.data = std::move(data);
  return e;
}

// Two items: one ingested here (with MD5 and SHA-1) and read out, one pulled
// from a peer that ingested it and released it to this node. Entry 99 and the
// peer's entry 11 are named but missing.
struct Fixture {
  BundleManifest manifest;
  BundleEntries entries;
};

Fixture MakeFixture() {
  Fixture f;
  BundleManifest& m = f.manifest;
  m.case_id = "KW-2026-0042";
  m.case_title = "Fraud ring / احتيال";
  m.created = FormatTime(kT0 + 100000000);
  m.exported_by = "local:alice";
  m.node = {kNode, std::string(kNode) + "/custody", "ccd+1234+key"};
  m.peers.push_back({kPeer, std::string(kPeer) + "/custody", "doj+5678+key"});

  BundleItem local;
  local.address = std::string("sha256:") + kLocalSha256;
  local.size = 4;
  local.sha256 = kLocalSha256;
  local.md5 = kLocalMd5;
  local.sha1 = kLocalSha1;
  local.entries = {3, 5, 99};
  m.items.push_back(local);

  BundleItem pulled;
  pulled.address = std::string("sha256:") + kPeerSha256;
  pulled.size = 3;
  pulled.sha256 = kPeerSha256;
  pulled.entries = {7};
  pulled.received.push_back({kPeer, {10, 11, 12}});
  m.items.push_back(pulled);

  BundleEntries& b = f.entries;
  b.own[3] = Entry(EntryKind::kEvidenceIngested, kT0, kNode, "local:alice",
                   kLocalSha256, {{"size", 4}, {"source", "phone.bin"}});
  b.own[5] = Entry(EntryKind::kEvidenceAccessed, kT0 + 2000000, kNode,
                   "user:bob", kLocalSha256, {{"purpose", "examination"}});
  b.own[7] = Entry(EntryKind::kEvidenceReceived, kT0 + 5000000, kNode,
                   std::string("peer:") + kPeer, kPeerSha256,
                   {{"from", kPeer}, {"size", 3}});
  b.peers[kPeer][10] =
      Entry(EntryKind::kEvidenceIngested, kT0 - 9000000, kPeer, "local:carol",
            kPeerSha256, {{"size", 3}, {"source", "mail.pst"}});
  b.peers[kPeer][12] =
      Entry(EntryKind::kEvidenceTransferred, kT0 + 1000000, kPeer,
            "local:carol", kPeerSha256, {{"to", kNode}});
  return f;
}

json Parse(const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(doc.is_discarded()) << text;
  return doc;
}

std::vector<json> OfType(const json& graph, const std::string& type) {
  std::vector<json> out;
  for (const auto& node : graph) {
    if (node.value("@type", "") == type) out.push_back(node);
  }
  return out;
}

json NodeById(const json& graph, const std::string& id) {
  for (const auto& node : graph) {
    if (node.value("@id", "") == id) return node;
  }
  ADD_FAILURE() << "no node " << id;
  return json::object();
}

// The @id of each reference in a single reference or a list of them.
std::set<std::string> RefIds(const json& refs) {
  std::set<std::string> out;
  if (refs.is_object()) return {refs.value("@id", "")};
  for (const auto& r : refs) out.insert(r.value("@id", ""));
  return out;
}

// Every node definition (an object with @id and more), nested ones too.
void CollectIds(const json& value, std::vector<std::string>* ids) {
  if (value.is_object()) {
    if (value.contains("@id") && value.size() > 1) {
      ids->push_back(value["@id"].get<std::string>());
    }
    for (const auto& [key, v] : value.items()) CollectIds(v, ids);
  } else if (value.is_array()) {
    for (const auto& v : value) CollectIds(v, ids);
  }
}

// The @id of the one File whose ContentDataFacet has this SHA-256.
std::string FileWithSha256(const json& graph, const std::string& sha256) {
  std::string found;
  for (const auto& node : graph) {
    if (node.value("@type", "") != "uco-observable:File") continue;
    for (const auto& facet : node["uco-core:hasFacet"]) {
      for (const auto& h : facet.value("uco-observable:hash", json::array())) {
        if (h["uco-types:hashMethod"] == "SHA256" &&
            h["uco-types:hashValue"]["@value"] == sha256) {
          EXPECT_EQ(found, "") << "two Files of " << sha256;
          found = node["@id"];
        }
      }
    }
  }
  EXPECT_NE(found, "") << "no File of " << sha256;
  return found;
}

// "kb:<type>-" then the UUIDv5 of "<type> <identity>".
std::string Expected(const std::string& type, const std::string& identity) {
  return "kb:" + type + "-" +
         UuidString(UuidV5(AmanahUuidNamespace(), type + " " + identity));
}

TEST(CaseUcoTest, UuidV5FollowsRfc9562) {
  // RFC 9562, appendix A.4: "www.example.com" in NameSpace_DNS.
  const Uuid dns = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                    0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
  EXPECT_EQ(UuidString(UuidV5(dns, "www.example.com")),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2");
  // The namespace is fixed: changing it renames every node of every bundle.
  EXPECT_EQ(UuidString(AmanahUuidNamespace()),
            "c7dc99bf-4a97-5402-9664-f2dca011e196");
}

TEST(CaseUcoTest, IdsNameWhatAThingIsNotWhoExportedIt) {
  Fixture f = MakeFixture();
  json graph = Parse(CaseUcoJsonLd(f.manifest, f.entries))["@graph"];
  const std::string own = std::string(kNode) + "/custody";
  const std::string peer = std::string(kPeer) + "/custody";
  // Actions by their log's origin and index.
  for (const auto& at :
       {own + " 3", own + " 5", own + " 7", peer + " 10", peer + " 12"}) {
    NodeById(graph, Expected("action", at));
  }
  // Files by their ingest, wherever it happened.
  EXPECT_EQ(FileWithSha256(graph, kLocalSha256), Expected("file", own + " 3"));
  EXPECT_EQ(FileWithSha256(graph, kPeerSha256), Expected("file", peer + " 10"));
  NodeById(graph, Expected("organization", kPeer));
  NodeById(graph, Expected("person", std::string(kNode) + " local:alice"));

  // The peer's own export of its history names the same things alike.
  BundleManifest pm;
  pm.case_id = "US-7";
  pm.created = FormatTime(kT0 + 2000000);
  pm.exported_by = "local:carol";
  pm.node = f.manifest.peers[0];
  BundleItem item = f.manifest.items[1];
  item.entries = {10, 12};
  item.received.clear();
  pm.items.push_back(item);
  BundleEntries pe;
  pe.own = f.entries.peers[kPeer];
  json theirs = Parse(CaseUcoJsonLd(pm, pe))["@graph"];
  EXPECT_EQ(FileWithSha256(theirs, kPeerSha256),
            FileWithSha256(graph, kPeerSha256));
  for (const auto& at : {peer + " 10", peer + " 12"}) {
    json a = NodeById(theirs, Expected("action", at));
    json b = NodeById(graph, Expected("action", at));
    EXPECT_EQ(a["uco-action:performer"], b["uco-action:performer"]);
    EXPECT_EQ(a["uco-core:externalReference"], b["uco-core:externalReference"]);
  }
}

TEST(CaseUcoTest, EveryIdEndsWithAUuid) {
  Fixture f = MakeFixture();
  json doc = Parse(CaseUcoJsonLd(f.manifest, f.entries));
  std::vector<std::string> ids;
  CollectIds(doc["@graph"], &ids);
  ASSERT_FALSE(ids.empty());
  const std::regex uuid(
      "^kb:[a-z-]+-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
      "[0-9a-f]{12}$");
  for (const auto& id : ids) EXPECT_TRUE(std::regex_match(id, uuid)) << id;
}

// The same bytes seized twice (two phones, one attachment) are two exhibits:
// two Files, each its ingest's, with the same SHA-256.
TEST(CaseUcoTest, IdenticalBytesIngestedTwiceAreTwoFiles) {
  Fixture f = MakeFixture();
  f.manifest.items[0].entries = {3, 4, 5};
  f.entries.own[4] =
      Entry(EntryKind::kEvidenceIngested, kT0 + 1000000, kNode, "user:bob",
            kLocalSha256, {{"size", 4}, {"source", "phone2.bin"}});
  json graph = Parse(CaseUcoJsonLd(f.manifest, f.entries))["@graph"];
  const std::string own = std::string(kNode) + "/custody";
  std::set<std::string> files;
  for (const auto& node : OfType(graph, "uco-observable:File")) {
    files.insert(node["@id"]);
  }
  EXPECT_EQ(files,
            (std::set<std::string>{
                Expected("file", own + " 3"), Expected("file", own + " 4"),
                Expected("file", std::string(kPeer) + "/custody 10")}));
  // Each ingest resulted in its own File; the read-out was of both.
  auto results = [&](uint64_t i) {
    return RefIds(NodeById(
        graph, Expected("action",
                        own + " " + std::to_string(i)))["uco-action:result"]);
  };
  EXPECT_TRUE(results(3).count(Expected("file", own + " 3")));
  EXPECT_FALSE(results(3).count(Expected("file", own + " 4")));
  EXPECT_TRUE(results(4).count(Expected("file", own + " 4")));
  EXPECT_EQ(RefIds(NodeById(
                graph, Expected("action", own + " 5"))["uco-action:object"]),
            (std::set<std::string>{Expected("file", own + " 3"),
                                   Expected("file", own + " 4")}));
  EXPECT_EQ(OfType(graph, "case-investigation:ProvenanceRecord").size(), 3u);
}

TEST(CaseUcoTest, FilesCarryTheirIngestedNameAndSize) {
  Fixture f = MakeFixture();
  json graph = Parse(CaseUcoJsonLd(f.manifest, f.entries))["@graph"];
  std::map<std::string, std::pair<std::string, uint64_t>> want = {
      {kLocalSha256, {"phone.bin", 4}}, {kPeerSha256, {"mail.pst", 3}}};
  for (const auto& [sha256, name_size] : want) {
    json file = NodeById(graph, FileWithSha256(graph, sha256));
    const json& facet = file["uco-core:hasFacet"][0];
    EXPECT_EQ(facet["@type"], "uco-observable:FileFacet");
    EXPECT_EQ(facet["uco-observable:fileName"], name_size.first);
    EXPECT_EQ(facet["uco-observable:sizeInBytes"], name_size.second);
  }
}

// An E01 ingest: the media's hashes as amanah ingest computed them, and the
// verdict against the hashes the image stores.
TEST(CaseUcoTest, AnE01IngestCarriesItsMediaHashesAndVerdict) {
  Fixture f = MakeFixture();
  const std::string md5 = "c4ca4238a0b923820dcc509a6f75849b";
  const std::string sha1 = "356a192b7913b04c54574d18c28d46e6395428ab";
  const std::string sha256 =
      "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b";
  f.entries.own[3].data["source"] = "disk.E01";
  f.entries.own[3].data["ewf"] = {
      {"media_size", 512},
      {"media", {{"md5", md5}, {"sha1", sha1}, {"sha256", sha256}}},
      {"stored", {{"md5", md5}}},
      {"verdict", "match"},
      {"segments", json::array()}};
  json graph = Parse(CaseUcoJsonLd(f.manifest, f.entries))["@graph"];
  const std::string file = FileWithSha256(graph, kLocalSha256);
  auto images = OfType(graph, "uco-observable:Image");
  ASSERT_EQ(images.size(), 1u);
  const json& image = images[0];
  const json& facet = image["uco-core:hasFacet"][0];
  EXPECT_EQ(facet["uco-observable:sizeInBytes"], 512);
  std::map<std::string, std::string> hashes;
  for (const auto& h : facet["uco-observable:hash"]) {
    hashes[h["uco-types:hashMethod"]] = h["uco-types:hashValue"]["@value"];
  }
  EXPECT_EQ(hashes, (std::map<std::string, std::string>{
                        {"MD5", md5}, {"SHA1", sha1}, {"SHA256", sha256}}));
  const std::string text = image["uco-core:description"];
  EXPECT_NE(text.find("stores MD5 " + md5), std::string::npos) << text;
  EXPECT_NE(text.find("verdict: match"), std::string::npos) << text;
  auto relations = OfType(graph, "uco-observable:ObservableRelationship");
  ASSERT_EQ(relations.size(), 1u);
  EXPECT_EQ(relations[0]["uco-core:source"]["@id"], image["@id"]);
  EXPECT_EQ(relations[0]["uco-core:target"]["@id"], file);
  EXPECT_EQ(relations[0]["uco-core:kindOfRelationship"], "Contained_Within");
  // A plain ingest has no media.
  Fixture plain = MakeFixture();
  EXPECT_TRUE(
      OfType(Parse(CaseUcoJsonLd(plain.manifest, plain.entries))["@graph"],
             "uco-observable:Image")
          .empty());
}

TEST(CaseUcoTest, TheLegalBasisIsAnAuthorization) {
  Fixture f = MakeFixture();
  const std::string basis = "Budapest Convention art. 29; Law 63/2015";
  json graph = Parse(CaseUcoJsonLd(f.manifest, f.entries, basis))["@graph"];
  auto auths = OfType(graph, "case-investigation:Authorization");
  ASSERT_EQ(auths.size(), 1u);
  EXPECT_EQ(auths[0]["case-investigation:authorizationIdentifier"], basis);
  EXPECT_EQ(auths[0]["case-investigation:authorizationType"], "legal basis");
  json inv = OfType(graph, "case-investigation:Investigation")[0];
  EXPECT_EQ(RefIds(inv["case-investigation:relevantAuthorization"]),
            std::set<std::string>{auths[0]["@id"]});
  EXPECT_TRUE(OfType(Parse(CaseUcoJsonLd(f.manifest, f.entries))["@graph"],
                     "case-investigation:Authorization")
                  .empty());
}

// The receiving node performs the receipt; the sender is where it came from,
// the participant, and not the performer too.
TEST(CaseUcoTest, TheReceiverPerformsAReceiptFromTheSender) {
  Fixture f = MakeFixture();
  json graph = Parse(CaseUcoJsonLd(f.manifest, f.entries))["@graph"];
  json a =
      NodeById(graph, Expected("action", std::string(kNode) + "/custody 7"));
  EXPECT_EQ(a["uco-action:performer"]["@id"], Expected("organization", kNode));
  EXPECT_EQ(RefIds(a["uco-action:participant"]),
            std::set<std::string>{Expected("organization", kPeer)});
}

// Earlier exports of an object are in its custody: actions on its File.
TEST(CaseUcoTest, ExportsAreActions) {
  Fixture f = MakeFixture();
  f.manifest.items[0].entries = {3, 5, 6};
  f.entries.own[6] =
      Entry(EntryKind::kEvidenceExported, kT0 + 3000000, kNode,
            "local:prosecutor", kLocalSha256,
            {{"bundle", "KW-2026-0042.tar"},
             {"manifest", std::string("sha256:") + kPeerSha256}});
  json graph = Parse(CaseUcoJsonLd(f.manifest, f.entries))["@graph"];
  json a =
      NodeById(graph, Expected("action", std::string(kNode) + "/custody 6"));
  EXPECT_EQ(a["uco-core:name"], "evidence.exported");
  EXPECT_EQ(RefIds(a["uco-action:object"]),
            std::set<std::string>{FileWithSha256(graph, kLocalSha256)});
  EXPECT_EQ(NodeById(graph, a["uco-action:performer"]["@id"])["uco-core:name"],
            "prosecutor");
  const std::string text = a["uco-core:description"];
  EXPECT_NE(text.find("KW-2026-0042.tar"), std::string::npos) << text;
}

TEST(CaseUcoTest, ContextHasCaseNamespaces) {
  Fixture f = MakeFixture();
  json doc = Parse(CaseUcoJsonLd(f.manifest, f.entries));
  const json& ctx = doc["@context"];
  EXPECT_EQ(ctx["case-investigation"],
            "https://ontology.caseontology.org/case/investigation/");
  const std::string uco = "https://ontology.unifiedcyberontology.org/uco/";
  for (const char* ns : {"action", "core", "identity", "observable", "tool",
                         "types", "vocabulary"}) {
    EXPECT_EQ(ctx["uco-" + std::string(ns)], uco + ns + "/") << ns;
  }
  EXPECT_EQ(ctx["xsd"], "http://www.w3.org/2001/XMLSchema#");
  // The same base whoever exports: ids do not depend on the exporter.
  EXPECT_EQ(ctx["kb"], "https://amanah.invalid/kb/");
  ASSERT_TRUE(doc["@graph"].is_array());
}

TEST(CaseUcoTest, OneInvestigationListingEveryNode) {
  Fixture f = MakeFixture();
  json graph = Parse(CaseUcoJsonLd(f.manifest, f.entries))["@graph"];
  auto investigations = OfType(graph, "case-investigation:Investigation");
  ASSERT_EQ(investigations.size(), 1u);
  const json& inv = investigations[0];
  EXPECT_EQ(inv["uco-core:name"], "KW-2026-0042");
  EXPECT_EQ(inv["uco-core:description"], "Fraud ring / احتيال");
  EXPECT_EQ(inv["uco-core:specVersion"], "CASE 1.4.0, UCO 1.4.0");
  std::set<std::string> listed = RefIds(inv["uco-core:object"]);
  for (const auto& node : graph) {
    if (node["@id"] == inv["@id"]) continue;
    EXPECT_TRUE(listed.count(node["@id"])) << node["@id"];
  }
  EXPECT_EQ(listed.size(), graph.size() - 1);
}

TEST(CaseUcoTest, ItemsCarryHashesAndSize) {
  Fixture f = MakeFixture();
  json graph = Parse(CaseUcoJsonLd(f.manifest, f.entries))["@graph"];
  auto files = OfType(graph, "uco-observable:File");
  ASSERT_EQ(files.size(), 2u);
  // sha256 -> (size, method -> value)
  std::map<std::string, std::pair<uint64_t, std::map<std::string, std::string>>>
      seen;
  for (const auto& file : files) {
    ASSERT_EQ(file["uco-core:hasFacet"].size(), 2u);
    const json& facet = file["uco-core:hasFacet"][1];
    EXPECT_EQ(facet["@type"], "uco-observable:ContentDataFacet");
    std::map<std::string, std::string> hashes;
    for (const auto& h : facet["uco-observable:hash"]) {
      EXPECT_EQ(h["@type"], "uco-types:Hash");
      EXPECT_EQ(h["uco-types:hashValue"]["@type"], "xsd:hexBinary");
      hashes[h["uco-types:hashMethod"]] = h["uco-types:hashValue"]["@value"];
    }
    seen[hashes["SHA256"]] = {facet["uco-observable:sizeInBytes"], hashes};
  }
  ASSERT_TRUE(seen.count(kLocalSha256));
  EXPECT_EQ(seen[kLocalSha256].first, 4u);
  EXPECT_EQ(seen[kLocalSha256].second,
            (std::map<std::string, std::string>{
                {"MD5", "098f6bcd4621d373cade4e832627b4f6"},
                {"SHA1", kLocalSha1},
                {"SHA256", kLocalSha256}}));
  ASSERT_TRUE(seen.count(kPeerSha256));
  EXPECT_EQ(seen[kPeerSha256].first, 3u);
  EXPECT_EQ(seen[kPeerSha256].second,
            (std::map<std::string, std::string>{{"SHA256", kPeerSha256}}));

  auto records = OfType(graph, "case-investigation:ProvenanceRecord");
  ASSERT_EQ(records.size(), 2u);
  std::set<std::string> exhibits;
  for (const auto& r : records) {
    exhibits.insert(r["case-investigation:exhibitNumber"]);
    EXPECT_EQ(RefIds(r["uco-core:object"]).size(), 1u);
  }
  EXPECT_EQ(exhibits,
            (std::set<std::string>{"KW-2026-0042/1", "KW-2026-0042/2"}));
}

TEST(CaseUcoTest, EveryEntryIsAnInvestigativeAction) {
  Fixture f = MakeFixture();
  json graph = Parse(CaseUcoJsonLd(f.manifest, f.entries))["@graph"];
  const std::string local_file = FileWithSha256(graph, kLocalSha256);
  const std::string peer_file = FileWithSha256(graph, kPeerSha256);
  auto tools = OfType(graph, "uco-tool:Tool");
  ASSERT_EQ(tools.size(), 1u);
  EXPECT_EQ(tools[0]["uco-core:name"], "amanah");
  EXPECT_EQ(tools[0]["uco-tool:version"], "0.1.0");

  struct Want {
    std::string origin;
    uint64_t index;
    const CustodyEntry* entry;
    std::string performer_type, performer_name;
    std::string object, result;  // a file id, or ""
  };
  const std::string own = std::string(kNode) + "/custody";
  const std::string peer = std::string(kPeer) + "/custody";
  std::vector<Want> wants = {
      {own, 3, &f.entries.own[3], "uco-identity:Person", "alice", "",
       local_file},
      {own, 5, &f.entries.own[5], "uco-identity:Person", "bob", local_file, ""},
      {own, 7, &f.entries.own[7], "uco-identity:Organization", kNode, "",
       peer_file},
      {peer, 10, &f.entries.peers[kPeer][10], "uco-identity:Person", "carol",
       "", peer_file},
      {peer, 12, &f.entries.peers[kPeer][12], "uco-identity:Person", "carol",
       peer_file, ""},
  };
  auto actions = OfType(graph, "case-investigation:InvestigativeAction");
  ASSERT_EQ(actions.size(), wants.size());
  for (const auto& want : wants) {
    SCOPED_TRACE(want.origin + " " + std::to_string(want.index));
    const json* found = nullptr;
    for (const auto& a : actions) {
      const json& ref = a["uco-core:externalReference"][0];
      if (ref["uco-core:definingContext"] ==
              "entry index in the amanah custody log " + want.origin &&
          ref["uco-core:externalIdentifier"] == std::to_string(want.index)) {
        found = &a;
      }
    }
    ASSERT_NE(found, nullptr);
    const json& a = *found;
    EXPECT_EQ(a["uco-core:name"], EntryKindName(want.entry->kind));
    EXPECT_NE(a["uco-core:description"].get<std::string>().find(
                  "entry " + std::to_string(want.index)),
              std::string::npos);
    const std::string time = FormatTime(want.entry->time_unix_micros);
    EXPECT_EQ(a["uco-action:startTime"]["@type"], "xsd:dateTime");
    EXPECT_EQ(a["uco-action:startTime"]["@value"], time);
    EXPECT_EQ(a["uco-action:endTime"]["@value"], time);
    EXPECT_EQ(a["uco-action:instrument"]["@id"], tools[0]["@id"]);
    json performer = NodeById(graph, a["uco-action:performer"]["@id"]);
    EXPECT_EQ(performer["@type"], want.performer_type);
    EXPECT_EQ(performer["uco-core:name"], want.performer_name);
    if (!want.object.empty()) {
      EXPECT_TRUE(RefIds(a["uco-action:object"]).count(want.object));
    }
    if (!want.result.empty()) {
      EXPECT_TRUE(RefIds(a["uco-action:result"]).count(want.result));
    }
  }
  // Alice here and Carol at the peer are different people, and the peer is
  // one organization whether it acted or was named.
  EXPECT_EQ(OfType(graph, "uco-identity:Person").size(), 3u);
  EXPECT_EQ(OfType(graph, "uco-identity:Organization").size(), 2u);
}

TEST(CaseUcoTest, IdsAreUnique) {
  Fixture f = MakeFixture();
  json doc = Parse(CaseUcoJsonLd(f.manifest, f.entries));
  std::vector<std::string> ids;
  CollectIds(doc["@graph"], &ids);
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size());
  EXPECT_GT(ids.size(), 20u);
  for (const auto& id : ids) EXPECT_EQ(id.rfind("kb:", 0), 0u) << id;
}

TEST(CaseUcoTest, IsDeterministic) {
  Fixture a = MakeFixture();
  Fixture b = MakeFixture();
  std::string first = CaseUcoJsonLd(a.manifest, a.entries);
  EXPECT_EQ(first, CaseUcoJsonLd(a.manifest, a.entries));
  EXPECT_EQ(first, CaseUcoJsonLd(b.manifest, b.entries));
  EXPECT_EQ(first.substr(0, 16), "{\n  \"@context\": ");
  EXPECT_EQ(first.back(), '\n');
}

TEST(CaseUcoTest, SkipsMissingEntries) {
  Fixture f = MakeFixture();
  json graph = Parse(CaseUcoJsonLd(f.manifest, BundleEntries{}))["@graph"];
  EXPECT_TRUE(OfType(graph, "case-investigation:InvestigativeAction").empty());
  EXPECT_EQ(OfType(graph, "uco-observable:File").size(), 2u);
}

// The first python3 that can import rdflib: the one on PATH, else the
// system's, which python3-rdflib installs into. "" if none can.
std::string PythonWithRdflib() {
  for (const char* python : {"python3", "/usr/bin/python3"}) {
    std::string probe =
        std::string(python) + " -c 'import rdflib' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return python;
  }
  return "";
}

int ExitCode(const std::string& command) {
  int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(CaseUcoTest, CaseUcoParsesAsRdf) {
  std::string python = PythonWithRdflib();
  if (python.empty()) {
    GTEST_SKIP() << "python3-rdflib is missing (apt-get install "
                    "python3-rdflib): case.jsonld not checked as RDF";
  }
  std::filesystem::path script = std::filesystem::path(__FILE__).parent_path() /
                                 ".." / ".." / "scripts" /
                                 "check_case_jsonld.py";
  ASSERT_TRUE(std::filesystem::exists(script)) << script;
  std::filesystem::path file =
      std::filesystem::path(::testing::TempDir()) /
      ("case_uco_test_" + std::to_string(getpid()) + ".jsonld");
  Fixture f = MakeFixture();
  {
    std::ofstream out(file, std::ios::binary);
    out << CaseUcoJsonLd(f.manifest, f.entries);
    ASSERT_TRUE(out.good());
  }
  const std::string check =
      python + " '" + script.string() + "' '" + file.string() + "'";
  EXPECT_EQ(ExitCode(check + " --expect-items 2 --expect-actions 5"), 0);
  // The checker can fail: wrong counts are reported.
  EXPECT_EQ(ExitCode(check + " --expect-items 3 2>/dev/null"), 1);
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace amanah
