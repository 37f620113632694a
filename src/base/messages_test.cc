#include "base/messages.h"

#include <gtest/gtest.h>

#include "base/json_writer.h"

namespace amanah {
namespace {

TEST(MessagesTest, EveryCodeHasBothLanguages) {
  for (int c = 0; c <= static_cast<int>(Code::kTooManyRequests); ++c) {
    Code code = static_cast<Code>(c);
    std::string_view en = CodeTitle(code, Lang::kEnglish);
    std::string_view ar = CodeTitle(code, Lang::kArabic);
    EXPECT_NE(en, "Error") << c;
    EXPECT_NE(ar, "خطأ") << c;
    EXPECT_NE(en, ar);
    EXPECT_TRUE(IsValidUtf8(ar));
    // Arabic text starts with a letter of the Arabic block (U+0600..U+06FF).
    ASSERT_GE(ar.size(), 2u);
    EXPECT_TRUE(static_cast<unsigned char>(ar[0]) == 0xD8 ||
                static_cast<unsigned char>(ar[0]) == 0xD9)
        << c;
  }
}

TEST(MessagesTest, AcceptLanguage) {
  EXPECT_EQ(LangFromAcceptLanguage(""), Lang::kEnglish);
  EXPECT_EQ(LangFromAcceptLanguage("ar-KW,ar;q=0.9,en;q=0.8"), Lang::kArabic);
  EXPECT_EQ(LangFromAcceptLanguage("en-US, ar"), Lang::kEnglish);
  EXPECT_EQ(LangFromAcceptLanguage("fr, ar"), Lang::kArabic);
  EXPECT_EQ(LangFromAcceptLanguage("fr"), Lang::kEnglish);
}

}  // namespace
}  // namespace amanah
