// Custody entries: one compact JSON object per action on evidence, written
// once by FormatCustodyEntry and stored and hashed as those exact bytes.
//
// Version 2 (docs/formats.md, "Custody entry"). An entry about the node
// itself (users, peers, messages as they arrive, fsck) is in clear:
//
// {"v":2,"kind":"user.added","time":"2026-11-22T23:10:00.123456Z",
//  "node":"ccd.moi.gov.kw","actor":"local:alice","case":"",
//  "subject":"user:bob","data":{"role":"investigator"}}
//
// An entry about a case is sealed (ledger/disclosure.h): its actor, case,
// subject and every data field are digests of disclosures that stay in the
// node's database, so that the log, which every peer and witness reads,
// commits to the case's content without carrying it:
//
// {"v":2,"kind":"case.opened","time":"…","node":"ccd.moi.gov.kw",
//  "actor":"sd:<hex>","case":"sd:<hex>","subject":"sd:<hex>",
//  "data":{"sd":["<hex>","<hex>","<hex>"]}}
//
// Version 1 entries (written before 2026-12) carried everything in clear;
// they are still read. The kinds are a closed list (docs/formats.md).

#ifndef AMANAH_LEDGER_CUSTODY_ENTRY_H_
#define AMANAH_LEDGER_CUSTODY_ENTRY_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.h"

namespace amanah {

enum class EntryKind {
  kEvidenceIngested,     // an object entered the vault (or was ingested again)
  kEvidenceAccessed,     // an object's plaintext was read out
  kEvidenceVerified,     // an object was re-hashed; data.result says how
  kNodeChecked,          // fsck ran over the whole node; data.result
  kUserAdded,            // a user account was created; subject user:<name>
  kUserDisabled,         // a user account was disabled; its credentials revoked
  kTokenIssued,          // an API token was issued (never the token itself)
  kCaseOpened,           // a case was opened; subject case:<id>
  kCaseMemberAdded,      // a user was given access to a case
  kCaseMemberRemoved,    // a user's access to a case was withdrawn
  kRequestCreated,       // a request was drafted or registered; request:<id>
  kRequestMoved,         // a request changed state
  kCaseClosed,           // a case was closed; data.reason
  kCaseReopened,         // a closed case was reopened; data.reason
  kPeerAdded,            // a peer node was pinned; subject peer:<name>
  kPeerRemoved,          // a peer node was unpinned
  kMessageSent,          // a message to a peer was queued; subject message:<id>
  kMessageReceived,      // a peer's message was received and stored
  kMessageDelivered,     // a peer's receipt for our message was verified
  kEvidenceTransferred,  // an object was released to a peer for a request
  kEvidenceReceived,     // an object pulled from a peer arrived intact
  kEvidenceExported,     // an object was exported in a bundle; data.manifest
  kUserEnrolmentIssued,  // a one-time enrolment secret was issued (never it)
  kUserEnrolled,         // a user redeemed their enrolment secret
  kCaseLeadChanged,      // a case's lead was handed to another member
  kCaseChangeProposed,   // a member proposed a membership change; a second
                         // member must confirm it
  kEntryVoided,          // an earlier entry whose change never committed
  kNodeRepaired,         // fsck --repair removed what no entry accounts for
};

std::string_view EntryKindName(EntryKind kind);
Result<EntryKind> ParseEntryKind(std::string_view name);

// The versions of the entry format this code reads; it writes kEntryVersion.
constexpr int kEntryVersion = 2;

struct CustodyEntry {
  int version = kEntryVersion;  // 1 or 2
  EntryKind kind = EntryKind::kEvidenceIngested;
  int64_t time_unix_micros = 0;
  std::string node;
  std::string actor;
  std::string case_id;  // may be empty; "sd:<hex>" in a sealed entry
  std::string subject;  // "sha256:<hex>", "user:<name>", the node's origin …
  nlohmann::json data = nlohmann::json::object();
};

// A version 2 entry about a case: its fields are digests ("sd:<hex>", and
// data {"sd":[<hex>, …]}) until opened with its disclosures.
inline bool IsSealed(const CustodyEntry& e) {
  return e.version >= 2 && !e.case_id.empty();
}

// RFC 3339 UTC with microseconds: "2026-11-22T23:10:00.123456Z".
std::string FormatTime(int64_t unix_micros);
// Parses FormatTime's output exactly (kInvalidInput for anything else).
Result<int64_t> ParseTime(const std::string& text);

// The one serialisation of an entry. Keys in the fixed order above; `data`
// with sorted keys and no insignificant whitespace.
std::string FormatCustodyEntry(const CustodyEntry& entry);
// The entry's fields as a JSON object, in clear as they are (for an opened
// entry: what was disclosed), for showing; never the bytes that are hashed.
nlohmann::json CustodyEntryJson(const CustodyEntry& entry);

// Parses and checks an entry's shape: all fields, a known kind, version 1
// or 2, and for version 2 either sealed throughout (IsSealed) or clear
// throughout.
Result<CustodyEntry> ParseCustodyEntry(std::string_view bytes);

}  // namespace amanah

#endif  // AMANAH_LEDGER_CUSTODY_ENTRY_H_
