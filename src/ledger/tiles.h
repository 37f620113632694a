// The C2SP tlog-tiles layout of the custody log.
//
//   checkpoint                    the latest signed checkpoint
//   tile/<L>/<N>[.p/<W>]          hash tiles: 256 (or W) hashes of level 8L
//   tile/entries/<N>[.p/<W>]      entry bundles: 256 (or W) entries, each a
//                                 big-endian uint16 length and the entry bytes
//
// <N> is written in groups of three decimal digits, all but the last prefixed
// with "x": 1234067 is x001/x234/067. Full tiles never change; partial tiles
// (".p/<W>") exist for the right edge of the tree.

#ifndef AMANAH_LEDGER_TILES_H_
#define AMANAH_LEDGER_TILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"
#include "storage/env.h"

namespace amanah {

inline constexpr uint64_t kTileWidth = 256;
inline constexpr int kTileHeight = 8;
// Entries are length-prefixed with a uint16.
inline constexpr size_t kMaxEntrySize = 65535;

// "x001/x234/067".
std::string TileIndexPath(uint64_t index);
// The inverse; kInvalidInput for anything TileIndexPath does not make.
Result<uint64_t> ParseTileIndexPath(std::string_view path);
// "tile/<level>/<N>" or "tile/<level>/<N>.p/<width>" for 0 < width < 256.
std::string TilePath(int level, uint64_t index, uint64_t width);
std::string EntryBundlePath(uint64_t index, uint64_t width);

// Entry bundle encoding.
std::string EncodeEntryBundle(const std::vector<std::string>& entries);
Result<std::vector<std::string>> DecodeEntryBundle(std::string_view bundle);

// The length of the first `width` entries of an encoded bundle.
Result<size_t> EntryBundlePrefix(std::string_view bundle, uint64_t width);

// Hash tile encoding: concatenated 32-byte hashes.
std::string EncodeHashTile(const std::vector<Hash256>& hashes);
Result<std::vector<Hash256>> DecodeHashTile(std::string_view tile);

// Reads and writes the files of a log directory.
class TileStore {
 public:
  TileStore(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  Env* env() const { return env_; }

  // width 0 or 256: the full tile.
  Result<std::vector<Hash256>> ReadTile(int level, uint64_t index,
                                        uint64_t width) const;
  Result<std::vector<std::string>> ReadEntryBundle(uint64_t index,
                                                   uint64_t width) const;
  Result<std::string> ReadCheckpoint() const;

  // Writes replace the file atomically (rename) but do not fsync: the custody
  // journal makes them recoverable. See CustodyLog.
  Status WriteTile(int level, uint64_t index,
                   const std::vector<Hash256>& hashes) const;
  // An entry bundle, already encoded (EncodeEntryBundle): `width` entries.
  Status WriteEncodedEntryBundle(uint64_t index, uint64_t width,
                                 std::string_view bundle) const;
  Status WriteCheckpoint(std::string_view signed_note) const;

  // The directory of tile `index`'s partial files ("<N>.p") of level 8L
  // (-1: the entry bundles).
  std::string PartialsDir(int level, uint64_t index) const;
  // The width a file there is named for; 0 if its name is none (a
  // temporary file).
  static uint64_t PartialWidth(const std::string& name);

  // The narrowest partial tile wider than `width` on disk for tile `index`
  // of level 8L (-1: the entry bundles), or 256 for the full one: any of
  // them begins with the tile of `width`.
  uint64_t WiderThan(int level, uint64_t index, uint64_t width) const;

  // Removes the partial versions of a tile ("<N>.p/"), once the full one
  // exists or after recovery. level -1 is the entry bundles.
  Status RemovePartials(int level, uint64_t index, uint64_t keep_width) const;

  std::string PathOf(const std::string& relative) const {
    return JoinPath(dir_, relative);
  }

 private:
  Status WriteFile(const std::string& relative, std::string_view data,
                   bool allocate = false) const;
  Env* env_;
  std::string dir_;
};

}  // namespace amanah

#endif  // AMANAH_LEDGER_TILES_H_
