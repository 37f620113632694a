#include "app/sign_in_throttle.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace amanah {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

class SignInThrottleTest : public ::testing::Test {
 protected:
  SignInThrottle Make(SignInThrottleOptions o = {}) {
    return SignInThrottle(o, [this] { return now_; });
  }
  // `n` failed attempts, each allowed to go ahead.
  void Fail(SignInThrottle& t, std::string_view name, std::string_view address,
            int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(t.Begin(name, address), seconds(0)) << i;
    }
  }

  milliseconds now_{1000000};
};

TEST_F(SignInThrottleTest, DelaysDoubleAfterTheFreeFailuresUpToTheCap) {
  SignInThrottle t = Make();
  Fail(t, "alice", "192.0.2.1", 3);
  // The fourth failure makes the next attempt wait a second, then two,
  // four... each attempt made as soon as it may.
  ASSERT_EQ(t.Begin("alice", "192.0.2.1"), seconds(0));
  std::vector<int64_t> waits;
  for (int i = 0; i < 14; ++i) {
    seconds wait = t.Begin("alice", "192.0.2.1");
    waits.push_back(wait.count());
    now_ += wait;
    ASSERT_EQ(t.Begin("alice", "192.0.2.1"), seconds(0));
  }
  EXPECT_EQ(waits, (std::vector<int64_t>{1, 2, 4, 8, 16, 32, 64, 128, 256, 512,
                                         900, 900, 900, 900}));
  // Refused attempts count for nothing and say how long is left.
  now_ += seconds(100);
  EXPECT_EQ(t.Begin("alice", "192.0.2.1"), seconds(800));
  now_ += milliseconds(799500);
  EXPECT_EQ(t.Begin("alice", "192.0.2.1"), seconds(1));  // rounded up
}

TEST_F(SignInThrottleTest, OneNameFromOneAddressDoesNotSlowOthers) {
  SignInThrottle t = Make();
  Fail(t, "alice", "192.0.2.1", 4);
  EXPECT_GT(t.Begin("alice", "192.0.2.1"), seconds(0));
  // The same name from elsewhere, another name from the same address.
  EXPECT_EQ(t.Begin("alice", "192.0.2.2"), seconds(0));
  EXPECT_EQ(t.Begin("bob", "192.0.2.1"), seconds(0));
}

TEST_F(SignInThrottleTest, OneAddressTryingManyNamesIsSlowed) {
  SignInThrottle t = Make();
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(t.Begin("user" + std::to_string(i), "192.0.2.1"), seconds(0));
  }
  ASSERT_EQ(t.Begin("user10", "192.0.2.1"), seconds(0));
  EXPECT_EQ(t.Begin("user11", "192.0.2.1"), seconds(1));
  EXPECT_EQ(t.Begin("user11", "192.0.2.2"), seconds(0));
}

// The same name tried from many addresses is slowed for addresses that
// never signed in as it, with a short cap; its owner's usual address is
// not slowed at all.
TEST_F(SignInThrottleTest, FailuresFromElsewhereDoNotLockOutTheUsualAddress) {
  SignInThrottle t = Make();
  ASSERT_EQ(t.Begin("officer", "10.0.0.7"), seconds(0));
  t.Succeeded("officer", "10.0.0.7");
  for (int i = 0; i < 40; ++i) {
    std::string attacker = "198.51.100." + std::to_string(i);
    seconds wait = t.Begin("officer", attacker);
    now_ += wait;
    if (wait.count() > 0) {
      ASSERT_EQ(t.Begin("officer", attacker), seconds(0));
    }
    EXPECT_LE(wait, seconds(60));
  }
  EXPECT_EQ(t.Begin("officer", "203.0.113.9"), seconds(60));  // a new desk
  // At 3 a.m., from the usual desk: at once, and a typo or two too.
  ASSERT_EQ(t.Begin("officer", "10.0.0.7"), seconds(0));
  ASSERT_EQ(t.Begin("officer", "10.0.0.7"), seconds(0));
  EXPECT_EQ(t.Begin("officer", "10.0.0.7"), seconds(0));
  t.Succeeded("officer", "10.0.0.7");
  // Trust lapses.
  now_ += seconds(60) + std::chrono::hours(24 * 31);
  for (int i = 0; i < 11; ++i) {
    Fail(t, "officer", "198.51.100." + std::to_string(100 + i), 1);
  }
  EXPECT_EQ(t.Begin("officer", "10.0.0.7"), seconds(1));
}

TEST_F(SignInThrottleTest, SuccessForgetsThePairsFailuresAndIsRefunded) {
  SignInThrottle t = Make();
  Fail(t, "alice", "192.0.2.1", 4);
  now_ += seconds(1);
  ASSERT_EQ(t.Begin("alice", "192.0.2.1"), seconds(0));
  t.Succeeded("alice", "192.0.2.1");
  // Three free failures again.
  Fail(t, "alice", "192.0.2.1", 3);
  ASSERT_EQ(t.Begin("alice", "192.0.2.1"), seconds(0));
  EXPECT_EQ(t.Begin("alice", "192.0.2.1"), seconds(1));
}

TEST_F(SignInThrottleTest, AttemptsAreChargedWhenTheyBegin) {
  // Four attempts at once: the fourth already makes the fifth wait.
  SignInThrottle t = Make();
  Fail(t, "alice", "192.0.2.1", 4);
  EXPECT_EQ(t.Begin("alice", "192.0.2.1"), seconds(1));
  // An undecided attempt is refunded.
  t.Cancelled("alice", "192.0.2.1");
  EXPECT_EQ(t.Begin("alice", "192.0.2.1"), seconds(0));
}

TEST_F(SignInThrottleTest, FailuresAreForgivenOverQuietTime) {
  SignInThrottle t = Make();
  Fail(t, "alice", "192.0.2.1", 3);
  now_ += minutes(20);  // two forgiven
  Fail(t, "alice", "192.0.2.1", 2);
  ASSERT_EQ(t.Begin("alice", "192.0.2.1"), seconds(0));  // the fourth
  EXPECT_EQ(t.Begin("alice", "192.0.2.1"), seconds(1));
  // After 40 quiet minutes all four are forgiven.
  now_ += minutes(40);
  Fail(t, "alice", "192.0.2.1", 4);
  EXPECT_EQ(t.Begin("alice", "192.0.2.1"), seconds(1));
}

// Many names and addresses, each new: the records stay within the bound,
// the oldest going first.
TEST_F(SignInThrottleTest, MemoryStaysBounded) {
  SignInThrottleOptions o;
  o.max_records = 100;
  SignInThrottle t = Make(o);
  for (int i = 0; i < 5000; ++i) {
    std::string name = "n" + std::to_string(i);
    std::string address = "10." + std::to_string(i / 256 % 256) + "." +
                          std::to_string(i % 256) + ".1";
    now_ += milliseconds(1);
    (void)t.Begin(name, address);
    if (i % 7 == 0) t.Succeeded(name, address);
    EXPECT_LE(t.records(), 400u);
  }
  // The newest records are kept.
  for (int i = 0; i < 2; ++i) (void)t.Begin("n4999", "10.19.135.1");
  EXPECT_EQ(t.Begin("n4999", "10.19.135.1"), seconds(0));
  EXPECT_EQ(t.Begin("n4999", "10.19.135.1"), seconds(1));
}

TEST_F(SignInThrottleTest, AddressBlocks) {
  EXPECT_EQ(AddressBlock("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(AddressBlock("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(AddressBlock("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressBlock("2001:db8:1:2::ffff"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressBlock(""), "");
  EXPECT_EQ(AddressBlock(std::string(100, 'x')), std::string(64, 'x'));
  // One IPv6 subscriber's /64 is one address to the counters.
  SignInThrottle t = Make();
  for (int i = 0; i < 11; ++i) {
    ASSERT_EQ(t.Begin("u" + std::to_string(i),
                      "2001:db8:0:1::" + std::to_string(i + 1)),
              seconds(0));
  }
  EXPECT_EQ(t.Begin("u99", "2001:db8:0:1::abcd"), seconds(1));
  EXPECT_EQ(t.Begin("u99", "2001:db8:0:2::abcd"), seconds(0));
}

}  // namespace
}  // namespace amanah
