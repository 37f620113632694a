// CustodyLog: the append-only custody log of a node.
//
// Entries are appended in batches ("group commit"): concurrent Append calls
// are gathered, written to the journal with one fdatasync, integrated into
// the C2SP tlog-tiles layout, and covered by one new signed checkpoint. An
// Append returns only after all of that: the entry is durable and published.
//
// Durability: the journal (<data>/journal/custody.wal) holds every entry
// appended since its base size, fsynced before the checkpoint is published.
// Tiles, bundles and the checkpoint are written by atomic rename without
// fsync; when the journal grows past a limit the filesystem is synced and a
// new journal starts at the current size. After a crash, Open() replays the
// journal and rewrites every file after the base.

#ifndef AMANAH_LEDGER_CUSTODY_LOG_H_
#define AMANAH_LEDGER_CUSTODY_LOG_H_

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
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
  size_t max_batch_entries = 8192;
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
  // checkpoint. Thread-safe.
  Result<uint64_t> Append(std::vector<std::string> entries);
  Result<uint64_t> Append(std::string entry);

  SignedCheckpoint Latest() const;
  // A reader of the latest published tree.
  LogReader Reader() const;
  const TileStore& store() const { return store_; }

 private:
  struct Writer;
  CustodyLog(Env* env, CustodyLogOptions options);

  Status Recover();
  // Integrates entries into the in-memory edge and writes the tiles they
  // touch. REQUIRES: integration role held.
  Status Integrate(const std::vector<const std::string*>& entries,
                   const std::vector<Hash256>& leaf_hashes);
  Status WriteEdges();
  Status PublishCheckpoint();
  Status WriteJournal(const std::vector<const std::string*>& entries,
                      const std::vector<Hash256>& leaf_hashes);
  Status RollJournal();
  Status RewriteStalePartials();
  std::string JournalHeader() const;

  Env* const env_;
  const CustodyLogOptions options_;
  TileStore store_;
  mutable TileCache cache_{4096};

  // Writers queue (LevelDB style): the front writer integrates the batch.
  std::mutex mu_;
  std::deque<Writer*> writers_;
  Status poisoned_;  // a failure after the journal was written

  // Integration state: touched only by the writer at the front of the queue.
  merkle::CompactRange range_;
  std::vector<std::vector<Hash256>> edge_;  // rightmost tile of each level
  std::vector<std::string> edge_entries_;   // rightmost entry bundle
  std::vector<bool> edge_dirty_;
  bool entries_dirty_ = false;
  std::vector<std::pair<int, uint64_t>> completed_;  // full since last roll
  std::unique_ptr<WritableFile> journal_;
  uint64_t journal_bytes_ = 0;

  mutable std::mutex published_mu_;
  SignedCheckpoint published_;
};

}  // namespace amanah

#endif  // AMANAH_LEDGER_CUSTODY_LOG_H_
