// Env: every file and clock access amanah makes goes through this interface,
// so tests can inject faults (failed writes, full disks, failed fsyncs)
// without mocking the domain. Modeled on LevelDB's Env.

#ifndef AMANAH_STORAGE_ENV_H_
#define AMANAH_STORAGE_ENV_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/status.h"

namespace amanah {

// A file being written sequentially. Data is durable only after Sync().
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(ByteView data) = 0;
  // Appends `n` bytes that `fill` writes in place: where the file keeps
  // buffers of its own, the bytes are made there and never copied (an
  // encrypted vault object is sealed straight into the write buffer).
  // Elsewhere the bytes are made in a scratch buffer of the calling thread,
  // kept for its next call (not a fresh megabyte per chunk), then appended.
  virtual Status AppendWith(size_t n,
                            const std::function<void(uint8_t* out)>& fill) {
    thread_local Bytes scratch;
    if (scratch.size() < n) scratch.resize(n);
    fill(scratch.data());
    return Append(ByteView(scratch.data(), n));
  }
  virtual Status Sync() = 0;
  // A hint, before anything is appended, that the file will hold `size`
  // bytes: where the file system allows, their blocks are allocated now.
  // (ext4 writes a file out at once when it is renamed over another, if
  // its blocks were still to be allocated; see WriteFileReplace.)
  virtual void AllocateHint(uint64_t size) { (void)size; }
  // Closes without syncing. Also called by the destructor if needed.
  virtual Status Close() = 0;
};

// Part of a file mapped into memory; unmapped when destroyed.
class MappedRegion {
 public:
  virtual ~MappedRegion() = default;
  virtual ByteView data() const = 0;
};

class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to `n` bytes into `scratch`; returns the count, 0 at the end.
  virtual Result<size_t> Read(uint8_t* scratch, size_t n) = 0;

  // Whether Map() works: a large regular file, read without a copy.
  virtual bool CanMap() const { return false; }
  // Maps the next `n` bytes (fewer at the end, none past it) and moves on;
  // a file is read with Map() or with Read(), not both. Each region stays
  // readable while it lives, independently of the others.
  virtual Result<std::unique_ptr<MappedRegion>> Map(size_t n) {
    (void)n;
    return Status::InvalidInput("this file cannot be mapped");
  }
  // Called once the whole stream has been read and every region released:
  // fails if the file changed while it was read (its size, its modification
  // time, or a region that lost its pages to a truncation), which means the
  // bytes read may not be any version the file ever had.
  virtual Status Finish() { return Status::OK(); }
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to `n` bytes at `offset`; fewer only at the end of the file.
  virtual Result<size_t> ReadAt(uint64_t offset, uint8_t* scratch,
                                size_t n) const = 0;
  virtual Result<uint64_t> Size() const = 0;
};

// Held while a process owns a node directory's writer role.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX Env. Never deleted.
  static Env* Default();

  // Creates or truncates `path`, with permission bits `mode` on creation.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path, mode_t mode = 0644) = 0;
  // Like NewWritableFile, for a large file written from start to end (a
  // vault object, a staging file, a bundle): the data may bypass the page
  // cache and be written behind the caller, so Append() reports a failure a
  // few calls late, or at Sync() or Close(), which write everything
  // appended.
  virtual Result<std::unique_ptr<WritableFile>> NewStreamingFile(
      const std::string& path, mode_t mode = 0644) {
    return NewWritableFile(path, mode);
  }
  // A streaming file that goes on from the end of the existing `path` (a
  // staging file resumed after a restart).
  virtual Result<std::unique_ptr<WritableFile>> ReopenStreamingFile(
      const std::string& path) {
    return NewAppendableFile(path, 0600);
  }
  // Opens `path` for appending, creating it if absent.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path, mode_t mode = 0644) = 0;
  // Opens the existing `path` as a write-ahead journal whose records end at
  // `end`; past `end` the file must hold nothing but zeros (the caller cuts
  // anything else off first). Appends go on from `end` and keep the file
  // so: its reader stops at the first record of length zero. Where the file
  // system allows, writes bypass the page cache, onto blocks of zeros
  // written up to `preallocate` bytes ahead, so that Sync() makes a batch
  // durable without a metadata commit. After a failed Append or Sync, the
  // caller cuts the file back to the records it keeps and opens it again.
  virtual Result<std::unique_ptr<WritableFile>> NewJournalFile(
      const std::string& path, uint64_t end, uint64_t preallocate) {
    (void)preallocate;
    RETURN_IF_ERROR(TruncateFile(path, end));
    return NewAppendableFile(path, 0600);
  }
  // "-" is standard input.
  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;
  // Like NewRandomAccessFile, for a large file read mostly from start to
  // end (a vault object sent to a peer, exported or checked): the data may
  // bypass the page cache, and reads that follow one another are read ahead
  // of by a thread of the file's own. Not safe for concurrent use.
  virtual Result<std::unique_ptr<RandomAccessFile>> NewStreamingReadFile(
      const std::string& path) {
    return NewRandomAccessFile(path);
  }

  virtual bool FileExists(const std::string& path) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  virtual Result<std::vector<std::string>> GetChildren(
      const std::string& dir) = 0;
  virtual Status CreateDir(const std::string& path, mode_t mode = 0755) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes an empty directory.
  virtual Status RemoveDir(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Makes the directory's entries (creations, renames) durable.
  virtual Status SyncDir(const std::string& path) = 0;
  // Makes every write on the filesystem holding `path` durable (syncfs).
  virtual Status SyncFilesystem(const std::string& path) = 0;
  // Permission bits of `path`.
  virtual Result<mode_t> GetFileMode(const std::string& path) = 0;
  // Sets the permission bits of `path` (chmod).
  virtual Status SetFileMode(const std::string& path, mode_t mode) = 0;

  // An exclusive advisory lock on `path`, waiting until it is free.
  virtual Result<std::unique_ptr<FileLock>> LockFile(
      const std::string& path) = 0;

  // Wall-clock time, nanoseconds since the Unix epoch.
  virtual int64_t NowUnixNanos() = 0;
};

// Creates every missing directory on the way to `path`.
Status CreateDirs(Env* env, const std::string& path, mode_t mode = 0755);

// Writes `data` to `path` crash-safely: a temporary file in the same
// directory, fsync, rename over `path`, fsync of the directory. Readers see
// the old content or the new, never a mix.
Status WriteFileAtomic(Env* env, const std::string& path, ByteView data,
                       mode_t mode = 0644);

// Like WriteFileAtomic but without the fsyncs: for files that recovery can
// rebuild (the custody log's tiles between journal rolls). With `allocate`,
// the new file's blocks are allocated first (WritableFile::AllocateHint), so
// that replacing a small file starts no device write of its own; but then,
// after a power cut, the file may be empty: only for a file whose loss is
// harmless (the custody log's checkpoint, which opening the log rewrites).
Status WriteFileReplace(Env* env, const std::string& path, ByteView data,
                        mode_t mode = 0644, bool allocate = false);

// Reads a whole file. Fails with kInvalidInput beyond `max_size` bytes.
Result<std::string> ReadFileToString(Env* env, const std::string& path,
                                     uint64_t max_size);

std::string JoinPath(const std::string& a, const std::string& b);
std::string DirName(const std::string& path);

}  // namespace amanah

#endif  // AMANAH_STORAGE_ENV_H_
