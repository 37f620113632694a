#include "vault/e01.h"

#include <libewf.h>
#include <unistd.h>

#include <cstring>

namespace amanah {

namespace {

std::string TakeError(libewf_error_t*& error) {
  if (error == nullptr) return "unknown libewf error";
  char buf[512];
  int n = libewf_error_sprint(error, buf, sizeof(buf));
  libewf_error_free(&error);
  std::string s = n > 0 ? std::string(buf) : "unknown libewf error";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

struct EwfMediaReader::Handle {
  libewf_handle_t* h = nullptr;
  bool open = false;
  ~Handle() {
    libewf_error_t* error = nullptr;
    if (open) libewf_handle_close(h, &error);
    if (error) libewf_error_free(&error);
    if (h) libewf_handle_free(&h, &error);
    if (error) libewf_error_free(&error);
  }
};

bool LooksLikeEwf(ByteView b) {
  static const uint8_t kSig[8] = {'E', 'V', 'F', 0x09, 0x0d, 0x0a, 0xff, 0x00};
  return b.size() >= 8 && std::memcmp(b.data(), kSig, 8) == 0;
}

Result<std::unique_ptr<EwfMediaReader>> EwfMediaReader::Open(
    const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) {
    return Status::NotFound(path + ": cannot read");
  }
  libewf_error_t* error = nullptr;
  char** names = nullptr;
  int count = 0;
  if (libewf_glob(path.c_str(), path.size(), LIBEWF_FORMAT_UNKNOWN, &names,
                  &count, &error) != 1) {
    return Status::Corruption(
        path + ": not a readable EWF image set: " + TakeError(error));
  }
  std::unique_ptr<EwfMediaReader> r(new EwfMediaReader);
  for (int i = 0; i < count; ++i) r->segments_.emplace_back(names[i]);
  r->handle_ = std::make_unique<Handle>();
  Status s = [&]() -> Status {
    if (libewf_handle_initialize(&r->handle_->h, &error) != 1) {
      return Status::IOError("libewf: " + TakeError(error));
    }
    if (libewf_handle_open(r->handle_->h, names, count, LIBEWF_OPEN_READ,
                           &error) != 1) {
      return Status::Corruption(
          path + ": libewf cannot open the image: " + TakeError(error));
    }
    r->handle_->open = true;
    size64_t size = 0;
    if (libewf_handle_get_media_size(r->handle_->h, &size, &error) != 1) {
      return Status::Corruption(path + ": no media size: " + TakeError(error));
    }
    r->media_size_ = size;
    uint8_t md5[16], sha1[20];
    int rc =
        libewf_handle_get_md5_hash(r->handle_->h, md5, sizeof(md5), &error);
    if (rc == 1) r->stored_.md5_hex = HexEncode(ByteView(md5, 16));
    if (rc < 0) return Status::Corruption(path + ": " + TakeError(error));
    rc = libewf_handle_get_sha1_hash(r->handle_->h, sha1, sizeof(sha1), &error);
    if (rc == 1) r->stored_.sha1_hex = HexEncode(ByteView(sha1, 20));
    if (rc < 0) return Status::Corruption(path + ": " + TakeError(error));
    return Status::OK();
  }();
  libewf_glob_free(names, count, &error);
  if (error) libewf_error_free(&error);
  if (!s.ok()) return s;
  return r;
}

EwfMediaReader::~EwfMediaReader() = default;

Result<size_t> EwfMediaReader::Read(uint8_t* buf, size_t n) {
  if (offset_ >= media_size_) return size_t{0};
  size_t want =
      static_cast<size_t>(std::min<uint64_t>(n, media_size_ - offset_));
  libewf_error_t* error = nullptr;
  ssize_t got = libewf_handle_read_buffer(handle_->h, buf, want, &error);
  if (got < 0) {
    return Status::Corruption("E01 media unreadable at byte " +
                              std::to_string(offset_) + ": " +
                              TakeError(error));
  }
  uint32_t errors = 0;
  if (libewf_handle_get_number_of_checksum_errors(handle_->h, &errors,
                                                  &error) != 1) {
    return Status::IOError("libewf: " + TakeError(error));
  }
  if (errors > 0) {
    uint64_t start = 0, count = 0;
    libewf_handle_get_checksum_error(handle_->h, 0, &start, &count, &error);
    if (error) libewf_error_free(&error);
    return Status::Corruption("E01 chunk fails its checksum: sectors " +
                              std::to_string(start) + " to " +
                              std::to_string(start + count - 1) +
                              " (media byte " + std::to_string(offset_) + ")");
  }
  if (got == 0) {
    return Status::Corruption("E01 media ends at byte " +
                              std::to_string(offset_) + " of " +
                              std::to_string(media_size_));
  }
  offset_ += static_cast<uint64_t>(got);
  return static_cast<size_t>(got);
}

}  // namespace amanah
