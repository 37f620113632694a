#include "ledger/custody_entry.h"

#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "ledger/tiles.h"

namespace amanah {
namespace {

// Golden: the exact bytes of an entry; these are hashed into the log and
// must never change for the same fields.
// Version 1, as written before 2026-12: still parsed and re-serialised to
// the same bytes, so that old logs and bundles verify.
TEST(CustodyEntryTest, GoldenBytes) {
  CustodyEntry e;
  e.version = 1;
  e.kind = EntryKind::kEvidenceIngested;
  e.time_unix_micros = 1795820400123456;  // 2026-11-27T23:00:00.123456Z
  e.node = "ccd.moi.gov.kw";
  e.actor = "local:alice";
  e.case_id = "KW-2026-0042";
  e.subject =
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  e.data = {{"size", 0}, {"source", "empty.bin"}, {"note", "ملاحظة"}};
  std::string bytes = FormatCustodyEntry(e);
  EXPECT_EQ(bytes,
            "{\"v\":1,\"kind\":\"evidence.ingested\",\"time\":\"2026-11-27T"
            "23:00:00.123456Z\",\"node\":\"ccd.moi.gov.kw\",\"actor\":\"local:"
            "alice\",\"case\":\"KW-2026-0042\",\"subject\":\"sha256:"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            "\",\"data\":{\"note\":\"ملاحظة\",\"size\":0,\"source\":"
            "\"empty.bin\"}}");
  auto parsed = ParseCustodyEntry(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->time_unix_micros, e.time_unix_micros);
  EXPECT_EQ(parsed->data["note"], "ملاحظة");
}

TEST(CustodyEntryTest, RejectsNonCanonicalAndUnknown) {
  CustodyEntry e;
  e.kind = EntryKind::kEvidenceAccessed;
  e.subject = "sha256:00";
  std::string bytes = FormatCustodyEntry(e);
  ASSERT_TRUE(ParseCustodyEntry(bytes).ok());
  std::string spaced = bytes;
  spaced.insert(1, " ");
  EXPECT_FALSE(ParseCustodyEntry(spaced).ok());
  std::string unknown = bytes;
  unknown.replace(unknown.find("evidence.accessed"), 17, "evidence.deleted!");
  EXPECT_FALSE(ParseCustodyEntry(unknown).ok());
  EXPECT_FALSE(ParseCustodyEntry("{}").ok());
  EXPECT_FALSE(ParseCustodyEntry("not json").ok());
}

TEST(TilesTest, PathsFollowTlogTiles) {
  EXPECT_EQ(TileIndexPath(0), "000");
  EXPECT_EQ(TileIndexPath(1234067), "x001/x234/067");
  EXPECT_EQ(TileIndexPath(999), "999");
  EXPECT_EQ(TileIndexPath(1000), "x001/000");
  EXPECT_EQ(TilePath(0, 1234067, 256), "tile/0/x001/x234/067");
  EXPECT_EQ(TilePath(1, 5, 17), "tile/1/005.p/17");
  EXPECT_EQ(EntryBundlePath(2, 0), "tile/entries/002");
  EXPECT_EQ(EntryBundlePath(2, 3), "tile/entries/002.p/3");
}

TEST(TilesTest, BundleRoundTripAndCorruption) {
  std::vector<std::string> entries = {"a", std::string(300, 'b'), "c"};
  std::string b = EncodeEntryBundle(entries);
  EXPECT_EQ(b.substr(0, 3), std::string("\x00\x01"
                                        "a",
                                        3));
  EXPECT_EQ(*DecodeEntryBundle(b), entries);
  EXPECT_FALSE(DecodeEntryBundle(b.substr(0, b.size() - 1)).ok());
  EXPECT_FALSE(DecodeEntryBundle(b.substr(0, 1)).ok());
}

// FormatTime computes the calendar itself; it must agree with the C
// library's gmtime_r for every instant from 1970 to 9999 and before 1970.
TEST(CustodyEntryTest, FormatTimeAgreesWithGmtime) {
  auto reference = [](int64_t t) {
    int64_t secs = t / 1000000, micros = t % 1000000;
    if (micros < 0) micros += 1000000, secs -= 1;
    std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec, static_cast<int>(micros));
    return std::string(buf);
  };
  std::mt19937_64 rng(3);
  const int64_t kMax = 253402300799999999;  // 9999-12-31T23:59:59.999999Z
  const int64_t kMin = -62167219200000000;  // 0000-01-01T00:00:00Z
  for (int64_t t : {int64_t{0}, int64_t{-1}, int64_t{951782400000000},
                    int64_t{1795820400123456}, kMax, kMin}) {
    EXPECT_EQ(FormatTime(t), reference(t)) << t;
  }
  for (int i = 0; i < 200000; ++i) {
    int64_t t = kMin + static_cast<int64_t>(rng() % uint64_t(kMax - kMin));
    ASSERT_EQ(FormatTime(t), reference(t)) << t;
  }
}

// The closed list of kinds is the one docs/formats.md documents, both ways.
TEST(CustodyEntryTest, KindsAreThoseDocumented) {
  std::ifstream in(std::filesystem::path(__FILE__)
                       .parent_path()
                       .parent_path()
                       .parent_path() /
                   "docs" / "formats.md");
  ASSERT_TRUE(in) << "docs/formats.md";
  std::set<std::string> documented;
  bool in_table = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("### Kinds", 0) == 0) in_table = true;
    if (in_table && line.rfind("## ", 0) == 0) break;
    if (!in_table || line.rfind("| `", 0) != 0) continue;
    documented.insert(line.substr(3, line.find('`', 3) - 3));
  }
  std::set<std::string> coded;
  for (int i = 0;; ++i) {
    std::string_view name = EntryKindName(static_cast<EntryKind>(i));
    if (name.empty()) break;
    coded.insert(std::string(name));
    EXPECT_EQ(*ParseEntryKind(name), static_cast<EntryKind>(i)) << name;
  }
  EXPECT_EQ(coded, documented);
  for (const char* k : {"user.enrolment_issued", "user.enrolled",
                        "case.lead_changed", "case.change_proposed"}) {
    EXPECT_TRUE(coded.count(k)) << k;
  }
}

}  // namespace
}  // namespace amanah
