#include "ledger/disclosure.h"

#include <gtest/gtest.h>

#include "base/json_writer.h"
#include "crypto/hash.h"

namespace amanah {
namespace {

// Deterministic "random" bytes for golden vectors: 0xa0, 0xa1, ...
RandomFn Counter() {
  auto next = std::make_shared<uint8_t>(0xa0);
  return [next](uint8_t* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = (*next)++;
  };
}

Bytes Secret() {
  Bytes s(kCaseSecretSize);
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(i + 1);
  return s;
}

CustodyEntry CaseOpened() {
  CustodyEntry e;
  e.kind = EntryKind::kCaseOpened;
  e.time_unix_micros = 1796601600000000;  // 2026-12-07T00:00:00.000000Z
  e.node = "ccd.moi.gov.kw";
  e.actor = "user:alice";
  e.case_id = "KW-2026-0042";
  e.subject = "case:KW-2026-0042";
  e.data = {{"title", "شبكة تصيد"},
            {"offence", "fraud"},
            {"legal_basis", "UNTOC art. 18"}};
  return e;
}

// RFC 4231 test case 2: the HMAC the derived salts are made with.
TEST(DisclosureTest, HmacSha256MatchesRfc4231) {
  Hash256 mac = HmacSha256(
      AsBytes("Jefe"), {AsBytes("what do ya want "), AsBytes("for nothing?")});
  EXPECT_EQ(HexEncode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// Golden: the exact bytes of a sealed entry and its disclosures. These are
// hashed into logs that courts and peers keep: they must never change. The
// bytes were reproduced independently (Python's hashlib and hmac, following
// docs/formats.md), not only by this code.
TEST(DisclosureTest, GoldenSealedEntry) {
  Bytes secret = Secret();
  auto sealed = SealCustodyEntry(CaseOpened(), secret, Counter());
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  ASSERT_EQ(sealed->disclosures.size(), 6u);
  // The actor's salt comes first from the random source, then the data
  // fields' in key order; the case's and subject's are derived.
  EXPECT_EQ(sealed->disclosures[0],
            "[\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\",\"actor\",\"user:alice\"]");
  EXPECT_EQ(sealed->disclosures[3],
            "[\"b0b1b2b3b4b5b6b7b8b9babbbcbdbebf\",\"legal_basis\","
            "\"UNTOC art. 18\"]");
  EXPECT_EQ(sealed->disclosures[5],
            "[\"d0d1d2d3d4d5d6d7d8d9dadbdcdddedf\",\"title\","
            "\"شبكة تصيد\"]");
  std::string case_salt = HexEncode(ByteView(
      HmacSha256(secret, {AsBytes("amanah-salt/v1\ncase\nKW-2026-0042")})
          .data(),
      16));
  EXPECT_EQ(sealed->disclosures[1],
            "[\"" + case_salt + "\",\"case\",\"KW-2026-0042\"]");
  EXPECT_EQ(CaseDigest(secret, "KW-2026-0042"),
            "sd:" + DisclosureDigest(sealed->disclosures[1]));
  EXPECT_EQ(
      sealed->bytes,
      std::string(
          "{\"v\":2,\"kind\":\"case.opened\",\"time\":\"2026-12-07T00:00:"
          "00.000000Z\",\"node\":\"ccd.moi.gov.kw\",\"actor\":\"sd:"
          "e7ab9e032cbec85788111814b5f677eef7b9079bd75c6b23d6df621b14157858"
          "\",\"case\":\"sd:"
          "6f74f1c31b3791a55ebf06a8d88f4115e7ad8e355c2e97c8ac9b0b2378dbd08f"
          "\",\"subject\":\"sd:"
          "ac010b8b8fe79050e8a99a0808dfbc3f8ecf05a8350ac20a4695003ff26bdad1"
          "\",\"data\":{\"sd\":[\""
          "53a40950eb2afad531953690874b28636524b8a44c31aa6f0817a28d65960e3d"
          "\",\""
          "9bf3294bc2cb1cb97f2917149a38f7b180f8de4f5b5e2f3b37a072a723b29681"
          "\",\""
          "b3056c64a797f1e405c683cc3d3403cd5c85f70c986e244c1310d99af86ef0b9"
          "\"]}}"));
  // Nothing of the case is in the entry.
  for (const char* text : {"alice", "KW-2026", "تصيد", "UNTOC", "fraud"}) {
    EXPECT_EQ(sealed->bytes.find(text), std::string::npos) << text;
  }
}

TEST(DisclosureTest, OpensWhatIsDisclosedAndNothingElse) {
  auto sealed = SealCustodyEntry(CaseOpened(), Secret(), Counter());
  ASSERT_TRUE(sealed.ok());
  auto all = OpenCustodyEntry(sealed->bytes, sealed->disclosures);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  CustodyEntry want = CaseOpened();
  EXPECT_EQ(all->entry.actor, want.actor);
  EXPECT_EQ(all->entry.case_id, want.case_id);
  EXPECT_EQ(all->entry.subject, want.subject);
  EXPECT_EQ(all->entry.data, want.data);
  EXPECT_EQ(all->undisclosed, 0u);

  auto some = SelectDisclosures(sealed->disclosures, [](std::string_view n) {
    return n == "subject" || n == "offence";
  });
  ASSERT_EQ(some.size(), 2u);
  auto part = OpenCustodyEntry(sealed->bytes, some);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(part->entry.subject, want.subject);
  EXPECT_EQ(part->entry.actor.substr(0, 3), "sd:");
  EXPECT_EQ(part->entry.case_id.substr(0, 3), "sd:");
  EXPECT_EQ(part->entry.data, (nlohmann::json{{"offence", "fraud"}}));
  EXPECT_EQ(part->undisclosed, 2u);
}

TEST(DisclosureTest, RefusesDisclosuresThatDoNotMatch) {
  auto sealed = SealCustodyEntry(CaseOpened(), Secret(), Counter());
  ASSERT_TRUE(sealed.ok());
  const auto& d = sealed->disclosures;
  // Another value under the same salt: its digest is in no entry.
  std::string forged = d[5];
  forged.replace(forged.find("شبكة"), 8, "XXXXXXXX");
  EXPECT_FALSE(OpenCustodyEntry(sealed->bytes, {forged}).ok());
  // Twice the same.
  EXPECT_FALSE(OpenCustodyEntry(sealed->bytes, {d[2], d[2]}).ok());
  // Not canonical (a space), not a disclosure, a short salt.
  std::string spaced = d[2];
  spaced.insert(1, " ");
  EXPECT_FALSE(OpenCustodyEntry(sealed->bytes, {spaced}).ok());
  EXPECT_FALSE(OpenCustodyEntry(sealed->bytes, {"{}"}).ok());
  EXPECT_FALSE(ParseDisclosure("[\"00\",\"x\",1]").ok());
  // A disclosure of another entry of the same case: its case digest is the
  // same (derived salt), but a data field's is not.
  auto other = SealCustodyEntry(CaseOpened(), Secret(), Counter());
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(OpenCustodyEntry(sealed->bytes, {other->disclosures[1]}).ok());
  CustodyEntry changed = CaseOpened();
  changed.data["title"] = "another";
  auto third = SealCustodyEntry(changed, Secret(), [](uint8_t* o, size_t n) {
    for (size_t i = 0; i < n; ++i) o[i] = 0x11;
  });
  ASSERT_TRUE(third.ok());
  // Its actor and data fields have other salts; its subject is derived, so
  // the same.
  for (size_t i : {0, 3, 4, 5}) {
    EXPECT_FALSE(OpenCustodyEntry(sealed->bytes, {third->disclosures[i]}).ok());
  }
}

TEST(DisclosureTest, CaseAndSubjectDigestsAreStablePerCaseOnly) {
  CustodyEntry a = CaseOpened();
  a.kind = EntryKind::kEvidenceIngested;
  a.subject = "sha256:" + std::string(64, 'e');
  a.data = {{"size", 1}};
  auto one = SealCustodyEntry(a, Secret(), Counter());
  auto two = SealCustodyEntry(a, Secret(), [](uint8_t* o, size_t n) {
    for (size_t i = 0; i < n; ++i) o[i] = 0x42;
  });
  ASSERT_TRUE(one.ok() && two.ok());
  auto p1 = ParseCustodyEntry(one->bytes);
  auto p2 = ParseCustodyEntry(two->bytes);
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_EQ(p1->case_id, p2->case_id);
  EXPECT_EQ(p1->subject, p2->subject);
  EXPECT_NE(p1->actor, p2->actor);  // random salt: unlinkable
  // The same object in another case: nothing links the two.
  Bytes other = Secret();
  other[0] ^= 1;
  auto three = SealCustodyEntry(a, other, Counter());
  ASSERT_TRUE(three.ok());
  auto p3 = ParseCustodyEntry(three->bytes);
  ASSERT_TRUE(p3.ok());
  EXPECT_NE(p1->case_id, p3->case_id);
  EXPECT_NE(p1->subject, p3->subject);
}

TEST(DisclosureTest, ClearEntriesTakeNoDisclosures) {
  CustodyEntry e;
  e.kind = EntryKind::kUserAdded;
  e.actor = "local:root";
  e.subject = "user:bob";
  e.data = {{"role", "investigator"}};
  std::string bytes = FormatCustodyEntry(e);
  EXPECT_EQ(bytes.substr(0, 7), "{\"v\":2,");
  auto opened = OpenCustodyEntry(bytes, {});
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->entry.subject, "user:bob");
  EXPECT_FALSE(
      OpenCustodyEntry(bytes, {"[\"" + std::string(32, '0') + "\",\"x\",1]"})
          .ok());
  // A version 2 entry about a case is never in clear, and one without a
  // case never half sealed.
  CustodyEntry half = CaseOpened();
  EXPECT_FALSE(ParseCustodyEntry(FormatCustodyEntry(half)).ok());
  e.subject = "sd:" + std::string(64, 'a');
  EXPECT_FALSE(ParseCustodyEntry(FormatCustodyEntry(e)).ok());
  // Version 1 entries (in clear, with a case) are still read.
  half.version = 1;
  auto v1 = OpenCustodyEntry(FormatCustodyEntry(half), {});
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->entry.case_id, "KW-2026-0042");
  // A data field cannot be called "sd".
  CustodyEntry bad = CaseOpened();
  bad.data["sd"] = 1;
  EXPECT_FALSE(SealCustodyEntry(bad, Secret(), Counter()).ok());
}

// Found by fuzz/disclosure_fuzz.cc's round trip: a data field named as one
// of the entry's own fields, or with no name, sealed to disclosures that
// OpenCustodyEntry refuses, so the entry could never be opened again. It
// is refused when sealed.
TEST(DisclosureTest, SealsOnlyDataFieldsItCanOpen) {
  for (const char* name : {"actor", "case", "subject", "sd", ""}) {
    CustodyEntry bad = CaseOpened();
    bad.data[name] = "x";
    auto sealed = SealCustodyEntry(bad, Secret(), Counter());
    EXPECT_EQ(sealed.status().code(), Code::kInvalidInput) << name;
  }
  CustodyEntry fine = CaseOpened();
  fine.data["actors"] = "x";
  auto sealed = SealCustodyEntry(fine, Secret(), Counter());
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  auto opened = OpenCustodyEntry(sealed->bytes, sealed->disclosures);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->entry.data, fine.data);
}

// Nesting: a disclosure or an entry is at most 64 KiB, enough for 32,000
// levels of arrays, which nlohmann::json copies and compares recursively
// (a stack overflow in a verifier given such a bundle, or in a node given
// such a manifest). Both refuse more than kMaxJsonDepth levels.
TEST(DisclosureTest, DeepNestingIsRefused) {
  auto nested = [](size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  std::string salt(32, '0');
  std::string deep = "[\"" + salt + "\",\"x\"," + nested(30000) + "]";
  ASSERT_LE(deep.size(), kMaxDisclosureSize);
  auto d = ParseDisclosure(deep);
  EXPECT_EQ(d.status().code(), Code::kCorruption);
  EXPECT_NE(d.status().message().find("nested"), std::string::npos)
      << d.status().message();
  // The deepest allowed: the disclosure's own array and its value's.
  std::string ok = "[\"" + salt + "\",\"x\"," + nested(kMaxJsonDepth - 1) + "]";
  EXPECT_TRUE(ParseDisclosure(ok).ok());
  EXPECT_FALSE(
      ParseDisclosure("[\"" + salt + "\",\"x\"," + nested(kMaxJsonDepth) + "]")
          .ok());
  // Brackets in strings are text.
  EXPECT_TRUE(
      ParseDisclosure("[\"" + salt + "\",\"x\",\"" + nested(100) + "\"]").ok());

  CustodyEntry e;
  e.kind = EntryKind::kUserAdded;
  e.actor = "local:root";
  e.subject = "user:bob";
  std::string bytes = FormatCustodyEntry(e);
  std::string deep_entry =
      bytes.substr(0, bytes.size() - 2) + "\"x\":" + nested(30000) + "}}";
  ASSERT_LE(deep_entry.size(), 65535u);
  auto parsed = ParseCustodyEntry(deep_entry);
  EXPECT_EQ(parsed.status().code(), Code::kCorruption);
  EXPECT_FALSE(OpenCustodyEntry(deep_entry, {}).ok());
}

}  // namespace
}  // namespace amanah
