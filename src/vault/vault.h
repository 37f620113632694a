// The evidence vault: content-addressed, encrypted objects.
//
//   <vault>/sha256/<2 hex>/<64 hex>   one object per distinct content
//   <vault>/tmp/                       objects being written
//
// Objects are named by the SHA-256 of their plaintext ("sha256:<hex>") and
// stored in the format of object_format.h.

#ifndef AMANAH_VAULT_VAULT_H_
#define AMANAH_VAULT_VAULT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vault/object_format.h"
#include "vault/stream.h"

namespace amanah {

// "sha256:<64 lowercase hex>".
struct ContentAddress {
  Hash256 digest{};
  std::string ToString() const;
  static Result<ContentAddress> Parse(std::string_view text);
  bool operator==(const ContentAddress&) const = default;
};

struct PutResult {
  ContentAddress address;
  uint64_t size = 0;
  std::map<HashAlgorithm, Bytes> digests;  // always has kSha256
  bool duplicate = false;  // the vault already held this content
};

// What Verify found.
struct ObjectCheck {
  uint64_t size = 0;          // plaintext bytes
  uint64_t stored_bytes = 0;  // bytes on disk
};

// Reads any range of one object's plaintext, decrypting only the chunks
// the range covers and checking each chunk's tag and position. It cannot
// check the SHA-256 of the whole object: whoever assembles the ranges must
// (a peer pulling evidence does). Not safe for concurrent use.
class ObjectReader {
 public:
  ~ObjectReader();
  uint64_t size() const { return size_; }
  uint64_t chunks() const { return chunks_; }
  uint64_t chunk_size() const { return chunk_size_; }
  // Decrypts chunk `index` (< chunks()) into `out`, which has room for
  // chunk_size() bytes, checking its tag; returns its length.
  Result<size_t> OpenChunk(uint64_t index, uint8_t* out);
  // Calls `out` with the plaintext of [offset, offset + length) in order,
  // in pieces of at most one chunk; stops early if `out` returns false
  // (kUnavailable). kInvalidInput if the range lies beyond the object,
  // kCorruption if a chunk fails its tag.
  Status ReadRange(uint64_t offset, uint64_t length,
                   const std::function<bool(ByteView)>& out);

 private:
  friend class Vault;
  ObjectReader() = default;
  Status LoadChunk(uint64_t index);

  std::string path_;
  std::unique_ptr<RandomAccessFile> file_;
  std::unique_ptr<ChunkCipher> cipher_;
  uint64_t chunk_size_ = 0, overhead_ = 0, sealed_chunk_ = 0, stored_ = 0;
  uint64_t chunks_ = 0;
  uint64_t size_ = 0;
  uint64_t loaded_ = UINT64_MAX;  // the chunk in plain_
  Bytes sealed_, plain_;
};

// What Put tells its caller before its effects, so that the caller can
// record them first and, after a crash, finish or undo them (app/: the
// node removes an object whose ingest never committed).
struct PutHooks {
  // Before the temporary file (under TmpDir()) is created.
  std::function<Status(const std::string& tmp_path)> before_write;
  // Once the content is hashed and durable, before it becomes visible
  // under its address.
  std::function<Status(const ContentAddress& address)> before_adopt;
};

class Vault {
 public:
  Vault(Env* env, std::string dir, MasterKey master)
      : env_(env), dir_(std::move(dir)), master_(master) {}

  // Streams `source` into the vault, reading it once: SHA-256 plus `extra`
  // hashes on their own threads, encryption and writing on this one. The
  // object becomes visible only once complete and durable; identical content
  // is stored once.
  Result<PutResult> Put(SequentialFile* source,
                        const std::vector<HashAlgorithm>& extra,
                        const ProgressFn& progress = nullptr,
                        const PutHooks* hooks = nullptr);

  // Moves a complete, durable object file (made by StagedObject) into place
  // as `address`; true if the vault held that content already, in which
  // case the file is removed instead. On failure the file is left alone.
  Result<bool> Adopt(const std::string& file, const ContentAddress& address);
  std::string TmpDir() const { return JoinPath(dir_, "tmp"); }
  const MasterKey& master() const { return master_; }

  bool Contains(const ContentAddress& address) const;
  std::string PathOf(const ContentAddress& address) const;
  Result<std::vector<ContentAddress>> List() const;

  // Decrypts the object to `sink`, checking every tag and, at the end, the
  // SHA-256 of the plaintext. Data reaches the sink before the final check:
  // a caller must discard it on failure.
  Result<ObjectCheck> Read(const ContentAddress& address, ChunkSink* sink,
                           const ProgressFn& progress = nullptr) const;
  // For reading ranges of an object (serving a peer's pull).
  Result<std::unique_ptr<ObjectReader>> OpenReader(
      const ContentAddress& address) const;
  // Read() without the final SHA-256: every chunk's tag and position is
  // still checked (AES-GCM in the STREAM construction: no chunk can be
  // altered, dropped, reordered or cut off unnoticed), so what reaches the
  // sink is what was encrypted at ingest. For copying whole objects out
  // where a SHA-256 pass would set the pace (a bundle, which its verifier
  // re-hashes).
  Result<ObjectCheck> Decrypt(const ContentAddress& address, ChunkSink* sink,
                              const ProgressFn& progress = nullptr) const;
  // Read() into nothing: every tag and the SHA-256. kCorruption names the
  // file and what failed.
  Result<ObjectCheck> Verify(const ContentAddress& address,
                             const ProgressFn& progress = nullptr) const;

 private:
  Env* env_;
  std::string dir_;
  MasterKey master_;
};

}  // namespace amanah

#endif  // AMANAH_VAULT_VAULT_H_
