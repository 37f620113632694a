// TarReader (bundle/tar.h) on any bytes, read in short pieces: it must
// account for every byte it takes, never hand out more data than a member
// has or the input holds, accept only safe paths, and what it accepts must
// come back the same after TarWriter writes it again. Inputs of even size
// have the checksums of their ustar headers put right first.

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bundle/tar.h"
#include "fuzz/fuzz_util.h"

namespace amanah {
namespace {

struct StringSink final : ByteSink {
  std::string out;
  Status Append(ByteView data) override {
    out.append(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::OK();
  }
};

using Members = std::vector<std::pair<std::string, std::string>>;

// Reads every member; false if the archive was refused. Checks the limits
// on the way.
bool ReadAll(std::string_view archive, size_t chunk, Members* members) {
  fuzz::ByteSource in(archive, chunk);
  TarReader reader(&in);
  uint64_t total = 0;
  for (;;) {
    TarMember m;
    Result<bool> next = reader.Next(&m);
    FUZZ_CHECK(reader.offset() == in.consumed());
    FUZZ_CHECK(reader.offset() <= archive.size());
    if (!next.ok()) {
      FUZZ_CHECK(next.status().code() == Code::kCorruption);
      // Sticky.
      FUZZ_CHECK(!reader.Next(&m).ok());
      return false;
    }
    if (!*next) break;
    FUZZ_CHECK(CheckTarPath(m.path).ok());
    std::string data;
    uint8_t buf[700];
    for (;;) {
      Result<size_t> n = reader.Read(buf, sizeof(buf));
      if (!n.ok()) {
        FUZZ_CHECK(n.status().code() == Code::kCorruption);
        return false;
      }
      FUZZ_CHECK(*n <= sizeof(buf));
      if (*n == 0) break;
      data.append(reinterpret_cast<char*>(buf), *n);
      FUZZ_CHECK(data.size() <= m.size);
    }
    FUZZ_CHECK(data.size() == m.size);
    total += m.size;
    FUZZ_CHECK(total <= archive.size());
    members->emplace_back(std::move(m.path), std::move(data));
  }
  // The end was reached: every byte was taken and checked.
  FUZZ_CHECK(reader.offset() == archive.size());
  return true;
}

// Writes the right checksum into every 512-byte block that carries the
// ustar magic, as "%06o\0 " like TarWriter: a mutated header then reaches
// the checks behind the checksum.
std::string FixChecksums(std::string_view in) {
  std::string out(in);
  for (size_t at = 0; at + 512 <= out.size(); at += 512) {
    char* b = out.data() + at;
    if (std::memcmp(b + 257, "ustar", 6) != 0) continue;
    std::memset(b + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; ++i) sum += static_cast<uint8_t>(b[i]);
    std::snprintf(b + 148, 8, "%06o", sum & 0777777);
    b[155] = ' ';
  }
  return out;
}

}  // namespace
}  // namespace amanah

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amanah;
  // Inputs of odd size are read as they are, so that checksums are fuzzed
  // too; the others with their checksums put right.
  std::string fixed =
      size % 2 ? std::string() : FixChecksums(fuzz::AsText(data, size));
  std::string_view archive = size % 2 ? fuzz::AsText(data, size) : fixed;
  // Short reads of a size that depends on the input, to reach every split
  // of a header or a pax record between two reads.
  size_t chunk = 1 + (size * 2654435761u >> 5) % 1100;
  Members members;
  if (!ReadAll(archive, chunk, &members)) return 0;

  // What was accepted is written again and reads back the same.
  StringSink sink;
  TarWriter writer(&sink, 0);
  for (const auto& [path, content] : members) {
    FUZZ_CHECK(writer.Add(path, AsBytes(content)).ok());
  }
  FUZZ_CHECK(writer.Finish().ok());
  Members again;
  FUZZ_CHECK(ReadAll(sink.out, 4096, &again));
  FUZZ_CHECK(again == members);
  return 0;
}
