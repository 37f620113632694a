// Custody entries: one compact JSON object per action on evidence, written
// once by FormatCustodyEntry and stored and hashed as those exact bytes.
//
// {"v":1,"kind":"evidence.ingested","time":"2026-11-22T23:10:00.123456Z",
//  "node":"ccd.moi.gov.kw","actor":"local:alice","case":"CASE-1",
//  "subject":"sha256:<hex>","data":{...}}
//
// The kinds are a closed list (docs/formats.md).

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
};

std::string_view EntryKindName(EntryKind kind);
Result<EntryKind> ParseEntryKind(std::string_view name);

struct CustodyEntry {
  EntryKind kind = EntryKind::kEvidenceIngested;
  int64_t time_unix_micros = 0;
  std::string node;
  std::string actor;
  std::string case_id;  // may be empty
  std::string subject;  // "sha256:<hex>", or the node's origin
  nlohmann::json data = nlohmann::json::object();
};

// RFC 3339 UTC with microseconds: "2026-11-22T23:10:00.123456Z".
std::string FormatTime(int64_t unix_micros);
// Parses FormatTime's output exactly (kInvalidInput for anything else).
Result<int64_t> ParseTime(const std::string& text);

// The one serialisation of an entry. Keys in the fixed order above; `data`
// with sorted keys and no insignificant whitespace.
std::string FormatCustodyEntry(const CustodyEntry& entry);
// Parses and checks an entry's shape (all fields, known kind, v = 1).
Result<CustodyEntry> ParseCustodyEntry(std::string_view bytes);

}  // namespace amanah

#endif  // AMANAH_LEDGER_CUSTODY_ENTRY_H_
