#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "storage/env.h"

namespace amanah {

namespace {

Status PosixError(const std::string& context, int err) {
  std::string msg = context + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return Status::NotFound(msg);
    case EACCES:
    case EPERM:
      return Status::Permission(msg);
    case EEXIST:
      return Status::Conflict(msg);
    default:
      return Status::IOError(msg);
  }
}

// After a failed read or write on `fd`: whether to try again. Yes after
// EINTR, and after EINVAL from a file system that took O_DIRECT at open but
// refuses an access of this alignment: O_DIRECT is turned off, and `direct`
// (if given) cleared, so the file goes on through the page cache.
Status TryAgain(const std::string& path, int fd, std::atomic<bool>* direct) {
  int err = errno;
  if (err == EINTR) return Status::OK();
  if (err == EINVAL && direct != nullptr && direct->load()) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_DIRECT) != 0) {
      return PosixError(path, errno);
    }
    direct->store(false);
    return Status::OK();
  }
  return PosixError(path, err);
}

// Writes all of [p, p + n) at `offset` of `fd`; `direct` as for TryAgain.
Status WriteFullyAt(const std::string& path, int fd, const uint8_t* p, size_t n,
                    uint64_t offset, std::atomic<bool>* direct) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0) {
      RETURN_IF_ERROR(TryAgain(path, fd, direct));
      continue;
    }
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return Status::OK();
}

// A file written through one descriptor: syncs and closes it.
class PosixFdFile : public WritableFile {
 public:
  Status Sync() override {
    if (::fdatasync(fd_) != 0) return PosixError(path_, errno);
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return PosixError(path_, errno);
    return Status::OK();
  }

 protected:
  PosixFdFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  const std::string path_;
  int fd_;
};

class PosixWritableFile final : public PosixFdFile {
 public:
  PosixWritableFile(std::string path, int fd)
      : PosixFdFile(std::move(path), fd) {}
  ~PosixWritableFile() override { (void)Close(); }

  void AllocateHint(uint64_t size) override {
    // Only a hint: a file system without fallocate allocates as it writes.
    if (size > 0) {
      (void)::fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(size));
    }
  }

  Status Append(ByteView data) override {
    const uint8_t* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    return Status::OK();
  }
};

// Reads until `n` bytes or the end: with read() from the file position if
// `offset` is negative (pipes return short reads), else with pread().
Result<size_t> ReadFully(const std::string& path, int fd, uint8_t* out,
                         size_t n, int64_t offset) {
  size_t got = 0;
  while (got < n) {
    ssize_t r =
        offset < 0
            ? ::read(fd, out + got, n - got)
            : ::pread(fd, out + got, n - got,
                      static_cast<off_t>(offset) + static_cast<off_t>(got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return PosixError(path, errno);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

// A large file written from start to end (a vault object, a staging file
// received over many requests, a bundle). Where the file system allows, the
// data goes to the device with O_DIRECT from a few aligned buffers that are
// used again and again, so writing 2 GiB allocates no page cache (on a
// virtual machine, touching 2 GiB of fresh page cache costs as much CPU as
// hashing it), and a thread of the file's own writes each full buffer while
// the caller fills the next. At Sync() or Close() the unaligned tail is
// written through a second descriptor, without O_DIRECT, and kept in the
// buffer: the next direct write starts at the block boundary before it and
// writes those bytes again, so a file synced many times stays direct.
class PosixStreamingFile final : public WritableFile {
 public:
  static constexpr size_t kAlign = 4096;
  static constexpr size_t kBufferSize = 8 << 20;
  static constexpr size_t kBuffers = 3;
  // Room past a buffer's end, so that AppendWith() can make up to this many
  // bytes in place even across the boundary; the spilled bytes are moved to
  // the next buffer.
  static constexpr size_t kSpill = 2 << 20;

  // `fd` has O_DIRECT; `buffered_fd` is the same file without it.
  PosixStreamingFile(std::string path, int fd, int buffered_fd)
      : path_(std::move(path)), fd_(fd), buffered_fd_(buffered_fd) {}
  ~PosixStreamingFile() override {
    (void)Close();
    for (uint8_t* b : all_) std::free(b);
  }

  // Goes on from the end of the file as it is: its last partial block is
  // read into the first buffer, to be written again with what follows.
  Status ContinueAtEnd() {
    struct stat st;
    if (::fstat(buffered_fd_, &st) != 0) return PosixError(path_, errno);
    uint64_t size = static_cast<uint64_t>(st.st_size);
    offset_ = size & ~uint64_t{kAlign - 1};
    size_t tail = static_cast<size_t>(size - offset_);
    if (tail == 0) return Status::OK();
    ASSIGN_OR_RETURN(cur_, TakeBuffer());
    ASSIGN_OR_RETURN(fill_, ReadFully(path_, buffered_fd_, cur_, tail,
                                      static_cast<int64_t>(offset_)));
    if (fill_ != tail) return Status::IOError(path_ + ": short read");
    return Status::OK();
  }

  Status Append(ByteView data) override {
    RETURN_IF_ERROR(Usable());
    while (!data.empty()) {
      if (cur_ == nullptr) {
        ASSIGN_OR_RETURN(cur_, TakeBuffer());
        fill_ = 0;
      }
      size_t n = std::min(kBufferSize - fill_, data.size());
      std::memcpy(cur_ + fill_, data.data(), n);
      fill_ += n;
      data = data.subspan(n);
      if (fill_ == kBufferSize) {
        Submit();
        RETURN_IF_ERROR(Failed());
      }
    }
    return Status::OK();
  }

  Status AppendWith(size_t n,
                    const std::function<void(uint8_t*)>& fill) override {
    if (n > kSpill) return WritableFile::AppendWith(n, fill);
    RETURN_IF_ERROR(Usable());
    if (cur_ == nullptr) {
      ASSIGN_OR_RETURN(cur_, TakeBuffer());
      fill_ = 0;
    }
    fill(cur_ + fill_);
    fill_ += n;
    if (fill_ < kBufferSize) return Status::OK();
    size_t spill = fill_ - kBufferSize;
    uint8_t* full = cur_;
    fill_ = kBufferSize;
    Submit();
    if (spill > 0) {
      // The writer reads only the first kBufferSize bytes of `full`; if it
      // is done with them already, the buffer taken may be `full` itself,
      // and the two ranges still do not overlap.
      ASSIGN_OR_RETURN(cur_, TakeBuffer());
      std::memcpy(cur_, full + kBufferSize, spill);
      fill_ = spill;
    }
    return Failed();
  }

  Status Sync() override {
    RETURN_IF_ERROR(Usable());
    RETURN_IF_ERROR(Flush());
    if (::fdatasync(buffered_fd_) != 0) return PosixError(path_, errno);
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    Status s = Flush();
    StopWriter();
    if (::close(fd_) != 0 && s.ok()) s = PosixError(path_, errno);
    if (::close(buffered_fd_) != 0 && s.ok()) s = PosixError(path_, errno);
    fd_ = buffered_fd_ = -1;
    return s;
  }

 private:
  struct Block {
    uint8_t* data;
    size_t size;
    uint64_t offset;
  };

  Status Usable() {
    if (fd_ < 0) return Status::IOError(path_ + ": written after Close()");
    return Failed();
  }

  Status Failed() {
    std::lock_guard<std::mutex> l(mu_);
    return error_;
  }

  // A free buffer, allocating one while there are fewer than kBuffers, else
  // waiting for the writer to finish with one.
  Result<uint8_t*> TakeBuffer() {
    std::unique_lock<std::mutex> l(mu_);
    if (free_.empty() && all_.size() < kBuffers) {
      void* p = nullptr;
      if (::posix_memalign(&p, kAlign, kBufferSize + kSpill) != 0) {
        return Status::IOError(path_ + ": out of memory for write buffers");
      }
      all_.push_back(static_cast<uint8_t*>(p));
      return all_.back();
    }
    cv_.wait(l, [&] { return !free_.empty(); });
    uint8_t* b = free_.back();
    free_.pop_back();
    return b;
  }

  // Hands the current buffer to the writer.
  void Submit() {
    std::lock_guard<std::mutex> l(mu_);
    if (!writer_.joinable()) writer_ = std::thread([this] { WriterLoop(); });
    queue_.push_back(Block{cur_, fill_, offset_});
    offset_ += fill_;
    cur_ = nullptr;
    fill_ = 0;
    cv_.notify_all();
  }

  void WriterLoop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      Block b = queue_.front();
      queue_.pop_front();
      busy_ = true;
      bool skip = !error_.ok();
      l.unlock();
      Status s = skip ? Status::OK() : WriteAt(b.data, b.size, b.offset);
      l.lock();
      busy_ = false;
      if (!s.ok() && error_.ok()) error_ = s;
      free_.push_back(b.data);
      cv_.notify_all();
    }
  }

  void StopWriter() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (writer_.joinable()) writer_.join();
  }

  // Waits for the writer, then writes what the current buffer holds: its
  // aligned part directly, the rest through the page cache. The rest stays
  // at the start of the buffer, for the next direct write.
  Status Flush() {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return queue_.empty() && !busy_; });
      if (!error_.ok()) return error_;
    }
    if (cur_ == nullptr || fill_ == 0) return Status::OK();
    size_t aligned = fill_ & ~(kAlign - 1);
    Status s = WriteAt(cur_, aligned, offset_);
    if (s.ok() && aligned < fill_) {
      s = WriteBuffered(cur_ + aligned, fill_ - aligned, offset_ + aligned);
    }
    if (!s.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      if (error_.ok()) error_ = s;
      return s;
    }
    std::memmove(cur_, cur_ + aligned, fill_ - aligned);
    offset_ += aligned;
    fill_ -= aligned;
    return Status::OK();
  }

  // Only one thread writes at a time: the writer, or the caller once the
  // writer is idle.
  Status WriteAt(const uint8_t* p, size_t n, uint64_t offset) {
    return WriteFullyAt(path_, fd_, p, n, offset, &direct_);
  }

  Status WriteBuffered(const uint8_t* p, size_t n, uint64_t offset) {
    return WriteFullyAt(path_, buffered_fd_, p, n, offset, nullptr);
  }

  const std::string path_;
  int fd_;
  int buffered_fd_;
  std::atomic<bool> direct_{true};  // fd_ has O_DIRECT
  uint8_t* cur_ = nullptr;  // the buffer being filled, owned by the caller
  size_t fill_ = 0;
  uint64_t offset_ = 0;  // file offset of cur_'s first byte: block-aligned

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<uint8_t*> all_;   // guarded by mu_
  std::vector<uint8_t*> free_;  // guarded by mu_
  std::deque<Block> queue_;     // guarded by mu_
  bool busy_ = false;           // guarded by mu_
  bool stop_ = false;           // guarded by mu_
  Status error_;                // the writer's first failure; by mu_
  std::thread writer_;
};

// A write-ahead journal, appended in batches and synced after each. Writes
// go to the device with O_DIRECT (where the file system allows), from an
// aligned buffer: each batch is written from the start of the block where
// the last one ended, that block's earlier bytes again, and padded with
// zeros to a whole block. Zeros are also written some way ahead of the
// records, so a batch lands on blocks the file system has allocated and
// recorded already: fdatasync then writes the data and flushes the device,
// with no journal commit of the file system's own, which would also wait
// for every other file written meanwhile. No page cache is touched.
//
// Past the records the file holds zeros or ends: the caller guarantees it
// at open, every batch keeps it, and zeros are never written over a block
// that holds records. Writing zeros ahead is only an optimisation: where
// it fails (a full disk), batches go on without it.
class PosixJournalFile final : public PosixFdFile {
 public:
  static constexpr size_t kAlign = 4096;
  // Zeros written ahead start at this and double up to `preallocate`, so a
  // command that appends a few entries writes little.
  static constexpr uint64_t kFirstZeros = 1 << 20;

  PosixJournalFile(std::string path, int fd, uint64_t preallocate)
      : PosixFdFile(std::move(path), fd),
        preallocate_(std::max<uint64_t>(preallocate, kAlign)),
        ahead_(std::min<uint64_t>(kFirstZeros, preallocate_)) {}
  ~PosixJournalFile() override {
    (void)Close();
    std::free(buf_);
  }

  // Reads the block where the records end (they end at `end`; the file
  // holds `size` bytes, zeros past `end`). Writes nothing.
  Status Start(uint64_t end, uint64_t size) {
    pos_ = end;
    uint64_t block = end & ~uint64_t{kAlign - 1};
    size_t tail = static_cast<size_t>(end - block);
    RETURN_IF_ERROR(Reserve(kAlign));
    std::memset(buf_, 0, kAlign);
    while (tail > 0) {
      // One read of the whole block (a direct read cannot go on from an
      // unaligned offset): the file may end inside it.
      ssize_t got = ::pread(fd_, buf_, kAlign, static_cast<off_t>(block));
      if (got < 0) {
        RETURN_IF_ERROR(TryAgain(path_, fd_, &direct_));
        continue;
      }
      if (static_cast<size_t>(got) < tail) {
        return Status::IOError(path_ + ": shorter than its records");
      }
      std::memset(buf_ + tail, 0, kAlign - tail);
      break;
    }
    zeroed_ = std::max(end, size & ~uint64_t{kAlign - 1});
    return Status::OK();
  }

  Status Append(ByteView data) override {
    if (fd_ < 0) return Status::IOError(path_ + ": written after Close()");
    uint64_t block = pos_ & ~uint64_t{kAlign - 1};
    size_t tail = static_cast<size_t>(pos_ - block);
    size_t len = tail + data.size();
    size_t padded = (len + kAlign - 1) & ~(kAlign - 1);
    // Keep at least a block of zeros after the records.
    if (block + padded >= zeroed_) ZeroAhead(block + padded);
    RETURN_IF_ERROR(Reserve(padded));
    std::memcpy(buf_ + tail, data.data(), data.size());
    std::memset(buf_ + len, 0, padded - len);
    RETURN_IF_ERROR(WriteFullyAt(path_, fd_, buf_, padded, block, &direct_));
    pos_ += data.size();
    zeroed_ = std::max(zeroed_, block + padded);
    // The block where the records now end, for the next batch (none if
    // they end on a block boundary).
    size_t last = len & ~(kAlign - 1);
    if (last > 0 && last < len) std::memmove(buf_, buf_ + last, kAlign);
    return Status::OK();
  }

 private:
  // An aligned buffer of at least `n` bytes, keeping its first block.
  Status Reserve(size_t n) {
    if (n <= cap_) return Status::OK();
    size_t cap = std::max(n, 2 * cap_);
    void* p = nullptr;
    if (::posix_memalign(&p, kAlign, cap) != 0) {
      return Status::IOError(path_ + ": out of memory for the journal");
    }
    if (buf_ != nullptr) std::memcpy(p, buf_, kAlign);
    std::free(buf_);
    buf_ = static_cast<uint8_t*>(p);
    cap_ = cap;
    return Status::OK();
  }

  // Writes zeros past the block where the records end (and past what was
  // zeroed already) to `ahead_` bytes beyond `upto`, and makes them durable:
  // the file's size and blocks change here, once in a while, not at every
  // batch's sync. A failure leaves zeros or the end of the file past the
  // records, as before, and is not reported: the batch's own write reports
  // a full disk.
  void ZeroAhead(uint64_t upto) {
    static constexpr size_t kChunk = 1 << 20;
    uint64_t from =
        std::max(zeroed_, (pos_ + kAlign - 1) & ~uint64_t{kAlign - 1});
    uint64_t to = (upto + ahead_ + kAlign - 1) & ~uint64_t{kAlign - 1};
    if (zeros_ == nullptr) {
      void* p = nullptr;
      if (::posix_memalign(&p, kAlign, kChunk) != 0) return;
      zeros_.reset(static_cast<uint8_t*>(p));
      std::memset(zeros_.get(), 0, kChunk);
    }
    for (uint64_t at = from; at < to;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, to - at));
      if (!WriteFullyAt(path_, fd_, zeros_.get(), n, at, &direct_).ok()) {
        return;
      }
      at += n;
    }
    if (::fdatasync(fd_) != 0) return;
    zeroed_ = to;
    ahead_ = std::min(2 * ahead_, preallocate_);
  }

  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };

  const uint64_t preallocate_;
  uint64_t ahead_;  // how far the next ZeroAhead writes past its batch
  std::atomic<bool> direct_{true};  // fd_ has O_DIRECT
  uint64_t pos_ = 0;                // where the records end
  uint64_t zeroed_ = 0;     // zeros, written and durable, from pos_ up to here
  uint8_t* buf_ = nullptr;  // its first block: the block holding pos_
  size_t cap_ = 0;
  std::unique_ptr<uint8_t, Free> zeros_;
};

// Mapped input and the SIGBUS its truncation raises. Reading a mapped page
// that a truncation took away raises SIGBUS; the handler maps a page of zeros
// there instead and marks the region damaged, so the stream ends with a clear
// error (SequentialFile::Finish) rather than a dead process. A SIGBUS at any
// other address goes to the handler that was there before.
constexpr size_t kMaxRegions = 256;

struct RegionSlot {
  std::atomic<uintptr_t> begin{0};  // 0: free
  std::atomic<uintptr_t> end{0};    // 0: matches nothing
  std::atomic<bool> damaged{false};
};

RegionSlot g_regions[kMaxRegions];
uintptr_t g_page_size = 4096;
struct sigaction g_previous_sigbus;

void OnSigbus(int, siginfo_t* info, void*) {
  uintptr_t a = reinterpret_cast<uintptr_t>(info->si_addr);
  for (RegionSlot& r : g_regions) {
    if (r.begin.load() <= a && a < r.end.load()) {
      void* page = reinterpret_cast<void*>(a & ~(g_page_size - 1));
      if (::mmap(page, g_page_size, PROT_READ,
                 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1,
                 0) != MAP_FAILED) {
        r.damaged.store(true);
        return;
      }
    }
  }
  // Not one of ours: the previous disposition takes the retried access.
  ::sigaction(SIGBUS, &g_previous_sigbus, nullptr);
}

void InstallSigbusHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_page_size = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    struct sigaction sa;
    std::memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = OnSigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, &g_previous_sigbus);
  });
}

class PosixMappedRegion final : public MappedRegion {
 public:
  // Maps [offset, offset + len) of `fd`. `slot` is a claimed RegionSlot or
  // null; `damaged` learns of a lost page when the region is released.
  PosixMappedRegion(void* base, size_t map_len, size_t lead, size_t len,
                    RegionSlot* slot, std::atomic<bool>* damaged)
      : base_(base),
        map_len_(map_len),
        data_(static_cast<const uint8_t*>(base) + lead, len),
        slot_(slot),
        damaged_(damaged) {}
  ~PosixMappedRegion() override {
    // The slot goes first: once unmapped, the addresses may be reused by a
    // mapping that is not ours.
    if (slot_ != nullptr) {
      slot_->end.store(0);
      if (slot_->damaged.load()) damaged_->store(true);
      slot_->damaged.store(false);
      slot_->begin.store(0);
    }
    if (base_ != nullptr) ::munmap(base_, map_len_);
  }
  ByteView data() const override { return data_; }

 private:
  void* base_;
  size_t map_len_;
  ByteView data_;
  RegionSlot* slot_;
  std::atomic<bool>* damaged_;
};

// A region read with pread into memory of its own: when every slot is taken.
class CopiedRegion final : public MappedRegion {
 public:
  explicit CopiedRegion(Bytes bytes) : bytes_(std::move(bytes)) {}
  ByteView data() const override { return bytes_; }

 private:
  Bytes bytes_;
};

RegionSlot* ClaimSlot(uintptr_t begin, uintptr_t end) {
  for (RegionSlot& r : g_regions) {
    uintptr_t expected = 0;
    if (r.begin.compare_exchange_strong(expected, begin)) {
      r.end.store(end);
      return &r;
    }
  }
  return nullptr;
}

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd, bool owned)
      : path_(std::move(path)), fd_(fd), owned_(owned) {
    regular_ = ::fstat(fd_, &at_open_) == 0 && S_ISREG(at_open_.st_mode);
    // Mapped: large regular files of real file systems. Small files gain
    // nothing, and the sizes that /proc and /sys report are not their
    // contents' (0, or a page).
    struct statfs fs;
    mappable_ = regular_ && owned_ &&
                static_cast<uint64_t>(at_open_.st_size) >= kMinMapSize &&
                ::fstatfs(fd_, &fs) == 0 && fs.f_type != PROC_SUPER_MAGIC &&
                fs.f_type != SYSFS_MAGIC;
  }
  ~PosixSequentialFile() override {
    if (owned_) ::close(fd_);
  }

  Result<size_t> Read(uint8_t* scratch, size_t n) override {
    return ReadFully(path_, fd_, scratch, n, -1);
  }

  bool CanMap() const override { return mappable_; }

  Result<std::unique_ptr<MappedRegion>> Map(size_t n) override {
    if (!CanMap()) return SequentialFile::Map(n);
    uint64_t size = static_cast<uint64_t>(at_open_.st_size);
    size_t len = static_cast<size_t>(std::min<uint64_t>(n, size - pos_));
    if (len == 0) {
      return std::unique_ptr<MappedRegion>(new CopiedRegion(Bytes()));
    }
    InstallSigbusHandler();
    uint64_t offset = pos_ & ~static_cast<uint64_t>(g_page_size - 1);
    size_t lead = static_cast<size_t>(pos_ - offset);
    size_t map_len = lead + len;
    void* base = ::mmap(nullptr, map_len, PROT_READ, MAP_SHARED, fd_,
                        static_cast<off_t>(offset));
    if (base == MAP_FAILED) return PosixError(path_, errno);
    uintptr_t b = reinterpret_cast<uintptr_t>(base);
    RegionSlot* slot = ClaimSlot(b, b + map_len);
    std::unique_ptr<MappedRegion> region(
        new PosixMappedRegion(base, map_len, lead, len, slot, &damaged_));
    if (slot == nullptr) {
      Bytes copy(len);
      ASSIGN_OR_RETURN(size_t got, ReadFully(path_, fd_, copy.data(), len,
                                             static_cast<int64_t>(pos_)));
      if (got != len) return Changed("it became shorter");
      region.reset(new CopiedRegion(std::move(copy)));
    } else {
      (void)::madvise(base, map_len, MADV_SEQUENTIAL);
      if (::madvise(base, map_len, MADV_POPULATE_READ) != 0 &&
          errno != EINVAL) {
        // EINVAL: a kernel before 5.14, which faults the pages in on use.
        if (errno == EFAULT) return Changed("it became shorter");
        return PosixError(path_, errno);
      }
    }
    pos_ += len;
    // Keep the device busy 32-64 MiB ahead: a file not in the page cache (a
    // disk image never read since boot) streams in while this part is
    // hashed. For cached pages this is a cheap look-up.
    while (ahead_ < pos_ + kAhead && ahead_ < size) {
      (void)::posix_fadvise(fd_, static_cast<off_t>(ahead_),
                            static_cast<off_t>(kAhead), POSIX_FADV_WILLNEED);
      ahead_ += kAhead;
    }
    return region;
  }

  Status Finish() override {
    if (!regular_) return Status::OK();
    if (damaged_.load()) return Changed("it became shorter");
    struct stat now;
    if (::fstat(fd_, &now) != 0) return PosixError(path_, errno);
    if (now.st_size != at_open_.st_size) {
      return Changed("its size went from " + std::to_string(at_open_.st_size) +
                     " to " + std::to_string(now.st_size) + " bytes");
    }
    if (now.st_mtim.tv_sec != at_open_.st_mtim.tv_sec ||
        now.st_mtim.tv_nsec != at_open_.st_mtim.tv_nsec) {
      return Changed("it was modified");
    }
    return Status::OK();
  }

 private:
  Status Changed(const std::string& how) {
    return Status::Conflict(path_ + " changed while it was read (" + how +
                            "): what was read may be no version the file "
                            "ever had, so it is not taken");
  }

  std::string path_;
  int fd_;
  bool owned_;
  static constexpr uint64_t kMinMapSize = 1 << 20;
  static constexpr uint64_t kAhead = 32 << 20;
  bool regular_ = false;
  bool mappable_ = false;
  struct stat at_open_;
  uint64_t pos_ = 0;    // where Map() goes on
  uint64_t ahead_ = 0;  // read-ahead asked for up to here
  std::atomic<bool> damaged_{false};
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd)
      : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Result<size_t> ReadAt(uint64_t offset, uint8_t* scratch,
                        size_t n) const override {
    return ReadFully(path_, fd_, scratch, n, static_cast<int64_t>(offset));
  }

  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return PosixError(path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  std::string path_;
  int fd_;
};

// A large file read mostly from start to end, in pieces (a vault object
// sent to a peer, exported or checked). Where the file system allows, reads
// bypass the page cache with O_DIRECT into a few aligned windows that are
// used again and again: reading 2 GiB allocates no page cache, which on a
// virtual machine costs a CPU for as long as the disk takes. A thread of the
// file's own reads each window; once reads follow one another, it reads
// the next windows ahead of the caller, so the disk and the caller overlap.
class PosixStreamingReader final : public RandomAccessFile {
 public:
  static constexpr size_t kAlign = 4096;
  static constexpr size_t kWindowSize = 4 << 20;
  static constexpr size_t kWindows = 3;

  PosixStreamingReader(std::string path, int fd)
      : path_(std::move(path)), fd_(fd) {}
  ~PosixStreamingReader() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (reader_.joinable()) reader_.join();
    for (Window& w : windows_) std::free(w.data);
    ::close(fd_);
  }

  Result<size_t> ReadAt(uint64_t offset, uint8_t* scratch,
                        size_t n) const override {
    std::unique_lock<std::mutex> l(mu_);
    const bool sequential = offset == next_;
    size_t got = 0;
    while (got < n) {
      uint64_t at = offset + got;
      uint64_t index = at / kWindowSize;
      Window* w = Find(index);
      if (w == nullptr) {
        ASSIGN_OR_RETURN(w, Claim(l, index, /*ahead_only=*/false));
      }
      cv_.wait(l, [&] { return w->state == kReady || w->state == kFailed; });
      if (w->state == kFailed) {
        Status s = w->error;
        w->state = kEmpty;  // a later read tries the disk again
        return s;
      }
      uint64_t in = at - index * kWindowSize;
      if (in >= w->size) break;  // the end of the file
      size_t take =
          static_cast<size_t>(std::min<uint64_t>(n - got, w->size - in));
      std::memcpy(scratch + got, w->data + in, take);
      got += take;
      if (w->size < kWindowSize) break;  // a short window ends the file
    }
    next_ = offset + got;
    if (sequential && got > 0) {
      // Reads follow one another: read the windows after this one ahead.
      uint64_t last = (next_ - 1) / kWindowSize;
      for (uint64_t i = last + 1; i < last + kWindows; ++i) {
        if (Find(i) != nullptr) continue;
        auto w = Claim(l, i, /*ahead_only=*/true);
        if (!w.ok() || *w == nullptr) break;
      }
    }
    return got;
  }

  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return PosixError(path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  enum State { kEmpty, kQueued, kReading, kReady, kFailed };
  struct Window {
    uint64_t index = 0;  // covers [index, index + 1) * kWindowSize
    uint8_t* data = nullptr;
    size_t size = 0;  // bytes read: fewer than kWindowSize at the end
    State state = kEmpty;
    Status error;
  };

  Window* Find(uint64_t index) const {
    for (Window& w : windows_) {
      if (w.state != kEmpty && w.index == index) return &w;
    }
    return nullptr;
  }

  // A window to read `index` into, queued for the reader thread. A read
  // ahead (`ahead_only`) takes only an empty window or one behind `index`,
  // and returns null rather than wait; a read the caller waits for takes
  // the window furthest from it, waiting if all are being read.
  Result<Window*> Claim(std::unique_lock<std::mutex>& l, uint64_t index,
                        bool ahead_only) const {
    if (windows_.empty()) {
      // All or nothing: windows without buffers, or without the thread
      // that reads them, would leave a caller waiting for ever.
      std::vector<Window> windows(kWindows);
      for (Window& w : windows) {
        void* p = nullptr;
        if (::posix_memalign(&p, kAlign, kWindowSize) != 0) {
          for (Window& x : windows) std::free(x.data);
          return Status::IOError(path_ + ": out of memory for read buffers");
        }
        w.data = static_cast<uint8_t*>(p);
      }
      try {
        reader_ = std::thread([this] { ReaderLoop(); });
      } catch (const std::system_error& e) {
        for (Window& x : windows) std::free(x.data);
        return Status::IOError(path_ +
                               ": no thread to read ahead: " + e.what());
      }
      windows_ = std::move(windows);
    }
    for (;;) {
      Window* best = nullptr;
      for (Window& w : windows_) {
        if (w.state == kQueued || w.state == kReading) continue;
        if (w.state != kEmpty && ahead_only && w.index > index) continue;
        auto distance = [&](const Window& x) {
          if (x.state == kEmpty) return UINT64_MAX;
          return x.index > index ? x.index - index : index - x.index;
        };
        if (best == nullptr || distance(w) > distance(*best)) best = &w;
      }
      if (best != nullptr) {
        best->index = index;
        best->size = 0;
        best->state = kQueued;
        cv_.notify_all();
        return best;
      }
      if (ahead_only) return nullptr;
      cv_.wait(l);
    }
  }

  void ReaderLoop() const {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      Window* w = nullptr;
      cv_.wait(l, [&] {
        if (stop_) return true;
        // The lowest index first: the caller waits for it, or needs it next.
        for (Window& x : windows_) {
          if (x.state == kQueued && (w == nullptr || x.index < w->index)) {
            w = &x;
          }
        }
        return w != nullptr;
      });
      if (stop_) return;
      w->state = kReading;
      uint64_t offset = w->index * kWindowSize;
      l.unlock();
      Result<size_t> got = ReadWindow(w->data, offset);
      l.lock();
      if (got.ok()) {
        w->size = *got;
        w->state = kReady;
      } else {
        w->error = got.status();
        w->state = kFailed;
      }
      cv_.notify_all();
    }
  }

  // Reads one window from `offset`, up to the end of the file.
  Result<size_t> ReadWindow(uint8_t* out, uint64_t offset) const {
    size_t got = 0;
    while (got < kWindowSize) {
      ssize_t r = ::pread(fd_, out + got, kWindowSize - got,
                          static_cast<off_t>(offset + got));
      if (r < 0) {
        RETURN_IF_ERROR(TryAgain(path_, fd_, &direct_));  // this thread only
        continue;
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
      // O_DIRECT reads whole blocks: a read that ends off a block boundary
      // ended at the end of the file.
      if (got % kAlign != 0) break;
    }
    return got;
  }

  const std::string path_;
  const int fd_;
  mutable std::atomic<bool> direct_{true};  // fd_ has O_DIRECT
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable std::vector<Window> windows_;  // guarded by mu_
  mutable uint64_t next_ = UINT64_MAX;   // where the last read ended; by mu_
  mutable bool stop_ = false;            // guarded by mu_
  mutable std::thread reader_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        mode_t mode) override {
    int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return PosixError(path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
  }

  Result<std::unique_ptr<WritableFile>> NewStreamingFile(
      const std::string& path, mode_t mode) override {
    return OpenStreaming(path, mode, /*truncate=*/true);
  }

  Result<std::unique_ptr<WritableFile>> ReopenStreamingFile(
      const std::string& path) override {
    return OpenStreaming(path, 0600, /*truncate=*/false);
  }

  Result<std::unique_ptr<WritableFile>> NewJournalFile(
      const std::string& path, uint64_t end, uint64_t preallocate) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_DIRECT);
    if (fd < 0 && errno == EINVAL) {
      fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);  // no O_DIRECT here
    }
    if (fd < 0) return PosixError(path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError(path, err);
    }
    auto f = std::make_unique<PosixJournalFile>(path, fd, preallocate);
    RETURN_IF_ERROR(f->Start(end, static_cast<uint64_t>(st.st_size)));
    return std::unique_ptr<WritableFile>(std::move(f));
  }

  Result<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path, mode_t mode) override {
    int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode);
    if (fd < 0) return PosixError(path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
  }

  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) override {
    if (path == "-") {
      return std::unique_ptr<SequentialFile>(
          new PosixSequentialFile("standard input", STDIN_FILENO, false));
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(path, errno);
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      return Status::InvalidInput(path + ": is a directory");
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return std::unique_ptr<SequentialFile>(
        new PosixSequentialFile(path, fd, true));
  }

  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(path, errno);
    return std::unique_ptr<RandomAccessFile>(
        new PosixRandomAccessFile(path, fd));
  }

  Result<std::unique_ptr<RandomAccessFile>> NewStreamingReadFile(
      const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
    // A file system without O_DIRECT: the page cache, as any file.
    if (fd < 0 && errno == EINVAL) return NewRandomAccessFile(path);
    if (fd < 0) return PosixError(path, errno);
    return std::unique_ptr<RandomAccessFile>(
        new PosixStreamingReader(path, fd));
  }

  bool FileExists(const std::string& path) override {
    return ::access(path.c_str(), F_OK) == 0;
  }

  Result<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError(path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<std::vector<std::string>> GetChildren(
      const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError(dir, errno);
    std::vector<std::string> out;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(std::move(name));
    }
    ::closedir(d);
    return out;
  }

  Status CreateDir(const std::string& path, mode_t mode) override {
    if (::mkdir(path.c_str(), mode) != 0) return PosixError(path, errno);
    return Status::OK();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError(path, errno);
    return Status::OK();
  }

  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return PosixError(path, errno);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError(to, errno);
    return Status::OK();
  }

  Status TruncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return PosixError(path, errno);
    }
    return Status::OK();
  }

  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError(path, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return PosixError(path, err);
    return Status::OK();
  }

  Status SyncFilesystem(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(path, errno);
    int rc = ::syncfs(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return PosixError(path, err);
    return Status::OK();
  }

  Result<mode_t> GetFileMode(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError(path, errno);
    return static_cast<mode_t>(st.st_mode & 07777);
  }

  Status SetFileMode(const std::string& path, mode_t mode) override {
    if (::chmod(path.c_str(), mode) != 0) return PosixError(path, errno);
    return Status::OK();
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return PosixError(path, errno);
    // Wait a while for a short-lived holder (another command finishing),
    // not for ever: a server holds the lock as long as it runs.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err != EWOULDBLOCK) {
        ::close(fd);
        return PosixError(path, err);
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        char pid[32] = {0};
        ssize_t n = ::pread(fd, pid, sizeof(pid) - 1, 0);
        ::close(fd);
        std::string holder = n > 0 ? std::string(pid, static_cast<size_t>(n))
                                   : std::string("another process");
        while (!holder.empty() && holder.back() == '\n') holder.pop_back();
        return Status::Unavailable(
            path + " is held by process " + holder +
            " (is amanah serve running on this node? use its API, or stop "
            "it first)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // Name the holder for whoever waits next.
    std::string me = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) !=
                                       static_cast<ssize_t>(me.size())) {
      // Only a courtesy to the next waiter; the lock itself is held.
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(fd));
  }

  int64_t NowUnixNanos() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  // A streaming file at `path`, created or truncated if `truncate`, else
  // opened to go on from its end. A file system without O_DIRECT gets a
  // plain file.
  Result<std::unique_ptr<WritableFile>> OpenStreaming(const std::string& path,
                                                      mode_t mode,
                                                      bool truncate) {
    int flags = O_WRONLY | O_CLOEXEC | (truncate ? O_CREAT | O_TRUNC : 0);
    int fd = ::open(path.c_str(), flags | O_DIRECT, mode);
    if (fd < 0 && errno == EINVAL) {
      return truncate ? NewWritableFile(path, mode)
                      : NewAppendableFile(path, mode);
    }
    if (fd < 0) return PosixError(path, errno);
    int buffered = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (buffered < 0) {
      int err = errno;
      ::close(fd);
      return PosixError(path, err);
    }
    auto f = std::make_unique<PosixStreamingFile>(path, fd, buffered);
    if (!truncate) RETURN_IF_ERROR(f->ContinueAtEnd());
    return std::unique_ptr<WritableFile>(std::move(f));
  }
};

std::string TempSibling(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." +
         std::to_string(counter.fetch_add(1));
}

Status WriteReplace(Env* env, const std::string& path, ByteView data,
                    mode_t mode, bool durable, bool allocate) {
  std::string tmp = TempSibling(path);
  Status s = [&]() -> Status {
    ASSIGN_OR_RETURN(auto file, env->NewWritableFile(tmp, mode));
    if (allocate) file->AllocateHint(data.size());
    RETURN_IF_ERROR(file->Append(data));
    if (durable) RETURN_IF_ERROR(file->Sync());
    return file->Close();
  }();
  if (s.ok()) s = env->RenameFile(tmp, path);
  if (!s.ok()) {
    (void)env->RemoveFile(tmp);
    return s;
  }
  if (durable) return env->SyncDir(DirName(path));
  return Status::OK();
}

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv;
  return env;
}

Status CreateDirs(Env* env, const std::string& path, mode_t mode) {
  if (path.empty() || env->FileExists(path)) return Status::OK();
  std::string parent = DirName(path);
  if (parent != path) RETURN_IF_ERROR(CreateDirs(env, parent, mode));
  Status s = env->CreateDir(path, mode);
  if (s.code() == Code::kConflict) return Status::OK();  // raced: fine
  return s;
}

Status WriteFileAtomic(Env* env, const std::string& path, ByteView data,
                       mode_t mode) {
  return WriteReplace(env, path, data, mode, /*durable=*/true,
                      /*allocate=*/false);
}

Status WriteFileReplace(Env* env, const std::string& path, ByteView data,
                        mode_t mode, bool allocate) {
  return WriteReplace(env, path, data, mode, /*durable=*/false, allocate);
}

Result<std::string> ReadFileToString(Env* env, const std::string& path,
                                     uint64_t max_size) {
  ASSIGN_OR_RETURN(auto file, env->NewRandomAccessFile(path));
  ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (size > max_size) {
    return Status::InvalidInput(path + ": larger than " +
                                std::to_string(max_size) + " bytes");
  }
  std::string out(size, '\0');
  ASSIGN_OR_RETURN(
      size_t got,
      file->ReadAt(0, reinterpret_cast<uint8_t*>(out.data()), size));
  out.resize(got);
  return out;
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace amanah
