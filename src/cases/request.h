// Requests between agencies: preservation (Budapest Convention art. 29),
// disclosure of preserved traffic data (art. 30), MLA production (art. 31),
// emergency disclosure and subscriber information. The legal fields follow
// the Council of Europe T-CY standard forms (2018); the state machine says
// who may move a request where; deadlines follow the chosen legal profile.
// Pure domain logic: no I/O, times are passed in.

#ifndef AMANAH_CASES_REQUEST_H_
#define AMANAH_CASES_REQUEST_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cases/access.h"

namespace amanah {

enum class RequestType {
  kPreservation,  // art. 29: expedited preservation of stored data
  kDisclosure,    // art. 30: disclosure of preserved traffic data
  kProduction,    // art. 31: MLA for stored data
  kEmergency,     // emergency disclosure: hours, not days
  kSubscriber,    // subscriber information
};
std::string_view RequestTypeName(RequestType t);
Result<RequestType> ParseRequestType(std::string_view name);

// The law the deadlines come from.
enum class Profile {
  kBudapest,  // Convention art. 29(7): at least 60 days; one extension of 60
  kUs2703f,   // 18 U.S.C. 2703(f): 90 days, extendable once by 90
  kEu,        // EU 2023/1543: preservation 60 + 30; production 10 days;
              // emergency 8 hours
};
std::string_view ProfileName(Profile p);
Result<Profile> ParseProfile(std::string_view name);

enum class Direction { kOutgoing, kIncoming };
std::string_view DirectionName(Direction d);
Result<Direction> ParseDirection(std::string_view name);

enum class RequestState {
  kDraft,
  kSent,
  kReceived,
  kAcknowledged,
  kExecuted,
  kPreserved,
  kExtended,
  kFulfilled,
  kRefused,
  kWithdrawn,
  kExpired,
};
std::string_view RequestStateName(RequestState s);
Result<RequestState> ParseRequestState(std::string_view name);
bool IsTerminal(RequestState s);

// Where a request may go from `from`, for its type and how many times it
// has been extended. kExpired is never chosen by a person: the server moves
// a lapsed preservation there.
std::vector<RequestState> NextStates(RequestState from, RequestType type,
                                     Profile profile, int extensions);

// Whether `role` may move a request of `type` to `to` (besides case
// membership): the 24/7 point of contact handles preservation and
// emergency requests; the prosecutor / central authority every type.
bool MayMove(Role role, RequestType type, RequestState to);

// kConflict naming the allowed states if `to` is not one of NextStates;
// kInvalidInput if a refusal has no reason.
Status CheckTransition(RequestState from, RequestState to, RequestType type,
                       Profile profile, int extensions,
                       std::string_view reason);

constexpr int64_t kDay = 86400;

// How long data is preserved from the moment preservation is confirmed,
// and how long one extension adds (0: none possible).
int64_t PreservationSeconds(Profile p);
int64_t ExtensionSeconds(Profile p);
int MaxExtensions(Profile p);

// The time by which the requested party should answer, counted from
// receipt (or from sending, for our own outgoing requests), if the profile
// sets one.
std::optional<int64_t> ResponseSeconds(Profile p, RequestType t);

// The request's next deadline, given its state and the times recorded.
struct RequestClock {
  RequestState state = RequestState::kDraft;
  int64_t started_unix = 0;          // sent or received; 0 if not yet
  int64_t preserved_until_unix = 0;  // once preserved
};
std::optional<int64_t> NextDeadline(const RequestClock& c, RequestType type,
                                    Profile profile);

// Validates the legal fields of a request of `type`, in place: trims
// nothing, refuses unknown fields, checks required ones (the six elements
// of art. 29(2) for preservation, a named supervisor for an emergency).
// Free text is {"en": "...", "ar": "..."} with at least one language.
Status ValidateRequestFields(RequestType type, const nlohmann::json& fields);

}  // namespace amanah

#endif  // AMANAH_CASES_REQUEST_H_
