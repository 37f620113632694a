// The evidence vault: content-addressed, encrypted objects.
//
//   <vault>/sha256/<2 hex>/<64 hex>   one object per distinct content
//   <vault>/tmp/                       objects being written
//
// Objects are named by the SHA-256 of their plaintext ("sha256:<hex>") and
// stored in the format of object_format.h.

#ifndef AMANAH_VAULT_VAULT_H_
#define AMANAH_VAULT_VAULT_H_

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
                        const ProgressFn& progress = nullptr);

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
