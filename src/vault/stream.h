// Reads a stream once, in constant memory, feeding every chunk to a hasher
// per requested algorithm and to a sink. A reader thread fills a ring of
// chunks; the calling thread and one more thread per further CPU serve the
// consumers, each chunk in order for each consumer.

#ifndef AMANAH_VAULT_STREAM_H_
#define AMANAH_VAULT_STREAM_H_

#include <functional>
#include <map>
#include <vector>

#include "crypto/hash.h"
#include "storage/env.h"

namespace amanah {

// Receives the stream's chunks in order, one call at a time but not always
// on the same thread. `last` is true on the final call, which may carry no
// bytes (the empty stream, or a size that is a multiple of the chunk size).
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  virtual Status Consume(ByteView chunk, uint64_t index, bool last) = 0;
};

struct StreamDigests {
  uint64_t size = 0;
  std::map<HashAlgorithm, Bytes> digests;
};

// Called now and then with the number of bytes handled so far, one call at
// a time, from any of the threads serving the consumers.
using ProgressFn = std::function<void(uint64_t)>;

// Reads `source` to its end in chunks of `chunk_size` bytes, holding at most
// a few chunks in memory. The sink may be null.
Result<StreamDigests> DigestStream(SequentialFile* source,
                                   const std::vector<HashAlgorithm>& algorithms,
                                   ChunkSink* sink, size_t chunk_size,
                                   const ProgressFn& progress = nullptr);

}  // namespace amanah

#endif  // AMANAH_VAULT_STREAM_H_
