#include "bundle/tar.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <utility>

namespace amanah {
namespace {

constexpr size_t kBlock = 512;
// The largest number 11 octal digits hold: 8 GiB - 1.
constexpr uint64_t kMaxOctal11 = (uint64_t{1} << 33) - 1;
// Sizes beyond this would overflow offset arithmetic.
constexpr uint64_t kMaxMemberSize = uint64_t{1} << 62;
constexpr uint8_t kZeros[2 * kBlock] = {};

using Block = std::array<uint8_t, kBlock>;

// A ustar header field: offset and length.
struct Field {
  size_t off;
  size_t len;
};
constexpr Field kName{0, 100};
constexpr Field kMode{100, 8};
constexpr Field kUid{108, 8};
constexpr Field kGid{116, 8};
constexpr Field kSize{124, 12};
constexpr Field kMtime{136, 12};
constexpr Field kChksum{148, 8};
constexpr size_t kTypeflag = 156;
constexpr Field kMagic{257, 6};
constexpr Field kVersion{263, 2};
constexpr Field kDevmajor{329, 8};
constexpr Field kDevminor{337, 8};
constexpr Field kPrefix{345, 155};

uint64_t Padding(uint64_t size) { return (kBlock - size % kBlock) % kBlock; }

// `s` for an error message: control bytes, quotes and backslashes escaped,
// long ones cut.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 200;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMax) out += "...";
  return out + "\"";
}

void PutString(Block* b, Field f, std::string_view s) {
  if (s.empty()) return;  // memcpy from a null data() is undefined
  std::memcpy(b->data() + f.off, s.data(), std::min(s.size(), f.len));
}

// `v` as f.len - 1 zero-padded octal digits and a NUL.
void PutOctal(Block* b, Field f, uint64_t v) {
  b->at(f.off + f.len - 1) = 0;
  for (size_t i = f.len - 1; i-- > 0;) {
    b->at(f.off + i) = static_cast<uint8_t>('0' + (v & 7));
    v >>= 3;
  }
}

// The sum of the header's bytes, the checksum field counted as spaces.
uint32_t Checksum(const Block& b) {
  uint32_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    bool in_field = i >= kChksum.off && i < kChksum.off + kChksum.len;
    sum += in_field ? ' ' : b[i];
  }
  return sum;
}

Block MakeHeader(std::string_view prefix, std::string_view name, uint64_t size,
                 char type, int64_t mtime) {
  Block b{};
  PutString(&b, kName, name);
  PutOctal(&b, kMode, 0644);
  PutOctal(&b, kUid, 0);
  PutOctal(&b, kGid, 0);
  PutOctal(&b, kSize, size);
  PutOctal(&b, kMtime, static_cast<uint64_t>(mtime));
  b[kTypeflag] = static_cast<uint8_t>(type);
  PutString(&b, kMagic, std::string_view("ustar\0", 6));
  PutString(&b, kVersion, "00");
  PutOctal(&b, kDevmajor, 0);
  PutOctal(&b, kDevminor, 0);
  PutString(&b, kPrefix, prefix);
  // Six digits, a NUL and a space, as POSIX tar implementations write it.
  PutOctal(&b, Field{kChksum.off, 7}, Checksum(b));
  b[kChksum.off + 7] = ' ';
  return b;
}

// Splits `path` into a ustar prefix and name; false if it cannot be.
bool SplitUstarPath(std::string_view path, std::string_view* prefix,
                    std::string_view* name) {
  if (path.size() <= kName.len) {
    *prefix = {};
    *name = path;
    return true;
  }
  // The longest name that fits, so the prefix is as short as it can be.
  size_t slash = path.find('/', path.size() - kName.len - 1);
  if (slash == std::string_view::npos || slash > kPrefix.len ||
      slash + 1 == path.size()) {
    return false;
  }
  *prefix = path.substr(0, slash);
  *name = path.substr(slash + 1);
  return true;
}

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "<len> <key>=<value>\n", <len> counting the whole record.
std::string PaxRecord(std::string_view key, std::string_view value) {
  const size_t body = key.size() + value.size() + 3;
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) {
    len = std::to_string(len).size() + body;
  }
  std::string r = std::to_string(len);
  r += ' ';
  r += key;
  r += '=';
  r += value;
  r += '\n';
  return r;
}

// Parses an octal header field: optional leading spaces, digits, then only
// NULs and spaces. An empty field is 0 unless `required`.
bool ParseOctal(const Block& b, Field f, bool required, uint64_t* out) {
  const uint8_t* p = b.data() + f.off;
  size_t i = 0;
  while (i < f.len && p[i] == ' ') ++i;
  uint64_t v = 0;
  size_t digits = 0;
  for (; i < f.len && p[i] >= '0' && p[i] <= '7'; ++i, ++digits) {
    v = v * 8 + (p[i] - '0');
  }
  for (; i < f.len; ++i) {
    if (p[i] != ' ' && p[i] != 0) return false;
  }
  if (digits == 0 && required) return false;
  *out = v;
  return true;
}

bool ParseDecimal(std::string_view s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 19 || (s[0] == '0' && s.size() > 1)) {
    return false;
  }
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

// A field's bytes up to its first NUL.
std::string_view FieldString(const Block& b, Field f) {
  std::string_view s(reinterpret_cast<const char*>(b.data()) + f.off, f.len);
  return s.substr(0, s.find('\0'));
}

std::string_view TypeName(uint8_t type) {
  static constexpr std::pair<char, const char*> kTypes[] = {
      {'\0', "a pre-POSIX regular file"},
      {'1', "a hard link"},
      {'2', "a symbolic link"},
      {'3', "a character device"},
      {'4', "a block device"},
      {'6', "a FIFO"},
      {'7', "a contiguous file"},
      {'g', "a pax global header"},
      {'D', "a GNU directory dump"},
      {'K', "a GNU long link name"},
      {'L', "a GNU long name"},
      {'M', "a GNU multi-volume continuation"},
      {'N', "a GNU old long name"},
      {'S', "a GNU sparse file"},
      {'V', "a GNU volume label"},
  };
  for (const auto& [c, name] : kTypes) {
    if (static_cast<uint8_t>(c) == type) return name;
  }
  return "a member of unknown type";
}

std::string TypeChar(uint8_t type) {
  if (type >= 0x21 && type < 0x7f) return std::string("'") + char(type) + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[type >> 4] + kHex[type & 15];
}

// What a ustar header says, checksum and magic verified.
struct Header {
  uint8_t type = 0;
  uint64_t size = 0;
  std::string path;  // prefix/name
};

// kInvalidInput naming what is wrong; the caller adds the offset.
Result<Header> ParseHeader(const Block& b) {
  uint64_t stored = 0;
  if (!ParseOctal(b, kChksum, true, &stored)) {
    return Status::InvalidInput("bad header checksum field");
  }
  const uint32_t computed = Checksum(b);
  if (stored != computed) {
    return Status::InvalidInput("bad header checksum (stored " +
                                std::to_string(stored) + ", computed " +
                                std::to_string(computed) + ")");
  }
  const std::string_view magic(
      reinterpret_cast<const char*>(b.data()) + kMagic.off,
      kMagic.len + kVersion.len);
  if (magic == std::string_view("ustar  \0", 8)) {
    return Status::InvalidInput("an old GNU tar header, not POSIX ustar");
  }
  if (magic != std::string_view("ustar\0"
                                "00",
                                8)) {
    return Status::InvalidInput("not a POSIX ustar header (bad magic)");
  }
  static constexpr std::pair<Field, const char*> kNumbers[] = {
      {kMode, "mode"}, {kUid, "uid"}, {kGid, "gid"}, {kMtime, "mtime"}};
  uint64_t ignored;
  for (const auto& [field, name] : kNumbers) {
    if (!ParseOctal(b, field, false, &ignored)) {
      return Status::InvalidInput(std::string("bad number in the ") + name +
                                  " field");
    }
  }
  Header h;
  if (!ParseOctal(b, kSize, true, &h.size)) {
    return Status::InvalidInput("bad number in the size field");
  }
  h.type = b[kTypeflag];
  std::string_view prefix = FieldString(b, kPrefix);
  std::string_view name = FieldString(b, kName);
  if (!prefix.empty()) {
    h.path.assign(prefix);
    h.path += '/';
  }
  h.path += name;
  return h;
}

struct PaxValues {
  std::optional<std::string> path;
  std::optional<uint64_t> size;
};

// Applies the records of a pax extended header; kInvalidInput naming what
// is wrong.
Status ParsePax(std::string_view data, PaxValues* v) {
  while (!data.empty()) {
    const size_t space = data.find(' ');
    uint64_t len = 0;
    if (space == std::string_view::npos ||
        !ParseDecimal(data.substr(0, space), data.size(), &len) ||
        len < space + 4) {
      return Status::InvalidInput("a pax record with a bad length");
    }
    std::string_view record = data.substr(space + 1, len - space - 1);
    data.remove_prefix(len);
    if (record.back() != '\n') {
      return Status::InvalidInput("a pax record not ending in a newline");
    }
    record.remove_suffix(1);
    const size_t eq = record.find('=');
    if (eq == 0 || eq == std::string_view::npos) {
      return Status::InvalidInput("a pax record without a keyword");
    }
    const std::string_view key = record.substr(0, eq);
    const std::string_view value = record.substr(eq + 1);
    if (key == "path") {
      // An empty value reverts to the ustar header's.
      v->path =
          value.empty() ? std::nullopt : std::optional<std::string>(value);
    } else if (key == "size") {
      uint64_t size = 0;
      if (!value.empty() && !ParseDecimal(value, kMaxMemberSize, &size)) {
        return Status::InvalidInput("a bad pax size " + Quote(value));
      }
      v->size = value.empty() ? std::nullopt : std::optional<uint64_t>(size);
    } else if (key.starts_with("GNU.sparse.")) {
      return Status::InvalidInput("a GNU sparse file (pax record " +
                                  Quote(key) + ")");
    }
  }
  return Status::OK();
}

bool AllZero(const uint8_t* p, size_t n) {
  return std::all_of(p, p + n, [](uint8_t c) { return c == 0; });
}

}  // namespace

Status CheckTarPath(std::string_view path) {
  auto unsafe = [&](std::string_view why) {
    return Status::InvalidInput("unsafe tar path " + Quote(path) + ": " +
                                std::string(why));
  };
  if (path.empty()) return unsafe("empty");
  if (path.size() > kMaxTarPath) {
    return unsafe("longer than " + std::to_string(kMaxTarPath) + " bytes");
  }
  if (path[0] == '/') return unsafe("absolute");
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return unsafe("a control character");
    }
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(start, end - start);
    if (component.empty()) return unsafe("an empty component");
    if (component == "." || component == "..") {
      return unsafe("a \"" + std::string(component) + "\" component");
    }
    start = end + 1;
  }
  return Status::OK();
}

// ---- TarWriter

TarWriter::TarWriter(ByteSink* out, int64_t mtime)
    : out_(out),
      mtime_(std::clamp<int64_t>(mtime, 0, static_cast<int64_t>(kMaxOctal11))) {
}

Status TarWriter::Add(std::string_view path, ByteView content) {
  RETURN_IF_ERROR(Begin(path, content.size()));
  RETURN_IF_ERROR(Write(content));
  return End();
}

Status TarWriter::Begin(std::string_view path, uint64_t size) {
  if (!error_.ok()) return error_;
  if (finished_ || open_) {
    return Status::InvalidInput("tar: Begin(" + Quote(path) + ") " +
                                (open_ ? "before End()" : "after Finish()"));
  }
  RETURN_IF_ERROR(CheckTarPath(path));
  if (size > kMaxMemberSize) {
    return Status::InvalidInput("tar: " + Quote(path) + " is too large");
  }
  std::string pax;
  std::string_view prefix, name;
  if (!SplitUstarPath(path, &prefix, &name)) {
    pax += PaxRecord("path", path);
    prefix = {};
    name = BaseName(path).substr(0, kName.len);
  }
  if (size > kMaxOctal11) pax += PaxRecord("size", std::to_string(size));

  std::string headers;
  if (!pax.empty()) {
    std::string pax_name = "PaxHeaders/";
    pax_name += BaseName(path);
    Block x = MakeHeader({}, std::string_view(pax_name).substr(0, kName.len),
                         pax.size(), 'x', mtime_);
    headers.append(x.begin(), x.end());
    headers += pax;
    headers.append(Padding(pax.size()), '\0');
  }
  Block h =
      MakeHeader(prefix, name, size > kMaxOctal11 ? 0 : size, '0', mtime_);
  headers.append(h.begin(), h.end());
  RETURN_IF_ERROR(Append(AsBytes(headers)));
  path_.assign(path);
  open_ = true;
  size_ = size;
  remaining_ = size;
  return Status::OK();
}

Status TarWriter::Write(ByteView data) {
  if (!error_.ok()) return error_;
  if (!open_) return Status::InvalidInput("tar: Write() outside Begin...End");
  if (data.size() > remaining_) {
    return Fail(Status::InvalidInput("tar: more data for " + Quote(path_) +
                                     " than the " + std::to_string(size_) +
                                     " bytes announced"));
  }
  remaining_ -= data.size();
  if (data.empty()) return Status::OK();
  return Append(data);
}

Status TarWriter::End() {
  if (!error_.ok()) return error_;
  if (!open_) return Status::InvalidInput("tar: End() without Begin()");
  if (remaining_ != 0) {
    return Fail(Status::InvalidInput(
        "tar: " + std::to_string(size_ - remaining_) + " bytes written for " +
        Quote(path_) + ", " + std::to_string(size_) + " announced"));
  }
  open_ = false;
  return Append(ByteView(kZeros, Padding(size_)));
}

Status TarWriter::Finish() {
  if (!error_.ok()) return error_;
  if (finished_ || open_) {
    return Status::InvalidInput(open_ ? "tar: Finish() before End()"
                                      : "tar: Finish() called twice");
  }
  finished_ = true;
  return Append(ByteView(kZeros, sizeof(kZeros)));
}

Status TarWriter::Append(ByteView data) {
  if (data.empty()) return Status::OK();
  Status s = out_->Append(data);
  if (!s.ok()) return Fail(std::move(s));
  bytes_written_ += data.size();
  return Status::OK();
}

Status TarWriter::Fail(Status s) {
  error_ = std::move(s);
  return error_;
}

// ---- TarReader

class TarReader::MemberFile final : public SequentialFile {
 public:
  explicit MemberFile(TarReader* reader) : reader_(reader) {}
  Result<size_t> Read(uint8_t* scratch, size_t n) override {
    return reader_->Read(scratch, n);
  }

 private:
  TarReader* const reader_;
};

TarReader::TarReader(SequentialFile* in)
    : in_(in), member_file_(std::make_unique<MemberFile>(this)) {}

TarReader::~TarReader() = default;

SequentialFile* TarReader::member() { return member_file_.get(); }

Result<bool> TarReader::Next(TarMember* member) {
  if (!error_.ok()) return error_;
  if (ended_) return false;
  Result<bool> r = ReadNext(member);
  if (!r.ok()) error_ = r.status();
  return r;
}

Result<bool> TarReader::ReadNext(TarMember* member) {
  RETURN_IF_ERROR(Skip(remaining_, "data"));
  remaining_ = 0;
  RETURN_IF_ERROR(Skip(padding_, "padding"));
  padding_ = 0;
  current_path_.clear();

  PaxValues pax;
  bool after_pax = false;
  uint64_t member_at = offset_;  // its pax header's, if any
  Block b;
  for (;;) {
    const uint64_t at = offset_;
    if (!after_pax) member_at = at;
    ASSIGN_OR_RETURN(bool got, ReadFull(b.data(), kBlock, "a header"));
    if (!got) {
      return Corrupt(at, after_pax ? "the archive ends after a pax header"
                                   : "the archive ends without its two "
                                     "end-of-archive zero blocks");
    }
    if (AllZero(b.data(), kBlock)) {
      if (after_pax) return Corrupt(at, "a zero block after a pax header");
      ASSIGN_OR_RETURN(got, ReadFull(b.data(), kBlock, "an end block"));
      if (!got || !AllZero(b.data(), kBlock)) {
        return Corrupt(at, "a single zero block, not two, at the end");
      }
      RETURN_IF_ERROR(CheckTrailer());
      ended_ = true;
      return false;
    }
    Result<Header> parsed = ParseHeader(b);
    if (!parsed.ok()) return Corrupt(at, parsed.status().message());
    Header& h = *parsed;

    if (h.type == 'x') {
      if (after_pax) return Corrupt(at, "two pax headers in a row");
      if (h.size > kMaxTarPaxHeader) {
        return Corrupt(at, "a pax header of " + std::to_string(h.size) +
                               " bytes, over the limit of " +
                               std::to_string(kMaxTarPaxHeader));
      }
      std::string data(h.size, '\0');
      ASSIGN_OR_RETURN(got, ReadFull(reinterpret_cast<uint8_t*>(data.data()),
                                     data.size(), "a pax header"));
      if (!got && !data.empty()) {
        return Corrupt(offset_, "the archive ends inside a pax header");
      }
      RETURN_IF_ERROR(Skip(Padding(h.size), "padding"));
      Status s = ParsePax(data, &pax);
      if (!s.ok()) return Corrupt(at, s.message());
      after_pax = true;
      continue;
    }
    std::string path = pax.path ? *pax.path : std::move(h.path);
    const uint64_t size = pax.size ? *pax.size : h.size;
    if (h.type == '5') {
      if (path.ends_with('/')) path.pop_back();
      Status s = CheckTarPath(path);
      if (!s.ok()) return Corrupt(member_at, s.message());
      if (size != 0) {
        return Corrupt(member_at, "directory " + Quote(path) + " with " +
                                      std::to_string(size) + " bytes of data");
      }
      pax = PaxValues();
      after_pax = false;
      continue;
    }
    if (h.type != '0') {
      return Corrupt(member_at, Quote(path) + " is " +
                                    std::string(TypeName(h.type)) + " (type " +
                                    TypeChar(h.type) +
                                    "); only regular files and directories are "
                                    "allowed");
    }
    Status s = CheckTarPath(path);
    if (!s.ok()) return Corrupt(member_at, s.message());
    remaining_ = size;
    padding_ = Padding(size);
    current_path_ = path;
    member->path = std::move(path);
    member->size = size;
    return true;
  }
}

Result<size_t> TarReader::Read(uint8_t* scratch, size_t n) {
  if (!error_.ok()) return error_;
  if (remaining_ == 0 || n == 0) return size_t{0};
  const size_t want = static_cast<size_t>(std::min<uint64_t>(n, remaining_));
  Result<size_t> r = in_->Read(scratch, want);
  if (!r.ok()) {
    error_ = r.status();
    return error_;
  }
  if (*r == 0 || *r > want) {
    error_ = Corrupt(offset_, "the archive ends inside the data of " +
                                  Quote(current_path_) + ", " +
                                  std::to_string(remaining_) + " bytes short");
    return error_;
  }
  offset_ += *r;
  remaining_ -= *r;
  return *r;
}

Result<bool> TarReader::ReadFull(uint8_t* buf, size_t n,
                                 std::string_view what) {
  const uint64_t start = offset_;
  size_t done = 0;
  while (done < n) {
    ASSIGN_OR_RETURN(size_t got, in_->Read(buf + done, n - done));
    if (got == 0) {
      if (done == 0) return false;
      return Corrupt(start, "the archive ends inside " + std::string(what));
    }
    done += got;
    offset_ += got;
  }
  return true;
}

Status TarReader::Skip(uint64_t n, std::string_view what) {
  if (n == 0) return Status::OK();
  if (skip_buf_.empty()) skip_buf_.resize(64 << 10);
  while (n > 0) {
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(n, skip_buf_.size()));
    ASSIGN_OR_RETURN(size_t got, in_->Read(skip_buf_.data(), want));
    if (got == 0) {
      std::string whose =
          current_path_.empty() ? "" : " of " + Quote(current_path_);
      return Corrupt(offset_, "the archive ends inside the " +
                                  std::string(what) + whose + ", " +
                                  std::to_string(n) + " bytes short");
    }
    offset_ += got;
    n -= got;
  }
  return Status::OK();
}

Status TarReader::CheckTrailer() {
  if (skip_buf_.empty()) skip_buf_.resize(64 << 10);
  for (;;) {
    ASSIGN_OR_RETURN(size_t got, in_->Read(skip_buf_.data(), skip_buf_.size()));
    if (got == 0) return Status::OK();
    const uint8_t* begin = skip_buf_.data();
    const uint8_t* nonzero =
        std::find_if(begin, begin + got, [](uint8_t c) { return c != 0; });
    const uint64_t at = offset_ + (nonzero - begin);
    offset_ += got;  // consumed, even if it is refused
    if (nonzero != begin + got) {
      return Corrupt(at, "data after the end of the archive");
    }
  }
}

Status TarReader::Corrupt(uint64_t at, std::string_view what) const {
  return Status::Corruption("tar offset " + std::to_string(at) + ": " +
                            std::string(what));
}

}  // namespace amanah
