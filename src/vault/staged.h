// A vault object written in pieces, over many requests and across restarts
// of the process: the resumable upload. The staging file in <vault>/tmp/
// holds the header and the sealed full chunks; plaintext never touches the
// disk. Bytes count as committed once their whole chunk is sealed, hashed
// and made durable; a resumed upload continues from the committed offset,
// which is always a multiple of the chunk size. Nothing is visible in the
// vault until Finish().

#ifndef AMANAH_VAULT_STAGED_H_
#define AMANAH_VAULT_STAGED_H_

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "crypto/hash.h"
#include "vault/vault.h"

namespace amanah {

class StagedObject {
 public:
  // Starts a staging file at `path` (which must not exist).
  static Result<std::unique_ptr<StagedObject>> Create(
      Env* env, const MasterKey& master, const std::string& path,
      const std::vector<HashAlgorithm>& algorithms);
  // Reopens a staging file after a restart: drops whatever lies beyond
  // `committed` plaintext bytes, and re-hashes the committed chunks
  // (decrypting them, so a damaged staging file is found here).
  static Result<std::unique_ptr<StagedObject>> Resume(
      Env* env, const MasterKey& master, const std::string& path,
      const std::vector<HashAlgorithm>& algorithms, uint64_t committed);
  ~StagedObject();

  // Plaintext bytes sealed, hashed and written (durable after Sync()).
  uint64_t sealed() const { return chunks_ * chunk_size_; }
  // Bytes received beyond the last full chunk, held in memory.
  uint64_t pending() const { return buffer_.size(); }

  // Takes plaintext; seals, hashes and writes each chunk as it fills.
  Status Append(ByteView data);
  // Makes the sealed chunks durable; the pending remainder is kept.
  Status Sync();
  // Forgets the pending remainder (a request ended before the upload did).
  void DropPending() { buffer_.clear(); }
  // Seals the remainder as the final chunk and makes the file durable: the
  // object is complete, still in staging. Returns its size and digests.
  Result<PutResult> Seal();
  // Seal(), then moves the file into `vault` under its SHA-256 (or drops it
  // if the vault holds that content already). The staging file is gone
  // afterwards.
  Result<PutResult> Finish(Vault* vault);

 private:
  StagedObject(Env* env, std::string path, std::vector<HashAlgorithm> algs);
  Status SealChunk(ByteView plain, bool last);

  // Hashes on a thread of its own, so that receiving and encrypting go on
  // meanwhile; holds at most a few chunks.
  void Hash(ByteView plain);
  void WaitHashed();
  void HashLoop();

  Env* env_;
  std::string path_;
  std::vector<HashAlgorithm> algorithms_;
  std::vector<std::unique_ptr<Hasher>> hashers_;
  std::mutex hash_mu_;
  std::condition_variable hash_cv_;
  std::deque<Bytes> hash_queue_;  // guarded by hash_mu_
  bool hash_busy_ = false;        // guarded by hash_mu_
  bool hash_stop_ = false;        // guarded by hash_mu_
  std::thread hash_thread_;
  std::unique_ptr<WritableFile> file_;
  std::unique_ptr<ChunkCipher> cipher_;
  uint64_t chunk_size_ = kVaultChunkSize;
  uint64_t chunks_ = 0;
  Bytes buffer_;
  Bytes sealed_;
};

}  // namespace amanah

#endif  // AMANAH_VAULT_STAGED_H_
