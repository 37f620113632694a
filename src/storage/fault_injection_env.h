// FaultInjectionEnv wraps another Env and makes chosen operations fail, as a
// full disk or a dying device would: writes past a byte budget fail with
// "No space left on device", syncs and renames can be made to fail.
// Used by tests to check that a failed write leaves nothing partial behind.

#ifndef AMANAH_STORAGE_FAULT_INJECTION_ENV_H_
#define AMANAH_STORAGE_FAULT_INJECTION_ENV_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <string>

#include "storage/env.h"

namespace amanah {

class FaultInjectionEnv final : public Env {
 public:
  explicit FaultInjectionEnv(Env* base) : base_(base) {}

  // Appends fail once `bytes` more have been written in total.
  void SetWriteBudget(uint64_t bytes) { budget_ = bytes; }
  void SetSyncFailure(bool fail) { fail_sync_ = fail; }
  void SetRenameFailure(bool fail) { fail_rename_ = fail; }
  // Renames onto a file named `name` (in any directory) fail; "" for none.
  void SetRenameFailureFor(std::string name) {
    std::lock_guard<std::mutex> l(mu_);
    fail_rename_to_ = std::move(name);
  }
  // Called with the path of each file NewWritableFile or NewStreamingFile
  // makes, once it exists: a test looks at what a crash at that moment
  // would leave behind. Empty for none.
  void SetOnFileMade(std::function<void(const std::string&)> f) {
    std::lock_guard<std::mutex> l(mu_);
    on_file_made_ = std::move(f);
  }
  // Moves this Env's clock by `seconds` (deadlines, expiry); 0 is real time.
  void AdvanceClock(int64_t seconds) { clock_offset_ += seconds * 1000000000; }
  void ClearFaults() {
    budget_ = std::numeric_limits<uint64_t>::max();
    fail_sync_ = false;
    fail_rename_ = false;
    fail_syncfs_ = false;
    syncfs_failures_ = 0;
    SetRenameFailureFor("");
  }

  // SyncFilesystem alone fails (a write-back error it reports).
  void SetFilesystemSyncFailure(bool fail) { fail_syncfs_ = fail; }
  // The next SyncFilesystem to begin takes `delay_ms`, then fails: a
  // write-back error, which syncfs reports once only. Others go on as usual.
  void FailNextFilesystemSync(int delay_ms = 0) {
    syncfs_fail_delay_ms_ = delay_ms;
    ++syncfs_failures_;
  }
  // How many times SyncFilesystem was called.
  int filesystem_syncs() const { return filesystem_syncs_; }

  // Called by the wrapped files.
  Status ChargeWrite(size_t n);
  Status CheckSync() const;

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        mode_t mode) override;
  Result<std::unique_ptr<WritableFile>> NewStreamingFile(
      const std::string& path, mode_t mode) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path, mode_t mode) override;
  Result<std::unique_ptr<WritableFile>> ReopenStreamingFile(
      const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewJournalFile(
      const std::string& path, uint64_t end, uint64_t preallocate) override;
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) override {
    return base_->NewSequentialFile(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    return base_->NewRandomAccessFile(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewStreamingReadFile(
      const std::string& path) override {
    return base_->NewStreamingReadFile(path);
  }
  bool FileExists(const std::string& path) override {
    return base_->FileExists(path);
  }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    return base_->GetFileSize(path);
  }
  Result<std::vector<std::string>> GetChildren(
      const std::string& dir) override {
    return base_->GetChildren(dir);
  }
  Status CreateDir(const std::string& path, mode_t mode) override {
    return base_->CreateDir(path, mode);
  }
  Status RemoveFile(const std::string& path) override {
    return base_->RemoveFile(path);
  }
  Status RemoveDir(const std::string& path) override {
    return base_->RemoveDir(path);
  }
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override {
    return base_->TruncateFile(path, size);
  }
  Status SyncDir(const std::string& path) override;
  Status SyncFilesystem(const std::string& path) override;
  Result<mode_t> GetFileMode(const std::string& path) override {
    return base_->GetFileMode(path);
  }
  Status SetFileMode(const std::string& path, mode_t mode) override {
    return base_->SetFileMode(path, mode);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }
  int64_t NowUnixNanos() override {
    return base_->NowUnixNanos() + clock_offset_;
  }

 private:
  Env* base_;
  std::atomic<uint64_t> budget_{std::numeric_limits<uint64_t>::max()};
  std::atomic<bool> fail_sync_{false};
  std::atomic<bool> fail_rename_{false};
  std::atomic<int64_t> clock_offset_{0};
  std::atomic<int> filesystem_syncs_{0};
  std::atomic<bool> fail_syncfs_{false};
  std::atomic<int> syncfs_failures_{0};
  std::atomic<int> syncfs_fail_delay_ms_{0};
  void FileMade(const std::string& path);
  std::mutex mu_;
  std::string fail_rename_to_;                            // guarded by mu_
  std::function<void(const std::string&)> on_file_made_;  // guarded by mu_
};

}  // namespace amanah

#endif  // AMANAH_STORAGE_FAULT_INJECTION_ENV_H_
