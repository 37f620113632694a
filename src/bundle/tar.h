// The tar container of an evidence bundle (docs/formats.md, "Bundle"): a
// POSIX.1-2001 archive of regular files, written and read as a stream so that
// no object is ever held in memory.
//
// What TarWriter writes, and all TarReader accepts (besides directories and
// pax records other than "path" and "size", which it skips):
//   - 512-byte ustar headers (magic "ustar\0", version "00"), typeflag '0',
//     mode 0644, uid and gid 0, empty uname and gname, every mtime the same;
//   - a path of up to 100 bytes in `name`, a longer one split at a '/' into
//     `prefix` (up to 155 bytes) and `name`;
//   - a pax extended header (typeflag 'x', name "PaxHeaders/<file name>")
//     before a file whose path cannot be split or whose size is 8 GiB or
//     more, carrying "path" and/or "size" records; the file's own header
//     then holds its last path component cut to 100 bytes, and size 0;
//   - the data, zero-padded to a multiple of 512 bytes;
//   - two zero blocks at the end.
//
// A path is relative, '/'-separated, at most kMaxTarPath bytes, with no
// empty, "." or ".." component and no control character (bytes 0x00-0x1f and
// 0x7f).
//
// Depends only on base/ and storage/env.h: the offline verifier links it.

#ifndef AMANAH_BUNDLE_TAR_H_
#define AMANAH_BUNDLE_TAR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.h"
#include "base/status.h"
#include "storage/env.h"

namespace amanah {

inline constexpr size_t kMaxTarPath = 4096;
// The largest pax extended header TarReader accepts.
inline constexpr uint64_t kMaxTarPaxHeader = 64 << 10;

// OK if `path` is a safe member path (above); kInvalidInput naming the fault.
Status CheckTarPath(std::string_view path);

// Where a TarWriter's bytes go (a file through Env, or an HTTP response).
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Append(ByteView data) = 0;
};

// Writes an archive to a ByteSink. Once the sink fails, or a file's data
// disagrees with its announced size, every later call returns that error.
class TarWriter {
 public:
  // `mtime`: seconds since the epoch written into every header (the export
  // time), so one export is byte-reproducible. Clamped to [0, 8^11).
  // `out` must remain live while this TarWriter is in use.
  TarWriter(ByteSink* out, int64_t mtime);

  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // A whole small file: Begin(path, content.size()), Write(content), End().
  Status Add(std::string_view path, ByteView content);

  // A file written in pieces: Begin, Write... (exactly `size` bytes in all),
  // End. Begin fails with kInvalidInput, writing nothing, for an unsafe
  // path, a size of 2^62 bytes or more, or when a file is already open.
  Status Begin(std::string_view path, uint64_t size);
  // Passes `data` straight to the sink. kInvalidInput beyond the size given
  // to Begin, or outside Begin...End.
  Status Write(ByteView data);
  // Pads the file's data to a block. kInvalidInput if fewer bytes than
  // announced were written.
  Status End();

  // Writes the two zero blocks that end the archive.
  // REQUIRES: no file is open; called once.
  Status Finish();

  // Bytes appended to the sink so far.
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  Status Append(ByteView data);
  Status Fail(Status s);

  ByteSink* const out_;
  const int64_t mtime_;
  Status error_;
  std::string path_;  // of the open file
  bool open_ = false;
  bool finished_ = false;
  uint64_t size_ = 0;       // of the open file
  uint64_t remaining_ = 0;  // of its data still to write
  uint64_t bytes_written_ = 0;
};

struct TarMember {
  std::string path;
  uint64_t size = 0;
};

// Reads an archive one member at a time, strictly: a verifier must accept
// only what TarWriter writes (plus directories, which are skipped) and name
// anything else. Errors are kCorruption "tar offset N: <what>", and sticky.
class TarReader {
 public:
  // `in` must remain live while this TarReader is in use.
  explicit TarReader(SequentialFile* in);
  ~TarReader();

  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // Skips any unread data of the previous member, then reads the next
  // regular file's header into `*member`. False at the end of the archive:
  // two zero blocks, after which only zero bytes may follow up to the end of
  // `in`. kCorruption for a bad header checksum, a header that is not POSIX
  // ustar, a bad number field, a truncated archive (the end inside a header
  // or data, or no end blocks), a member other than a regular file or a
  // directory (named by its type), an unsafe path, a malformed or oversized
  // (> kMaxTarPaxHeader) pax header. Pax 'x' records "path" and "size" are
  // applied; other keywords are ignored, except GNU sparse files, refused.
  Result<bool> Next(TarMember* member);

  // Reads up to `n` bytes of the current member's data into `scratch`,
  // straight from `in`; 0 at its end. kCorruption if `in` ends first.
  Result<size_t> Read(uint8_t* scratch, size_t n);

  // The current member's data as a SequentialFile, for streaming hashers.
  // Valid while this TarReader lives; reads the member current at the time.
  SequentialFile* member();

  // Bytes of the archive consumed so far.
  uint64_t offset() const { return offset_; }

 private:
  class MemberFile;

  Result<bool> ReadNext(TarMember* member);
  // Reads exactly `n` bytes; false if `in` ended before the first byte.
  Result<bool> ReadFull(uint8_t* buf, size_t n, std::string_view what);
  // Skips `n` bytes of the current member's `what` ("data", "padding").
  Status Skip(uint64_t n, std::string_view what);
  // Checks that only zeros follow the end blocks.
  Status CheckTrailer();
  Status Corrupt(uint64_t at, std::string_view what) const;

  SequentialFile* const in_;
  std::unique_ptr<MemberFile> member_file_;
  std::vector<uint8_t> skip_buf_;
  Status error_;
  bool ended_ = false;
  std::string current_path_;
  uint64_t remaining_ = 0;  // unread data of the current member
  uint64_t padding_ = 0;    // zeros after it
  uint64_t offset_ = 0;
};

}  // namespace amanah

#endif  // AMANAH_BUNDLE_TAR_H_
