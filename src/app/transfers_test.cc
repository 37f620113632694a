// The Amanah-Pull header (CheckPullAuthorization): who may pull an object.

#include "app/transfers.h"

#include <gtest/gtest.h>

#include "app/peers.h"
#include "app/testutil.h"

namespace amanah {
namespace {

class PullHeaderTest : public testutil::NodeFixture {
 protected:
  void SetUp() override {
    NodeFixture::SetUp();
    std::string data = (dir_ / "peer").string();
    auto info = Node::Init(&env_, data, "cyber.doj.example");
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    auto peer = Node::Open(&env_, data);
    ASSERT_TRUE(peer.ok()) << peer.status().ToString();
    peer_ = std::move(peer).value();
    ASSERT_TRUE(PeerBook(node_.get())
                    .Add("local:a", "cyber.doj.example", "http://127.0.0.1:9",
                         info->verifier_key, "")
                    .ok());
  }
  void TearDown() override {
    peer_.reset();
    NodeFixture::TearDown();
  }
  std::unique_ptr<Node> peer_;
};

// The time is ASCII digits only: a byte above 0x7f (a negative char, which
// the C <ctype.h> functions may not be given) or a digit of another script
// is refused as not unix seconds, before any signature is looked at.
TEST_F(PullHeaderTest, TheTimeIsAsciiDigitsOnly) {
  const std::string address = "sha256:" + std::string(64, 'a');
  std::string valid = PullAuthorization(*peer_, "ccd.moi.gov.kw", address);
  auto who = CheckPullAuthorization(node_.get(), valid, address);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(*who, "cyber.doj.example");

  size_t a = valid.find(' '), b = valid.rfind(' ');
  std::string now = valid.substr(a + 1, b - a - 1);
  std::string sig = valid.substr(b + 1);
  for (const std::string& when :
       {now.substr(0, 9) + "\xb2", "\xff" + now.substr(1), now + "\x80",
        std::string("\xd9\xa1\xd9\xa7"),  // Arabic-Indic 1 7
        "+" + now.substr(1), "-" + now.substr(1), now.substr(0, 9) + "a"}) {
    auto r = CheckPullAuthorization(
        node_.get(), "cyber.doj.example " + when + " " + sig, address);
    EXPECT_EQ(r.status().code(), Code::kPermission) << when;
    EXPECT_NE(r.status().message().find("not unix seconds"), std::string::npos)
        << r.status().message();
  }
}

}  // namespace
}  // namespace amanah
