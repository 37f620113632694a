// Requests in the node's database: drafting or registering them in a case,
// moving them through their states, the deadlines that follow, and a
// printable bilingual rendering. Every creation and move is a custody entry
// whose data carries the SHA-256 of the legal fields.

#ifndef AMANAH_APP_REQUESTS_H_
#define AMANAH_APP_REQUESTS_H_

#include <optional>
#include <string>
#include <vector>

#include "app/node.h"
#include "cases/case.h"
#include "cases/request.h"

namespace amanah {

struct RequestDraft {
  RequestType type = RequestType::kPreservation;
  Profile profile = Profile::kBudapest;
  Direction direction = Direction::kOutgoing;
  std::string reference;  // the other side's or our own ticket number
  nlohmann::json fields = nlohmann::json::object();
  // Incoming: when it arrived (the response clock's start); 0 for now.
  int64_t received_unix = 0;
};

struct Request {
  std::string id;  // R-<YEAR>-<NNNNN>
  std::string case_id;
  RequestType type = RequestType::kPreservation;
  Profile profile = Profile::kBudapest;
  Direction direction = Direction::kOutgoing;
  RequestState state = RequestState::kDraft;
  std::string reference;
  nlohmann::json fields;
  std::string created, created_by, updated;
  int64_t started_unix = 0;          // sent, or received
  int64_t preserved_until_unix = 0;  // once preserved
  int extensions = 0;

  std::optional<int64_t> Deadline() const {
    return NextDeadline({state, started_unix, preserved_until_unix}, type,
                        profile);
  }
};

struct RequestMove {
  std::string from, to, time, actor, reason;
};

// Checks a draft's reference and legal fields (cases/request.h), and the
// size of the fields as stored: kInvalidInput naming the fault.
// RequestBook::Create checks this first.
Status ValidateRequestDraft(const RequestDraft& draft);

class RequestBook {
 public:
  explicit RequestBook(Node* node) : node_(node) {}

  // Outgoing requests start as drafts; incoming ones as received, with the
  // response clock running from now.
  Result<Request> Create(const std::string& actor, const std::string& case_id,
                         const RequestDraft& draft);
  Result<std::optional<Request>> Get(const std::string& id);
  Result<std::vector<Request>> ForCase(const std::string& case_id);
  // Open requests, the most urgent first: those with a deadline by time
  // left, then those without. Only the cases `member` belongs to, unless it
  // is empty.
  Result<std::vector<Request>> Open(const std::string& member, size_t limit);

  // Checks the state machine (not the caller's role: the edges do that with
  // MayMove) and records the move. `preserved_until_unix`, when not 0 and
  // the move is to preserved or extended, is the date the data is preserved
  // until as the custodian's node computed it (a linked peer's update),
  // used instead of computing it here; it must lie within a year from now.
  Result<Request> Move(const std::string& actor, const std::string& id,
                       RequestState to, const std::string& reason,
                       int64_t preserved_until_unix = 0);
  Result<std::vector<RequestMove>> History(const std::string& id);

  // Moves every preservation whose time has run out to expired; returns
  // how many.
  Result<int> SweepExpired();

 private:
  int64_t NowUnix() const;
  Node* node_;
};

// The request as the API and the CLI show it: with its next deadline,
// hours left at `now_unix`, and the states it can move to.
nlohmann::json RequestToJson(const Request& request, int64_t now_unix);

// A standalone HTML page of the request, English and Arabic side by side
// (the Arabic column right-to-left), for printing or filing.
std::string RenderRequestHtml(const Request& request, const Case& kase,
                              const std::string& node_name);

}  // namespace amanah

#endif  // AMANAH_APP_REQUESTS_H_
