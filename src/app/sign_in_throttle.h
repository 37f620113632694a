// Sign-in throttling: whether an attempt to sign in as a name from an
// address may go ahead now, or how long it must wait, given the failures
// before it. Pure policy: no I/O, an injected clock, state in memory only
// (a restart forgets it), and a bounded number of records.
//
// Three counters, each forgiving one failure per `forgive_every` without a
// new one:
//  - per name and address: a few free failures, then a delay that doubles
//    up to a cap. This is what slows down guessing one person's password.
//  - per address, over all names: more free failures (an agency's users may
//    share one address), so that one address cannot try a password on many
//    names.
//  - per name, over all addresses: looser, with a short cap, against
//    guessing from many addresses; and not applied to an address that has
//    signed in as that name within `trust_for`, so that failures from
//    elsewhere cannot lock an officer out of their own desk.
// The counters do not depend on whether the name exists, so throttling
// tells nothing about it. An attempt is charged when it begins and refunded
// if it succeeds, so that attempts running at the same time cannot slip
// past the counters.

#ifndef AMANAH_APP_SIGN_IN_THROTTLE_H_
#define AMANAH_APP_SIGN_IN_THROTTLE_H_

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace amanah {

struct ThrottleRule {
  int free_failures;                 // failures with no delay after them
  std::chrono::seconds first_delay;  // after the first failure beyond those
  std::chrono::seconds max_delay;    // the doubling stops here
};

struct SignInThrottleOptions {
  ThrottleRule per_name_and_address{3, std::chrono::seconds(1),
                                    std::chrono::minutes(15)};
  ThrottleRule per_address{10, std::chrono::seconds(1),
                           std::chrono::minutes(15)};
  ThrottleRule per_name{10, std::chrono::seconds(1), std::chrono::minutes(1)};
  std::chrono::seconds forgive_every = std::chrono::minutes(10);
  std::chrono::seconds trust_for = std::chrono::hours(24 * 30);
  // Records kept per counter, and addresses trusted: the oldest go first.
  size_t max_records = 10000;
};

// The part of a peer's address that identifies it to the counters: an IPv4
// address as it is (also when written IPv4-mapped), the /64 an IPv6
// address belongs to (one subscriber has a whole /64), anything else cut to
// 64 bytes.
std::string AddressBlock(std::string_view address);

class SignInThrottle {
 public:
  // A monotonic reading in milliseconds.
  using Clock = std::function<std::chrono::milliseconds()>;
  static std::chrono::milliseconds SteadyClock();

  explicit SignInThrottle(SignInThrottleOptions options = {},
                          Clock clock = SteadyClock);

  // Begins an attempt to sign in as `name` from `address`: zero if it may
  // go ahead, and it then counts as a failure unless Succeeded or Cancelled
  // says otherwise; else how long until an attempt may (at least a second),
  // and nothing is counted.
  std::chrono::seconds Begin(std::string_view name, std::string_view address);
  // The attempt begun had the right password: the failures of this name
  // from this address are forgotten, the attempt is refunded, and the
  // address is trusted for the name.
  void Succeeded(std::string_view name, std::string_view address);
  // The attempt begun was never decided (no password check was made): it
  // is refunded.
  void Cancelled(std::string_view name, std::string_view address);

  // Records held, over all counters and trusted addresses.
  size_t records() const;

 private:
  struct Record {
    int failures = 0;                   // as of `last`
    std::chrono::milliseconds last{};   // the last change
    std::chrono::milliseconds until{};  // no attempt before this
  };
  using Table = std::unordered_map<std::string, Record>;

  int Failures(const Record& r, std::chrono::milliseconds now) const;
  std::chrono::milliseconds Delay(const ThrottleRule& rule, int failures) const;
  void Charge(Table* table, const std::string& key, const ThrottleRule& rule,
              std::chrono::milliseconds now);
  void Refund(Table* table, const std::string& key, const ThrottleRule& rule,
              std::chrono::milliseconds now);
  void MakeRoom(Table* table, std::chrono::milliseconds now);
  void MakeRoomForTrust(std::chrono::milliseconds now);

  const SignInThrottleOptions options_;
  const Clock clock_;
  mutable std::mutex mu_;
  Table by_pair_;     // name '\n' address block
  Table by_address_;  // address block
  Table by_name_;
  std::unordered_map<std::string, std::chrono::milliseconds> trusted_;
};

}  // namespace amanah

#endif  // AMANAH_APP_SIGN_IN_THROTTLE_H_
