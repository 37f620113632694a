#include "base/status.h"

#include <gtest/gtest.h>

#include "base/encoding.h"

namespace amanah {
namespace {

TEST(StatusTest, CodesMapToExitAndHttp) {
  EXPECT_EQ(ExitCodeFor(Code::kOk), 0);
  EXPECT_EQ(HttpStatusFor(Code::kInvalidInput), 400);
  EXPECT_EQ(HttpStatusFor(Code::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(Code::kConflict), 409);
  EXPECT_EQ(HttpStatusFor(Code::kPermission), 403);
  EXPECT_EQ(HttpStatusFor(Code::kTooManyRequests), 429);
  EXPECT_EQ(ExitCodeFor(Code::kTooManyRequests), 11);
  EXPECT_EQ(CodeName(Code::kTooManyRequests), "too many requests");
  EXPECT_NE(ExitCodeFor(Code::kCorruption), ExitCodeFor(Code::kIO));
  Status s = Status::NotFound("x").Annotate("opening node");
  EXPECT_EQ(s.ToString(), "not found: opening node: x");
  // A message that starts with the context already is left as it is.
  EXPECT_EQ(Status::IOError("/a/b: gone").Annotate("/a/b").message(),
            "/a/b: gone");
  EXPECT_EQ(Status::IOError("/a/b.partial: gone").Annotate("/a/b").message(),
            "/a/b: /a/b.partial: gone");
}

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidInput("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, ResultPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), Code::kInvalidInput);
}

TEST(EncodingTest, HexRoundTrip) {
  Bytes b = {0x00, 0xab, 0xff};
  EXPECT_EQ(HexEncode(b), "00abff");
  EXPECT_EQ(*HexDecode("00ABff"), b);
  EXPECT_FALSE(HexDecode("0").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

TEST(EncodingTest, Base64Strict) {
  EXPECT_EQ(Base64Encode(AsBytes("hello")), "aGVsbG8=");
  EXPECT_EQ(AsString(*Base64Decode("aGVsbG8=")), "hello");
  EXPECT_FALSE(Base64Decode("aGVsbG8").ok());
  EXPECT_FALSE(Base64Decode("aGVsbG9=").ok());  // non-canonical bits
  EXPECT_FALSE(Base64Decode("aGVs bG8=").ok());
}

}  // namespace
}  // namespace amanah
