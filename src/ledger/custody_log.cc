#include "ledger/custody_log.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <utility>

#include "ledger/note.h"

namespace amanah {

namespace {

constexpr char kJournalMagic[8] = {'A', 'M', 'N', 'H', 'J', 'R', 'L', '1'};
constexpr size_t kRecordHeader = 4 + 8;  // length, leaf hash prefix
constexpr uint64_t kMaxJournalFile = uint64_t{4} << 30;

void PutU64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(p[i]);
  return v;
}

Status TooLarge(size_t i, size_t n) {
  return Status::InvalidInput("custody entry " + std::to_string(i) + " is " +
                              std::to_string(n) +
                              " bytes; entries are at most 65535 bytes");
}

}  // namespace

// Events posted to one waiting thread. Posting is an atomic OR and, if
// the thread sleeps, a futex wake on the word's address; the wake reads and
// writes no memory, so the waiter may return, and its word go, as soon as
// it has seen the event (the property glibc's sem_post has). A waiter
// woken this way takes the thread's one switch and no lock: a mutex and
// condition variable cost a second switch whenever the woken thread found
// the mutex still held by the one waking it.
class Doorbell {
 public:
  void Ring(uint32_t events) {
    uint32_t before = word_.fetch_or(events, std::memory_order_acq_rel);
    if (before & kSleeping) {
      syscall(SYS_futex, Address(), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    }
  }
  // Returns the events posted since the last call, waiting for one.
  uint32_t Wait() {
    for (;;) {
      uint32_t events = word_.exchange(0, std::memory_order_acq_rel);
      events &= ~kSleeping;
      if (events != 0) return events;
      uint32_t expected = 0;
      if (!word_.compare_exchange_strong(expected, kSleeping,
                                         std::memory_order_acq_rel)) {
        continue;  // an event came in between
      }
      syscall(SYS_futex, Address(), FUTEX_WAIT_PRIVATE, kSleeping, nullptr,
              nullptr, 0);
    }
  }

 private:
  static constexpr uint32_t kSleeping = 1u << 31;
  uint32_t* Address() { return reinterpret_cast<uint32_t*>(&word_); }
  std::atomic<uint32_t> word_{0};
  static_assert(sizeof(word_) == sizeof(uint32_t));
};

// An Append call waiting for its turn to lead or to publish, or for its
// entries to be published.
struct CustodyLog::Writer {
  explicit Writer(const std::vector<std::string>* e) : entries(e) {}
  enum Event : uint32_t {
    kLead = 1,     // its turn to journal
    kPublish = 2,  // its turn to publish queued batches
    kDone = 4,     // its entries are published, or failed: see status
  };
  const std::vector<std::string>* entries;
  std::vector<Hash256> leaves;  // of entries, hashed by the caller's thread
  uint64_t first = 0;           // set by the leader before the batch is queued
  // Set before kDone is posted: the outcome, and the writers this one
  // wakes in turn (see Finish).
  Status status;
  Writer* wakes[2] = {nullptr, nullptr};
  Doorbell bell;

  void Wake(Event e) { bell.Ring(e); }
};

// Writers journaled together, waiting to be published.
struct CustodyLog::Batch {
  std::vector<Writer*> writers;
  std::vector<const std::string*> entries;
  std::vector<Hash256> leaves;
};

CustodyLog::CustodyLog(Env* env, CustodyLogOptions options)
    : env_(env), options_(std::move(options)), store_(env, options_.log_dir) {}

CustodyLog::~CustodyLog() {
  if (!file_thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> l(file_mu_);
    file_stop_ = true;  // after writing what is pending
  }
  file_cv_.notify_all();
  file_thread_.join();
}

void CustodyLog::FollowOnDisk() {
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::milliseconds(options_.file_interval_ms);
  Clock::time_point next = Clock::now();
  std::unique_lock<std::mutex> l(file_mu_);
  for (;;) {
    file_cv_.wait(l, [&] {
      return file_stop_ || FilesPending() || sync_wanted_ ||
             !file_remove_.empty();
    });
    if (sync_wanted_ && !file_stop_) {
      // Early writeback (see JournalBatch). syncfs reports a failed
      // writeback once only, so a failure is kept for the roll.
      sync_wanted_ = false;
      syncing_ = true;
      l.unlock();
      Status s = env_->SyncFilesystem(options_.log_dir);
      l.lock();
      syncing_ = false;
      if (!s.ok() && early_sync_status_.ok()) {
        early_sync_status_ = s.Annotate("syncing the log's files");
      }
      file_cv_.notify_all();
      continue;
    }
    if (!file_remove_.empty()) {
      // Partial files no reader needs (after a roll), before the next
      // write, so that appends going on never put them off. One left behind
      // (a failure, a crash) is harmless: readers take the full tile first.
      std::vector<std::pair<int, uint64_t>> remove;
      remove.swap(file_remove_);
      l.unlock();
      for (const auto& [level, index] : remove) {
        (void)store_.RemovePartials(level, index, 0);
      }
      l.lock();
      continue;
    }
    if (!FilesPending()) return;  // stopping, nothing left
    // At most one write per interval, unless someone waits for it: the
    // files of the batches published meanwhile are never written.
    file_cv_.wait_until(l, next,
                        [&] { return file_stop_ || file_flushers_ > 0; });
    if (!FilesPending()) continue;  // written by PublishCheckpoint
    std::shared_ptr<const LogEdge> edge = file_last_edge_;
    std::string note = file_last_note_;
    const uint64_t gen = file_taken_gen_ = file_gen_;
    file_writing_ = true;
    l.unlock();
    Status s = WriteFiles(*edge, note);
    l.lock();
    file_writing_ = false;
    file_status_ = s.Annotate("writing the log's files");
    file_done_gen_ = std::max(file_done_gen_, gen);
    next = Clock::now() + interval;
    file_cv_.notify_all();
  }
}

Status CustodyLog::FlushFiles() {
  std::unique_lock<std::mutex> l(file_mu_);
  // What was published when called: later batches may keep the thread
  // busy, but are not waited for.
  const uint64_t target = file_gen_;
  ++file_flushers_;
  file_cv_.notify_all();
  file_cv_.wait(l, [&] { return file_done_gen_ >= target && !file_writing_; });
  --file_flushers_;
  if (!file_status_.ok() && !FilesPending() && file_last_edge_ != nullptr) {
    WriteLatestFiles(l);  // the last write failed: try again
  }
  return file_status_;
}

void CustodyLog::WriteLatestFiles(std::unique_lock<std::mutex>& l) {
  file_cv_.wait(l, [&] { return !file_writing_; });
  file_taken_gen_ = file_done_gen_ = file_gen_;
  file_status_ = WriteFiles(*file_last_edge_, file_last_note_)
                     .Annotate("writing the log's files");
  file_cv_.notify_all();
}

std::string CustodyLog::JournalHeader() const {
  std::string h(kJournalMagic, sizeof(kJournalMagic));
  PutU64(h, range_.size());
  h.push_back(static_cast<char>(range_.hashes().size()));
  for (const Hash256& x : range_.hashes()) {
    h.append(reinterpret_cast<const char*>(x.data()), x.size());
  }
  Hash256 sum = Sha256(AsBytes(h));
  h.append(reinterpret_cast<const char*>(sum.data()), 8);
  return h;
}

Status CustodyLog::Create(Env* env, const CustodyLogOptions& options) {
  TileStore store(env, options.log_dir);
  if (env->FileExists(store.PathOf("checkpoint")) ||
      env->FileExists(options.journal_path)) {
    return Status::Conflict("a custody log already exists in " +
                            options.log_dir);
  }
  RETURN_IF_ERROR(CreateDirs(env, options.log_dir, 0700));
  RETURN_IF_ERROR(CreateDirs(env, DirName(options.journal_path), 0700));
  CustodyLog log(env, options);
  RETURN_IF_ERROR(WriteFileAtomic(env, options.journal_path,
                                  AsBytes(log.JournalHeader()), 0600));
  std::string body = FormatCheckpointBody(
      Checkpoint{options.origin, 0, merkle::EmptyRoot(), {}});
  std::string note = SignNote(body, options.origin, options.signer);
  return WriteFileAtomic(env, store.PathOf("checkpoint"), AsBytes(note), 0600);
}

Result<std::unique_ptr<CustodyLog>> CustodyLog::Open(
    Env* env, CustodyLogOptions options) {
  std::unique_ptr<CustodyLog> log(new CustodyLog(env, std::move(options)));
  RETURN_IF_ERROR(log->Recover());
  log->journaled_size_ = log->range_.size();
  CustodyLog* raw = log.get();
  log->file_thread_ = std::thread([raw] { raw->FollowOnDisk(); });
  return log;
}

Status CustodyLog::Recover() {
  const std::string& jpath = options_.journal_path;
  auto data = ReadFileToString(env_, jpath, kMaxJournalFile);
  if (!data.ok()) return data.status().Annotate("reading the custody journal");
  std::string_view j = *data;

  // Header: magic, base size, edge hashes, checksum.
  if (j.size() < 17 || std::memcmp(j.data(), kJournalMagic, 8) != 0) {
    return Status::Corruption(jpath + ": not a custody journal");
  }
  uint64_t base = GetU64(j.data() + 8);
  size_t nhashes = static_cast<uint8_t>(j[16]);
  size_t header_len = 17 + 32 * nhashes + 8;
  if (j.size() < header_len ||
      std::memcmp(Sha256(AsBytes(j.substr(0, header_len - 8))).data(),
                  j.data() + header_len - 8, 8) != 0) {
    return Status::Corruption(jpath + ": journal header fails its checksum");
  }
  std::vector<Hash256> hashes(nhashes);
  for (size_t i = 0; i < nhashes; ++i) {
    std::memcpy(hashes[i].data(), j.data() + 17 + 32 * i, 32);
  }
  ASSIGN_OR_RETURN(range_,
                   merkle::CompactRange::FromHashes(base, std::move(hashes)));

  // The right edge at the base size, from tiles made durable before it.
  for (int level = 0; (base >> (kTileHeight * level)) > 0; ++level) {
    uint64_t count = base >> (kTileHeight * level);
    edge_.emplace_back();
    if (count % kTileWidth == 0) continue;
    auto tile = store_.ReadTile(level, count / kTileWidth, count % kTileWidth);
    if (!tile.ok()) return tile.status().Annotate("recovering the log edge");
    edge_.back() = std::move(tile).value();
  }
  if (base % kTileWidth != 0) {
    auto bundle = store_.ReadEntryBundle(base / kTileWidth, base % kTileWidth);
    if (!bundle.ok())
      return bundle.status().Annotate("recovering the log edge");
    edge_bundle_ = EncodeEntryBundle(*bundle);
  }

  // Records; a torn or corrupt tail was never acknowledged.
  std::vector<std::string> entries;
  std::vector<Hash256> leaves;
  size_t pos = header_len;
  while (j.size() - pos >= kRecordHeader) {
    uint32_t len = GetU32(j.data() + pos);
    if (len == 0 || len > kMaxEntrySize ||
        j.size() - pos - kRecordHeader < len) {
      break;
    }
    std::string_view entry = j.substr(pos + kRecordHeader, len);
    Hash256 leaf = merkle::LeafHash(AsBytes(entry));
    if (std::memcmp(leaf.data(), j.data() + pos + 4, 8) != 0) break;
    entries.emplace_back(entry);
    leaves.push_back(leaf);
    pos += kRecordHeader + len;
  }
  // Past the records: zeros written ahead, kept; anything else is cut off.
  if (j.find_first_not_of('\0', pos) != std::string_view::npos) {
    RETURN_IF_ERROR(env_->TruncateFile(jpath, pos));
  }

  std::vector<const std::string*> ptrs;
  for (const auto& e : entries) ptrs.push_back(&e);
  RETURN_IF_ERROR(Integrate(ptrs, leaves));
  RETURN_IF_ERROR(RewriteStalePartials());

  // The published checkpoint can never be ahead of the durable entries.
  auto old = store_.ReadCheckpoint();
  if (old.ok()) {
    auto note = ParseNote(*old);
    if (note.ok()) {
      auto cp = ParseCheckpointBody(note->text);
      if (cp.ok() && cp->size > range_.size()) {
        return Status::Corruption(
            store_.PathOf("checkpoint") + ": names tree size " +
            std::to_string(cp->size) + " but only " +
            std::to_string(range_.size()) + " entries are durable");
      }
    }
  }
  RETURN_IF_ERROR(PublishCheckpoint());  // and writes the files

  ASSIGN_OR_RETURN(
      journal_, env_->NewJournalFile(jpath, pos, options_.journal_preallocate));
  journal_bytes_ = pos;
  next_early_sync_ = pos + options_.journal_roll_bytes / 4;
  if (!entries.empty()) RETURN_IF_ERROR(RollJournal());
  return Status::OK();
}

Status CustodyLog::Integrate(const std::vector<const std::string*>& entries,
                             const std::vector<Hash256>& leaf_hashes) {
  Status status;
  auto visit = [&](int level, uint64_t index, const Hash256& h) {
    if (level % kTileHeight != 0) return;
    size_t tl = level / kTileHeight;
    if (edge_.size() <= tl) edge_.resize(tl + 1);
    auto& tile = edge_[tl];
    tile.push_back(h);
    if (index % kTileWidth != tile.size() - 1 && status.ok()) {
      status = Status::Corruption("log edge out of step at level " +
                                  std::to_string(level));
    }
    if (tile.size() == kTileWidth) {
      LogEdge::Full f;
      f.level = static_cast<int>(tl);
      f.index = index / kTileWidth;
      f.hashes = std::make_shared<const std::vector<Hash256>>(std::move(tile));
      AddCompleted(std::move(f));
      tile.clear();
      tile.reserve(kTileWidth);
    }
  };
  for (size_t i = 0; i < entries.size(); ++i) {
    uint64_t index = range_.size();
    const std::string& e = *entries[i];
    edge_bundle_.push_back(static_cast<char>(e.size() >> 8));
    edge_bundle_.push_back(static_cast<char>(e.size() & 0xff));
    edge_bundle_ += e;
    if (index % kTileWidth == kTileWidth - 1) {
      LogEdge::Full f;
      f.level = -1;
      f.index = index / kTileWidth;
      f.bundle = std::make_shared<const std::string>(std::move(edge_bundle_));
      AddCompleted(std::move(f));
      edge_bundle_.clear();
    }
    range_.Append(leaf_hashes[i], visit);
  }
  return status;
}

void CustodyLog::AddCompleted(LogEdge::Full f) {
  // Written to disk behind (see WriteFiles), read from the edge until then.
  f.seq = ++full_seq_;
  completed_.emplace_back(f.level, f.index);
  unwritten_bytes_ += f.bytes();
  unwritten_.push_back(std::move(f));
}

void CustodyLog::PruneUnwritten() {
  const uint64_t written = file_written_seq_.load(std::memory_order_acquire);
  while (!unwritten_.empty() && unwritten_.front().seq <= written) {
    unwritten_bytes_ -= unwritten_.front().bytes();
    unwritten_.pop_front();
  }
}

std::shared_ptr<const LogEdge> CustodyLog::MakeEdge() const {
  auto edge = std::make_shared<LogEdge>();
  edge->size = range_.size();
  edge->tiles.resize(edge_.size());
  for (size_t tl = 0; tl < edge_.size(); ++tl) {
    if (edge_[tl].empty()) continue;
    edge->tiles[tl] = std::make_shared<const std::vector<Hash256>>(edge_[tl]);
  }
  edge->bundle = edge_bundle_;
  edge->full.assign(unwritten_.begin(), unwritten_.end());
  return edge;
}

Status CustodyLog::WriteFiles(const LogEdge& edge, const std::string& note) {
  // Full tiles first, in the order completed: each is written once.
  for (const LogEdge::Full& f : edge.full) {
    if (f.seq <= file_written_seq_.load(std::memory_order_relaxed)) continue;
    if (f.level < 0) {
      RETURN_IF_ERROR(
          store_.WriteEncodedEntryBundle(f.index, kTileWidth, *f.bundle));
    } else {
      RETURN_IF_ERROR(store_.WriteTile(f.level, f.index, *f.hashes));
    }
    file_written_seq_.store(f.seq, std::memory_order_release);
  }
  // A partial tile never changes: one on disk already (most often the
  // higher levels') is left alone, never replaced by a file not yet synced.
  for (size_t tl = 0; tl < edge.tiles.size(); ++tl) {
    if (edge.tiles[tl] == nullptr) continue;
    int level = static_cast<int>(tl);
    uint64_t index = (edge.size >> (kTileHeight * tl)) / kTileWidth;
    const auto& tile = *edge.tiles[tl];
    if (env_->FileExists(store_.PathOf(TilePath(level, index, tile.size())))) {
      continue;
    }
    RETURN_IF_ERROR(store_.WriteTile(level, index, tile));
  }
  uint64_t width = edge.size % kTileWidth;
  if (!edge.bundle.empty() && !env_->FileExists(store_.PathOf(EntryBundlePath(
                                  edge.size / kTileWidth, width)))) {
    RETURN_IF_ERROR(store_.WriteEncodedEntryBundle(edge.size / kTileWidth,
                                                   width, edge.bundle));
  }
  return store_.WriteCheckpoint(note);
}

Status CustodyLog::RewriteStalePartials() {
  // Partial files of the edge tiles may predate a crash; make every one that
  // can exist for a size up to the current one right, and drop the others.
  // One that is right already is not replaced: the journal's base needs its
  // partial tiles, synced at the last roll, and a replacement would not be.
  uint64_t size = range_.size();
  auto fix = [&](int level, uint64_t index, auto prefix_of) -> Status {
    std::string dir = store_.PartialsDir(level, index);
    auto names = env_->GetChildren(dir);
    if (!names.ok()) return Status::OK();
    uint64_t width = level < 0 ? size % kTileWidth : edge_[level].size();
    for (const auto& name : *names) {
      uint64_t w = TileStore::PartialWidth(name);
      std::string path = JoinPath(dir, name);
      if (w == 0 || w > width) {
        RETURN_IF_ERROR(env_->RemoveFile(path));
        continue;
      }
      ASSIGN_OR_RETURN(std::string want, prefix_of(w));
      auto got = ReadFileToString(env_, path, want.size() + 1);
      if (!got.ok() || *got != want) {
        RETURN_IF_ERROR(WriteFileReplace(env_, path, AsBytes(want), 0600));
      }
    }
    return Status::OK();
  };
  for (size_t tl = 0; tl < edge_.size(); ++tl) {
    uint64_t index = (size >> (kTileHeight * tl)) / kTileWidth;
    RETURN_IF_ERROR(fix(
        static_cast<int>(tl), index, [&](uint64_t w) -> Result<std::string> {
          std::vector<Hash256> prefix(edge_[tl].begin(), edge_[tl].begin() + w);
          return EncodeHashTile(prefix);
        }));
  }
  return fix(-1, size / kTileWidth, [&](uint64_t w) -> Result<std::string> {
    ASSIGN_OR_RETURN(size_t n, EntryBundlePrefix(edge_bundle_, w));
    return edge_bundle_.substr(0, n);
  });
}

Status CustodyLog::PublishCheckpoint() {
  PruneUnwritten();
  if (file_thread_.joinable() &&
      unwritten_bytes_ > options_.max_unwritten_bytes) {
    // The disk is behind: wait for the files of the batches published so
    // far, so that the memory held for them stays bounded.
    RETURN_IF_ERROR(FlushFiles());
    PruneUnwritten();
  }
  std::shared_ptr<const LogEdge> edge = MakeEdge();
  SignedCheckpoint cp;
  cp.size = range_.size();
  cp.root = range_.Root();
  std::string body =
      FormatCheckpointBody(Checkpoint{options_.origin, cp.size, cp.root, {}});
  cp.note = SignNote(body, options_.origin, options_.signer);
  if (!file_thread_.joinable()) {
    // Opening: written here, before anything is appended.
    RETURN_IF_ERROR(WriteFiles(*edge, cp.note));
  } else {
    std::unique_lock<std::mutex> l(file_mu_);
    if (!file_status_.ok()) {
      // The last write failed (a full disk?): write those files again here,
      // and refuse this batch if that fails too, before it is handed on, so
      // that no file on disk ever names a refused batch.
      WriteLatestFiles(l);
      RETURN_IF_ERROR(file_status_);
    }
    ++file_gen_;
    file_last_edge_ = edge;
    file_last_note_ = cp.note;
    file_cv_.notify_all();
  }
  std::lock_guard<std::mutex> l(published_mu_);
  published_ = std::move(cp);
  published_edge_ = std::move(edge);
  return Status::OK();
}

Status CustodyLog::WriteJournal(const std::vector<const std::string*>& entries,
                                const std::vector<Hash256>& leaf_hashes) {
  std::string buf;
  size_t total = 0;
  for (const auto* e : entries) total += kRecordHeader + e->size();
  buf.reserve(total);
  for (size_t i = 0; i < entries.size(); ++i) {
    uint32_t len = static_cast<uint32_t>(entries[i]->size());
    for (int b = 3; b >= 0; --b)
      buf.push_back(static_cast<char>(len >> (8 * b)));
    buf.append(reinterpret_cast<const char*>(leaf_hashes[i].data()), 8);
    buf += *entries[i];
  }
  Status s = journal_->Append(AsBytes(buf));
  if (s.ok()) s = journal_->Sync();
  if (!s.ok()) {
    // Nothing of this batch may survive: cut the journal back to the
    // records before it (which also frees the zeros written ahead, on a
    // full disk) and go on from there.
    journal_.reset();
    Status t = env_->TruncateFile(options_.journal_path, journal_bytes_);
    if (t.ok()) {
      auto reopened = env_->NewJournalFile(
          options_.journal_path, journal_bytes_, options_.journal_preallocate);
      t = reopened.status();
      if (t.ok()) journal_ = std::move(reopened).value();
    }
    if (!t.ok()) {
      std::lock_guard<std::mutex> g(mu_);
      poisoned_ = t.Annotate("cutting back the custody journal");
    }
    return s.Annotate("writing the custody journal");
  }
  journal_bytes_ += buf.size();
  return Status::OK();
}

Status CustodyLog::RollJournal() {
  // The files on disk must be those of the current size before the
  // partial tiles of earlier sizes go.
  if (file_thread_.joinable()) {
    RETURN_IF_ERROR(FlushFiles());
    // An early sync still running may yet see a write-back error, which
    // syncfs reports once only: to it, not to the roll's own below.
    std::unique_lock<std::mutex> l(file_mu_);
    sync_wanted_ = false;  // the roll's own covers it
    file_cv_.wait(l, [&] { return !syncing_; });
    RETURN_IF_ERROR(early_sync_status_);
  }
  RETURN_IF_ERROR(env_->SyncFilesystem(options_.log_dir));
  RETURN_IF_ERROR(journal_->Close());
  std::string header = JournalHeader();
  RETURN_IF_ERROR(
      WriteFileAtomic(env_, options_.journal_path, AsBytes(header), 0600));
  ASSIGN_OR_RETURN(journal_,
                   env_->NewJournalFile(options_.journal_path, header.size(),
                                        options_.journal_preallocate));
  journal_bytes_ = header.size();
  next_early_sync_ = journal_bytes_ + options_.journal_roll_bytes / 4;
  // Partial tiles of completed tiles are no longer needed for recovery:
  // removed behind the appends (thousands of files at each roll).
  if (file_thread_.joinable()) {
    std::lock_guard<std::mutex> l(file_mu_);
    file_remove_.insert(file_remove_.end(), completed_.begin(),
                        completed_.end());
    file_cv_.notify_all();
  } else {
    for (const auto& [level, index] : completed_) {
      RETURN_IF_ERROR(store_.RemovePartials(level, index, 0));
    }
  }
  completed_.clear();
  return Status::OK();
}

Result<uint64_t> CustodyLog::Append(std::string entry) {
  std::vector<std::string> v;
  v.push_back(std::move(entry));
  return Append(std::move(v));
}

Result<uint64_t> CustodyLog::Append(std::vector<std::string> entries) {
  if (entries.empty()) return Status::InvalidInput("no entries to append");
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].size() > kMaxEntrySize)
      return TooLarge(i, entries[i].size());
    if (entries[i].empty()) {
      return Status::InvalidInput("custody entry " + std::to_string(i) +
                                  " is empty");
    }
  }
  Writer w(&entries);
  // Hashed here, on each caller's thread, not by the one journaling.
  w.leaves.resize(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    w.leaves[i] = merkle::LeafHash(AsBytes(entries[i]));
  }
  std::unique_lock<std::mutex> l(mu_);
  writers_.push_back(&w);
  uint32_t events = 0;
  if (!journaling_ && writers_.front() == &w) {
    journaling_ = true;
    events = Writer::kLead;  // no one else wakes a writer that leads
  }
  l.unlock();
  for (;;) {
    if (events == 0) events = w.bell.Wait();
    if (events & Writer::kDone) break;
    if (events & Writer::kLead) JournalBatch();
    if (events & Writer::kPublish) {
      l.lock();
      PublishQueued(l);
    }
    events = 0;
  }
  for (Writer* x : w.wakes) {
    if (x != nullptr) x->Wake(Writer::kDone);
  }
  if (!w.status.ok()) return w.status;
  return w.first;
}

void CustodyLog::JournalBatch() {
  std::unique_lock<std::mutex> l(mu_);
  // This writer leads (journaling_ is set for it): journal a batch of
  // queued writers, itself first. While a journaled batch still waits for
  // the writer publishing, a batch journaled now would only wait behind
  // it: wait until the publisher takes the queue, and journal everything
  // queued by then. Where publishing is the slower stage (fast storage),
  // this makes fewer and larger journal writes; where the journal's sync
  // is slower, the queue is empty when a batch is journaled.
  Writer* me = writers_.front();
  while (publishing_ && !to_publish_.empty() && poisoned_.ok()) {
    parked_leader_ = me;
    l.unlock();
    (void)me->bell.Wait();  // kLead, from the publisher
    l.lock();
  }
  auto batch = std::make_unique<Batch>();
  while (!writers_.empty()) {
    Writer* x = writers_.front();
    if (!batch->writers.empty() && batch->entries.size() + x->entries->size() >
                                       options_.max_batch_entries) {
      break;
    }
    writers_.pop_front();
    batch->writers.push_back(x);
    for (const auto& e : *x->entries) batch->entries.push_back(&e);
    batch->leaves.insert(batch->leaves.end(), x->leaves.begin(),
                         x->leaves.end());
  }
  Status status = poisoned_;
  bool roll = status.ok() && journal_bytes_ > options_.journal_roll_bytes;
  if (roll) {
    // Rolling needs every journaled entry published and no one publishing;
    // it stays so, since only the leader queues batches.
    while (publishing_ || !to_publish_.empty()) idle_cv_.wait(l);
    status = poisoned_;
  }
  l.unlock();

  if (roll && status.ok()) {
    status = RollJournal();
    if (!status.ok()) {
      std::lock_guard<std::mutex> g(mu_);
      poisoned_ = status;
    }
  }
  if (status.ok()) {
    status = WriteJournal(batch->entries, batch->leaves);
    if (status.ok() && journal_bytes_ >= next_early_sync_ &&
        journal_bytes_ <
            options_.journal_roll_bytes - options_.journal_roll_bytes / 8) {
      // A roll syncs every file written since the last one, which stalls
      // the log for as long as the disk takes (a third of a second for 64
      // MiB of journal). Syncing early, behind the appends, leaves the roll
      // little to wait for.
      next_early_sync_ = journal_bytes_ + options_.journal_roll_bytes / 4;
      if (file_thread_.joinable()) {
        std::lock_guard<std::mutex> g(file_mu_);
        sync_wanted_ = true;
        file_cv_.notify_all();
      }
    }
  }

  l.lock();
  if (status.ok()) {
    uint64_t next = journaled_size_;
    for (Writer* x : batch->writers) {
      x->first = next;
      next += x->entries->size();
    }
    journaled_size_ = next;
    to_publish_.push_back(std::move(batch));
  }
  // Hand the journal to the next writer in line, if any.
  journaling_ = !writers_.empty();
  if (journaling_) writers_.front()->Wake(Writer::kLead);
  if (batch) {
    l.unlock();
    Finish(batch->writers, status);
  } else if (!publishing_) {
    // Nobody is publishing, so nothing else is queued: publish this batch
    // here, while the next leader journals the next one.
    publishing_ = true;
    PublishQueued(l);
  } else {
    l.unlock();  // the writer publishing now hands the queue on
  }
}

void CustodyLog::Finish(const std::vector<Writer*>& writers,
                        const Status& status) {
  // Each writer woken wakes two more, a binary tree over the writers: the
  // wake-ups, a system call each, then run on the woken threads instead of
  // holding up the one publishing, the log's one serial stage.
  for (size_t i = 0; i < writers.size(); ++i) {
    Writer* w = writers[i];
    w->status = status;
    for (size_t c = 0; c < 2; ++c) {
      size_t child = 2 * i + 1 + c;
      w->wakes[c] = child < writers.size() ? writers[child] : nullptr;
    }
  }
  // After this a writer may return at any time: touch nothing of them.
  if (!writers.empty()) writers[0]->Wake(Writer::kDone);
}

void CustodyLog::PublishQueued(std::unique_lock<std::mutex>& l) {
  // Take every queued batch: one checkpoint covers them all.
  std::vector<std::unique_ptr<Batch>> taken;
  while (!to_publish_.empty()) {
    taken.push_back(std::move(to_publish_.front()));
    to_publish_.pop_front();
  }
  if (parked_leader_ != nullptr) {
    parked_leader_->Wake(Writer::kLead);
    parked_leader_ = nullptr;
  }
  Status status = poisoned_;
  l.unlock();

  if (status.ok()) {
    // The entries are durable: a failure leaves the in-memory state ahead
    // of the files, so refuse further appends until reopened (recovery
    // replays the journal).
    for (const auto& b : taken) {
      if (status.ok()) status = Integrate(b->entries, b->leaves);
    }
    if (status.ok()) status = PublishCheckpoint();
  }
  std::vector<Writer*> done;
  for (const auto& b : taken) {
    done.insert(done.end(), b->writers.begin(), b->writers.end());
  }
  Finish(done, status);

  l.lock();
  if (!status.ok() && poisoned_.ok()) poisoned_ = status;
  if (to_publish_.empty()) {
    publishing_ = false;
    idle_cv_.notify_all();
  } else {
    // This writer's own batch is done: a writer of the next queued batch
    // publishes the rest, so no Append waits on more than its own round.
    to_publish_.front()->writers.front()->Wake(Writer::kPublish);
  }
  l.unlock();
}

SignedCheckpoint CustodyLog::Latest() const {
  std::lock_guard<std::mutex> l(published_mu_);
  return published_;
}

std::shared_ptr<const LogEdge> CustodyLog::Edge() const {
  std::lock_guard<std::mutex> l(published_mu_);
  return published_edge_;
}

LogReader CustodyLog::Reader() const {
  std::lock_guard<std::mutex> l(published_mu_);
  return LogReader(&store_, &cache_, published_.size, published_edge_);
}

LogReader CustodyLog::ReaderAt(uint64_t size) const {
  std::lock_guard<std::mutex> l(published_mu_);
  return LogReader(&store_, &cache_, std::min(size, published_.size),
                   published_edge_);
}

}  // namespace amanah
