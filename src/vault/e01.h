// Reading EnCase (E01, EWF) images through libewf: the media they hold and
// the hashes the acquiring tool recorded in them.

#ifndef AMANAH_VAULT_E01_H_
#define AMANAH_VAULT_E01_H_

#include <memory>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/status.h"

namespace amanah {

// True if `first_bytes` start with the EWF signature "EVF\x09\x0d\x0a\xff\x00".
bool LooksLikeEwf(ByteView first_bytes);

struct EwfStoredHashes {
  std::string md5_hex;   // empty if the image records none
  std::string sha1_hex;  // empty if none
};

// Reads the media (the acquired device's bytes) of an image set in order.
class EwfMediaReader {
 public:
  // `path` is the first segment (.E01); the other segments are found by
  // libewf's naming scheme. kNotFound for a missing file, kCorruption when
  // libewf cannot open the set (with libewf's reason).
  static Result<std::unique_ptr<EwfMediaReader>> Open(const std::string& path);
  ~EwfMediaReader();
  EwfMediaReader(const EwfMediaReader&) = delete;
  EwfMediaReader& operator=(const EwfMediaReader&) = delete;

  uint64_t media_size() const { return media_size_; }
  const EwfStoredHashes& stored_hashes() const { return stored_; }
  const std::vector<std::string>& segment_paths() const { return segments_; }

  // Reads up to `n` bytes of media; 0 at the end. A chunk that fails its
  // checksum is kCorruption naming the sectors, never silently zero-filled.
  Result<size_t> Read(uint8_t* buf, size_t n);

 private:
  struct Handle;
  EwfMediaReader() = default;
  std::unique_ptr<Handle> handle_;
  uint64_t media_size_ = 0;
  uint64_t offset_ = 0;
  EwfStoredHashes stored_;
  std::vector<std::string> segments_;
};

}  // namespace amanah

#endif  // AMANAH_VAULT_E01_H_
