#include "vault/stream.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace amanah {

namespace {

constexpr size_t kRing = 8;

// Worker threads for `consumers`: one per CPU this process may run on, and
// no more than there are consumers.
size_t WorkerCount(size_t consumers) {
  cpu_set_t set;
  size_t cpus = 1;
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) {
    cpus = static_cast<size_t>(CPU_COUNT(&set));
  }
  return std::clamp<size_t>(cpus, 1, consumers);
}

// The ring of chunks shared by the reader and the consumers. A chunk is
// either read into one of the ring's buffers or, where the source can be
// mapped, a region of the file itself that the ring holds until every
// consumer is done with it.
class Ring {
 public:
  struct Step {
    size_t consumer;
    uint64_t seq;
    ByteView chunk;
    bool last;
  };

  // The last of `consumers` is the sink if `sink`: it is told which chunk
  // is the last, so it waits until that is known.
  Ring(size_t chunk_size, size_t consumers, bool mapped, bool sink)
      : views_(kRing),
        regions_(kRing),
        next_(consumers, 0),
        busy_(consumers, false),
        spent_(consumers, std::chrono::nanoseconds(0)),
        sink_(sink) {
    if (!mapped) buffers_.assign(kRing, Bytes(chunk_size));
  }

  // Reader: waits for a free slot; false if the stream was abandoned. The
  // slot's previous region is released, after the lock (munmap is slow).
  bool WaitFree(uint64_t seq) {
    std::unique_ptr<MappedRegion> done;
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] {
      return !error_.ok() ||
             seq - *std::min_element(next_.begin(), next_.end()) < kRing;
    });
    done = std::move(regions_[seq % kRing]);
    bool ok = error_.ok();
    l.unlock();
    return ok;
  }
  uint8_t* Slot(uint64_t seq) { return buffers_[seq % kRing].data(); }
  void Produced(uint64_t seq, size_t n) {
    Produced(seq, ByteView(buffers_[seq % kRing].data(), n), nullptr);
  }
  void Produced(uint64_t seq, ByteView view,
                std::unique_ptr<MappedRegion> region) {
    std::lock_guard<std::mutex> l(mu_);
    views_[seq % kRing] = view;
    regions_[seq % kRing] = std::move(region);
    produced_ = seq + 1;
    cv_.notify_all();
  }
  // Releases every region; only once the reader and consumers are done.
  void ReleaseRegions() {
    for (auto& r : regions_) r.reset();
  }
  void End() {
    std::lock_guard<std::mutex> l(mu_);
    eof_ = true;
    cv_.notify_all();
  }
  void Fail(Status s) {
    std::lock_guard<std::mutex> l(mu_);
    if (error_.ok()) error_ = std::move(s);
    cv_.notify_all();
  }

  // Workers: a step is one consumer's work on one chunk. Waits for a step
  // and claims it: of the consumers no worker is serving whose next chunk
  // is ready, the one furthest behind, and of those the one that has taken
  // longest so far. Returns false once every consumer has been through the
  // stream, or on failure.
  //
  // So on two CPUs with MD5, SHA-1, SHA-256 and the sink, one worker stays
  // on MD5, the slowest, and the other serves the rest; with a thread per
  // consumer, as before, the scheduler gave MD5 a fair share of a CPU
  // whenever the others were runnable, and the slowest hash ran slower.
  bool NextStep(Step* step) {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      if (!error_.ok()) return false;
      size_t best = next_.size();
      bool finished = true;
      for (size_t c = 0; c < next_.size(); ++c) {
        if (!eof_ || next_[c] < produced_) finished = false;
        bool ready = !busy_[c] && (produced_ > next_[c] + LastWait(c) ||
                                   (eof_ && produced_ > next_[c]));
        if (ready && (best == next_.size() || next_[c] < next_[best] ||
                      (next_[c] == next_[best] && spent_[c] > spent_[best]))) {
          best = c;
        }
      }
      if (finished) return false;
      if (best == next_.size()) {
        cv_.wait(l);
        continue;
      }
      uint64_t seq = next_[best];
      busy_[best] = true;
      *step =
          Step{best, seq, views_[seq % kRing], eof_ && seq + 1 == produced_};
      return true;
    }
  }
  void StepDone(const Step& step, std::chrono::nanoseconds took) {
    std::lock_guard<std::mutex> l(mu_);
    busy_[step.consumer] = false;
    next_[step.consumer] = step.seq + 1;
    spent_[step.consumer] += took;
    cv_.notify_all();
  }
  bool EmptyStream() {
    std::lock_guard<std::mutex> l(mu_);
    return eof_ && produced_ == 0;
  }
  Status error() {
    std::lock_guard<std::mutex> l(mu_);
    return error_;
  }

 private:
  uint64_t LastWait(size_t c) const {
    return sink_ && c + 1 == next_.size() ? 1 : 0;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Bytes> buffers_;
  std::vector<ByteView> views_;
  std::vector<std::unique_ptr<MappedRegion>> regions_;
  std::vector<uint64_t> next_;  // per consumer, the next chunk to take
  std::vector<bool> busy_;      // a worker is on the consumer's next chunk
  std::vector<std::chrono::nanoseconds> spent_;
  const bool sink_;
  uint64_t produced_ = 0;
  bool eof_ = false;
  Status error_;
};

}  // namespace

Result<StreamDigests> DigestStream(SequentialFile* source,
                                   const std::vector<HashAlgorithm>& algorithms,
                                   ChunkSink* sink, size_t chunk_size,
                                   const ProgressFn& progress) {
  size_t consumers = algorithms.size() + (sink ? 1 : 0);
  if (consumers == 0) return Status::InvalidInput("nothing to do with stream");
  const bool mapped = source->CanMap();
  Ring ring(chunk_size, consumers, mapped, sink != nullptr);
  StreamDigests out;

  std::thread reader([&] {
    for (uint64_t seq = 0;; ++seq) {
      if (!ring.WaitFree(seq)) return;
      if (mapped) {
        auto region = source->Map(chunk_size);
        if (!region.ok()) {
          ring.Fail(region.status());
          return;
        }
        ByteView view = (*region)->data();
        if (view.empty()) break;
        out.size += view.size();
        ring.Produced(seq, view, std::move(region).value());
        if (view.size() < chunk_size) break;
        continue;
      }
      auto n = source->Read(ring.Slot(seq), chunk_size);
      if (!n.ok()) {
        ring.Fail(n.status());
        return;
      }
      if (*n == 0) break;
      out.size += *n;  // only the reader writes; read after join
      ring.Produced(seq, *n);
      if (*n < chunk_size) break;  // Read() fills unless at the end
    }
    ring.End();
  });

  std::vector<std::unique_ptr<Hasher>> hashers;
  for (HashAlgorithm a : algorithms) {
    hashers.push_back(std::make_unique<Hasher>(a));
  }
  uint64_t sink_done = 0;
  auto work = [&] {
    Ring::Step step;
    while (ring.NextStep(&step)) {
      auto t0 = std::chrono::steady_clock::now();
      if (step.consumer < hashers.size()) {
        hashers[step.consumer]->Update(step.chunk);
      } else {
        Status s = sink->Consume(step.chunk, step.seq, step.last);
        if (!s.ok()) {
          ring.Fail(s);
          return;
        }
        sink_done += step.chunk.size();
        if (progress && (step.seq % 64 == 0 || step.last)) progress(sink_done);
      }
      ring.StepDone(step, std::chrono::steady_clock::now() - t0);
    }
  };
  std::vector<std::thread> workers;
  for (size_t i = 1; i < WorkerCount(consumers); ++i) {
    workers.emplace_back(work);
  }
  work();  // the calling thread is a worker too
  for (auto& t : workers) t.join();
  if (sink != nullptr && ring.error().ok() && ring.EmptyStream()) {
    Status s = sink->Consume(ByteView(), 0, true);
    if (!s.ok()) ring.Fail(s);
  }

  reader.join();
  RETURN_IF_ERROR(ring.error());
  ring.ReleaseRegions();
  RETURN_IF_ERROR(source->Finish());
  for (size_t i = 0; i < algorithms.size(); ++i) {
    out.digests[algorithms[i]] = hashers[i]->Finish();
  }
  if (progress && sink == nullptr) progress(out.size);
  return out;
}

}  // namespace amanah
