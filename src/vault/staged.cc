#include "vault/staged.h"

#include <sodium.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace amanah {

// A thread that runs `fn` on each buffer handed to it, in order, holding
// at most kDepth of them; used buffers are kept for reuse.
class StagedObject::Worker {
 public:
  explicit Worker(std::function<void(const Bytes&)> fn)
      : fn_(std::move(fn)), thread_([this] { Loop(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // A buffer to fill and Push(): a used one if there is one.
  Bytes Take() {
    std::lock_guard<std::mutex> l(mu_);
    if (spare_.empty()) return Bytes();
    Bytes b = std::move(spare_.back());
    spare_.pop_back();
    return b;
  }
  void Push(Bytes b) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return queue_.size() < kDepth; });
    queue_.push_back(std::move(b));
    cv_.notify_all();
  }
  void Drain() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return queue_.empty() && !busy_; });
  }

 private:
  static constexpr size_t kDepth = 4;
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      Bytes b = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      l.unlock();
      fn_(b);
      l.lock();
      busy_ = false;
      if (spare_.size() < kDepth) spare_.push_back(std::move(b));
      cv_.notify_all();
    }
  }

  std::function<void(const Bytes&)> fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Bytes> queue_;   // guarded by mu_
  std::vector<Bytes> spare_;  // guarded by mu_
  bool busy_ = false;         // guarded by mu_
  bool stop_ = false;         // guarded by mu_
  std::thread thread_;        // last: starts once the rest is ready
};

StagedObject::StagedObject(Env* env, std::string path,
                           std::vector<HashAlgorithm> algs)
    : env_(env), path_(std::move(path)), algorithms_(std::move(algs)) {
  if (std::find(algorithms_.begin(), algorithms_.end(),
                HashAlgorithm::kSha256) == algorithms_.end()) {
    algorithms_.insert(algorithms_.begin(), HashAlgorithm::kSha256);
  }
  for (HashAlgorithm a : algorithms_) {
    hashers_.push_back(std::make_unique<Hasher>(a));
  }
  hasher_ = std::make_unique<Worker>([this](const Bytes& plain) {
    for (auto& h : hashers_) h->Update(plain);
  });
  writer_ = std::make_unique<Worker>([this](const Bytes& sealed) {
    {
      std::lock_guard<std::mutex> l(status_mu_);
      if (!write_status_.ok()) return;  // the file is behind: write no more
    }
    Status s = file_->Append(sealed);
    if (!s.ok()) {
      std::lock_guard<std::mutex> l(status_mu_);
      write_status_ = s;
    }
  });
}

StagedObject::~StagedObject() {
  writer_.reset();  // finishes queued writes before the file closes
  hasher_.reset();
  if (file_) (void)file_->Close();
}

void StagedObject::Hash(ByteView plain) {
  Bytes copy = hasher_->Take();
  copy.assign(plain.begin(), plain.end());
  hasher_->Push(std::move(copy));
}

void StagedObject::WaitHashed() { hasher_->Drain(); }

Status StagedObject::Drained() {
  writer_->Drain();
  std::lock_guard<std::mutex> l(status_mu_);
  return write_status_;
}

Result<std::unique_ptr<StagedObject>> StagedObject::Create(
    Env* env, const MasterKey& master, const std::string& path,
    const std::vector<HashAlgorithm>& algorithms) {
  if (env->FileExists(path)) {
    return Status::Conflict(path + ": staging file exists already");
  }
  RETURN_IF_ERROR(CreateDirs(env, DirName(path), 0700));
  std::unique_ptr<StagedObject> s(new StagedObject(env, path, algorithms));
  VaultKey key;
  VaultHeader header = NewVaultHeader(master, &key);
  s->cipher_ = std::make_unique<ChunkCipher>(key, header);
  sodium_memzero(key.data(), key.size());
  ASSIGN_OR_RETURN(s->file_, env->NewStreamingFile(path, 0600));
  auto h = header.Encode();
  RETURN_IF_ERROR(s->file_->Append(ByteView(h.data(), h.size())));
  RETURN_IF_ERROR(s->file_->Sync());
  RETURN_IF_ERROR(env->SyncDir(DirName(path)));
  return s;
}

Result<std::unique_ptr<StagedObject>> StagedObject::Resume(
    Env* env, const MasterKey& master, const std::string& path,
    const std::vector<HashAlgorithm>& algorithms, uint64_t committed) {
  if (committed % kVaultChunkSize != 0) {
    return Status::InvalidInput(
        "a committed offset is a whole number of "
        "chunks");
  }
  ASSIGN_OR_RETURN(auto in, env->NewRandomAccessFile(path));
  uint8_t hb[kVaultHeaderSize];
  ASSIGN_OR_RETURN(size_t got, in->ReadAt(0, hb, sizeof(hb)));
  ASSIGN_OR_RETURN(VaultHeader header, VaultHeader::Decode(ByteView(hb, got)));
  if (header.chunk_size != kVaultChunkSize) {
    return Status::Corruption(path + ": unexpected chunk size");
  }
  // A staging file begun in format version 1 (before an upgrade): its
  // chunks' nonces follow from the header and their position alone, so
  // going on in it would seal the chunks after the committed ones under
  // nonces they may have had before the restart. Its committed chunks are
  // sealed once more into a version 2 file that then takes its place.
  const bool reseal = header.version < 2;
  ASSIGN_OR_RETURN(VaultKey key, UnwrapObjectKey(header, master));
  ChunkCipher opener(key, header);
  std::unique_ptr<ChunkCipher> sealer;
  if (!reseal) sealer = std::make_unique<ChunkCipher>(key, header);
  sodium_memzero(key.data(), key.size());
  const uint64_t sealed_chunk = kVaultChunkSize + opener.overhead();
  uint64_t chunks = committed / kVaultChunkSize;
  uint64_t want = kVaultHeaderSize + chunks * sealed_chunk;
  ASSIGN_OR_RETURN(uint64_t size, in->Size());
  if (size < want) {
    return Status::Corruption(path + ": holds " + std::to_string(size) +
                              " bytes, fewer than the " +
                              std::to_string(committed) + " committed");
  }
  const std::string fresh = path + ".v2";
  std::unique_ptr<StagedObject> s;
  if (reseal) {
    if (env->FileExists(fresh)) RETURN_IF_ERROR(env->RemoveFile(fresh));
    ASSIGN_OR_RETURN(s, Create(env, master, fresh, algorithms));
  } else {
    s.reset(new StagedObject(env, path, algorithms));
    s->cipher_ = std::move(sealer);
  }
  Status done = [&]() -> Status {
    Bytes plain(kVaultChunkSize);
    Bytes sealed(sealed_chunk);
    for (uint64_t i = 0; i < chunks; ++i) {
      uint64_t off = kVaultHeaderSize + i * sealed_chunk;
      ASSIGN_OR_RETURN(size_t r, in->ReadAt(off, sealed.data(),
                                            static_cast<size_t>(sealed_chunk)));
      if (r != sealed_chunk) return Status::Corruption(path + ": short read");
      Status ok = opener.Open(static_cast<uint32_t>(i), false,
                              ByteView(sealed.data(), r), plain.data());
      if (!ok.ok()) return Status::Corruption(path + ": " + ok.message());
      if (reseal) {
        RETURN_IF_ERROR(s->Append(plain));
      } else {
        s->Hash(plain);
      }
    }
    sodium_memzero(plain.data(), plain.size());
    if (reseal) {
      RETURN_IF_ERROR(s->Sync());
      RETURN_IF_ERROR(env->RenameFile(fresh, path));
      s->path_ = path;
      return env->SyncDir(DirName(path));
    }
    s->chunks_ = chunks;
    if (size > want) RETURN_IF_ERROR(env->TruncateFile(path, want));
    ASSIGN_OR_RETURN(s->file_, env->ReopenStreamingFile(path));
    return Status::OK();
  }();
  if (!done.ok()) {
    const bool renamed = reseal && s->path_ == path;
    s.reset();
    if (reseal && !renamed) (void)env->RemoveFile(fresh);
    return done;
  }
  return s;
}

Status StagedObject::SealChunk(ByteView plain, bool last) {
  if (chunks_ > UINT32_MAX) {
    return Status::InvalidInput("evidence larger than 4 PiB");
  }
  Hash(plain);
  Bytes sealed = writer_->Take();
  sealed.resize(plain.size() + cipher_->overhead());
  cipher_->Seal(static_cast<uint32_t>(chunks_), last, plain, sealed.data());
  writer_->Push(std::move(sealed));
  ++chunks_;
  // A failed write shows here, a chunk or a few later, or at Sync().
  std::lock_guard<std::mutex> l(status_mu_);
  return write_status_;
}

Status StagedObject::Append(ByteView data) {
  while (!data.empty()) {
    if (buffer_.empty() && data.size() >= chunk_size_) {
      // Whole chunks straight from the caller's buffer.
      RETURN_IF_ERROR(SealChunk(data.subspan(0, chunk_size_), false));
      data = data.subspan(chunk_size_);
      continue;
    }
    size_t take = std::min<size_t>(chunk_size_ - buffer_.size(), data.size());
    buffer_.insert(buffer_.end(), data.begin(), data.begin() + take);
    data = data.subspan(take);
    if (buffer_.size() == chunk_size_) {
      RETURN_IF_ERROR(SealChunk(buffer_, false));
      buffer_.clear();
    }
  }
  return Status::OK();
}

Status StagedObject::Sync() {
  RETURN_IF_ERROR(Drained());
  return file_->Sync();
}

Result<PutResult> StagedObject::Finish(Vault* vault) {
  ASSIGN_OR_RETURN(PutResult r, Seal());
  ASSIGN_OR_RETURN(r.duplicate, vault->Adopt(path_, r.address));
  return r;
}

Result<PutResult> StagedObject::Seal() {
  RETURN_IF_ERROR(SealChunk(buffer_, true));
  buffer_.clear();
  RETURN_IF_ERROR(Drained());
  RETURN_IF_ERROR(file_->Sync());
  RETURN_IF_ERROR(file_->Close());
  file_.reset();
  PutResult r;
  ASSIGN_OR_RETURN(uint64_t stored, env_->GetFileSize(path_));
  r.size = stored - kVaultHeaderSize - chunks_ * cipher_->overhead();
  WaitHashed();
  for (size_t i = 0; i < algorithms_.size(); ++i) {
    r.digests[algorithms_[i]] = hashers_[i]->Finish();
  }
  std::memcpy(r.address.digest.data(), r.digests[HashAlgorithm::kSha256].data(),
              32);
  return r;
}

}  // namespace amanah
