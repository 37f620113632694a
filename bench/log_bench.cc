// Custody log throughput and proof latency.
//
//   log_bench [DIR] [ENTRIES] [keep]
//
// 0. For reference, in the same run and directory: formatting entries alone,
//    and how many small files per second this file system creates (the tiles
//    layout needs at least 8 new files per 1,000 entries).
// 1. Durable appends in batches of 1,000 (each batch: one journal fsync and
//    one signed checkpoint), entries formatted by FormatCustodyEntry.
//    Then the same with two producer threads, so that one formats while the
//    other's batch is being committed.
// 2. Many concurrent single appends (256 threads), sharing group commits.
//    (LOG_BENCH_THREADS sets the number; LOG_BENCH_NO_SINGLES=1 stops the
//    run before this phase, for profiling the batches alone.)
// 3. Inclusion proofs for random indices of a log of ENTRIES entries
//    (default 10,000,000), read from the tiles on disk.
// Prints one line per measurement; docs/PERFORMANCE.md records them.
// With "keep", DIR is left in place: on ext4, deleting many files slows the
// creation of new ones for minutes after (recently deleted inodes are
// skipped), so comparisons on one disk keep every run's files until the end.

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "ledger/custody_entry.h"
#include "ledger/custody_log.h"

using namespace amanah;
using Clock = std::chrono::steady_clock;

namespace {

std::string MakeEntry(uint64_t i) {
  CustodyEntry e;
  e.kind = EntryKind::kEvidenceAccessed;
  e.time_unix_micros = 1795820400000000 + static_cast<int64_t>(i);
  e.node = "ccd.moi.gov.kw";
  e.actor = "local:bench";
  e.case_id = "KW-2026-0042";
  e.subject =
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  e.data = {{"purpose", "read out"}, {"n", i}};
  return FormatCustodyEntry(e);
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU seconds used by the process so far (user + system).
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "/tmp/amanah-log-bench";
  uint64_t total = argc > 2 ? std::stoull(argv[2]) : 10'000'000;
  std::filesystem::remove_all(dir);
  CustodyLogOptions o;
  o.log_dir = dir + "/log";
  o.journal_path = dir + "/journal/custody.wal";
  o.origin = "bench.example/custody";
  if (!CustodyLog::Create(Env::Default(), o).ok()) return 1;
  auto log = std::move(CustodyLog::Open(Env::Default(), o)).value();

  // 0. Formatting alone, for reference.
  {
    auto f0 = Clock::now();
    size_t bytes = 0;
    for (uint64_t i = 0; i < 200000; ++i) bytes += MakeEntry(i).size();
    auto f1 = Clock::now();
    std::printf("formatting entries: %.0f entries/s (%zu bytes)\n",
                200000 / Seconds(f0, f1), bytes);
  }
  {
    std::string fdir = dir + "/files";
    std::filesystem::create_directories(fdir);
    std::string tile(8192, 'x');
    auto f0 = Clock::now();
    for (int i = 0; i < 2000; ++i) {
      std::string p = fdir + "/" + std::to_string(i);
      FILE* f = std::fopen(p.c_str(), "wb");
      if (f == nullptr) return 1;
      std::fwrite(tile.data(), 1, tile.size(), f);
      std::fclose(f);
    }
    auto f1 = Clock::now();
    std::printf("file system: %.0f new 8 KiB files/s\n",
                2000 / Seconds(f0, f1));
  }
  // 1. Batches of 1,000 until `total` entries.
  auto t0 = Clock::now();
  double c0 = CpuSeconds();
  uint64_t n = 0;
  while (n < total) {
    std::vector<std::string> batch;
    batch.reserve(1000);
    for (int i = 0; i < 1000; ++i) batch.push_back(MakeEntry(n++));
    auto r = log->Append(std::move(batch));
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  auto t1 = Clock::now();
  std::printf(
      "batched appends: %llu entries in %.2f s = %.0f entries/s"
      " (%.2f CPUs busy)\n",
      static_cast<unsigned long long>(n), Seconds(t0, t1), n / Seconds(t0, t1),
      (CpuSeconds() - c0) / Seconds(t0, t1));

  // 1b. Two producers, batches of 1,000, `total` more entries.
  {
    auto b0 = Clock::now();
    double c1 = CpuSeconds();
    std::atomic<uint64_t> next{n};
    uint64_t end = n + total;
    std::vector<std::thread> producers;
    for (int t = 0; t < 2; ++t) {
      producers.emplace_back([&] {
        for (;;) {
          uint64_t start = next.fetch_add(1000);
          if (start >= end) return;
          std::vector<std::string> batch;
          batch.reserve(1000);
          for (uint64_t i = start; i < start + 1000; ++i) {
            batch.push_back(MakeEntry(i));
          }
          if (!log->Append(std::move(batch)).ok()) std::abort();
        }
      });
    }
    for (auto& t : producers) t.join();
    auto b1 = Clock::now();
    std::printf(
        "batched appends, 2 producers: %llu entries in %.2f s = %.0f "
        "entries/s (%.2f CPUs busy)\n",
        static_cast<unsigned long long>(total), Seconds(b0, b1),
        total / Seconds(b0, b1), (CpuSeconds() - c1) / Seconds(b0, b1));
  }

  if (std::getenv("LOG_BENCH_NO_SINGLES")) return 0;
  // 2. Concurrent single appends.
  const char* threads_env = std::getenv("LOG_BENCH_THREADS");
  const int kThreads = threads_env ? std::atoi(threads_env) : 256;
  const int kEach = 102400 / kThreads;
  std::vector<std::thread> threads;
  auto t2 = Clock::now();
  double c2 = CpuSeconds();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (!log->Append(MakeEntry(t * kEach + i)).ok()) std::abort();
      }
    });
  }
  for (auto& t : threads) t.join();
  auto t3 = Clock::now();
  double singles = kThreads * kEach;
  std::printf(
      "concurrent single appends (%d threads): %.0f entries in %.2f s"
      " = %.0f entries/s (%.2f CPUs busy)\n",
      kThreads, singles, Seconds(t2, t3), singles / Seconds(t2, t3),
      (CpuSeconds() - c2) / Seconds(t2, t3));

  // 3. Inclusion proofs from a fresh reader (cold tile cache each time: no
  // cache object), random indices.
  uint64_t size = log->Latest().size;
  if (!log->FlushFiles().ok()) return 1;  // read from the files alone
  LogReader reader(&log->store(), nullptr, size);
  std::mt19937_64 rng(1);
  std::vector<double> us;
  for (int i = 0; i < 2000; ++i) {
    uint64_t idx = rng() % size;
    auto a = Clock::now();
    auto p = reader.InclusionProof(idx);
    auto b = Clock::now();
    if (!p.ok()) return 1;
    us.push_back(Seconds(a, b) * 1e6);
  }
  std::sort(us.begin(), us.end());
  std::printf(
      "inclusion proof, log of %llu entries: median %.0f us, p99 %.0f"
      " us, max %.0f us\n",
      static_cast<unsigned long long>(size), us[us.size() / 2],
      us[us.size() * 99 / 100], us.back());
  if (argc <= 3 || std::string(argv[3]) != "keep") {
    std::filesystem::remove_all(dir);
  }
  return 0;
}
