// Golden vectors and strict parsing of the bundle's own formats: the
// tlog-proof@v1 text and manifest.json. (The tar container is tested in
// tar_test.cc, CASE/UCO in case_uco_test.cc, export and verification end to
// end in app/export_test.cc.)

#include <gtest/gtest.h>

#include "base/encoding.h"
#include "bundle/manifest.h"
#include "bundle/proof_text.h"

namespace amanah {
namespace {

Hash256 Sha(std::string_view s) { return Sha256(AsBytes(s)); }

constexpr char kCheckpoint[] =
    "example.com/fancylog\n"
    "3\n"
    "ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs=\n"
    "\n"
    "\xe2\x80\x94 example.com/fancylog hI2DJwAAAA==\n";

TEST(TlogProofTest, GoldenVector) {
  TlogProof p{"", 2, {Sha("a"), Sha("b")}, kCheckpoint};
  const std::string golden =
      "c2sp.org/tlog-proof@v1\n"
      "index 2\n"
      "ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs=\n"
      "PiPoFgA5WUoziU9lZOGxNIu9egCI1CxKy3PurtWcAJ0=\n"
      "\n" +
      std::string(kCheckpoint);
  EXPECT_EQ(FormatTlogProof(p), golden);
  auto back = ParseTlogProof(golden);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->index, 2u);
  EXPECT_EQ(back->hashes, p.hashes);
  EXPECT_EQ(back->checkpoint, kCheckpoint);
  EXPECT_TRUE(back->extra.empty());
}

TEST(TlogProofTest, ExtraDataAndAnEmptyPath) {
  TlogProof p{"age-v1.2.1", 0, {}, kCheckpoint};
  std::string text = FormatTlogProof(p);
  EXPECT_EQ(text.substr(0, text.find("\xe2")),
            "c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMQ==\nindex 0\n\n" +
                std::string(kCheckpoint)
                    .substr(0, std::string(kCheckpoint).find("\xe2")));
  auto back = ParseTlogProof(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->extra, "age-v1.2.1");
  EXPECT_TRUE(back->hashes.empty());
  EXPECT_EQ(back->checkpoint, kCheckpoint);
}

// An extra line with no data would parse to the proof that has none, whose
// text has no extra line (found by fuzz/proof_text_fuzz.cc).
TEST(TlogProofTest, AnEmptyExtraLineIsRefused) {
  const std::string text =
      "c2sp.org/tlog-proof@v1\nextra \nindex 0\n\n" + std::string(kCheckpoint);
  auto r = ParseTlogProof(text);
  ASSERT_FALSE(r.ok()) << FormatTlogProof(*r);
  EXPECT_NE(r.status().message().find("extra line is empty"), std::string::npos)
      << r.status().ToString();
}

TEST(TlogProofTest, MalformedProofsAreRefusedNamingTheLine) {
  const std::string good = FormatTlogProof({"", 2, {Sha("a")}, kCheckpoint});
  auto refused = [](const std::string& text) {
    auto r = ParseTlogProof(text);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(
      refused("c2sp.org/tlog-proof@v2" + good.substr(22)).find("first line"),
      std::string::npos);
  EXPECT_NE(refused(good.substr(0, 23) + "index 02" + good.substr(30))
                .find("leading zeroes"),
            std::string::npos);
  EXPECT_NE(
      refused(good.substr(0, 23) + "index -1" + good.substr(30)).find("index"),
      std::string::npos);
  std::string short_hash = good;
  short_hash.replace(short_hash.find("ypeB"), 4, "ype");
  EXPECT_NE(refused(short_hash).find("proof line 1"), std::string::npos);
  EXPECT_NE(refused(good.substr(0, good.find("\n\n") + 1)).find("blank line"),
            std::string::npos);
  EXPECT_NE(refused(good.substr(0, good.find("\n\n") + 2)).find("checkpoint"),
            std::string::npos);
  std::string many = "c2sp.org/tlog-proof@v1\nindex 1\n";
  for (int i = 0; i < 65; ++i) many += Base64Encode(Sha("a")) + "\n";
  EXPECT_NE(refused(many + "\n" + kCheckpoint).find("64"), std::string::npos);
  EXPECT_EQ(
      ParseTlogProof(std::string(kMaxProofTextBytes + 1, 'x')).status().code(),
      Code::kTooLarge);
}

BundleManifest SampleManifest() {
  BundleManifest m;
  m.case_id = "KW-2026-0042";
  m.case_title = "تصيد احتيالي";  // Arabic titles are the common case
  m.created = "2026-11-23T21:00:00.000000Z";
  m.exported_by = "local:prosecutor";
  m.node = {"ccd.moi.gov.kw", "ccd.moi.gov.kw/custody",
            "ccd.moi.gov.kw/custody+01020304+AQ=="};
  m.peers = {{"cyber.doj.example", "cyber.doj.example/custody",
              "cyber.doj.example/custody+0a0b0c0d+AQ=="}};
  BundleItem item;
  item.address = "sha256:" + HexEncode(Sha("a"));
  item.sha256 = HexEncode(Sha("a"));
  item.md5 = "0cc175b9c0f1b6a831c399e269772661";
  item.size = 1;
  item.entries = {3, 9};
  item.received = {{"cyber.doj.example", {4, 5}}};
  m.items.push_back(item);
  m.files["VERIFY.txt"] = HexEncode(Sha("v"));
  m.files["case.jsonld"] = HexEncode(Sha("c"));
  return m;
}

TEST(ManifestTest, GoldenVector) {
  // The exact bytes: their SHA-256 is what the log commits to.
  const std::string golden =
      R"({"bundle":"amanah-bundle/v2","case":{"id":"KW-2026-0042","title":"تصيد احتيالي"},)"
      R"("created":"2026-11-23T21:00:00.000000Z","exported_by":"local:prosecutor",)"
      R"("files":{"VERIFY.txt":")" +
      HexEncode(Sha("v")) + R"(","case.jsonld":")" + HexEncode(Sha("c")) +
      R"("},"items":[{"address":"sha256:)" + HexEncode(Sha("a")) +
      R"(","entries":[3,9],"hashes":{"md5":"0cc175b9c0f1b6a831c399e269772661","sha256":")" +
      HexEncode(Sha("a")) + R"("},"path":"blobs/sha256/)" +
      HexEncode(Sha("a")) +
      R"(","received":[{"entries":[4,5],"peer":"cyber.doj.example"}],"size":1}],)"
      R"("node":{"key":"ccd.moi.gov.kw/custody+01020304+AQ==","name":"ccd.moi.gov.kw","origin":"ccd.moi.gov.kw/custody"},)"
      R"("peers":[{"key":"cyber.doj.example/custody+0a0b0c0d+AQ==","name":"cyber.doj.example","origin":"cyber.doj.example/custody"}]})";
  EXPECT_EQ(FormatManifest(SampleManifest()), golden);
  auto back = ParseManifest(golden);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(FormatManifest(*back), golden);
  EXPECT_EQ(back->items[0].received[0].entries, (std::vector<uint64_t>{4, 5}));
  // A version 1 manifest (bundles exported before 2026-12) still parses,
  // and is written back byte for byte.
  std::string v1 = golden;
  v1.replace(v1.find("amanah-bundle/v2"), 16, "amanah-bundle/v1");
  auto old = ParseManifest(v1);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->format, kBundleFormatV1);
  EXPECT_EQ(FormatManifest(*old), v1);
}

TEST(ManifestTest, MalformedManifestsAreRefusedNamingTheField) {
  std::string good = FormatManifest(SampleManifest());
  auto refused = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    auto r = ParseManifest(s);
    EXPECT_FALSE(r.ok()) << s;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(refused("amanah-bundle/v2", "amanah-bundle/v9").find("v9"),
            std::string::npos);
  EXPECT_NE(refused("\"entries\":[3,9]", "\"entries\":[9,3]")
                .find(".items[0].entries"),
            std::string::npos);
  EXPECT_NE(refused("\"size\":1", "\"size\":-1").find(".items[0].size"),
            std::string::npos);
  EXPECT_NE(
      refused("\"path\":\"blobs", "\"path\":\"../blobs").find(".items[0].path"),
      std::string::npos);
  EXPECT_NE(refused("0cc175b9", "0CC175B9").find("md5"), std::string::npos);
  EXPECT_NE(refused("\"node\":{\"key\"", "\"node\":{\"kex\"").find(".node.key"),
            std::string::npos);
  EXPECT_NE(refused("[4,5]", "[]").find("received[0].entries"),
            std::string::npos);
  EXPECT_NE(refused("\"name\":\"ccd.moi.gov.kw\"", "\"name\":\"other.example\"")
                .find(".node.origin"),
            std::string::npos);
  EXPECT_NE(refused(",\"case.jsonld\":\"" + HexEncode(Sha("c")) + "\"", "")
                .find("case.jsonld"),
            std::string::npos);
  std::string items = good.substr(good.find("\"items\":[") + 9);
  items = items.substr(0, items.find("],\"node\""));
  EXPECT_NE(refused(items, "").find(".items is empty"), std::string::npos);
  EXPECT_FALSE(ParseManifest("[]").ok());
  EXPECT_FALSE(ParseManifest("{").ok());
  EXPECT_EQ(
      ParseManifest(std::string(kMaxManifestBytes + 1, ' ')).status().code(),
      Code::kTooLarge);
}

}  // namespace
}  // namespace amanah
