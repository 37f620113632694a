#include "ledger/disclosure.h"

#include <algorithm>
#include <set>

#include "base/json_writer.h"
#include "crypto/hash.h"

namespace amanah {

namespace {

constexpr std::string_view kSealedPrefix = "sd:";

// A salt derived from the case's secret, for the values every entry of the
// case shares: HMAC-SHA256(secret, "amanah-salt/v1\n" name "\n" value).
Bytes DerivedSalt(ByteView case_secret, std::string_view name,
                  std::string_view value) {
  Hash256 mac =
      HmacSha256(case_secret, {AsBytes("amanah-salt/v1\n"), AsBytes(name),
                               AsBytes("\n"), AsBytes(value)});
  return Bytes(mac.begin(), mac.begin() + kDisclosureSaltSize);
}

Bytes RandomSalt(const RandomFn& random) {
  Bytes salt(kDisclosureSaltSize);
  random(salt.data(), salt.size());
  return salt;
}

bool IsReservedName(std::string_view name) {
  return name == "actor" || name == "case" || name == "subject" || name == "sd";
}

}  // namespace

std::string MakeDisclosure(ByteView salt, std::string_view name,
                           const nlohmann::json& value) {
  std::string out = "[";
  AppendJsonString(&out, HexEncode(salt));
  out += ",";
  AppendJsonString(&out, name);
  out += ",";
  AppendJson(&out, value);
  out += "]";
  return out;
}

std::string DisclosureDigest(std::string_view text) {
  return HexEncode(Sha256(AsBytes(text)));
}

Result<Disclosure> ParseDisclosure(std::string_view text) {
  if (text.size() > kMaxDisclosureSize) {
    return Status::Corruption("a disclosure is longer than 64 KiB");
  }
  if (!JsonDepthAtMost(text, kMaxJsonDepth)) {
    return Status::Corruption("a disclosure is nested more than " +
                              std::to_string(kMaxJsonDepth) + " levels deep");
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.size() != 3 || !j[0].is_string() ||
      !j[1].is_string()) {
    return Status::Corruption(
        "a disclosure is not [\"<salt>\",\"<name>\",<value>]");
  }
  Disclosure d;
  d.salt = j[0].get<std::string>();
  d.name = j[1].get<std::string>();
  d.value = j[2];
  auto salt = HexDecode(d.salt);
  if (!salt.ok() || salt->size() != kDisclosureSaltSize ||
      HexEncode(*salt) != d.salt) {
    return Status::Corruption("a disclosure's salt is not 32 hex digits");
  }
  if (d.name.empty()) return Status::Corruption("a disclosure has no name");
  if (MakeDisclosure(*salt, d.name, d.value) != text) {
    return Status::Corruption("a disclosure is not in its canonical form");
  }
  d.digest = DisclosureDigest(text);
  return d;
}

std::string CaseDigest(ByteView case_secret, const std::string& case_id) {
  std::string text = MakeDisclosure(DerivedSalt(case_secret, "case", case_id),
                                    "case", case_id);
  return std::string(kSealedPrefix) + DisclosureDigest(text);
}

Result<SealedEntry> SealCustodyEntry(const CustodyEntry& entry,
                                     ByteView case_secret,
                                     const RandomFn& random) {
  if (entry.case_id.empty() || entry.version < 2) {
    return Status::InvalidInput(
        "only a version 2 entry about a case is sealed");
  }
  if (case_secret.size() != kCaseSecretSize) {
    return Status::InvalidInput("a case secret has 32 bytes");
  }
  if (!entry.data.is_object()) {
    return Status::InvalidInput("an entry's data is an object");
  }
  SealedEntry out;
  CustodyEntry sealed = entry;
  auto seal = [&](Bytes salt, std::string_view name,
                  const nlohmann::json& value) {
    out.disclosures.push_back(MakeDisclosure(salt, name, value));
    return DisclosureDigest(out.disclosures.back());
  };
  sealed.actor = std::string(kSealedPrefix) +
                 seal(RandomSalt(random), "actor", entry.actor);
  sealed.case_id = std::string(kSealedPrefix) +
                   seal(DerivedSalt(case_secret, "case", entry.case_id), "case",
                        entry.case_id);
  sealed.subject = std::string(kSealedPrefix) +
                   seal(DerivedSalt(case_secret, "subject", entry.subject),
                        "subject", entry.subject);
  std::vector<std::string> digests;
  for (const auto& [name, value] : entry.data.items()) {
    // What OpenCustodyEntry would refuse to open.
    if (name.empty() || IsReservedName(name)) {
      return Status::InvalidInput("\"" + name +
                                  "\" is not a data field's name");
    }
    digests.push_back(seal(RandomSalt(random), name, value));
  }
  std::sort(digests.begin(), digests.end());
  sealed.data = {{"sd", digests}};
  out.bytes = FormatCustodyEntry(sealed);
  return out;
}

Result<OpenedEntry> OpenCustodyEntry(
    std::string_view bytes, const std::vector<std::string>& disclosures) {
  ASSIGN_OR_RETURN(CustodyEntry e, ParseCustodyEntry(bytes));
  OpenedEntry out;
  if (!IsSealed(e)) {
    if (!disclosures.empty()) {
      return Status::Corruption("an entry in clear has no disclosures");
    }
    out.entry = std::move(e);
    return out;
  }
  std::set<std::string> data_digests;
  for (const auto& d : e.data["sd"]) data_digests.insert(d.get<std::string>());
  CustodyEntry opened = e;
  opened.data = nlohmann::json::object();
  std::set<std::string> seen;
  for (size_t i = 0; i < disclosures.size(); ++i) {
    auto d = ParseDisclosure(disclosures[i]);
    std::string which = "disclosure " + std::to_string(i + 1);
    if (!d.ok()) return Status::Corruption(which + ": " + d.status().message());
    if (!seen.insert(d->digest).second) {
      return Status::Corruption(which + " is given twice");
    }
    std::string sealed = std::string(kSealedPrefix) + d->digest;
    std::string* top = sealed == e.actor     ? &opened.actor
                       : sealed == e.case_id ? &opened.case_id
                       : sealed == e.subject ? &opened.subject
                                             : nullptr;
    if (top != nullptr) {
      std::string_view want = top == &opened.actor     ? "actor"
                              : top == &opened.case_id ? "case"
                                                       : "subject";
      if (d->name != want || !d->value.is_string()) {
        return Status::Corruption(which + " matches the entry's " +
                                  std::string(want) + " but names \"" +
                                  d->name + "\"");
      }
      *top = d->value.get<std::string>();
      continue;
    }
    if (!data_digests.count(d->digest)) {
      return Status::Corruption(which + " (\"" + d->name +
                                "\") matches no digest of the entry");
    }
    if (IsReservedName(d->name) || opened.data.contains(d->name)) {
      return Status::Corruption(which + " names \"" + d->name +
                                "\", which a data field cannot be or already "
                                "is");
    }
    opened.data[d->name] = d->value;
  }
  out.undisclosed = data_digests.size() - opened.data.size();
  out.entry = std::move(opened);
  return out;
}

std::vector<std::string> SelectDisclosures(
    const std::vector<std::string>& all,
    const std::function<bool(std::string_view name)>& keep) {
  std::vector<std::string> out;
  for (const auto& text : all) {
    auto d = ParseDisclosure(text);
    if (d.ok() && keep(d->name)) out.push_back(text);
  }
  return out;
}

}  // namespace amanah
