#include "app/requests.h"

#include <cstdio>

#include "app/cases.h"
#include "base/json_writer.h"
#include "crypto/hash.h"
#include "ledger/custody_entry.h"
#include "storage/sqlite/sqlite.h"

namespace amanah {

namespace {

constexpr const char* kColumns =
    "r.id, r.case_id, r.type, r.profile, r.direction, r.state, r.reference, "
    "r.fields, r.created, r.created_by, r.updated, r.started_unix, "
    "r.preserved_until_unix, r.extensions";

Result<Request> ReadRequest(Statement& q) {
  Request r;
  r.id = q.Text(0);
  r.case_id = q.Text(1);
  auto type = ParseRequestType(q.Text(2));
  auto profile = ParseProfile(q.Text(3));
  auto direction = ParseDirection(q.Text(4));
  auto state = ParseRequestState(q.Text(5));
  r.fields = nlohmann::json::parse(q.Text(7), nullptr, false);
  if (!type.ok() || !profile.ok() || !direction.ok() || !state.ok() ||
      r.fields.is_discarded()) {
    return Status::Corruption("request " + r.id +
                              " is damaged in the database");
  }
  r.type = *type;
  r.profile = *profile;
  r.direction = *direction;
  r.state = *state;
  r.reference = q.Text(6);
  r.created = q.Text(8);
  r.created_by = q.Text(9);
  r.updated = q.Text(10);
  r.started_unix = q.Int(11);
  r.preserved_until_unix = q.Int(12);
  r.extensions = static_cast<int>(q.Int(13));
  return r;
}

Result<std::vector<Request>> ReadAll(Statement& q) {
  std::vector<Request> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    ASSIGN_OR_RETURN(Request r, ReadRequest(q));
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

std::string Subject(const std::string& id) { return "request:" + id; }

std::string FieldsText(const nlohmann::json& fields) {
  std::string out;
  AppendJson(&out, fields);
  return out;
}

}  // namespace

int64_t RequestBook::NowUnix() const {
  return node_->env()->NowUnixNanos() / 1000000000;
}

Status ValidateRequestDraft(const RequestDraft& d) {
  RETURN_IF_ERROR(ValidateText(d.reference, 200, "reference", false));
  RETURN_IF_ERROR(ValidateRequestFields(d.type, d.fields));
  if (FieldsText(d.fields).size() > 60000) {
    return Status::InvalidInput(
        "the request's fields take more than 60000 bytes");
  }
  return Status::OK();
}

Result<Request> RequestBook::Create(const std::string& actor,
                                    const std::string& case_id,
                                    const RequestDraft& d) {
  RETURN_IF_ERROR(ValidateRequestDraft(d));
  std::string fields = FieldsText(d.fields);
  Request r;
  r.case_id = case_id;
  r.type = d.type;
  r.profile = d.profile;
  r.direction = d.direction;
  r.reference = d.reference;
  r.fields = d.fields;
  int64_t now = NowUnix();
  r.created = r.updated = FormatTime(now * 1000000);
  r.created_by = actor;
  if (d.direction == Direction::kIncoming) {
    r.state = RequestState::kReceived;
    r.started_unix = d.received_unix > 0 ? d.received_unix : now;
  }
  auto applied = node_->Apply([&]() -> Result<std::vector<CustodyEntry>> {
    RETURN_IF_ERROR(CaseBook(node_).MustBeOpen(case_id));
    std::string year = r.created.substr(0, 4);
    Statement count(node_->sql(),
                    "SELECT COUNT(*) FROM requests WHERE id LIKE 'R-' || ? || "
                    "'-%'");
    count.Bind(1, year);
    if (count.Step() != SQLITE_ROW) return count.Error();
    char buf[32];
    std::snprintf(buf, sizeof(buf), "R-%s-%05lld", year.c_str(),
                  static_cast<long long>(count.Int(0) + 1));
    r.id = buf;
    Statement ins(node_->sql(),
                  "INSERT INTO requests(id, case_id, type, profile, "
                  "direction, state, reference, fields, created, created_by, "
                  "updated, started_unix) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    ins.Bind(1, r.id);
    ins.Bind(2, r.case_id);
    ins.Bind(3, RequestTypeName(r.type));
    ins.Bind(4, ProfileName(r.profile));
    ins.Bind(5, DirectionName(r.direction));
    ins.Bind(6, RequestStateName(r.state));
    ins.Bind(7, r.reference);
    ins.Bind(8, fields);
    ins.Bind(9, r.created);
    ins.Bind(10, r.created_by);
    ins.Bind(11, r.updated);
    ins.Bind(12, r.started_unix);
    RETURN_IF_ERROR(ins.Run());
    CustodyEntry e;
    e.kind = EntryKind::kRequestCreated;
    e.actor = actor;
    e.case_id = case_id;
    e.subject = Subject(r.id);
    e.data = {{"type", RequestTypeName(r.type)},
              {"profile", ProfileName(r.profile)},
              {"direction", DirectionName(r.direction)},
              {"state", RequestStateName(r.state)},
              {"reference", r.reference},
              {"fields_sha256", HexEncode(Sha256(AsBytes(fields)))}};
    return std::vector<CustodyEntry>{std::move(e)};
  });
  RETURN_IF_ERROR(applied.status());
  return r;
}

Result<std::optional<Request>> RequestBook::Get(const std::string& id) {
  Statement q(node_->sql(), (std::string("SELECT ") + kColumns +
                             " FROM requests r WHERE r.id=?")
                                .c_str());
  RETURN_IF_ERROR(q.status());
  q.Bind(1, id);
  ASSIGN_OR_RETURN(auto all, ReadAll(q));
  if (all.empty()) return std::optional<Request>();
  return std::optional<Request>(std::move(all[0]));
}

Result<std::vector<Request>> RequestBook::ForCase(const std::string& case_id) {
  Statement q(node_->sql(), (std::string("SELECT ") + kColumns +
                             " FROM requests r WHERE r.case_id=? ORDER BY r.id")
                                .c_str());
  RETURN_IF_ERROR(q.status());
  q.Bind(1, case_id);
  return ReadAll(q);
}

Result<std::vector<Request>> RequestBook::Open(const std::string& member,
                                               size_t limit) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM requests r";
  if (!member.empty()) {
    sql +=
        " JOIN case_members m ON m.case_id = r.case_id JOIN users u ON "
        "u.id = m.user_id AND u.name = ?1";
  }
  sql +=
      " WHERE r.state NOT IN ('fulfilled', 'refused', 'withdrawn', "
      "'expired')";
  Statement q(node_->sql(), sql.c_str());
  RETURN_IF_ERROR(q.status());
  if (!member.empty()) q.Bind(1, member);
  ASSIGN_OR_RETURN(auto all, ReadAll(q));
  // Most urgent first; the deadline depends on the profile, so sort here.
  std::stable_sort(all.begin(), all.end(),
                   [](const Request& a, const Request& b) {
                     auto da = a.Deadline(), db = b.Deadline();
                     if (da && db) return *da < *db;
                     return da.has_value() && !db.has_value();
                   });
  if (all.size() > limit) all.resize(limit);
  return all;
}

Result<Request> RequestBook::Move(const std::string& actor,
                                  const std::string& id, RequestState to,
                                  const std::string& reason,
                                  int64_t preserved_until_unix) {
  RETURN_IF_ERROR(ValidateText(reason, 4000, "reason", false));
  if (preserved_until_unix != 0 &&
      (preserved_until_unix < NowUnix() ||
       preserved_until_unix > NowUnix() + 366 * 86400)) {
    return Status::InvalidInput(
        "preserved_until must lie between now and a year from now");
  }
  Request r;
  auto applied = node_->Apply([&]() -> Result<std::vector<CustodyEntry>> {
    ASSIGN_OR_RETURN(auto found, Get(id));
    if (!found) return Status::NotFound("no request " + id);
    r = std::move(*found);
    if (to == RequestState::kExpired) {
      // Only the node moves a request there, when its time has run out.
      if (actor != "system:amanah") {
        return Status::Conflict(
            "a request expires by itself when its preservation lapses");
      }
      if (r.state != RequestState::kPreserved &&
          r.state != RequestState::kExtended) {
        return Status::Conflict("only a preservation can lapse");
      }
    } else {
      RETURN_IF_ERROR(CheckTransition(r.state, to, r.type, r.profile,
                                      r.extensions, reason));
    }
    RequestState from = r.state;
    int64_t now = NowUnix();
    if ((to == RequestState::kSent || to == RequestState::kReceived) &&
        r.started_unix == 0) {
      r.started_unix = now;
    }
    if (to == RequestState::kPreserved) {
      r.preserved_until_unix = now + PreservationSeconds(r.profile);
    }
    if (to == RequestState::kExtended) {
      r.preserved_until_unix += ExtensionSeconds(r.profile);
      ++r.extensions;
    }
    if (preserved_until_unix != 0 &&
        (to == RequestState::kPreserved || to == RequestState::kExtended)) {
      r.preserved_until_unix = preserved_until_unix;
    }
    r.state = to;
    r.updated = FormatTime(now * 1000000);
    Statement up(node_->sql(),
                 "UPDATE requests SET state=?, updated=?, started_unix=?, "
                 "preserved_until_unix=?, extensions=? WHERE id=?");
    up.Bind(1, RequestStateName(to));
    up.Bind(2, r.updated);
    up.Bind(3, r.started_unix);
    up.Bind(4, r.preserved_until_unix);
    up.Bind(5, r.extensions);
    up.Bind(6, r.id);
    RETURN_IF_ERROR(up.Run());
    Statement mv(node_->sql(),
                 "INSERT INTO request_moves(request_id, seq, from_state, "
                 "to_state, time, actor, reason) VALUES(?, (SELECT "
                 "COUNT(*) FROM request_moves WHERE request_id=?), ?,?,?,?,?)");
    mv.Bind(1, r.id);
    mv.Bind(2, r.id);
    mv.Bind(3, RequestStateName(from));
    mv.Bind(4, RequestStateName(to));
    mv.Bind(5, r.updated);
    mv.Bind(6, actor);
    mv.Bind(7, reason);
    RETURN_IF_ERROR(mv.Run());
    CustodyEntry e;
    e.kind = EntryKind::kRequestMoved;
    e.actor = actor;
    e.case_id = r.case_id;
    e.subject = Subject(r.id);
    e.data = {{"from", RequestStateName(from)}, {"to", RequestStateName(to)}};
    if (!reason.empty()) e.data["reason"] = reason;
    if (r.preserved_until_unix != 0 &&
        (to == RequestState::kPreserved || to == RequestState::kExtended)) {
      e.data["preserved_until"] = FormatTime(r.preserved_until_unix * 1000000);
    }
    if (auto d = r.Deadline()) e.data["deadline"] = FormatTime(*d * 1000000);
    return std::vector<CustodyEntry>{std::move(e)};
  });
  RETURN_IF_ERROR(applied.status());
  return r;
}

Result<std::vector<RequestMove>> RequestBook::History(const std::string& id) {
  Statement q(node_->sql(),
              "SELECT from_state, to_state, time, actor, reason FROM "
              "request_moves WHERE request_id=? ORDER BY seq");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, id);
  std::vector<RequestMove> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back({q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4)});
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<int> RequestBook::SweepExpired() {
  Statement q(node_->sql(),
              "SELECT id FROM requests WHERE state IN ('preserved', "
              "'extended') AND preserved_until_unix <= ?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, NowUnix());
  std::vector<std::string> ids;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) ids.push_back(q.Text(0));
  if (rc != SQLITE_DONE) return q.Error();
  int n = 0;
  for (const auto& id : ids) {
    auto moved = Move("system:amanah", id, RequestState::kExpired,
                      "the preservation period ended");
    // Someone may have moved it meanwhile: only count what expired here.
    if (moved.ok()) ++n;
  }
  return n;
}

nlohmann::json RequestToJson(const Request& r, int64_t now) {
  nlohmann::json j = {{"id", r.id},
                      {"case", r.case_id},
                      {"type", RequestTypeName(r.type)},
                      {"profile", ProfileName(r.profile)},
                      {"direction", DirectionName(r.direction)},
                      {"state", RequestStateName(r.state)},
                      {"reference", r.reference},
                      {"fields", r.fields},
                      {"created", r.created},
                      {"created_by", r.created_by},
                      {"updated", r.updated},
                      {"extensions", r.extensions},
                      {"deadline", nullptr},
                      {"hours_left", nullptr}};
  if (r.preserved_until_unix != 0) {
    j["preserved_until"] = FormatTime(r.preserved_until_unix * 1000000);
  }
  if (auto d = r.Deadline()) {
    j["deadline"] = FormatTime(*d * 1000000);
    j["hours_left"] = static_cast<double>((*d - now) / 36) / 100.0;
  }
  nlohmann::json next = nlohmann::json::array();
  for (auto s : NextStates(r.state, r.type, r.profile, r.extensions)) {
    next.push_back(RequestStateName(s));
  }
  j["next_states"] = next;
  return j;
}

namespace {

std::string Html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\n':
        out += "<br>";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

struct Label {
  const char* key;
  const char* en;
  const char* ar;
};

constexpr Label kLabels[] = {
    {"requesting_authority", "Requesting authority", "الجهة الطالبة"},
    {"requested_authority", "Requested authority", "الجهة المطلوب منها"},
    {"confirmation_contact", "Confirmation contact", "جهة التأكيد"},
    {"prosecutor_case_number", "Prosecutor's case number", "رقم قضية النيابة"},
    {"court_case_number", "Court case number", "رقم القضية لدى المحكمة"},
    {"related_tickets", "Related requests", "طلبات ذات صلة"},
    {"offence", "Offence", "الجريمة"},
    {"summary_of_facts", "Summary of facts", "ملخص الوقائع"},
    {"data_requested", "Data requested", "البيانات المطلوبة"},
    {"relation_to_offence", "Relation to the offence", "صلتها بالجريمة"},
    {"provider", "Provider (custodian)", "مزوّد الخدمة (الحائز)"},
    {"account_identifiers", "Account identifiers", "معرّفات الحساب"},
    {"date_range", "Date range", "الفترة الزمنية"},
    {"necessity", "Why preservation is necessary", "سبب ضرورة الحفظ"},
    {"mla_to_follow", "A mutual legal assistance request will follow",
     "سيتبعه طلب مساعدة قانونية متبادلة"},
    {"supervisor", "Supervisor who vouches for this emergency",
     "المشرف المسؤول عن هذا الطلب العاجل"},
    {"threat", "Threat", "الخطر"},
};

constexpr Label kTypeTitles[] = {
    {"preservation", "Request for expedited preservation of stored data",
     "طلب الحفظ العاجل لبيانات مخزنة"},
    {"disclosure", "Request for disclosure of preserved traffic data",
     "طلب الإفصاح عن بيانات حركة محفوظة"},
    {"production", "Mutual legal assistance request for stored data",
     "طلب مساعدة قانونية متبادلة للحصول على بيانات مخزنة"},
    {"emergency", "Emergency disclosure request", "طلب إفصاح عاجل"},
    {"subscriber", "Request for subscriber information", "طلب معلومات المشترك"},
};

// The text of a field in one language ("en" or "ar"); language-neutral
// values (names, identifiers, dates) appear in both columns.
std::string FieldText(const nlohmann::json& v, const char* lang) {
  if (v.is_boolean()) return v.get<bool>() ? "✓" : "✗";
  if (v.is_string()) return Html(v.get_ref<const std::string&>());
  if (v.is_array()) {
    std::string out;
    for (const auto& x : v) {
      if (!out.empty()) out += "<br>";
      out += Html(x.get<std::string>());
    }
    return out;
  }
  if (v.is_object() && (v.contains("en") || v.contains("ar"))) {
    auto it = v.find(lang);
    return it == v.end() ? "—" : Html(it->get<std::string>());
  }
  if (v.is_object()) {
    std::string out;
    for (const auto& [k, x] : v.items()) {
      if (!x.is_string()) continue;
      if (!out.empty()) out += "<br>";
      out += Html(k) + ": " + Html(x.get<std::string>());
    }
    return out;
  }
  return "";
}

}  // namespace

std::string RenderRequestHtml(const Request& r, const Case& kase,
                              const std::string& node_name) {
  const Label* title = &kTypeTitles[0];
  for (const auto& t : kTypeTitles) {
    if (RequestTypeName(r.type) == t.key) title = &t;
  }
  std::string deadline = "—";
  if (auto d = r.Deadline()) deadline = FormatTime(*d * 1000000);
  std::string h;
  h +=
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<title>" + Html(r.id) + "</title>\n";
  h += "<style>body{font-family:serif;margin:2em}table{border-collapse:"
       "collapse;width:100%}td,th{border:1px solid #999;padding:.4em;"
       "vertical-align:top;width:50%}th{background:#eee}"
       "[dir=rtl]{text-align:right;font-family:'Noto Naskh Arabic',serif}"
       "@media print{body{margin:0}}</style>\n</head>\n<body>\n";
  h += "<table>\n<tr><th>" + Html(title->en) +
       "</th><th lang=\"ar\" dir=\"rtl\">" + Html(title->ar) + "</th></tr>\n";
  auto row = [&](const std::string& en_label, const std::string& ar_label,
                 const std::string& en, const std::string& ar) {
    h += "<tr><td><b>" + Html(en_label) + "</b><br>" + en +
         "</td><td lang=\"ar\" dir=\"rtl\"><b>" + Html(ar_label) + "</b><br>" +
         ar + "</td></tr>\n";
  };
  std::string meta = Html(r.id) + " · " + Html(node_name) + " · " +
                     Html(std::string(RequestTypeName(r.type))) + " · " +
                     Html(std::string(ProfileName(r.profile)));
  row("Reference", "المرجع", meta + "<br>" + Html(r.reference),
      meta + "<br>" + Html(r.reference));
  row("Case", "القضية", Html(kase.id + " — " + kase.title),
      Html(kase.id + " — " + kase.title));
  row("State", "الحالة", Html(std::string(RequestStateName(r.state))),
      Html(std::string(RequestStateName(r.state))));
  row("Next deadline (UTC)", "الموعد التالي (بالتوقيت العالمي)", Html(deadline),
      Html(deadline));
  for (const auto& label : kLabels) {
    auto it = r.fields.find(label.key);
    if (it == r.fields.end()) continue;
    row(label.en, label.ar, FieldText(*it, "en"), FieldText(*it, "ar"));
  }
  h += "</table>\n<p><small>Created " + Html(r.created) + " by " +
       Html(r.created_by) + "; every change to this request is an entry in " +
       Html(node_name) + "'s custody log.</small></p>\n</body>\n</html>\n";
  return h;
}

}  // namespace amanah
