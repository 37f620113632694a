#include "app/sign_in_throttle.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace amanah {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Erases the oldest tenth (at least one) of `table`'s entries, by `age`.
template <typename Map, typename Age>
void EvictOldest(Map* table, Age age) {
  std::vector<std::pair<milliseconds, std::string>> order;
  order.reserve(table->size());
  for (const auto& [key, value] : *table) order.emplace_back(age(value), key);
  size_t n = std::max<size_t>(1, order.size() / 10);
  std::nth_element(order.begin(), order.begin() + (n - 1), order.end());
  for (size_t i = 0; i < n; ++i) table->erase(order[i].second);
}

}  // namespace

std::string AddressBlock(std::string_view address) {
  std::string s(address.substr(0, 64));
  in_addr v4;
  in6_addr v6;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) return s;
  if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return s;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4, v6.s6_addr + 12, 4);
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &v4, text, sizeof(text));
    return text;
  }
  std::memset(v6.s6_addr + 8, 0, 8);
  char text[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &v6, text, sizeof(text));
  return std::string(text) + "/64";
}

milliseconds SignInThrottle::SteadyClock() {
  return std::chrono::duration_cast<milliseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
}

SignInThrottle::SignInThrottle(SignInThrottleOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {}

int SignInThrottle::Failures(const Record& r, milliseconds now) const {
  milliseconds every = options_.forgive_every;
  if (every.count() <= 0 || now <= r.last) return r.failures;
  int64_t forgiven = (now - r.last) / every;
  return forgiven >= r.failures ? 0 : r.failures - static_cast<int>(forgiven);
}

milliseconds SignInThrottle::Delay(const ThrottleRule& rule,
                                   int failures) const {
  if (failures <= rule.free_failures) return milliseconds(0);
  int doublings = failures - rule.free_failures - 1;
  milliseconds max = rule.max_delay;
  if (doublings >= 40) return max;
  return std::min<milliseconds>(rule.first_delay * (int64_t{1} << doublings),
                                max);
}

void SignInThrottle::MakeRoom(Table* table, milliseconds now) {
  if (table->size() < options_.max_records) return;
  for (auto it = table->begin(); it != table->end();) {
    bool spent = Failures(it->second, now) == 0 && it->second.until <= now;
    it = spent ? table->erase(it) : std::next(it);
  }
  if (table->size() < options_.max_records) return;
  EvictOldest(table, [](const Record& r) { return r.last; });
}

void SignInThrottle::MakeRoomForTrust(milliseconds now) {
  if (trusted_.size() < options_.max_records) return;
  for (auto it = trusted_.begin(); it != trusted_.end();) {
    it = now - it->second >= options_.trust_for ? trusted_.erase(it)
                                                : std::next(it);
  }
  if (trusted_.size() < options_.max_records) return;
  EvictOldest(&trusted_, [](milliseconds since) { return since; });
}

void SignInThrottle::Charge(Table* table, const std::string& key,
                            const ThrottleRule& rule, milliseconds now) {
  auto it = table->find(key);
  if (it == table->end()) {
    MakeRoom(table, now);
    it = table->emplace(key, Record{}).first;
  }
  Record& r = it->second;
  r.failures = Failures(r, now) + 1;
  r.last = now;
  r.until = std::max(r.until, now + Delay(rule, r.failures));
}

void SignInThrottle::Refund(Table* table, const std::string& key,
                            const ThrottleRule& rule, milliseconds now) {
  auto it = table->find(key);
  if (it == table->end()) return;
  Record& r = it->second;
  r.failures = std::max(Failures(r, now) - 1, 0);
  r.last = now;
  r.until = std::min(r.until, now + Delay(rule, r.failures));
  if (r.failures == 0 && r.until <= now) table->erase(it);
}

seconds SignInThrottle::Begin(std::string_view name, std::string_view address) {
  std::string who(name.substr(0, 64));
  std::string block = AddressBlock(address);
  std::string pair = who + '\n' + block;
  std::lock_guard<std::mutex> l(mu_);
  milliseconds now = clock_();
  milliseconds wait(0);
  auto check = [&](const Table& table, const std::string& key) {
    auto it = table.find(key);
    if (it != table.end() && it->second.until > now) {
      wait = std::max(wait, it->second.until - now);
    }
  };
  check(by_pair_, pair);
  check(by_address_, block);
  auto trust = trusted_.find(pair);
  bool trusted =
      trust != trusted_.end() && now - trust->second < options_.trust_for;
  if (!trusted) check(by_name_, who);
  if (wait.count() > 0) {
    return std::max(seconds(1), std::chrono::ceil<seconds>(wait));
  }
  Charge(&by_pair_, pair, options_.per_name_and_address, now);
  Charge(&by_address_, block, options_.per_address, now);
  Charge(&by_name_, who, options_.per_name, now);
  return seconds(0);
}

void SignInThrottle::Succeeded(std::string_view name,
                               std::string_view address) {
  std::string who(name.substr(0, 64));
  std::string block = AddressBlock(address);
  std::string pair = who + '\n' + block;
  std::lock_guard<std::mutex> l(mu_);
  milliseconds now = clock_();
  by_pair_.erase(pair);
  Refund(&by_address_, block, options_.per_address, now);
  Refund(&by_name_, who, options_.per_name, now);
  if (trusted_.find(pair) == trusted_.end()) MakeRoomForTrust(now);
  trusted_[pair] = now;
}

void SignInThrottle::Cancelled(std::string_view name,
                               std::string_view address) {
  std::string who(name.substr(0, 64));
  std::string block = AddressBlock(address);
  std::lock_guard<std::mutex> l(mu_);
  milliseconds now = clock_();
  Refund(&by_pair_, who + '\n' + block, options_.per_name_and_address, now);
  Refund(&by_address_, block, options_.per_address, now);
  Refund(&by_name_, who, options_.per_name, now);
}

size_t SignInThrottle::records() const {
  std::lock_guard<std::mutex> l(mu_);
  return by_pair_.size() + by_address_.size() + by_name_.size() +
         trusted_.size();
}

}  // namespace amanah
