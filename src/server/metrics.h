// Counters and latency histograms for /metrics, in the Prometheus text
// exposition format (version 0.0.4).

#ifndef AMANAH_SERVER_METRICS_H_
#define AMANAH_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace amanah {

class Metrics {
 public:
  // `route` is the route's name ("GET /api/v1/me"), never the raw path, so
  // the number of series stays small.
  void ObserveRequest(const std::string& route, int status, double seconds);
  void AddIngestBytes(uint64_t n) { ingest_bytes_ += n; }

  // Everything, with the log's size and the server's start time.
  std::string Render(uint64_t log_size) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};
    uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mu_;
  std::map<std::tuple<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::atomic<uint64_t> ingest_bytes_{0};
};

}  // namespace amanah

#endif  // AMANAH_SERVER_METRICS_H_
