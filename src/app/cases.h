// Cases in the node's database: opening, membership, the evidence held for
// each and its custody history. Every change is a custody entry.

#ifndef AMANAH_APP_CASES_H_
#define AMANAH_APP_CASES_H_

#include <optional>
#include <string>
#include <vector>

#include "app/custody_index.h"
#include "app/node.h"
#include "cases/access.h"
#include "cases/case.h"

namespace amanah {

struct CaseDraft {
  std::string id;  // empty: the node assigns <YEAR>-<NNNN>
  std::string title;
  Offence offence = Offence::kOther;
  std::string legal_basis;
};

struct CaseMember {
  std::string user;
  Role role = Role::kAuditor;
  std::string added;
};

struct CaseItem {
  std::string address;  // sha256:<hex>
  uint64_t size = 0;
  std::string md5, sha1;
  std::vector<IndexedEntry> custody;  // every entry about this object
};

// Checks a draft's id (if given), title and legal basis: kInvalidInput
// naming the field. CaseBook::Open checks this first.
Status ValidateCaseDraft(const CaseDraft& draft);

// A case as the API and the CLI show it.
nlohmann::json CaseToJson(const Case& c);

class CaseBook {
 public:
  explicit CaseBook(Node* node) : node_(node) {}

  static Status CreateTables(SqliteDb* sql);

  // Opens a case; `opener` (a user name, or empty from the CLI) becomes
  // its first member.
  Result<Case> Open(const std::string& actor, const CaseDraft& draft,
                    const std::string& opener);
  Result<std::optional<Case>> Get(const std::string& id);
  // kNotFound if there is no such case, kConflict if it is closed: the
  // check before anything is added to a case.
  Status MustBeOpen(const std::string& id);
  // Cases in id order after `after` (exclusive), at most `limit`; only
  // those `member` belongs to unless it is empty.
  Result<std::vector<Case>> List(const std::string& member,
                                 const std::string& after, size_t limit);

  Result<bool> IsMember(const std::string& case_id, const std::string& user);
  Result<std::vector<CaseMember>> Members(const std::string& case_id);
  Status AddMember(const std::string& actor, const std::string& case_id,
                   const std::string& user);
  Status RemoveMember(const std::string& actor, const std::string& case_id,
                      const std::string& user);

  // Closes or reopens a case (kConflict if it already has that status).
  Result<Case> SetStatus(const std::string& actor, const std::string& id,
                         CaseStatus status, const std::string& reason);

  // The objects ingested into the case, each with its custody history.
  Result<std::vector<CaseItem>> Items(const std::string& case_id);

 private:
  Result<Case> MustGet(const std::string& id);
  int64_t NowUnix() const;
  Node* node_;
};

}  // namespace amanah

#endif  // AMANAH_APP_CASES_H_
