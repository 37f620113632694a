#include "vault/stream.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace amanah {

namespace {

constexpr size_t kRing = 8;

// The ring of chunks shared by the reader and the consumers. A chunk is
// either read into one of the ring's buffers or, where the source can be
// mapped, a region of the file itself that the ring holds until every
// consumer is done with it.
class Ring {
 public:
  Ring(size_t chunk_size, size_t consumers, bool mapped)
      : views_(kRing), regions_(kRing), consumed_(consumers, 0) {
    if (!mapped) buffers_.assign(kRing, Bytes(chunk_size));
  }

  // Reader: waits for a free slot; false if the stream was abandoned. The
  // slot's previous region is released, after the lock (munmap is slow).
  bool WaitFree(uint64_t seq) {
    std::unique_ptr<MappedRegion> done;
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] {
      return !error_.ok() ||
             seq - *std::min_element(consumed_.begin(), consumed_.end()) <
                 kRing;
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

  // Consumer: waits for chunk `seq`. Returns false at the end of the stream
  // or on failure. With `need_last`, also waits until it is known whether
  // `seq` is the final chunk.
  bool WaitChunk(uint64_t seq, bool need_last, ByteView* chunk, bool* last) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] {
      return !error_.ok() || eof_ || produced_ > seq + (need_last ? 1 : 0);
    });
    if (!error_.ok() || seq >= produced_) return false;
    *chunk = views_[seq % kRing];
    *last = eof_ && seq + 1 == produced_;
    return true;
  }
  void Consumed(size_t consumer, uint64_t seq) {
    std::lock_guard<std::mutex> l(mu_);
    consumed_[consumer] = seq + 1;
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
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Bytes> buffers_;
  std::vector<ByteView> views_;
  std::vector<std::unique_ptr<MappedRegion>> regions_;
  std::vector<uint64_t> consumed_;
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
  Ring ring(chunk_size, consumers, mapped);
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

  std::vector<Bytes> results(algorithms.size());
  std::vector<std::thread> hashers;
  for (size_t i = 0; i < algorithms.size(); ++i) {
    hashers.emplace_back([&, i] {
      Hasher h(algorithms[i]);
      ByteView chunk;
      bool last = false;
      for (uint64_t seq = 0; ring.WaitChunk(seq, false, &chunk, &last); ++seq) {
        h.Update(chunk);
        ring.Consumed(i, seq);
      }
      results[i] = h.Finish();
    });
  }

  if (sink != nullptr) {
    size_t me = algorithms.size();
    ByteView chunk;
    bool last = false;
    uint64_t done = 0;
    uint64_t seq = 0;
    for (; ring.WaitChunk(seq, true, &chunk, &last); ++seq) {
      Status s = sink->Consume(chunk, seq, last);
      if (!s.ok()) {
        ring.Fail(s);
        break;
      }
      done += chunk.size();
      ring.Consumed(me, seq);
      if (progress && (seq % 64 == 0 || last)) progress(done);
    }
    if (ring.error().ok() && ring.EmptyStream()) {
      Status s = sink->Consume(ByteView(), 0, true);
      if (!s.ok()) ring.Fail(s);
    }
  }

  reader.join();
  for (auto& t : hashers) t.join();
  RETURN_IF_ERROR(ring.error());
  ring.ReleaseRegions();
  RETURN_IF_ERROR(source->Finish());
  for (size_t i = 0; i < algorithms.size(); ++i) {
    out.digests[algorithms[i]] = std::move(results[i]);
  }
  if (progress && sink == nullptr) progress(out.size);
  return out;
}

}  // namespace amanah
