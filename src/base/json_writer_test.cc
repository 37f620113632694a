#include "base/json_writer.h"

#include <gtest/gtest.h>

#include <random>

namespace amanah {
namespace {

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
std::string Written(const nlohmann::json& j) {
  std::string out;
  AppendJson(&out, j);
  return out;
}

TEST(JsonWriterTest, SameBytesAsNlohmannOnKnownCases) {
  const nlohmann::json cases[] = {
      nullptr,
      true,
      false,
      0,
      -1,
      INT64_MIN,
      UINT64_MAX,
      1.5,
      1e300,
      "",
      "plain",
      "quote \" backslash \\ slash /",
      std::string("\0\x01\x1f\x7f", 4),
      "\b\f\n\r\t",
      "العربية and English",
      "\xF0\x9F\x94\x92 lock",
      "bad \xC3 utf-8",
      "overlong \xC0\xAF",
      "surrogate \xED\xA0\x80",
      nlohmann::json::object(),
      nlohmann::json::array(),
      {{"b", 1}, {"a", {{"z", nullptr}, {"y", {1, 2, "x"}}}}},
  };
  for (const auto& j : cases) EXPECT_EQ(Written(j), Dump(j)) << Dump(j);
}

TEST(JsonWriterTest, SameBytesAsNlohmannOnRandomStrings) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    // Past 8 bytes too: plain runs are scanned eight bytes at a time.
    std::string s(rng() % 40, '\0');
    for (auto& c : s) {
      // Mostly bytes that make UTF-8 interesting.
      static const unsigned char kPool[] = {
          0x00, 0x1f, 0x20, 0x22, 0x41, 0x5c, 0x7f, 0x80, 0xbf, 0xc2,
          0xc0, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x90};
      switch (rng() % 4) {
        case 0:
          c = static_cast<char>(rng() % 256);
          break;
        case 1:
          c = static_cast<char>(kPool[rng() % sizeof(kPool)]);
          break;
        default:  // plain, so that runs of it are common
          c = static_cast<char>(0x20 + rng() % 0x60);
      }
    }
    nlohmann::json j = {{s, s}};
    ASSERT_EQ(Written(j), Dump(j)) << i;
  }
}

TEST(JsonWriterTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("\xD8\xA7"));           // alef
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\x80"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xD8"));              // truncated
}

TEST(JsonWriterTest, DepthCountsBracketsOutsideStrings) {
  EXPECT_TRUE(JsonDepthAtMost("", 0));
  EXPECT_TRUE(JsonDepthAtMost("1", 0));
  EXPECT_FALSE(JsonDepthAtMost("[]", 0));
  EXPECT_TRUE(JsonDepthAtMost("[[],{},[]]", 2));
  EXPECT_FALSE(JsonDepthAtMost("[[],{\"a\":[]}]", 2));
  EXPECT_TRUE(JsonDepthAtMost("[\"[[[[\"]", 1));
  EXPECT_TRUE(JsonDepthAtMost("[\"\\\"[[[\"]", 1));   // ["\"[[["]
  EXPECT_FALSE(JsonDepthAtMost("[\"\\\\\"[[]]", 2));  // ["\\"[[]]
  // Closers beyond the openers are not credit for later openers.
  EXPECT_FALSE(JsonDepthAtMost("]]]][[", 1));
  std::string deep(kMaxJsonDepth, '[');
  EXPECT_TRUE(JsonDepthAtMost(deep, kMaxJsonDepth));
  EXPECT_FALSE(JsonDepthAtMost(deep + "{", kMaxJsonDepth));
}

}  // namespace
}  // namespace amanah
