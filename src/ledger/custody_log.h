// CustodyLog: the append-only custody log of a node.
//
// Entries are appended in batches ("group commit"): concurrent Append calls
// are gathered, written to the journal with one fdatasync, integrated into
// the C2SP tlog-tiles layout, and covered by one new signed checkpoint. An
// Append returns only after all of that: the entry is durable and published.
//
// The two halves run as a pipeline: while one Append call integrates and
// signs a batch (or every batch queued by then, under one checkpoint), the
// next leader writes the next batch to the journal and syncs it. Batches
// are published in journal order.
//
// Durability: the journal (<data>/journal/custody.wal) holds every entry
// appended since its base size, fsynced before the checkpoint is published.
// Past its records it holds zeros (written ahead, see NewJournalFile).
// Tiles and bundles are written by atomic rename without fsync; when the
// journal grows past a limit the filesystem is synced and a new journal
// starts at the current size. (The same thread that writes the files below
// also syncs the file system early, each quarter of that limit, so that a
// roll finds little left to write, and removes the partial tiles that the
// roll made useless.) After a crash, Open() replays the journal and
// rewrites every file after the base.
//
// A batch is published when Latest() returns the checkpoint that covers
// it, and Reader() the tree with it: the log holds the right edge of the
// tree in memory (its partial tiles and entry bundle, and the full ones
// not yet written), and the HTTP API serves Latest() and that edge. The
// files on disk follow on a thread of the log's own: the full tiles and
// bundles completed, then the edge's partial ones, then the checkpoint
// file, at most once every `file_interval_ms` while appends go on.
// Creating files costs more on ext4 than all the rest of publishing a
// batch. An Append waits for it only at a journal roll, when more than
// `max_unwritten_bytes` are waiting to be written, or to retry a write that
// failed (and is refused if it fails again). So the directory is always a
// consistent tlog-tiles tree: its checkpoint file names the latest checkpoint
// or one a moment older, and every tile of that tree is there.

#ifndef AMANAH_LEDGER_CUSTODY_LOG_H_
#define AMANAH_LEDGER_CUSTODY_LOG_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "crypto/ed25519.h"
#include "ledger/log_reader.h"
#include "ledger/merkle.h"
#include "ledger/tiles.h"
#include "storage/env.h"

namespace amanah {

struct CustodyLogOptions {
  std::string log_dir;       // the tlog-tiles directory
  std::string journal_path;  // outside log_dir: it is not published
  std::string origin;        // e.g. "ccd.moi.gov.kw/custody"; also key name
  Ed25519PrivateKey signer = Ed25519PrivateKey::Generate();
  uint64_t journal_roll_bytes = 64 << 20;
  // The journal is kept written with zeros this far past its records, so
  // that a batch's sync commits no change of the file's size or blocks.
  uint64_t journal_preallocate = 16 << 20;
  size_t max_batch_entries = 8192;
  // While appends go on, the files on disk (full tiles and bundles, then
  // partial ones, then the checkpoint) are written at most this often (0:
  // after every batch).
  uint32_t file_interval_ms = 20;
  // When the full tiles and bundles not yet written exceed this, publishing
  // waits for the disk.
  size_t max_unwritten_bytes = 32 << 20;
};

// A published checkpoint.
struct SignedCheckpoint {
  uint64_t size = 0;
  Hash256 root{};
  std::string note;  // the C2SP signed note, as published
};

class CustodyLog {
 public:
  // Creates an empty log (checkpoint of size 0). kConflict if one exists.
  static Status Create(Env* env, const CustodyLogOptions& options);
  // Opens the log, replaying the journal after a crash.
  // REQUIRES: the caller holds the node's writer lock for the log's lifetime.
  static Result<std::unique_ptr<CustodyLog>> Open(Env* env,
                                                  CustodyLogOptions options);
  ~CustodyLog();

  // Appends `entries` (each at most 65535 bytes) consecutively and returns
  // the index of the first, once durable and covered by a published
  // checkpoint. Thread-safe. An error returned after the journal was
  // written leaves the log refusing appends until it is reopened; the
  // entries of that batch may then be present (recovery replays the
  // journal), so a caller must not assume they are absent.
  Result<uint64_t> Append(std::vector<std::string> entries);
  Result<uint64_t> Append(std::string entry);

  SignedCheckpoint Latest() const;
  // The right edge of the tree of Latest().
  std::shared_ptr<const LogEdge> Edge() const;
  // Waits until the files on disk (the full tiles and bundles, the edge's
  // partial ones and the checkpoint) are those of Latest(), or failed to
  // be: the outcome.
  Status FlushFiles();
  // A reader of the latest published tree.
  LogReader Reader() const;
  // A reader of the tree of `size` leaves (at most the latest), sharing the
  // log's tile cache.
  LogReader ReaderAt(uint64_t size) const;
  const TileStore& store() const { return store_; }

 private:
  struct Writer;
  struct Batch;
  CustodyLog(Env* env, CustodyLogOptions options);

  // Journals a batch of the writers queued, the first of which (the caller)
  // was given the journal, then hands the journal to the next in line.
  void JournalBatch();
  // Integrates every queued batch in order, signs one checkpoint for them,
  // completes their writers, and hands publishing on to a writer of the
  // next queued batch, if any. REQUIRES: l holds mu_ and the caller holds
  // the publishing role; returns with l unlocked.
  void PublishQueued(std::unique_lock<std::mutex>& l);
  // Completes `writers` with `status`.
  static void Finish(const std::vector<Writer*>& writers, const Status& status);

  Status Recover();
  // Integrates entries into the in-memory edge. REQUIRES: integration role
  // held.
  Status Integrate(const std::vector<const std::string*>& entries,
                   const std::vector<Hash256>& leaf_hashes);
  // Records `f`, just filled, as not yet written (numbering it) and as
  // completed since the last roll. REQUIRES: integration role held.
  void AddCompleted(LogEdge::Full f);
  // Forgets the full tiles written since. REQUIRES: integration role held.
  void PruneUnwritten();
  // The current right edge. REQUIRES: integration role held.
  std::shared_ptr<const LogEdge> MakeEdge() const;
  // Writes the edge's full tiles not yet written, its partial tiles, then
  // the checkpoint `note` of its tree. REQUIRES: the only one writing.
  Status WriteFiles(const LogEdge& edge, const std::string& note);
  // Signs and publishes a checkpoint of the integrated tree.
  // REQUIRES: integration role held.
  Status PublishCheckpoint();
  // The body of file_thread_: writes the latest files handed to it.
  void FollowOnDisk();
  // Whether the latest files handed are still to be written.
  // REQUIRES: file_mu_ held.
  bool FilesPending() const { return file_taken_gen_ < file_gen_; }
  // Writes the latest files handed, here, once the thread is not writing.
  // REQUIRES: l holds file_mu_.
  void WriteLatestFiles(std::unique_lock<std::mutex>& l);
  Status WriteJournal(const std::vector<const std::string*>& entries,
                      const std::vector<Hash256>& leaf_hashes);
  Status RollJournal();
  Status RewriteStalePartials();
  std::string JournalHeader() const;

  Env* const env_;
  const CustodyLogOptions options_;
  TileStore store_;
  mutable TileCache cache_{4096};

  // Writers queue (LevelDB style): the front writer, once no other batch is
  // being journaled, writes the next batch to the journal.
  std::mutex mu_;
  std::deque<Writer*> writers_;
  bool journaling_ = false;      // a leader holds the journal
  uint64_t journaled_size_ = 0;  // entries in the journal (>= published)
  std::deque<std::unique_ptr<Batch>> to_publish_;  // journaled, in order
  // A writer holds the publishing role; always so while to_publish_ is not
  // empty.
  bool publishing_ = false;
  // The leader waiting for the publisher to take the queue, if any.
  Writer* parked_leader_ = nullptr;
  std::condition_variable idle_cv_;  // publishing_ went false
  Status poisoned_;                  // a failure after the journal was written

  // Journal state: touched by the leader holding the journal.
  std::unique_ptr<WritableFile> journal_;
  uint64_t journal_bytes_ = 0;
  uint64_t next_early_sync_ = 0;  // journal_bytes_ at which to sync early

  // Integration state: touched by the writer holding the publishing role
  // (or, while no one does and nothing is queued, by a leader rolling the
  // journal).
  merkle::CompactRange range_;
  std::vector<std::vector<Hash256>> edge_;  // rightmost tile of each level
  std::string edge_bundle_;                 // rightmost entry bundle
  std::vector<std::pair<int, uint64_t>> completed_;  // full since last roll
  // Full tiles and bundles completed, in order, from the first not known
  // to be written (see LogEdge::Full), and their size in bytes.
  std::deque<LogEdge::Full> unwritten_;
  uint64_t full_seq_ = 0;  // of the last completed
  size_t unwritten_bytes_ = 0;

  mutable std::mutex published_mu_;
  SignedCheckpoint published_;
  std::shared_ptr<const LogEdge> published_edge_;

  // The files' writer (started once Open has recovered).
  std::thread file_thread_;
  std::mutex file_mu_;
  std::condition_variable file_cv_;
  // Each checkpoint handed to the thread has a generation, 1, 2, ...: the
  // latest handed, the latest whose write was begun, and finished.
  uint64_t file_gen_ = 0;
  uint64_t file_taken_gen_ = 0;
  uint64_t file_done_gen_ = 0;
  // The latest handed (generation file_gen_).
  std::shared_ptr<const LogEdge> file_last_edge_;
  std::string file_last_note_;
  bool file_writing_ = false;
  bool file_stop_ = false;
  int file_flushers_ = 0;     // callers of FlushFiles waiting
  bool sync_wanted_ = false;  // the thread should sync the file system
  bool syncing_ = false;      // it is syncing it
  // Tiles whose partial files the thread should remove (after a roll).
  std::vector<std::pair<int, uint64_t>> file_remove_;
  Status file_status_;  // of the last write
  // Every full tile and bundle up to this seq is on disk. Written by the
  // one writing the files (see WriteFiles).
  std::atomic<uint64_t> file_written_seq_{0};
  Status early_sync_status_;  // the first failed early sync
};

}  // namespace amanah

#endif  // AMANAH_LEDGER_CUSTODY_LOG_H_
