// Reading EnCase (E01, EWF) images through libewf: the media they hold and
// the hashes the acquiring tool recorded in them.

#ifndef AMANAH_VAULT_E01_H_
#define AMANAH_VAULT_E01_H_

#include <memory>
#include <string>
#include <utility>
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

// What the acquiring tool wrote into the image's header about the
// acquisition (the EWF header, header2 or xheader section, as libewf reads
// it). Outside input: a value is taken only if it is valid UTF-8, within
// kMaxEwfHeaderValue bytes (kMaxEwfHeaderText for description and notes),
// and free of control characters (C0, DEL, C1; the header's own separators
// are tab and newline, so no value holds them) and of bidirectional
// overrides and isolates (U+202A to U+202E, U+2066 to U+2069), which would
// make a printed value read other than it is. Empty values are left out.
//
// Names, in this order: case_number, evidence_number, examiner,
// description, notes, acquired, system_date, operating_system,
// software_version. The dates are "YYYY-MM-DDTHH:MM:SSZ" (UTC) when the
// image stores them as instants (EnCase 4 to 7, linen 5 to 7, logical
// images: the header2 section), and "YYYY-MM-DDTHH:MM:SS" with no zone
// when it stores the acquiring machine's wall clock (EnCase 1 to 3, SMART,
// FTK and the EWF format), whose zone the image does not say.
constexpr size_t kMaxEwfHeaderValue = 256;
constexpr size_t kMaxEwfHeaderText = 4096;

struct EwfHeader {
  std::vector<std::pair<std::string, std::string>> values;  // name, value
  // The names of values the image has but that were not taken, and why
  // ("notes: not valid UTF-8"): recorded so that a reader knows the image
  // says more than the record shows.
  std::vector<std::string> refused;
  bool empty() const { return values.empty() && refused.empty(); }
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
  const EwfHeader& header() const { return header_; }
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
  EwfHeader header_;
  std::vector<std::string> segments_;
};

}  // namespace amanah

#endif  // AMANAH_VAULT_E01_H_
