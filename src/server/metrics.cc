#include "server/metrics.h"

#include <cstdio>

namespace amanah {

namespace {

// Label values escape backslash, quote and newline.
std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

}  // namespace

void Metrics::ObserveRequest(const std::string& route, int status,
                             double seconds) {
  std::lock_guard<std::mutex> l(mu_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::Render(uint64_t log_size) const {
  std::string out;
  out +=
      "# HELP amanah_http_requests_total HTTP requests by route and status.\n"
      "# TYPE amanah_http_requests_total counter\n";
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [key, n] : requests_) {
    out += "amanah_http_requests_total{route=\"" + Label(std::get<0>(key)) +
           "\",status=\"" + std::to_string(std::get<1>(key)) + "\"} " +
           std::to_string(n) + "\n";
  }
  out +=
      "# HELP amanah_http_request_duration_seconds Time to answer a request.\n"
      "# TYPE amanah_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    std::string r = Label(route);
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out += "amanah_http_request_duration_seconds_bucket{route=\"" + r +
             "\",le=\"" + Number(kBuckets[i]) + "\"} " +
             std::to_string(h.counts[i]) + "\n";
    }
    out += "amanah_http_request_duration_seconds_bucket{route=\"" + r +
           "\",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += "amanah_http_request_duration_seconds_sum{route=\"" + r + "\"} " +
           Number(h.sum) + "\n";
    out += "amanah_http_request_duration_seconds_count{route=\"" + r + "\"} " +
           std::to_string(h.count) + "\n";
  }
  out +=
      "# HELP amanah_log_size Entries in the custody log's latest "
      "checkpoint.\n"
      "# TYPE amanah_log_size gauge\n"
      "amanah_log_size " +
      std::to_string(log_size) +
      "\n"
      "# HELP amanah_ingest_bytes_total Evidence bytes ingested through this "
      "server.\n"
      "# TYPE amanah_ingest_bytes_total counter\n"
      "amanah_ingest_bytes_total " +
      std::to_string(ingest_bytes_.load()) + "\n";
  return out;
}

}  // namespace amanah
