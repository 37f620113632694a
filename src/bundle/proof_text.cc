#include "bundle/proof_text.h"

#include <charconv>

#include "base/encoding.h"

namespace amanah {

namespace {

constexpr std::string_view kHeader = "c2sp.org/tlog-proof@v1";

// Splits off the line at the front of `text` (without its newline); false if
// there is no newline.
bool NextLine(std::string_view* text, std::string_view* line) {
  size_t nl = text->find('\n');
  if (nl == std::string_view::npos) return false;
  *line = text->substr(0, nl);
  text->remove_prefix(nl + 1);
  return true;
}

Status Bad(const std::string& what) {
  return Status::InvalidInput("tlog-proof: " + what);
}

}  // namespace

std::string FormatTlogProof(const TlogProof& proof) {
  std::string out(kHeader);
  out += '\n';
  if (!proof.extra.empty()) {
    out += "extra " + Base64Encode(AsBytes(proof.extra)) + "\n";
  }
  out += "index " + std::to_string(proof.index) + "\n";
  for (const auto& h : proof.hashes) out += Base64Encode(h) + "\n";
  out += '\n';
  out += proof.checkpoint;
  return out;
}

Result<TlogProof> ParseTlogProof(std::string_view text) {
  if (text.size() > kMaxProofTextBytes) {
    return Status::TooLarge("tlog-proof: larger than " +
                            std::to_string(kMaxProofTextBytes) + " bytes");
  }
  TlogProof proof;
  std::string_view line;
  if (!NextLine(&text, &line) || line != kHeader) {
    return Bad("the first line is not " + std::string(kHeader));
  }
  if (!NextLine(&text, &line)) return Bad("ends after the first line");
  if (line.rfind("extra ", 0) == 0) {
    auto extra = Base64Decode(line.substr(6));
    if (!extra.ok()) return Bad("the extra line is not base64");
    // FormatTlogProof writes no extra line for no extra data: one proof,
    // one text.
    if (extra->empty()) return Bad("the extra line is empty");
    proof.extra.assign(extra->begin(), extra->end());
    if (!NextLine(&text, &line)) return Bad("no index line");
  }
  if (line.rfind("index ", 0) != 0) return Bad("no index line");
  std::string_view digits = line.substr(6);
  if (digits.empty() || digits.size() > 20 ||
      (digits.size() > 1 && digits[0] == '0')) {
    return Bad("the index is not a decimal without leading zeroes");
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(),
                                   proof.index);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    return Bad("the index is not a decimal without leading zeroes");
  }
  for (;;) {
    if (!NextLine(&text, &line)) {
      return Bad("no blank line before the checkpoint");
    }
    if (line.empty()) break;
    if (proof.hashes.size() == 64) return Bad("more than 64 proof hashes");
    auto hash = Base64Decode(line);
    if (!hash.ok() || hash->size() != 32 ||
        Base64Encode(*hash) != std::string(line)) {
      return Bad("proof line " + std::to_string(proof.hashes.size() + 1) +
                 " is not a base64 SHA-256 hash");
    }
    Hash256 h;
    std::copy(hash->begin(), hash->end(), h.begin());
    proof.hashes.push_back(h);
  }
  if (text.empty()) return Bad("no checkpoint after the blank line");
  proof.checkpoint = std::string(text);
  return proof;
}

}  // namespace amanah
