// The JSON bodies of the HTTP API (server/request_input.h) and the domain
// checks the routes apply to them before anything is stored. The first
// byte picks the route; the rest is the body. The body is checked against
// that route's fields (ParseJsonBody), then as the route's service checks
// it: roles and user names, case drafts, requests and their legal `fields`,
// case and request states, upload names, lists of addresses, message
// batches. Every refusal is kInvalidInput; what is accepted has only the
// route's fields, of their types.

#include <iterator>

#include "app/cases.h"
#include "app/messages.h"
#include "app/requests.h"
#include "app/uploads.h"
#include "app/users.h"
#include "cases/case.h"
#include "cases/request.h"
#include "fuzz/fuzz_util.h"
#include "server/request_input.h"

namespace amanah {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() ? "" : it->get<std::string>();
}

// The checks of the route's service after the body's shape.
Status Domain(int route, const json& j) {
  switch (route) {
    case 1:  // POST /api/v1/users
      RETURN_IF_ERROR(ParseRole(Str(j, "role")).status());
      return ValidateUserName(Str(j, "name"));
    case 3: {  // POST /api/v1/cases
      ASSIGN_OR_RETURN(Offence offence, ParseOffence(Str(j, "offence")));
      return ValidateCaseDraft(
          {Str(j, "id"), Str(j, "title"), offence, Str(j, "legal_basis")});
    }
    case 4:  // POST /api/v1/cases/{id}/members
      return ValidateUserName(Str(j, "user"));
    case 5:  // POST /api/v1/cases/{id}/status
      return ParseCaseStatus(Str(j, "status")).status();
    case 6: {  // POST /api/v1/cases/{id}/requests
      RequestDraft d;
      ASSIGN_OR_RETURN(d.type, ParseRequestType(Str(j, "type")));
      ASSIGN_OR_RETURN(d.profile, ParseProfile(Str(j, "profile")));
      ASSIGN_OR_RETURN(d.direction, ParseDirection(Str(j, "direction")));
      d.reference = Str(j, "reference");
      d.fields = j["fields"];
      return ValidateRequestDraft(d);
    }
    case 7:  // POST /api/v1/requests/{id}/moves
      return ParseRequestState(Str(j, "to")).status();
    case 9:  // POST /api/v1/requests/{id}/deliveries
      return ParseAddressList(j["items"]).status();
    case 10:  // POST /api/v1/inbox/{id}/file
      return ValidateCaseId(Str(j, "case"));
    case 11:  // POST /api/v1/cases/{id}/uploads
      return ValidateUploadNames(Str(j, "name"), Str(j, "note"));
    case 12:  // POST /api/v1/cases/{id}/exports
      return j.contains("items") ? ParseAddressList(j["items"]).status()
                                 : Status::OK();
    case 13:  // POST /federation/v1/messages/batch
      return ParseMessageBatch(j).status();
    default:
      return Status::OK();
  }
}

}  // namespace
}  // namespace amanah

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amanah;
  if (size == 0) return 0;
  static const BodyShape kShapes[] = {
      body::kSession, body::kUser,        body::kToken,   body::kCase,
      body::kMember,  body::kCaseStatus,  body::kRequest, body::kMove,
      body::kSend,    body::kDelivery,    body::kFile,    body::kUpload,
      body::kExport,  body::kMessageBatch};
  int route = data[0] % std::size(kShapes);
  BodyShape shape = kShapes[route];
  std::string_view text = fuzz::AsText(data + 1, size - 1);
  const char* type = data[0] & 0x80 ? "text/plain" : "application/json";

  Result<nlohmann::json> j = ParseJsonBody(type, text, shape);
  if (!j.ok()) {
    FUZZ_CHECK(j.status().code() == Code::kInvalidInput);
    return 0;
  }
  FUZZ_CHECK(type[0] == 'a' && j->is_object());
  for (const auto& [key, value] : j->items()) {
    const BodyField* f = nullptr;
    for (const BodyField& x : shape) {
      if (key == x.name) f = &x;
    }
    FUZZ_CHECK(f != nullptr);
    FUZZ_CHECK(f->type == nlohmann::json::value_t::number_unsigned
                   ? value.is_number_unsigned()
                   : value.type() == f->type);
  }
  for (const BodyField& f : shape)
    FUZZ_CHECK(!f.required || j->contains(f.name));
  Status s = Domain(route, *j);
  FUZZ_CHECK(s.ok() || s.code() == Code::kInvalidInput);
  return 0;
}
