#include "vault/vault.h"

#include <sodium.h>

#include <atomic>
#include <cstring>
#include <thread>

namespace amanah {

namespace {

// Encrypts chunks into a temporary object file.
class SealingSink final : public ChunkSink {
 public:
  SealingSink(WritableFile* file, const MasterKey& master) : file_(file) {
    VaultKey key;
    header_ = NewVaultHeader(master, &key);
    cipher_ = std::make_unique<ChunkCipher>(key, header_);
    sodium_memzero(key.data(), key.size());
  }

  Status Start() {
    auto h = header_.Encode();
    return file_->Append(h);
  }

  Status Consume(ByteView chunk, uint64_t index, bool last) override {
    if (index > UINT32_MAX) {
      return Status::InvalidInput("evidence larger than 4 PiB");
    }
    return file_->AppendWith(
        chunk.size() + cipher_->overhead(), [&](uint8_t* out) {
          cipher_->Seal(static_cast<uint32_t>(index), last, chunk, out);
        });
  }

 private:
  WritableFile* file_;
  VaultHeader header_;
  std::unique_ptr<ChunkCipher> cipher_;
};

// Discards plaintext.
class NullSink final : public ChunkSink {
 public:
  Status Consume(ByteView, uint64_t, bool) override { return Status::OK(); }
};

std::string RandomName() {
  uint8_t r[12];
  randombytes_buf(r, sizeof(r));
  return HexEncode(ByteView(r, sizeof(r)));
}

}  // namespace

std::string ContentAddress::ToString() const {
  return "sha256:" + HexEncode(digest);
}

Result<ContentAddress> ContentAddress::Parse(std::string_view text) {
  constexpr std::string_view kPrefix = "sha256:";
  if (text.substr(0, kPrefix.size()) != kPrefix ||
      text.size() != kPrefix.size() + 64) {
    return Status::InvalidInput("a content address is sha256:<64 hex digits>");
  }
  std::string_view hex = text.substr(kPrefix.size());
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Status::InvalidInput(
          "a content address is sha256:<64 lowercase hex digits>");
    }
  }
  ContentAddress a;
  auto bytes = HexDecode(hex);
  std::memcpy(a.digest.data(), bytes->data(), 32);
  return a;
}

std::string Vault::PathOf(const ContentAddress& address) const {
  std::string hex = HexEncode(address.digest);
  return JoinPath(dir_, "sha256/" + hex.substr(0, 2) + "/" + hex);
}

bool Vault::Contains(const ContentAddress& address) const {
  return env_->FileExists(PathOf(address));
}

Result<PutResult> Vault::Put(SequentialFile* source,
                             const std::vector<HashAlgorithm>& extra,
                             const ProgressFn& progress,
                             const PutHooks* hooks) {
  std::string tmp_dir = JoinPath(dir_, "tmp");
  RETURN_IF_ERROR(CreateDirs(env_, tmp_dir, 0700));
  std::string tmp = JoinPath(tmp_dir, "put-" + RandomName());
  if (hooks && hooks->before_write) RETURN_IF_ERROR(hooks->before_write(tmp));

  std::vector<HashAlgorithm> algorithms = {HashAlgorithm::kSha256};
  for (HashAlgorithm a : extra) {
    if (std::find(algorithms.begin(), algorithms.end(), a) == algorithms.end())
      algorithms.push_back(a);
  }

  Result<StreamDigests> digests = Status::OK();
  Status s = [&]() -> Status {
    ASSIGN_OR_RETURN(auto file, env_->NewStreamingFile(tmp, 0600));
    SealingSink sink(file.get(), master_);
    RETURN_IF_ERROR(sink.Start());
    digests =
        DigestStream(source, algorithms, &sink, kVaultChunkSize, progress);
    RETURN_IF_ERROR(digests.status());
    RETURN_IF_ERROR(file->Sync());
    return file->Close();
  }();
  if (!s.ok()) {
    (void)env_->RemoveFile(tmp);
    return s;
  }

  PutResult r;
  r.size = digests->size;
  r.digests = digests->digests;
  std::memcpy(r.address.digest.data(), r.digests[HashAlgorithm::kSha256].data(),
              32);
  if (hooks && hooks->before_adopt) {
    Status noted = hooks->before_adopt(r.address);
    if (!noted.ok()) {
      (void)env_->RemoveFile(tmp);
      return noted;
    }
  }
  auto adopted = Adopt(tmp, r.address);
  if (!adopted.ok()) {
    (void)env_->RemoveFile(tmp);
    return adopted.status();
  }
  r.duplicate = *adopted;
  return r;
}

Result<bool> Vault::Adopt(const std::string& file,
                          const ContentAddress& address) {
  std::string path = PathOf(address);
  if (env_->FileExists(path)) {
    RETURN_IF_ERROR(env_->RemoveFile(file));
    return true;
  }
  // On failure the file stays where it is: the caller decides (Put drops
  // its temporary file; a sealed upload is installed again later).
  RETURN_IF_ERROR(CreateDirs(env_, DirName(path), 0700));
  RETURN_IF_ERROR(env_->RenameFile(file, path));
  RETURN_IF_ERROR(env_->SyncDir(DirName(path)));
  return false;
}

Result<std::vector<ContentAddress>> Vault::List() const {
  std::vector<ContentAddress> out;
  std::string root = JoinPath(dir_, "sha256");
  if (!env_->FileExists(root)) return out;
  ASSIGN_OR_RETURN(auto fans, env_->GetChildren(root));
  std::sort(fans.begin(), fans.end());
  for (const auto& fan : fans) {
    ASSIGN_OR_RETURN(auto names, env_->GetChildren(JoinPath(root, fan)));
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      auto a = ContentAddress::Parse("sha256:" + name);
      if (!a.ok() || name.substr(0, 2) != fan) {
        return Status::Corruption(JoinPath(JoinPath(root, fan), name) +
                                  ": not a vault object name");
      }
      out.push_back(*a);
    }
  }
  return out;
}

namespace {

// Presents a vault object's plaintext as a stream, one chunk per Read().
class DecryptingReader : public SequentialFile {
 public:
  explicit DecryptingReader(ObjectReader* object) : object_(object) {}

  // Decrypts each chunk straight into the caller's buffer.
  Result<size_t> Read(uint8_t* scratch, size_t n) override {
    if (next_ == object_->chunks()) return size_t{0};
    if (n < object_->chunk_size()) {
      return Status::InvalidInput("vault read buffer smaller than a chunk");
    }
    return object_->OpenChunk(next_++, scratch);
  }

 private:
  ObjectReader* object_;
  uint64_t next_ = 0;
};

}  // namespace

Result<std::unique_ptr<ObjectReader>> Vault::OpenReader(
    const ContentAddress& address) const {
  std::unique_ptr<ObjectReader> r(new ObjectReader);
  r->path_ = PathOf(address);
  auto file = env_->NewStreamingReadFile(r->path_);
  if (!file.ok()) {
    if (file.status().code() == Code::kNotFound) {
      return Status::NotFound(address.ToString() + " is not in the vault");
    }
    return file.status();
  }
  r->file_ = std::move(file).value();
  auto fail = [&](const std::string& what) {
    return Status::Corruption(r->path_ + ": " + what);
  };
  ASSIGN_OR_RETURN(r->stored_, r->file_->Size());
  uint8_t hb[kVaultHeaderSize];
  ASSIGN_OR_RETURN(size_t got, r->file_->ReadAt(0, hb, sizeof(hb)));
  auto header = VaultHeader::Decode(ByteView(hb, got));
  if (!header.ok()) return fail(header.status().message());
  auto key = UnwrapObjectKey(*header, master_);
  if (!key.ok()) return fail(key.status().message());
  r->cipher_ = std::make_unique<ChunkCipher>(*key, *header);
  sodium_memzero(key->data(), key->size());

  r->chunk_size_ = header->chunk_size;
  r->overhead_ = header->chunk_overhead();
  r->sealed_chunk_ = header->chunk_size + r->overhead_;
  uint64_t body = r->stored_ - kVaultHeaderSize;
  // Chunk count: full chunks, then a final one of overhead..sealed_chunk
  // bytes.
  r->chunks_ = body == 0 ? 0 : (body + r->sealed_chunk_ - 1) / r->sealed_chunk_;
  if (r->chunks_ == 0 ||
      body - (r->chunks_ - 1) * r->sealed_chunk_ < r->overhead_) {
    return fail("truncated: no final chunk");
  }
  r->size_ = body - r->chunks_ * r->overhead_;
  // An empty object is one empty final chunk: check its tag now, since no
  // range will.
  if (r->size_ == 0) RETURN_IF_ERROR(r->LoadChunk(0));
  return r;
}

ObjectReader::~ObjectReader() {
  if (!plain_.empty()) sodium_memzero(plain_.data(), plain_.size());
}

Result<size_t> ObjectReader::OpenChunk(uint64_t index, uint8_t* out) {
  uint64_t off = kVaultHeaderSize + index * sealed_chunk_;
  size_t len = static_cast<size_t>(std::min(sealed_chunk_, stored_ - off));
  sealed_.resize(sealed_chunk_);
  ASSIGN_OR_RETURN(size_t r, file_->ReadAt(off, sealed_.data(), len));
  if (r != len) return Status::Corruption(path_ + ": short read");
  Status s = cipher_->Open(static_cast<uint32_t>(index), index + 1 == chunks_,
                           ByteView(sealed_.data(), len), out);
  if (!s.ok()) {
    return Status::Corruption(path_ + ": " + s.message() + " (at byte " +
                              std::to_string(off) + " of the file)");
  }
  return len - overhead_;
}

Status ObjectReader::LoadChunk(uint64_t index) {
  if (index == loaded_) return Status::OK();
  plain_.resize(chunk_size_);
  loaded_ = UINT64_MAX;
  ASSIGN_OR_RETURN(size_t n, OpenChunk(index, plain_.data()));
  plain_.resize(n);
  loaded_ = index;
  return Status::OK();
}

Status ObjectReader::ReadRange(uint64_t offset, uint64_t length,
                               const std::function<bool(ByteView)>& out) {
  if (offset > size_ || length > size_ - offset) {
    return Status::InvalidInput(
        "bytes " + std::to_string(offset) + "+" + std::to_string(length) +
        " lie beyond the object's " + std::to_string(size_) + " bytes");
  }
  while (length > 0) {
    uint64_t index = offset / chunk_size_;
    RETURN_IF_ERROR(LoadChunk(index));
    uint64_t in = offset - index * chunk_size_;
    uint64_t n = std::min<uint64_t>(length, plain_.size() - in);
    if (!out(ByteView(plain_.data() + in, n))) {
      return Status::Unavailable("the reader stopped");
    }
    offset += n;
    length -= n;
  }
  return Status::OK();
}

Result<ObjectCheck> Vault::Read(const ContentAddress& address, ChunkSink* sink,
                                const ProgressFn& progress) const {
  ASSIGN_OR_RETURN(auto object, OpenReader(address));
  // Decryption runs on the stream's reader thread and SHA-256 on a thread of
  // its own, so the two overlap on two cores; the sink gets the plaintext on
  // this thread.
  ObjectCheck check;
  check.stored_bytes = object->stored_;
  DecryptingReader reader(object.get());
  ASSIGN_OR_RETURN(StreamDigests digests,
                   DigestStream(&reader, {HashAlgorithm::kSha256}, sink,
                                object->chunk_size_, progress));
  check.size = digests.size;
  const Bytes& digest = digests.digests[HashAlgorithm::kSha256];
  if (!ConstantTimeEqual(digest, address.digest)) {
    return Status::Corruption(object->path_ + ": content hashes to sha256:" +
                              HexEncode(digest) + ", not its name");
  }
  return check;
}

Result<ObjectCheck> Vault::Decrypt(const ContentAddress& address,
                                   ChunkSink* sink,
                                   const ProgressFn& progress) const {
  ASSIGN_OR_RETURN(auto object, OpenReader(address));
  ObjectCheck check;
  check.stored_bytes = object->stored_;
  DecryptingReader reader(object.get());
  ASSIGN_OR_RETURN(
      StreamDigests digests,
      DigestStream(&reader, {}, sink, object->chunk_size_, progress));
  check.size = digests.size;
  if (check.size != object->size_) {
    return Status::Corruption(object->path_ + ": decrypted " +
                              std::to_string(check.size) + " bytes of " +
                              std::to_string(object->size_));
  }
  return check;
}

Result<ObjectCheck> Vault::Verify(const ContentAddress& address,
                                  const ProgressFn& progress) const {
  NullSink sink;
  return Read(address, &sink, progress);
}

}  // namespace amanah
