#include "vault/e01.h"

#include <libewf.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>

#include "base/json_writer.h"

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

// The header values taken (e01.h, EwfHeader): libewf's identifier, the
// name recorded, and whether it is free text or a date.
struct HeaderField {
  const char* id;
  const char* name;
  enum { kShort, kText, kDate } type;
};
constexpr HeaderField kHeaderFields[] = {
    {"case_number", "case_number", HeaderField::kShort},
    {"evidence_number", "evidence_number", HeaderField::kShort},
    {"examiner_name", "examiner", HeaderField::kShort},
    {"description", "description", HeaderField::kText},
    {"notes", "notes", HeaderField::kText},
    {"acquiry_date", "acquired", HeaderField::kDate},
    {"system_date", "system_date", HeaderField::kDate},
    {"acquiry_operating_system", "operating_system", HeaderField::kShort},
    {"acquiry_software_version", "software_version", HeaderField::kShort},
};

// Why a header value may not be recorded; empty if it may.
std::string RefuseText(std::string_view v) {
  if (!IsValidUtf8(v)) return "not valid UTF-8";
  for (size_t i = 0; i < v.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c == 0x7f) return "a control character";
    // U+0080 to U+009F (C1 controls), valid UTF-8 here: C2 80 to C2 9F.
    if (c == 0xc2 && static_cast<unsigned char>(v[i + 1]) < 0xa0) {
      return "a control character";
    }
    // U+202A to U+202E: E2 80 AA to AE; U+2066 to U+2069: E2 81 A6 to A9.
    if (c == 0xe2) {
      unsigned char c1 = static_cast<unsigned char>(v[i + 1]);
      unsigned char c2 = static_cast<unsigned char>(v[i + 2]);
      if ((c1 == 0x80 && c2 >= 0xaa && c2 <= 0xae) ||
          (c1 == 0x81 && c2 >= 0xa6 && c2 <= 0xa9)) {
        return "a bidirectional control character";
      }
    }
  }
  return "";
}

// Reads digits [at, at + n) of `s`; false if any is not '0'..'9'.
bool Digits(std::string_view s, size_t at, size_t n, int* out) {
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// A date as libewf writes it in LIBEWF_DATE_FORMAT_ISO8601,
// "YYYY-MM-DDTHH:MM:SS". With `instant` (the image stored a timestamp,
// which libewf rendered in this process's local time zone) the same moment
// in UTC with "Z"; without, as it is. Empty if it is not such a date.
std::string HeaderDate(std::string_view v, bool instant) {
  std::tm tm{};
  if (v.size() != 19 || v[4] != '-' || v[7] != '-' || v[10] != 'T' ||
      v[13] != ':' || v[16] != ':' || !Digits(v, 0, 4, &tm.tm_year) ||
      !Digits(v, 5, 2, &tm.tm_mon) || !Digits(v, 8, 2, &tm.tm_mday) ||
      !Digits(v, 11, 2, &tm.tm_hour) || !Digits(v, 14, 2, &tm.tm_min) ||
      !Digits(v, 17, 2, &tm.tm_sec) || tm.tm_mon < 1 || tm.tm_mon > 12 ||
      tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return "";
  }
  if (!instant) return std::string(v);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1;  // whichever the zone's rules say for that day
  std::time_t t = std::mktime(&tm);
  std::tm utc{};
  if (t == static_cast<std::time_t>(-1) || gmtime_r(&t, &utc) == nullptr ||
      utc.tm_year + 1900 < 1 || utc.tm_year + 1900 > 9999) {
    return "";
  }
  char buf[80];  // room for any int the compiler imagines, not only 4 digits
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                utc.tm_min, utc.tm_sec);
  return buf;
}

EwfHeader ReadHeader(libewf_handle_t* h) {
  EwfHeader out;
  libewf_error_t* error = nullptr;
  uint8_t format = LIBEWF_FORMAT_UNKNOWN;
  if (libewf_handle_get_format(h, &format, &error) != 1) TakeError(error);
  // The formats with a header2 section, whose dates are timestamps.
  bool instants =
      (format >= LIBEWF_FORMAT_ENCASE4 && format <= LIBEWF_FORMAT_ENCASE7) ||
      (format >= LIBEWF_FORMAT_LOGICAL_ENCASE5 &&
       format <= LIBEWF_FORMAT_LOGICAL_ENCASE7) ||
      (format >= LIBEWF_FORMAT_LINEN5 && format <= LIBEWF_FORMAT_LINEN7);
  if (libewf_handle_set_header_values_date_format(h, LIBEWF_DATE_FORMAT_ISO8601,
                                                  &error) != 1) {
    out.refused.push_back("header: " + TakeError(error));
    return out;
  }
  for (const HeaderField& f : kHeaderFields) {
    const auto* id = reinterpret_cast<const uint8_t*>(f.id);
    size_t id_length = std::strlen(f.id);
    size_t limit =
        f.type == HeaderField::kText ? kMaxEwfHeaderText : kMaxEwfHeaderValue;
    std::string name = f.name;
    size_t size = 0;
    int rc = libewf_handle_get_utf8_header_value_size(h, id, id_length, &size,
                                                      &error);
    if (rc < 0) {
      TakeError(error);
      out.refused.push_back(name + ": unreadable");
      continue;
    }
    if (rc == 0 || size <= 1) continue;  // absent or empty
    if (size - 1 > limit) {
      out.refused.push_back(name + ": longer than " + std::to_string(limit) +
                            " bytes");
      continue;
    }
    std::string v(size, '\0');
    if (libewf_handle_get_utf8_header_value(
            h, id, id_length, reinterpret_cast<uint8_t*>(v.data()), size,
            &error) != 1) {
      TakeError(error);
      out.refused.push_back(name + ": unreadable");
      continue;
    }
    // Up to the end of string; nothing may follow it.
    size_t end = v.find('\0');
    if (v.find_first_not_of('\0', end) != std::string::npos) {
      out.refused.push_back(name + ": a NUL byte");
      continue;
    }
    v.resize(end);
    if (v.empty()) continue;
    std::string why = RefuseText(v);
    if (why.empty() && f.type == HeaderField::kDate) {
      std::string date = HeaderDate(v, instants);
      if (date.empty()) why = "not a date";
      v = std::move(date);
    }
    if (!why.empty()) {
      out.refused.push_back(name + ": " + why);
      continue;
    }
    out.values.emplace_back(std::move(name), std::move(v));
  }
  return out;
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
    r->header_ = ReadHeader(r->handle_->h);
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
