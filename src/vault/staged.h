// A vault object written in pieces, over many requests and across restarts
// of the process: the resumable upload. The staging file in <vault>/tmp/
// holds the header and the sealed full chunks; plaintext never touches the
// disk. Bytes count as committed once their whole chunk is sealed, hashed
// and made durable; a resumed upload continues from the committed offset,
// which is always a multiple of the chunk size. Nothing is visible in the
// vault until Finish().

#ifndef AMANAH_VAULT_STAGED_H_
#define AMANAH_VAULT_STAGED_H_

#include <memory>
#include <mutex>
#include <string>
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
  // (decrypting them, so a damaged staging file is found here). The chunks
  // that follow are sealed under fresh nonces, never under those they may
  // have had before. A file of format version 1 (begun before an upgrade)
  // has its committed chunks sealed once more into a version 2 file that
  // replaces it (written as `path`.v2, then renamed).
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

  void Hash(ByteView plain);
  void WaitHashed();
  Status Drained();  // waits for the writer, and returns its status

  Env* env_;
  std::string path_;
  std::vector<HashAlgorithm> algorithms_;
  std::vector<std::unique_ptr<Hasher>> hashers_;
  std::unique_ptr<WritableFile> file_;
  std::unique_ptr<ChunkCipher> cipher_;
  std::mutex status_mu_;
  Status write_status_;  // the writer's first failure; guarded by status_mu_
  // Hashing and writing each run on a thread of their own, so that
  // receiving and encrypting go on meanwhile; each holds at most a few
  // chunks.
  class Worker;
  std::unique_ptr<Worker> hasher_;
  std::unique_ptr<Worker> writer_;
  uint64_t chunk_size_ = kVaultChunkSize;
  uint64_t chunks_ = 0;
  Bytes buffer_;
};

}  // namespace amanah

#endif  // AMANAH_VAULT_STAGED_H_
