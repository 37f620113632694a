// Peer URLs: parsed, not matched by prefix; plain http only to loopback.

#include "app/peers.h"

#include <gtest/gtest.h>

#include "app/testutil.h"

namespace amanah {
namespace {

TEST(PeerUrlTest, LoopbackIsDecidedOnTheAddress) {
  for (const char* host : {"localhost", "127.0.0.1", "127.255.0.9", "::1",
                           "[::1]", "0:0:0:0:0:0:0:1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host :
       {"127.attacker.example", "127.0.0.1.attacker.example", "127.1",
        "127.0.0.01", "128.0.0.1", "10.0.0.7", "0.0.0.0", "::2", "[::2]",
        "::ffff:10.0.0.1", "localhost.attacker.example", "", "[]"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(PeerUrlTest, ParsesSchemeHostAndPort) {
  auto u = ParsePeerUrl("https://cyber.doj.example:8470");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "cyber.doj.example");
  EXPECT_EQ(u->port, 8470);
  u = ParsePeerUrl("http://[::1]:9");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9);
  u = ParsePeerUrl("https://10.0.0.7");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "10.0.0.7");
  EXPECT_EQ(u->port, 0);
}

TEST(PeerUrlTest, RefusesWhatIsNotSchemeHostPort) {
  for (const char* url : {"ftp://h",
                          "HTTP://h",
                          "https:/h",
                          "https://",
                          "https://:80",
                          "https://h:",
                          "https://h:0",
                          "https://h:65536",
                          "https://h:+80",
                          "https://h:80a",
                          "https://h/",
                          "https://h:1/path",
                          "https://h?q",
                          "https://h#f",
                          "https://h\\x",
                          "https://h h",
                          "https://h%2e",
                          "https://-h.example",
                          "https://h..example",
                          "https://h.example.",
                          "https://h_x.example",
                          "https://[::1",
                          "https://[::1]x",
                          "https://[::1]:",
                          "https://[127.0.0.1]",
                          "https://[fe80::1%25eth0]",
                          "https://127.1",
                          "https://2130706433",
                          "https://0x7f.0.0.1",
                          "https://0x7f000001",
                          "https://127.0.0.01",
                          "https://h:1:2",
                          "https://\xd9\x83.example"}) {
    auto u = ParsePeerUrl(url);
    EXPECT_EQ(u.status().code(), Code::kInvalidInput) << url;
  }
  EXPECT_EQ(ParsePeerUrl("https://" + std::string(2050, 'a')).status().code(),
            Code::kInvalidInput);
}

TEST(PeerUrlTest, RefusesUserinfoWithoutEchoingIt) {
  for (const char* url :
       {"http://127.0.0.1@evil.example",
        "https://alice:s3cret@peer.example:8470", "http://@127.0.0.1"}) {
    auto u = ParsePeerUrl(url);
    EXPECT_EQ(u.status().code(), Code::kInvalidInput) << url;
    EXPECT_NE(u.status().message().find("user name or password"),
              std::string::npos)
        << u.status().message();
    EXPECT_EQ(u.status().message().find("s3cret"), std::string::npos);
  }
}

class PeerBookUrlTest : public testutil::NodeFixture {
 protected:
  void SetUp() override {
    NodeFixture::SetUp();
    key_ = FormatVerifierKey("other.example/custody", kNoteKeyTypeEd25519,
                             Ed25519PrivateKey::Generate().public_key());
  }
  Result<Peer> Add(const std::string& url) {
    return PeerBook(node_.get()).Add("local:a", "other.example", url, key_, "");
  }
  std::string key_;
};

TEST_F(PeerBookUrlTest, PlainHttpOnlyToALoopbackAddress) {
  uint64_t before = LogSize();
  for (const char* url :
       {"http://127.attacker.example", "http://127.attacker.example:8470",
        "http://127.0.0.1.attacker.example",
        "http://localhost.attacker.example", "http://127.0.0.1@evil.example",
        "http://127.1:8470", "http://[::2]:1", "http://10.0.0.7:8470"}) {
    auto r = Add(url);
    EXPECT_EQ(r.status().code(), Code::kInvalidInput) << url;
  }
  EXPECT_NE(Add("http://127.attacker.example")
                .status()
                .message()
                .find("for loopback only"),
            std::string::npos);
  EXPECT_EQ(LogSize(), before);  // nothing pinned, nothing recorded
  for (const char* url :
       {"http://127.0.0.1:8470", "http://127.9.8.7", "http://localhost:1",
        "http://[::1]:8470", "https://127.attacker.example:8470"}) {
    auto r = Add(url);
    EXPECT_TRUE(r.ok()) << url << ": " << r.status().ToString();
    ASSERT_TRUE(PeerBook(node_.get()).Remove("local:a", "other.example").ok());
  }
}

}  // namespace
}  // namespace amanah
