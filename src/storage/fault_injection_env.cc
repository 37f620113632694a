#include "storage/fault_injection_env.h"

#include <chrono>
#include <thread>

namespace amanah {

namespace {

class FaultyWritableFile final : public WritableFile {
 public:
  FaultyWritableFile(FaultInjectionEnv* env, std::unique_ptr<WritableFile> base)
      : env_(env), base_(std::move(base)) {}

  Status Append(ByteView data) override {
    RETURN_IF_ERROR(env_->ChargeWrite(data.size()));
    return base_->Append(data);
  }
  Status AppendWith(size_t n,
                    const std::function<void(uint8_t*)>& fill) override {
    RETURN_IF_ERROR(env_->ChargeWrite(n));
    return base_->AppendWith(n, fill);
  }
  Status Sync() override {
    RETURN_IF_ERROR(env_->CheckSync());
    return base_->Sync();
  }
  Status Close() override { return base_->Close(); }

 private:
  FaultInjectionEnv* env_;
  std::unique_ptr<WritableFile> base_;
};

}  // namespace

Status FaultInjectionEnv::ChargeWrite(size_t n) {
  uint64_t cur = budget_.load();
  while (true) {
    if (cur < n) {
      budget_ = 0;
      return Status::IOError("No space left on device (injected)");
    }
    if (budget_.compare_exchange_weak(cur, cur - n)) return Status::OK();
  }
}

Status FaultInjectionEnv::CheckSync() const {
  if (fail_sync_) return Status::IOError("fsync failed (injected)");
  return Status::OK();
}

void FaultInjectionEnv::FileMade(const std::string& path) {
  std::function<void(const std::string&)> f;
  {
    std::lock_guard<std::mutex> l(mu_);
    f = on_file_made_;
  }
  if (f) f(path);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(
    const std::string& path, mode_t mode) {
  ASSIGN_OR_RETURN(auto f, base_->NewWritableFile(path, mode));
  FileMade(path);
  return std::unique_ptr<WritableFile>(
      new FaultyWritableFile(this, std::move(f)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewStreamingFile(
    const std::string& path, mode_t mode) {
  ASSIGN_OR_RETURN(auto f, base_->NewStreamingFile(path, mode));
  FileMade(path);
  return std::unique_ptr<WritableFile>(
      new FaultyWritableFile(this, std::move(f)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(
    const std::string& path, mode_t mode) {
  ASSIGN_OR_RETURN(auto f, base_->NewAppendableFile(path, mode));
  return std::unique_ptr<WritableFile>(
      new FaultyWritableFile(this, std::move(f)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::ReopenStreamingFile(
    const std::string& path) {
  ASSIGN_OR_RETURN(auto f, base_->ReopenStreamingFile(path));
  return std::unique_ptr<WritableFile>(
      new FaultyWritableFile(this, std::move(f)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewJournalFile(
    const std::string& path, uint64_t end, uint64_t preallocate) {
  ASSIGN_OR_RETURN(auto f, base_->NewJournalFile(path, end, preallocate));
  return std::unique_ptr<WritableFile>(
      new FaultyWritableFile(this, std::move(f)));
}

Status FaultInjectionEnv::RenameFile(const std::string& from,
                                     const std::string& to) {
  if (fail_rename_) return Status::IOError("rename failed (injected)");
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!fail_rename_to_.empty() &&
        to.substr(to.find_last_of('/') + 1) == fail_rename_to_) {
      return Status::IOError("rename failed (injected)");
    }
  }
  return base_->RenameFile(from, to);
}

Status FaultInjectionEnv::SyncDir(const std::string& path) {
  RETURN_IF_ERROR(CheckSync());
  return base_->SyncDir(path);
}

Status FaultInjectionEnv::SyncFilesystem(const std::string& path) {
  ++filesystem_syncs_;
  int once = syncfs_failures_.load();
  while (once > 0 && !syncfs_failures_.compare_exchange_weak(once, once - 1)) {
  }
  if (once > 0) {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(syncfs_fail_delay_ms_.load()));
  }
  if (fail_syncfs_ || once > 0) {
    return Status::IOError(path + ": syncfs failed (injected)");
  }
  RETURN_IF_ERROR(CheckSync());
  return base_->SyncFilesystem(path);
}

}  // namespace amanah
