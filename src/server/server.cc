#include "server/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <thread>

#include "app/cases.h"
#include "app/custody_index.h"
#include "app/exchange.h"
#include "app/export.h"
#include "app/messages.h"
#include "app/requests.h"
#include "app/transfers.h"
#include "app/uploads.h"
#include "app/users.h"
#include "app/witness.h"
#include "base/json_writer.h"
#include "base/messages.h"
#include "crypto/password.h"
#include "crypto/tls_identity.h"
#include "federation/courier.h"
#include "federation/fetcher.h"
#include "federation/witness_client.h"
#include "ledger/custody_entry.h"
#include "server/metrics.h"
#include "server/request_input.h"

namespace amanah {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// What a handler answers when it succeeds.
struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  httplib::Headers headers;
  // Set for a streamed body (sent chunked): returns false to cut it short.
  std::function<bool(httplib::DataSink&)> stream;
  // Set for a body of known length that is read in ranges (HTTP Range
  // requests are answered from it): writes [offset, offset + length).
  std::function<bool(size_t, size_t, httplib::DataSink&)> ranged;
  uint64_t length = 0;

  static Reply Json(const json& j, int status = 200) {
    Reply r;
    r.status = status;
    AppendJson(&r.body, j);
    r.body.push_back('\n');
    return r;
  }
  static Reply NoContent() {
    Reply r;
    r.status = 204;
    r.content_type.clear();
    return r;
  }
};

// Per-request state shared by the pre-routing handler, the route and the
// access log, all of which run on the connection's thread.
struct HttpRequestState {
  Clock::time_point start;
  std::string route = "unmatched";
  std::string user = "-";
};
thread_local HttpRequestState t_request;

std::string_view ProblemSlug(Code code) {
  switch (code) {
    case Code::kInvalidInput:
      return "invalid-input";
    case Code::kNotFound:
      return "not-found";
    case Code::kConflict:
      return "conflict";
    case Code::kCorruption:
      return "corruption";
    case Code::kPermission:
      return "forbidden";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kTooLarge:
      return "too-large";
    case Code::kTooManyRequests:
      return "too-many-requests";
    default:
      return "server-error";
  }
}

// An RFC 9457 problem document: title from the catalogue in the caller's
// language, detail from the code that failed.
std::string ProblemBody(int http_status, Code code, const std::string& detail,
                        Lang lang) {
  json j = {{"type", "urn:amanah:problem:" + std::string(ProblemSlug(code))},
            {"title", CodeTitle(code, lang)},
            {"status", http_status},
            {"detail", detail}};
  std::string body;
  AppendJson(&body, j);
  body.push_back('\n');
  return body;
}

void WriteProblem(httplib::Response& res, int http_status, Code code,
                  const std::string& detail, Lang lang) {
  res.status = http_status;
  res.set_content(ProblemBody(http_status, code, detail, lang),
                  "application/problem+json");
  res.set_header("Content-Language", std::string(LangTag(lang)));
  if (code == Code::kUnauthenticated) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"amanah\"");
  }
}

Lang RequestLang(const httplib::Request& req) {
  return LangFromAcceptLanguage(req.get_header_value("Accept-Language"));
}

// A problem document as a handler's reply, for an error that carries a
// header: Retry-After (seconds) on a 429 or 503.
Reply ProblemReply(const httplib::Request& req, const Status& s,
                   std::chrono::seconds retry_after) {
  Lang lang = RequestLang(req);
  Reply r;
  r.status = HttpStatusFor(s.code());
  r.content_type = "application/problem+json";
  r.body = ProblemBody(r.status, s.code(), s.message(), lang);
  r.headers.emplace("Content-Language", std::string(LangTag(lang)));
  r.headers.emplace("Retry-After", std::to_string(retry_after.count()));
  return r;
}

Result<json> ParseBody(const httplib::Request& req, BodyShape shape) {
  return ParseJsonBody(req.get_header_value("Content-Type"), req.body, shape);
}

std::string StringField(const json& j, const char* name,
                        const std::string& fallback = "") {
  auto it = j.find(name);
  return it == j.end() ? fallback : it->get<std::string>();
}

json UserJson(const User& u) {
  return {{"name", u.name},
          {"role", RoleName(u.role)},
          {"disabled", u.disabled},
          {"created", u.created}};
}

// A new account's, or a reissued, enrolment: the user and the one-time
// secret, shown only here.
Reply EnrolmentReply(const Enrolment& e) {
  json j = UserJson(e.user);
  j["enrolment_secret"] = e.secret;
  j["enrolment_expires"] = FormatTime(e.expires_unix * 1000000);
  Reply r = Reply::Json(j, 201);
  r.headers.emplace("Cache-Control", "no-store");
  return r;
}

json ProposalJson(const std::string& case_id, const Proposal& p) {
  return {{"case", case_id},
          {"change", MemberChangeName(p.change)},
          {"user", p.user},
          {"proposed_by", p.proposed_by},
          {"proposed", p.proposed},
          {"expires", FormatTime(p.expires_unix * 1000000)}};
}

json EntryJson(const IndexedEntry& e) {
  return {{"index", e.index}, {"kind", e.kind},    {"time", e.time},
          {"actor", e.actor}, {"case", e.case_id}, {"subject", e.subject}};
}

Result<uint64_t> WholeNumber(const std::string& s, const char* what) {
  return ParseWholeNumber(s, what);
}

// ?limit=N: 1 to 1000, default 100.
Result<size_t> PageLimit(const httplib::Request& req) {
  if (!req.has_param("limit")) return size_t{100};
  ASSIGN_OR_RETURN(uint64_t n,
                   WholeNumber(req.get_param_value("limit"), "limit"));
  if (n < 1 || n > 1000) {
    return Status::InvalidInput("limit must be 1 to 1000");
  }
  return static_cast<size_t>(n);
}

Result<std::vector<ContentAddress>> AddressList(const json& items) {
  return ParseAddressList(items);
}

// Writes a piece of a streamed response body.
Status WriteToClient(httplib::DataSink* sink, ByteView data) {
  if (data.empty()) return Status::OK();
  if (!sink->write(reinterpret_cast<const char*>(data.data()), data.size())) {
    return Status::Unavailable("the client went away");
  }
  return Status::OK();
}

// The one route that streams a body of any size: PATCH of an upload.
const std::regex kUploadPath("/api/v1/uploads/" + route::kUploadId);

}  // namespace

struct ApiServer::Impl {
  Node* node;
  ServerOptions options;
  std::unique_ptr<httplib::Server> http;
  Metrics metrics;
  ConnectionCounters connection_counters;
  SignInLimits sign_in;
  UserDirectory users;
  UploadDesk uploads;
  int port = 0;
  int listen_fd = -1;  // the listening socket, once bound
  // Credentials checked in the last few seconds, by the SHA-256 of the
  // secret: the database is asked once per token per kAuthCacheTtl. A token
  // revoked by another process stops working within that time; one revoked
  // through this server, at once.
  static constexpr auto kAuthCacheTtl = std::chrono::seconds(5);
  std::mutex auth_mu;
  std::map<std::string, std::pair<Principal, Clock::time_point>> auth_cache;
  std::mutex sweep_mu;
  std::condition_variable sweep_cv;
  bool stopping = false;                // guarded by sweep_mu
  std::atomic<bool> stop_pulls{false};  // cuts a long pull short
  std::thread sweeper;
  std::thread fetcher;
  std::thread witness_submitter;
  std::thread courier;

  Impl(Node* n, ServerOptions o)
      : node(n),
        options(std::move(o)),
        sign_in(options.sign_in),
        users(n, &sign_in),
        uploads(n) {}

  using Handler = std::function<Result<Reply>(const httplib::Request&)>;

  // Registers a route: runs `handler`, turns a failed Status into a problem
  // document, and names the route for the access log and metrics.
  void Route(const char* method, const std::string& pattern,
             const std::string& name, Handler handler) {
    auto wrapped = [this, name, handler](const httplib::Request& req,
                                         httplib::Response& res) {
      t_request.route = name;
      if (req.body.size() > options.max_json_body) {
        Respond(req, res,
                Status::TooLarge("the body is larger than this endpoint "
                                 "accepts (" +
                                 std::to_string(options.max_json_body) +
                                 " bytes)"));
        return;
      }
      Respond(req, res, handler(req));
    };
    std::string m(method);
    if (m == "GET") http->Get(pattern, wrapped);
    if (m == "POST") http->Post(pattern, wrapped);
    if (m == "DELETE") http->Delete(pattern, wrapped);
  }

  // Writes a handler's outcome: its reply, or a problem document.
  static void Respond(const httplib::Request& req, httplib::Response& res,
                      Result<Reply> r) {
    if (!r.ok()) {
      const Status& s = r.status();
      WriteProblem(res, HttpStatusFor(s.code()), s.code(), s.message(),
                   RequestLang(req));
      return;
    }
    res.status = r->status;
    for (const auto& [k, v] : r->headers) res.set_header(k, v);
    if (!r->ranged && !req.ranges.empty()) {
      // httplib would cut a Range out of any body, an error page included
      // (and make it a 416); only ranged replies honour Range.
      const_cast<httplib::Request&>(req).ranges.clear();
    }
    if (r->ranged) {
      // httplib cuts the ranges out of the provider's body, but leaves the
      // status to us.
      if (r->status == 200 && !req.ranges.empty()) res.status = 206;
      res.set_content_provider(static_cast<size_t>(r->length), r->content_type,
                               std::move(r->ranged));
    } else if (r->stream) {
      auto stream = std::move(r->stream);
      res.set_chunked_content_provider(
          r->content_type,
          [stream](size_t, httplib::DataSink& sink) { return stream(sink); });
    } else if (!r->content_type.empty()) {
      res.set_content(std::move(r->body), r->content_type);
    }
  }

  // The caller, from "Authorization: Bearer <token>".
  Result<Principal> Caller(const httplib::Request& req) {
    std::string h = req.get_header_value("Authorization");
    if (h.empty()) {
      return Status::Unauthenticated(
          "send Authorization: Bearer <token> (POST /api/v1/sessions to sign "
          "in)");
    }
    if (h.rfind("Bearer ", 0) != 0) {
      return Status::Unauthenticated("only Bearer authorization is accepted");
    }
    std::string secret = h.substr(7);
    std::string key = BearerTokenHash(secret);
    auto now = Clock::now();
    int64_t now_unix = node->env()->NowUnixNanos() / 1000000000;
    {
      std::lock_guard<std::mutex> l(auth_mu);
      auto it = auth_cache.find(key);
      if (it != auth_cache.end() && now - it->second.second < kAuthCacheTtl &&
          it->second.first.expires_unix > now_unix) {
        t_request.user = it->second.first.user.name;
        return it->second.first;
      }
    }
    ASSIGN_OR_RETURN(Principal p, users.Authenticate(secret));
    {
      std::lock_guard<std::mutex> l(auth_mu);
      if (auth_cache.size() >= 10000) auth_cache.clear();
      auth_cache[key] = {p, now};
    }
    t_request.user = p.user.name;
    return p;
  }

  // Forgets cached credentials: after a sign-out or a user change here.
  void ForgetCredentials() {
    std::lock_guard<std::mutex> l(auth_mu);
    auth_cache.clear();
  }

  // The caller, if their role allows a node-wide action.
  Result<Principal> Allow(const httplib::Request& req, Action action) {
    ASSIGN_OR_RETURN(Principal p, Caller(req));
    if (!Allowed(p.user.role, action, false)) {
      return Status::Permission("a user with role " +
                                std::string(RoleName(p.user.role)) +
                                " may not " + std::string(ActionName(action)));
    }
    return p;
  }

  static std::string Actor(const Principal& p) { return "user:" + p.user.name; }

  void AddRoutes() {
    Route("GET", "/healthz", "GET /healthz", [this](const auto&) {
      return Reply::Json({{"status", "ok"},
                          {"node", node->info().name},
                          {"log_size", LogSize()}});
    });
    Route("GET", "/metrics", "GET /metrics",
          [this](const auto&) -> Result<Reply> {
            Reply r;
            r.body = metrics.Render(LogSize());
            // A peer caught showing a forked log: alert on any non-zero.
            auto alarms = Witness(node).AlarmCount();
            r.body +=
                "# HELP amanah_witness_alarms Peers' checkpoints refused as "
                "inconsistent with what this node cosigned.\n"
                "# TYPE amanah_witness_alarms gauge\n"
                "amanah_witness_alarms " +
                std::to_string(alarms.ok() ? *alarms : 0) + "\n";
            r.body +=
                "# HELP amanah_http_connections_refused_total Connections "
                "refused because their address had too many.\n"
                "# TYPE amanah_http_connections_refused_total counter\n"
                "amanah_http_connections_refused_total " +
                std::to_string(connection_counters.refused.load()) +
                "\n"
                "# HELP amanah_http_requests_timed_out_total Requests cut "
                "off because their headers or body did not arrive in time.\n"
                "# TYPE amanah_http_requests_timed_out_total counter\n"
                "amanah_http_requests_timed_out_total " +
                std::to_string(connection_counters.timed_out.load()) + "\n";
            r.content_type = "text/plain; version=0.0.4; charset=utf-8";
            return r;
          });

    // The custody log as C2SP tlog-tiles. The checkpoint and hash tiles
    // reveal nothing but hashes and are public, for peers and witnesses;
    // entry bundles name cases and people, so they need a user who may read
    // the log.
    Route("GET", "/log/checkpoint", "GET /log/checkpoint",
          [this](const auto&) -> Result<Reply> {
            ASSIGN_OR_RETURN(CustodyLog * log, node->Log());
            Reply r;
            r.body = log->Latest().note;
            r.content_type = "text/plain; charset=utf-8";
            r.headers.emplace("Cache-Control", "no-cache");
            return r;
          });
    Route("GET", R"(/log/tile/.*)", "GET /log/tile",
          [this](const httplib::Request& req) { return Tile(req); });
    // The latest checkpoint of this log that peers have cosigned, with
    // their cosignatures (C2SP tlog-cosignature).
    Route("GET", "/log/cosigned-checkpoint", "GET /log/cosigned-checkpoint",
          [this](const auto&) -> Result<Reply> {
            ASSIGN_OR_RETURN(std::string note,
                             Witness(node).CosignedCheckpoint());
            Reply r;
            r.body = std::move(note);
            r.content_type = "text/plain; charset=utf-8";
            r.headers.emplace("Cache-Control", "no-cache");
            return r;
          });
    // Federation messages from pinned peers: the Ed25519 signature over the
    // exact body, by the sender's pinned key, is the authentication.
    Route("POST", "/federation/v1/messages", "POST /federation/v1/messages",
          [this](const httplib::Request& req) -> Result<Reply> {
            std::string sig = req.get_header_value("Amanah-Signature");
            if (sig.empty()) {
              return Status::InvalidInput(
                  "send the Amanah-Signature header: the sender's signature "
                  "over the body");
            }
            if (auto m = ParseMessage(req.body); m.ok()) {
              RETURN_IF_ERROR(CheckPeerCertificate(req, m->from));
            }
            ASSIGN_OR_RETURN(std::string receipt,
                             Mailroom(node).Receive(req.body, sig));
            Reply r;
            r.body = std::move(receipt);
            r.content_type = "application/json";
            r.headers.emplace("Cache-Control", "no-store");
            return r;
          });
    // Several messages from one peer in one request: each with its own
    // signature, answered each with its receipt or its problem, the new
    // ones stored in one group commit (docs/formats.md, Batched delivery).
    Route("POST", "/federation/v1/messages/batch",
          "POST /federation/v1/messages/batch",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(json j, ParseBody(req, body::kMessageBatch));
            ASSIGN_OR_RETURN(std::vector<SignedMessage> batch,
                             ParseMessageBatch(j));
            // One sender, whose pinned certificate the connection shows.
            std::string from;
            for (const SignedMessage& m : batch) {
              auto parsed = ParseMessage(m.body);
              if (!parsed.ok()) continue;
              if (!from.empty() && parsed->from != from) {
                return Status::InvalidInput(
                    "a batch holds the messages of one sender: " + from +
                    " and " + parsed->from);
              }
              from = parsed->from;
            }
            if (!from.empty()) RETURN_IF_ERROR(CheckPeerCertificate(req, from));
            std::vector<Result<std::string>> results =
                Mailroom(node).ReceiveBatch(batch);
            Lang lang = RequestLang(req);
            json out = json::array();
            for (const auto& r : results) {
              if (r.ok()) {
                out.push_back({{"receipt", *r}});
              } else {
                int status = HttpStatusFor(r.status().code());
                out.push_back({{"problem", json::parse(ProblemBody(
                                               status, r.status().code(),
                                               r.status().message(), lang))}});
              }
            }
            Reply r;
            AppendJson(&r.body, json{{"results", std::move(out)}});
            r.content_type = "application/json";
            r.headers.emplace("Cache-Control", "no-store");
            return r;
          });
    // A peer pulls evidence offered to it in a manifest, in ranges. The
    // Amanah-Pull header, signed by the peer's pinned key, authenticates.
    Route("GET", "/federation/v1/objects/" + route::kAddress,
          "GET /federation/v1/objects/{address}",
          [this](const httplib::Request& req) -> Result<Reply> {
            return ServePull(req);
          });
    // C2SP tlog-witness: peers submit their checkpoints for cosigning. No
    // user: the checkpoint's signature by a pinned peer key is what counts.
    std::string witness_route = "POST /witness/add-checkpoint";
    http->Post("/witness/add-checkpoint", [this, witness_route](
                                              const httplib::Request& req,
                                              httplib::Response& res) {
      t_request.route = witness_route;
      // The submitting log's origin: the checkpoint's first line, after
      // the blank line that ends the old size and the proof.
      size_t blank = req.body.find("\n\n");
      if (blank != std::string::npos) {
        std::string origin = req.body.substr(
            blank + 2, req.body.find('\n', blank + 2) - blank - 2);
        const std::string suffix = "/custody";
        if (origin.size() > suffix.size() &&
            origin.compare(origin.size() - suffix.size(), suffix.size(),
                           suffix) == 0) {
          Status s = CheckPeerCertificate(
              req, origin.substr(0, origin.size() - suffix.size()));
          if (!s.ok()) {
            WriteProblem(res, 403, s.code(), s.message(), RequestLang(req));
            return;
          }
        }
      }
      WitnessReply w = Witness(node).AddCheckpoint(req.body);
      if (w.http_status == 200) {
        res.status = 200;
        res.set_content(w.body, "text/plain; charset=utf-8");
      } else if (w.http_status == 409) {
        res.status = 409;
        res.set_content(w.body, "text/x.tlog.size");
      } else {
        Code code = w.http_status == 403   ? Code::kPermission
                    : w.http_status == 404 ? Code::kNotFound
                    : w.http_status == 413 ? Code::kTooLarge
                    : w.http_status == 500 ? Code::kIO
                                           : Code::kInvalidInput;
        WriteProblem(res, w.http_status, code, w.reason, RequestLang(req));
      }
    });

    Route("POST", "/api/v1/sessions", "POST /api/v1/sessions",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(json j, ParseBody(req, body::kSession));
            // Throttled per name and per client address (see
            // SignInThrottle): a 429, or a 503 when the password checks
            // are all busy, says when to try again.
            std::chrono::seconds retry_after(0);
            Result<std::string> token = users.Login(
                j["name"].get<std::string>(), j["password"].get<std::string>(),
                req.remote_addr, &retry_after);
            if (!token.ok() && retry_after.count() > 0) {
              return ProblemReply(req, token.status(), retry_after);
            }
            if (!token.ok()) return token.status();
            ASSIGN_OR_RETURN(Principal p, users.Authenticate(token.value()));
            t_request.user = p.user.name;
            return Reply::Json(
                {{"token", token.value()},
                 {"expires", FormatTime(p.expires_unix * 1000000)},
                 {"user", UserJson(p.user)}},
                201);
          });
    Route("DELETE", "/api/v1/sessions/current",
          "DELETE /api/v1/sessions/current",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(Principal p, Caller(req));
            RETURN_IF_ERROR(
                users.Logout(req.get_header_value("Authorization").substr(7)));
            ForgetCredentials();
            return Reply::NoContent();
          });
    Route("GET", "/api/v1/me", "GET /api/v1/me",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(Principal p, Caller(req));
            json j = UserJson(p.user);
            j["credential"] = p.credential_kind;
            j["expires"] = FormatTime(p.expires_unix * 1000000);
            return Reply::Json(j);
          });

    Route("GET", "/api/v1/users", "GET /api/v1/users",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(Principal p, Allow(req, Action::kViewUsers));
            ASSIGN_OR_RETURN(auto list, users.List());
            json items = json::array();
            for (const auto& u : list) items.push_back(UserJson(u));
            return Reply::Json({{"items", items}});
          });
    Route("POST", "/api/v1/users", "POST /api/v1/users",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(Principal p, Allow(req, Action::kManageUsers));
            ASSIGN_OR_RETURN(json j, ParseBody(req, body::kUser));
            ASSIGN_OR_RETURN(Role role,
                             ParseRole(j["role"].get<std::string>()));
            ASSIGN_OR_RETURN(
                Enrolment e,
                users.Add(Actor(p), j["name"].get<std::string>(), role));
            return EnrolmentReply(e);
          });
    Route("POST", "/api/v1/users/" + route::kUserName + "/disable",
          "POST /api/v1/users/{name}/disable",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(Principal p, Allow(req, Action::kManageUsers));
            RETURN_IF_ERROR(users.Disable(Actor(p), req.matches[1].str()));
            ForgetCredentials();
            return Reply::NoContent();
          });
    Route("POST", "/api/v1/users/" + route::kUserName + "/enrolment",
          "POST /api/v1/users/{name}/enrolment",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(Principal p, Allow(req, Action::kManageUsers));
            ASSIGN_OR_RETURN(Enrolment e,
                             users.Reissue(Actor(p), req.matches[1].str()));
            ForgetCredentials();
            return EnrolmentReply(e);
          });
    // A token for the caller themself, whatever their role: nobody, the
    // admin included, is issued a credential to act as someone else.
    Route(
        "POST", "/api/v1/users/" + route::kUserName + "/tokens",
        "POST /api/v1/users/{name}/tokens",
        [this](const httplib::Request& req) -> Result<Reply> {
          ASSIGN_OR_RETURN(Principal p, Caller(req));
          if (req.matches[1].str() != p.user.name) {
            return Status::Permission(
                "an API token is issued only to its own user: " + p.user.name +
                " may ask for /api/v1/users/" + p.user.name + "/tokens");
          }
          ASSIGN_OR_RETURN(json j, ParseBody(req, body::kToken));
          uint64_t days = j.value("days", uint64_t{kDefaultTokenDays});
          if (days > static_cast<uint64_t>(kMaxTokenDays)) days = 0;
          ASSIGN_OR_RETURN(
              std::string token,
              users.IssueOwnToken(p.user.name, StringField(j, "label"),
                                  static_cast<int64_t>(days)));
          Reply r = Reply::Json({{"token", token}, {"days", days}}, 201);
          r.headers.emplace("Cache-Control", "no-store");
          return r;
        });
    // The person redeems the enrolment secret themselves: for their own
    // password (and a session), or for a token-only account's first token.
    Route("POST", "/api/v1/enrolments", "POST /api/v1/enrolments",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(json j, ParseBody(req, body::kEnrolment));
            std::string name = j["name"];
            std::string secret = j["secret"];
            bool with_password = j.contains("password");
            if (with_password && (j.contains("label") || j.contains("days"))) {
              return Status::InvalidInput(
                  "give a password, or a label and days for a token-only "
                  "account, not both");
            }
            std::string token;
            if (with_password) {
              ASSIGN_OR_RETURN(
                  token, users.Enrol(name, secret, StringField(j, "password")));
            } else {
              uint64_t days = j.value("days", uint64_t{kDefaultTokenDays});
              if (days > static_cast<uint64_t>(kMaxTokenDays)) days = 0;
              ASSIGN_OR_RETURN(token, users.EnrolWithToken(
                                          name, secret, StringField(j, "label"),
                                          static_cast<int64_t>(days)));
            }
            ASSIGN_OR_RETURN(Principal p, users.Authenticate(token));
            t_request.user = p.user.name;
            Reply r =
                Reply::Json({{"token", token},
                             {"credential", p.credential_kind},
                             {"expires", FormatTime(p.expires_unix * 1000000)},
                             {"user", UserJson(p.user)}},
                            201);
            r.headers.emplace("Cache-Control", "no-store");
            return r;
          });

    AddCaseRoutes();
    AddRequestRoutes();
    AddEvidenceRoutes();

    Route("GET", "/api/v1/log/inclusion/" + route::kLogIndex,
          "GET /api/v1/log/inclusion/{index}",
          [this](const httplib::Request& req) { return Inclusion(req); });
  }

  // The caller, if their role and their membership of the case allow the
  // action; 404 if there is no such case.
  Result<Principal> AllowCase(const httplib::Request& req, Action action,
                              const std::string& case_id) {
    ASSIGN_OR_RETURN(Principal p, Caller(req));
    CaseBook book(node);
    ASSIGN_OR_RETURN(auto c, book.Get(case_id));
    if (!c) return Status::NotFound("no case " + case_id);
    ASSIGN_OR_RETURN(bool member, book.IsMember(case_id, p.user.name));
    if (!Allowed(p.user.role, action, member)) {
      return Status::Permission(
          std::string(member ? "" : "not a member of case " + case_id + ": ") +
          "a user with role " + std::string(RoleName(p.user.role)) +
          " may not " + std::string(ActionName(action)));
    }
    return p;
  }

  void AddCaseRoutes() {
    const std::string& kId = route::kCaseId;
    Route("POST", "/api/v1/cases", "POST /api/v1/cases",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(Principal p, Allow(req, Action::kOpenCase));
            ASSIGN_OR_RETURN(json j, ParseBody(req, body::kCase));
            ASSIGN_OR_RETURN(Offence offence,
                             ParseOffence(j["offence"].get<std::string>()));
            CaseDraft d{StringField(j, "id"), j["title"].get<std::string>(),
                        offence, j["legal_basis"].get<std::string>()};
            ASSIGN_OR_RETURN(Case c,
                             CaseBook(node).Open(Actor(p), d, p.user.name));
            Reply r = Reply::Json(CaseToJson(c), 201);
            r.headers.emplace("Location", "/api/v1/cases/" + c.id);
            return r;
          });
    Route("GET", "/api/v1/cases", "GET /api/v1/cases",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(Principal p, Caller(req));
            ASSIGN_OR_RETURN(size_t limit, PageLimit(req));
            std::string after = req.get_param_value("after");
            // The auditor sees every case; others their own.
            bool all = RoleSpansCases(p.user.role, Action::kViewCase);
            ASSIGN_OR_RETURN(
                auto cases,
                CaseBook(node).List(all ? "" : p.user.name, after, limit + 1));
            json items = json::array();
            for (size_t i = 0; i < cases.size() && i < limit; ++i) {
              items.push_back(CaseToJson(cases[i]));
            }
            json next = cases.size() > limit ? json(cases[limit - 1].id)
                                             : json(nullptr);
            return Reply::Json({{"items", items}, {"next", next}});
          });
    Route("GET", "/api/v1/cases/" + kId, "GET /api/v1/cases/{id}",
          [this](const httplib::Request& req) -> Result<Reply> {
            std::string id = req.matches[1].str();
            ASSIGN_OR_RETURN(Principal p,
                             AllowCase(req, Action::kViewCase, id));
            CaseBook book(node);
            ASSIGN_OR_RETURN(auto c, book.Get(id));
            ASSIGN_OR_RETURN(auto members, book.Members(id));
            ASSIGN_OR_RETURN(auto items, book.Items(id));
            json j = CaseToJson(*c);
            j["members"] = json::array();
            for (const auto& m : members) {
              j["members"].push_back({{"user", m.user},
                                      {"role", RoleName(m.role)},
                                      {"added", m.added}});
            }
            j["evidence"] = json::array();
            for (const auto& it : items) {
              json custody = json::array();
              for (const auto& e : it.custody) custody.push_back(EntryJson(e));
              j["evidence"].push_back({{"address", it.address},
                                       {"size", it.size},
                                       {"md5", it.md5},
                                       {"sha1", it.sha1},
                                       {"custody", custody}});
            }
            return Reply::Json(j);
          });
    // Membership: the lead's change is made at once; another member's is a
    // proposal (202) until a second member asks for the very same change.
    Route("POST", "/api/v1/cases/" + kId + "/members",
          "POST /api/v1/cases/{id}/members",
          [this](const httplib::Request& req) -> Result<Reply> {
            std::string id = req.matches[1].str();
            ASSIGN_OR_RETURN(Principal p,
                             AllowCase(req, Action::kManageMembers, id));
            ASSIGN_OR_RETURN(json j, ParseBody(req, body::kMember));
            std::string user = j["user"];
            ASSIGN_OR_RETURN(ChangeOutcome out,
                             CaseBook(node).ChangeMembers(
                                 p.user, id, MemberChange::kAdd, user));
            if (!out.applied) {
              return Reply::Json(ProposalJson(id, out.proposal), 202);
            }
            return Reply::Json({{"case", id}, {"user", user}}, 201);
          });
    Route("DELETE", "/api/v1/cases/" + kId + "/members/" + route::kMemberName,
          "DELETE /api/v1/cases/{id}/members/{user}",
          [this](const httplib::Request& req) -> Result<Reply> {
            std::string id = req.matches[1].str();
            ASSIGN_OR_RETURN(Principal p,
                             AllowCase(req, Action::kManageMembers, id));
            ASSIGN_OR_RETURN(
                ChangeOutcome out,
                CaseBook(node).ChangeMembers(p.user, id, MemberChange::kRemove,
                                             req.matches[2].str()));
            if (!out.applied) {
              return Reply::Json(ProposalJson(id, out.proposal), 202);
            }
            return Reply::NoContent();
          });
    Route("POST", "/api/v1/cases/" + kId + "/lead",
          "POST /api/v1/cases/{id}/lead",
          [this](const httplib::Request& req) -> Result<Reply> {
            std::string id = req.matches[1].str();
            ASSIGN_OR_RETURN(Principal p,
                             AllowCase(req, Action::kManageMembers, id));
            ASSIGN_OR_RETURN(json j, ParseBody(req, body::kMember));
            std::string user = j["user"];
            ASSIGN_OR_RETURN(ChangeOutcome out,
                             CaseBook(node).ChangeMembers(
                                 p.user, id, MemberChange::kLead, user));
            if (!out.applied) {
              return Reply::Json(ProposalJson(id, out.proposal), 202);
            }
            return Reply::Json({{"case", id}, {"lead", user}});
          });
    Route("GET", "/api/v1/cases/" + kId + "/proposals",
          "GET /api/v1/cases/{id}/proposals",
          [this](const httplib::Request& req) -> Result<Reply> {
            std::string id = req.matches[1].str();
            ASSIGN_OR_RETURN(Principal p,
                             AllowCase(req, Action::kViewCase, id));
            ASSIGN_OR_RETURN(auto list, CaseBook(node).Proposals(id));
            json items = json::array();
            for (const auto& pr : list) items.push_back(ProposalJson(id, pr));
            return Reply::Json({{"items", items}});
          });
    Route(
        "POST", "/api/v1/cases/" + kId + "/status",
        "POST /api/v1/cases/{id}/status",
        [this](const httplib::Request& req) -> Result<Reply> {
          std::string id = req.matches[1].str();
          ASSIGN_OR_RETURN(Principal p, AllowCase(req, Action::kCloseCase, id));
          ASSIGN_OR_RETURN(json j, ParseBody(req, body::kCaseStatus));
          ASSIGN_OR_RETURN(CaseStatus status,
                           ParseCaseStatus(j["status"].get<std::string>()));
          ASSIGN_OR_RETURN(
              Case c, CaseBook(node).SetStatus(Actor(p), id, status,
                                               j["reason"].get<std::string>()));
          return Reply::Json(CaseToJson(c));
        });
    Route("GET", "/api/v1/cases/" + kId + "/custody",
          "GET /api/v1/cases/{id}/custody",
          [this](const httplib::Request& req) -> Result<Reply> {
            std::string id = req.matches[1].str();
            ASSIGN_OR_RETURN(Principal p,
                             AllowCase(req, Action::kViewCustody, id));
            ASSIGN_OR_RETURN(size_t limit, PageLimit(req));
            int64_t after = -1;
            if (req.has_param("after")) {
              ASSIGN_OR_RETURN(
                  uint64_t a,
                  WholeNumber(req.get_param_value("after"), "after"));
              after = static_cast<int64_t>(a);
            }
            CustodyIndex index(&node->sql());
            ASSIGN_OR_RETURN(auto entries, index.ForCase(id, after, limit + 1));
            ASSIGN_OR_RETURN(CustodyLog * log, node->Log());
            LogReader reader = log->Reader();
            json items = json::array();
            for (size_t i = 0; i < entries.size() && i < limit; ++i) {
              // The entry opened for the case's members: its data, and the
              // exact bytes and disclosures to check it against the log.
              ASSIGN_OR_RETURN(OpenedEntry opened,
                               index.Opened(reader, entries[i].index));
              ASSIGN_OR_RETURN(auto disclosures,
                               index.Disclosures(entries[i].index));
              json j = EntryJson(entries[i]);
              j["data"] = opened.entry.data;
              ASSIGN_OR_RETURN(j["entry"], reader.Entry(entries[i].index));
              j["disclosures"] = disclosures;
              items.push_back(std::move(j));
            }
            json next = entries.size() > limit
                            ? json(std::to_string(entries[limit - 1].index))
                            : json(nullptr);
            return Reply::Json({{"items", items}, {"next", next}});
          });
  }

  json RequestJson(const Request& r) {
    return RequestToJson(r, node->env()->NowUnixNanos() / 1000000000);
  }

  // The request and the caller, if they may do `action` on its case.
  Result<std::pair<Request, Principal>> AllowRequest(
      const httplib::Request& req, Action action, const std::string& id) {
    ASSIGN_OR_RETURN(Principal p, Caller(req));
    ASSIGN_OR_RETURN(auto r, RequestBook(node).Get(id));
    if (!r) return Status::NotFound("no request " + id);
    ASSIGN_OR_RETURN(p, AllowCase(req, action, r->case_id));
    return std::make_pair(std::move(*r), std::move(p));
  }

  // Besides the role and membership: who may move which type of request.
  static Status CheckMayMove(const Principal& p, const Request& r,
                             RequestState to) {
    if (MayMove(p.user.role, r.type, to)) return Status::OK();
    return Status::Permission(
        "a user with role " + std::string(RoleName(p.user.role)) +
        " may not move a " + std::string(RequestTypeName(r.type)) +
        " request to " + std::string(RequestStateName(to)));
  }

  void AddRequestRoutes() {
    const std::string& kCase = route::kCaseId;
    const std::string& kReq = route::kRequestId;
    Route("POST", "/api/v1/cases/" + kCase + "/requests",
          "POST /api/v1/cases/{id}/requests",
          [this](const httplib::Request& req) -> Result<Reply> {
            std::string id = req.matches[1].str();
            ASSIGN_OR_RETURN(Principal p,
                             AllowCase(req, Action::kCreateRequest, id));
            ASSIGN_OR_RETURN(json j, ParseBody(req, body::kRequest));
            RequestDraft d;
            ASSIGN_OR_RETURN(d.type,
                             ParseRequestType(j["type"].get<std::string>()));
            ASSIGN_OR_RETURN(d.profile,
                             ParseProfile(j["profile"].get<std::string>()));
            ASSIGN_OR_RETURN(d.direction,
                             ParseDirection(j["direction"].get<std::string>()));
            d.reference = StringField(j, "reference");
            d.fields = j["fields"];
            ASSIGN_OR_RETURN(Request r,
                             RequestBook(node).Create(Actor(p), id, d));
            Reply out = Reply::Json(RequestJson(r), 201);
            out.headers.emplace("Location", "/api/v1/requests/" + r.id);
            return out;
          });
    Route("GET", "/api/v1/cases/" + kCase + "/requests",
          "GET /api/v1/cases/{id}/requests",
          [this](const httplib::Request& req) -> Result<Reply> {
            std::string id = req.matches[1].str();
            ASSIGN_OR_RETURN(Principal p,
                             AllowCase(req, Action::kViewRequests, id));
            ASSIGN_OR_RETURN(auto list, RequestBook(node).ForCase(id));
            json items = json::array();
            for (const auto& r : list) items.push_back(RequestJson(r));
            return Reply::Json({{"items", items}});
          });
    Route("GET", "/api/v1/requests", "GET /api/v1/requests",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(Principal p, Caller(req));
            if (!RoleAllows(p.user.role, Action::kViewRequests)) {
              return Status::Permission("a user with role " +
                                        std::string(RoleName(p.user.role)) +
                                        " may not view-requests");
            }
            ASSIGN_OR_RETURN(size_t limit, PageLimit(req));
            bool all = RoleSpansCases(p.user.role, Action::kViewRequests);
            ASSIGN_OR_RETURN(auto list, RequestBook(node).Open(
                                            all ? "" : p.user.name, limit));
            json items = json::array();
            for (const auto& r : list) items.push_back(RequestJson(r));
            return Reply::Json({{"items", items}});
          });
    Route("GET", "/api/v1/requests/" + kReq, "GET /api/v1/requests/{id}",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(auto rp, AllowRequest(req, Action::kViewRequests,
                                                   req.matches[1].str()));
            ASSIGN_OR_RETURN(auto moves,
                             RequestBook(node).History(rp.first.id));
            json j = RequestJson(rp.first);
            j["history"] = json::array();
            for (const auto& m : moves) {
              j["history"].push_back({{"from", m.from},
                                      {"to", m.to},
                                      {"time", m.time},
                                      {"actor", m.actor},
                                      {"reason", m.reason}});
            }
            return Reply::Json(j);
          });
    Route("POST", "/api/v1/requests/" + kReq + "/moves",
          "POST /api/v1/requests/{id}/moves",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(auto rp,
                             AllowRequest(req, Action::kTransitionRequest,
                                          req.matches[1].str()));
            ASSIGN_OR_RETURN(json j, ParseBody(req, body::kMove));
            ASSIGN_OR_RETURN(RequestState to,
                             ParseRequestState(j["to"].get<std::string>()));
            const Principal& p = rp.second;
            RETURN_IF_ERROR(CheckMayMove(p, rp.first, to));
            ASSIGN_OR_RETURN(Request r,
                             Exchange(node).Move(Actor(p), rp.first.id, to,
                                                 StringField(j, "reason")));
            return Reply::Json(RequestJson(r));
          });
    // Across borders (docs/requests.md): the same as `amanah request send`,
    // `request deliver`, `inbox` and `inbox file`, while the node serves.
    Route("POST", "/api/v1/requests/" + kReq + "/send",
          "POST /api/v1/requests/{id}/send",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(auto rp,
                             AllowRequest(req, Action::kTransitionRequest,
                                          req.matches[1].str()));
            ASSIGN_OR_RETURN(json j, ParseBody(req, body::kSend));
            const Principal& p = rp.second;
            RETURN_IF_ERROR(CheckMayMove(p, rp.first, RequestState::kSent));
            ASSIGN_OR_RETURN(std::string message,
                             Exchange(node).Send(Actor(p), rp.first.id,
                                                 j["peer"].get<std::string>()));
            ASSIGN_OR_RETURN(auto r, RequestBook(node).Get(rp.first.id));
            return Reply::Json(
                {{"request", RequestJson(*r)}, {"message", message}});
          });
    Route("POST", "/api/v1/requests/" + kReq + "/deliveries",
          "POST /api/v1/requests/{id}/deliveries",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(auto rp,
                             AllowRequest(req, Action::kTransitionRequest,
                                          req.matches[1].str()));
            ASSIGN_OR_RETURN(json j, ParseBody(req, body::kDelivery));
            ASSIGN_OR_RETURN(std::vector<ContentAddress> items,
                             AddressList(j["items"]));
            ASSIGN_OR_RETURN(
                std::string message,
                Transfers(node).Deliver(Actor(rp.second), rp.first.id, items,
                                        j.value("again", false)));
            return Reply::Json({{"request", rp.first.id},
                                {"message", message},
                                {"items", j["items"]}},
                               201);
          });
    Route("GET", "/api/v1/inbox", "GET /api/v1/inbox",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(Principal p, Allow(req, Action::kHandleInbox));
            ASSIGN_OR_RETURN(auto inbox, Mailroom(node).Inbox());
            json items = json::array();
            Exchange exchange(node);
            for (const auto& m : inbox) {
              ASSIGN_OR_RETURN(std::string outcome, exchange.Outcome(m.id));
              items.push_back({{"id", m.id},
                               {"from", m.peer},
                               {"type", m.type},
                               {"received", m.received},
                               {"outcome", outcome},
                               {"message", json::parse(m.body)}});
            }
            return Reply::Json({{"items", items}});
          });
    Route("POST", "/api/v1/inbox/" + route::kMessageId + "/file",
          "POST /api/v1/inbox/{id}/file",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(Principal p, Allow(req, Action::kHandleInbox));
            ASSIGN_OR_RETURN(json j, ParseBody(req, body::kFile));
            std::string case_id = j["case"];
            ASSIGN_OR_RETURN(p,
                             AllowCase(req, Action::kCreateRequest, case_id));
            ASSIGN_OR_RETURN(
                Request r,
                Exchange(node).File(Actor(p), req.matches[1].str(), case_id));
            Reply out = Reply::Json(RequestJson(r), 201);
            out.headers.emplace("Location", "/api/v1/requests/" + r.id);
            return out;
          });
    Route("GET", "/api/v1/requests/" + kReq + "/print",
          "GET /api/v1/requests/{id}/print",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(auto rp, AllowRequest(req, Action::kViewRequests,
                                                   req.matches[1].str()));
            ASSIGN_OR_RETURN(auto kase, CaseBook(node).Get(rp.first.case_id));
            Reply r;
            r.body = RenderRequestHtml(rp.first, *kase, node->info().name);
            r.content_type = "text/html; charset=utf-8";
            return r;
          });
  }

  json UploadJson(const UploadInfo& u) {
    json j = {{"id", u.id},
              {"case", u.case_id},
              {"name", u.name},
              {"offset", u.offset},
              {"state", u.state},
              {"created", u.created},
              {"url", "/api/v1/uploads/" + u.id}};
    if (u.state == "done") {
      j["address"] = u.address;
      j["entry_index"] = u.entry_index;
    }
    return j;
  }

  void AddEvidenceRoutes() {
    const std::string& kCase = route::kCaseId;
    const std::string& kUpload = route::kUploadId;
    Route("POST", "/api/v1/cases/" + kCase + "/uploads",
          "POST /api/v1/cases/{id}/uploads",
          [this](const httplib::Request& req) -> Result<Reply> {
            std::string id = req.matches[1].str();
            ASSIGN_OR_RETURN(Principal p,
                             AllowCase(req, Action::kUploadEvidence, id));
            ASSIGN_OR_RETURN(json j, ParseBody(req, body::kUpload));
            ASSIGN_OR_RETURN(
                UploadInfo u,
                uploads.Begin(Actor(p), id, j["name"].get<std::string>(),
                              StringField(j, "note"), j.value("md5", false),
                              j.value("sha1", false)));
            Reply r = Reply::Json(UploadJson(u), 201);
            r.headers.emplace("Location", "/api/v1/uploads/" + u.id);
            r.headers.emplace("Upload-Offset", "0");
            return r;
          });
    Route("GET", "/api/v1/uploads/" + kUpload, "GET /api/v1/uploads/{id}",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(UploadInfo u, AllowUpload(req, req.matches[1]));
            Reply r = Reply::Json(UploadJson(u));
            r.headers.emplace("Upload-Offset", std::to_string(u.offset));
            r.headers.emplace("Cache-Control", "no-store");
            return r;
          });
    // PATCH streams the body into the vault as it arrives.
    std::string name = "PATCH /api/v1/uploads/{id}";
    http->Patch(
        "/api/v1/uploads/" + kUpload,
        [this, name](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) {
          t_request.route = name;
          Result<Reply> r = Patch(req, reader);
          Respond(req, res, r);
        });
    Route("POST", "/api/v1/cases/" + kCase + "/exports",
          "POST /api/v1/cases/{id}/exports",
          [this](const httplib::Request& req) -> Result<Reply> {
            ASSIGN_OR_RETURN(Principal p, AllowCase(req, Action::kExportBundle,
                                                    req.matches[1].str()));
            std::vector<std::string> items;
            if (!req.body.empty()) {
              ASSIGN_OR_RETURN(json j, ParseBody(req, body::kExport));
              if (j.contains("items")) {
                ASSIGN_OR_RETURN(auto addresses, AddressList(j["items"]));
                for (const auto& a : addresses) items.push_back(a.ToString());
              }
            }
            return Export(req.matches[1].str(), p, items);
          });
    Route("GET", "/api/v1/evidence/" + route::kAddress + "/content",
          "GET /api/v1/evidence/{address}/content",
          [this](const httplib::Request& req) -> Result<Reply> {
            return Download(req);
          });
  }

  // The upload, if the caller may add evidence to its case.
  Result<UploadInfo> AllowUpload(const httplib::Request& req,
                                 const std::string& id) {
    ASSIGN_OR_RETURN(Principal p, Caller(req));
    ASSIGN_OR_RETURN(auto u, uploads.Get(id));
    if (!u) return Status::NotFound("no upload " + id);
    ASSIGN_OR_RETURN(p, AllowCase(req, Action::kUploadEvidence, u->case_id));
    return *u;
  }

  Result<Reply> Patch(const httplib::Request& req,
                      const httplib::ContentReader& reader) {
    ASSIGN_OR_RETURN(UploadInfo u, AllowUpload(req, req.matches[1].str()));
    if (!req.has_header("Upload-Offset")) {
      return Status::InvalidInput(
          "send Upload-Offset: the offset the body "
          "starts at (GET the upload to learn it)");
    }
    ASSIGN_OR_RETURN(
        uint64_t offset,
        WholeNumber(req.get_header_value("Upload-Offset"), "Upload-Offset"));
    ASSIGN_OR_RETURN(
        bool complete,
        ParseUploadComplete(req.get_header_value("Upload-Complete")));
    BodyReader body = [&](const std::function<bool(ByteView)>& take) {
      return reader([&](const char* data, size_t n) {
        metrics.AddIngestBytes(n);
        return take(ByteView(reinterpret_cast<const uint8_t*>(data), n));
      });
    };
    ASSIGN_OR_RETURN(auto done, uploads.Receive(u.id, offset, complete, body));
    ASSIGN_OR_RETURN(auto now, uploads.Get(u.id));
    if (!done) {
      Reply r = Reply::NoContent();
      r.headers.emplace("Upload-Offset", std::to_string(now->offset));
      return r;
    }
    json j = UploadJson(*now);
    j["size"] = done->object.size;
    j["duplicate"] = done->object.duplicate;
    j["hashes"] = json::object();
    for (const auto& [alg, digest] : done->object.digests) {
      j["hashes"][std::string(HashName(alg))] = HexEncode(digest);
    }
    // The entry as the case's members read it; the log holds it sealed.
    ASSIGN_OR_RETURN(CustodyLog * log, node->Log());
    LogReader entries = log->Reader();
    ASSIGN_OR_RETURN(
        OpenedEntry opened,
        CustodyIndex(&node->sql()).Opened(entries, done->entry_index));
    j["entry"] = CustodyEntryJson(opened.entry);
    Reply r = Reply::Json(j, 201);
    r.headers.emplace("Upload-Offset", std::to_string(now->offset));
    return r;
  }

  // Mutual TLS between nodes: over https, a federation request must come
  // with the client certificate pinned for `peer_name`. Over plain http,
  // allowed only on loopback (tests, one machine), the signatures alone
  // authenticate.
  Status CheckPeerCertificate(const httplib::Request& req,
                              const std::string& peer_name) {
    if (options.tls_cert.empty()) {
      if (IsLoopbackHost(options.host)) return Status::OK();
      return Status::Permission(
          "this node serves plain http on " + options.host +
          ": node-to-node traffic needs https with mutual TLS (amanah serve "
          "--tls)");
    }
    ASSIGN_OR_RETURN(std::optional<Peer> peer, PeerBook(node).Find(peer_name));
    if (!peer) return Status::Permission(peer_name + " is not a pinned peer");
    if (peer->tls_pin.empty()) {
      return Status::Permission(
          "this node serves https and authenticates peers by their TLS "
          "certificate, but none is pinned for " +
          peer_name + " (amanah peer add --tls-cert)");
    }
    X509* cert =
        req.ssl == nullptr ? nullptr : SSL_get1_peer_certificate(req.ssl);
    if (cert == nullptr) {
      return Status::Permission(
          "present your node's TLS certificate (mutual TLS between nodes)");
    }
    auto pin = CertificatePin(cert);
    X509_free(cert);
    if (!pin.ok() ||
        !ConstantTimeEqual(AsBytes(*pin), AsBytes(peer->tls_pin))) {
      return Status::Permission(
          "the client certificate is not the one pinned "
          "for " +
          peer_name);
    }
    return Status::OK();
  }

  // Serves an offered object to the peer it was offered to, after
  // recording the access.
  Result<Reply> ServePull(const httplib::Request& req) {
    std::string address = req.matches[1].str();
    ASSIGN_OR_RETURN(std::string peer,
                     CheckPullAuthorization(
                         node, req.get_header_value("Amanah-Pull"), address));
    RETURN_IF_ERROR(CheckPeerCertificate(req, peer));
    t_request.user = "peer:" + peer;
    ASSIGN_OR_RETURN(std::optional<Offer> offer,
                     Transfers(node).FindOffer(peer, address));
    if (!offer) {
      return Status::NotFound(address + " was not offered to " + peer);
    }
    ASSIGN_OR_RETURN(ContentAddress a, ContentAddress::Parse(address));
    ASSIGN_OR_RETURN(std::unique_ptr<ObjectReader> object,
                     node->vault().OpenReader(a));
    // One range at most (several would send the object many times over),
    // its end clamped to the object's (RFC 9110 14.1.1); one that starts
    // beyond the object cannot be satisfied (15.5.17).
    uint64_t size = object->size();
    auto& ranges = const_cast<httplib::Ranges&>(req.ranges);
    for (auto& [first, last] : ranges) {
      bool past = ranges.size() > 1 ||
                  (first >= 0 ? static_cast<uint64_t>(first) >= size
                              : last <= 0 || size == 0);
      if (!past && first >= 0 && last >= 0 &&
          static_cast<uint64_t>(last) >= size) {
        last = static_cast<ssize_t>(size - 1);
      }
      if (past) {
        Reply r;
        r.status = 416;
        r.content_type = "application/problem+json";
        r.body = ProblemBody(416, Code::kInvalidInput,
                             "the object has " + std::to_string(size) +
                                 " bytes; ask for one range within them",
                             RequestLang(req));
        r.headers.emplace("Content-Range", "bytes */" + std::to_string(size));
        return r;
      }
    }
    std::string range = req.get_header_value("Range");
    CustodyEntry e;
    e.kind = EntryKind::kEvidenceAccessed;
    e.actor = "peer:" + peer;
    e.subject = address;
    ASSIGN_OR_RETURN(std::optional<Request> request,
                     RequestBook(node).Get(offer->request_id));
    if (!request) {
      return Status::NotFound(address + " was offered for " +
                              offer->request_id + ", which is gone");
    }
    e.case_id = request->case_id;
    e.data = {{"purpose", "pulled by " + peer},
              {"message", offer->message_id},
              {"range", range.empty() ? "all" : range.substr(0, 100)}};
    // Recorded before a byte leaves.
    RETURN_IF_ERROR(node->Record(std::move(e)).status());
    Reply r;
    r.content_type = "application/octet-stream";
    r.headers.emplace("Cache-Control", "no-store");
    if (object->size() == 0) return r;  // an empty body, not a provider
    r.length = object->size();
    std::shared_ptr<ObjectReader> shared(std::move(object));
    r.ranged = [shared](size_t offset, size_t length, httplib::DataSink& sink) {
      Status s = shared->ReadRange(offset, length, [&](ByteView piece) {
        return sink.write(reinterpret_cast<const char*>(piece.data()),
                          piece.size());
      });
      return s.ok();  // false cuts the response: never a clean end
    };
    return r;
  }

  // Streams an object's plaintext, after recording the access. The object
  // must belong to the case named by ?case=, whose member the caller is.
  Result<Reply> Download(const httplib::Request& req) {
    ASSIGN_OR_RETURN(ContentAddress address,
                     ContentAddress::Parse(req.matches[1].str()));
    std::string case_id = req.get_param_value("case");
    if (case_id.empty()) {
      return Status::InvalidInput("name the case: ?case=ID");
    }
    ASSIGN_OR_RETURN(Principal p,
                     AllowCase(req, Action::kDownloadEvidence, case_id));
    ASSIGN_OR_RETURN(auto items, CaseBook(node).Items(case_id));
    bool held = false;
    for (const auto& it : items)
      held = held || it.address == address.ToString();
    if (!held || !node->vault().Contains(address)) {
      return Status::NotFound(address.ToString() + " is not evidence of case " +
                              case_id);
    }
    CustodyEntry e;
    e.kind = EntryKind::kEvidenceAccessed;
    e.actor = Actor(p);
    e.case_id = case_id;
    e.subject = address.ToString();
    e.data["purpose"] = "download over HTTP";
    // Recorded before a byte leaves: a read that is not in the log must not
    // happen.
    RETURN_IF_ERROR(node->Record(std::move(e)).status());
    Reply r;
    r.stream = [this, address](httplib::DataSink& sink) {
      struct ToSink : ChunkSink {
        httplib::DataSink* sink;
        Status Consume(ByteView c, uint64_t, bool) override {
          return WriteToClient(sink, c);
        }
      } to;
      to.sink = &sink;
      auto check = node->vault().Read(address, &to);
      if (!check.ok()) return false;  // cut the response: never a clean end
      sink.done();
      return true;
    };
    r.content_type = "application/octet-stream";
    r.headers.emplace("Cache-Control", "no-store");
    r.headers.emplace(
        "Content-Disposition",
        "attachment; filename=\"" + HexEncode(address.digest) + "\"");
    return r;
  }

  // POST /api/v1/cases/{id}/exports: the case's evidence as a bundle (a tar
  // archive, streamed). The export is logged before the first byte is sent;
  // a response cut short (a corrupt object, the client gone) has no clean
  // end, which any tar reader and the verifier notice.
  Result<Reply> Export(const std::string& id, const Principal& p,
                       const std::vector<std::string>& items) {
    std::string name =
        id + "-" + std::to_string(node->env()->NowUnixNanos() / 1000000000) +
        ".tar";
    Node* n = node;
    ASSIGN_OR_RETURN(
        std::unique_ptr<PreparedExport> x,
        PreparedExport::Prepare(n, {id, items, Actor(p), name}, [n] {
          WitnessClient(n, std::chrono::seconds(10)).SubmitToAll();
        }));
    Reply r;
    std::shared_ptr<PreparedExport> shared(std::move(x));
    r.stream = [shared](httplib::DataSink& sink) {
      struct ToSink : ByteSink {
        httplib::DataSink* sink;
        Status Append(ByteView c) override { return WriteToClient(sink, c); }
      } to;
      to.sink = &sink;
      if (!shared->WriteTo(&to).ok()) return false;
      sink.done();
      return true;
    };
    const ExportSummary& sum = shared->summary();
    r.content_type = "application/x-tar";
    r.headers.emplace("Cache-Control", "no-store");
    r.headers.emplace("Content-Disposition",
                      "attachment; filename=\"" + name + "\"");
    r.headers.emplace("Amanah-Manifest-SHA256", sum.manifest_sha256);
    r.headers.emplace("Amanah-Checkpoint-Size",
                      std::to_string(sum.checkpoint_size));
    r.headers.emplace("Amanah-Verifier-Key", sum.verifier_key);
    return r;
  }

  // Runs `work` now and then every `period` until stopped; a failure is
  // reported on stderr, saying what was being done, and tried again.
  void Every(std::chrono::milliseconds period, const char* what,
             const std::function<Status()>& work) {
    std::unique_lock<std::mutex> l(sweep_mu);
    while (!stopping) {
      l.unlock();
      Status s = work();
      if (!s.ok()) {
        std::fprintf(stderr, "amanah: %s: %s\n", what, s.ToString().c_str());
      }
      l.lock();
      sweep_cv.wait_for(l, period, [&] { return stopping; });
    }
  }

  uint64_t LogSize() {
    auto log = node->Log();
    return log.ok() ? (*log)->Latest().size : 0;
  }

  Result<Reply> Tile(const httplib::Request& req) {
    std::optional<TileRoute> t = ParseTileRoute(req.path);
    if (!t) return Status::NotFound("no such tile path: " + req.path);
    if (t->entries) {
      ASSIGN_OR_RETURN(Principal p, Allow(req, Action::kViewLog));
    }
    if (!t->valid) return Status::NotFound("no such tile: " + t->rel);
    ASSIGN_OR_RETURN(Reply r, TileBody(t->level, t->index, t->width));
    if (r.body.empty()) return Status::NotFound("no such tile: " + t->rel);
    r.content_type = "application/octet-stream";
    // A tile's content never changes once written; partial tiles may later
    // be removed once their full tile exists.
    r.headers.emplace("Cache-Control",
                      t->width < kTileWidth
                          ? "public, max-age=3600, immutable"
                          : "public, max-age=31536000, immutable");
    return r;
  }

  // The tile, as a reader of the tree in which it has `width` reads it: from
  // the log's edge in memory, or from disk, where a partial tile's file may
  // not be written yet or be gone once its full tile exists (the reader
  // then takes a prefix of a wider one). An empty body if there is none.
  Result<Reply> TileBody(int level, uint64_t index, uint64_t width) {
    ASSIGN_OR_RETURN(CustodyLog * log, node->Log());
    Reply r;
    int shift = kTileHeight * std::max(level, 0);
    if (shift >= 64) return r;  // no such tree
    unsigned __int128 size =
        (static_cast<unsigned __int128>(index) * kTileWidth + width) << shift;
    if (size > UINT64_MAX) return r;
    LogReader reader(&node->tiles(), nullptr, static_cast<uint64_t>(size),
                     log->Edge());
    Status s;
    if (level < 0) {
      auto bundle = reader.EntryBundle(index);
      if (bundle.ok()) r.body = EncodeEntryBundle(*bundle);
      s = bundle.status();
    } else {
      auto tile = reader.Tile(level, index);
      if (tile.ok()) r.body = EncodeHashTile(**tile);
      s = tile.status();
    }
    if (!s.ok() && s.code() != Code::kNotFound) return s;
    return r;
  }

  Result<Reply> Inclusion(const httplib::Request& req) {
    ASSIGN_OR_RETURN(Principal p, Allow(req, Action::kViewLog));
    ASSIGN_OR_RETURN(CustodyLog * log, node->Log());
    SignedCheckpoint cp = log->Latest();
    uint64_t index = std::stoull(req.matches[1]);
    uint64_t size = cp.size;
    if (req.has_param("size")) {
      ASSIGN_OR_RETURN(size, WholeNumber(req.get_param_value("size"), "size"));
    }
    if (size > cp.size) {
      return Status::InvalidInput("size " + std::to_string(size) +
                                  " is beyond the checkpoint's " +
                                  std::to_string(cp.size));
    }
    if (index >= size) {
      return Status::NotFound("no entry " + std::to_string(index) +
                              " in a tree of size " + std::to_string(size));
    }
    LogReader r = log->ReaderAt(size);
    ASSIGN_OR_RETURN(auto proof, r.InclusionProof(index));
    json hashes = json::array();
    for (const auto& h : proof) hashes.push_back(Base64Encode(h));
    json j = {{"index", index}, {"size", size}, {"proof", hashes}};
    if (size == cp.size) j["checkpoint"] = cp.note;
    return Reply::Json(j);
  }

  void AccessLog(const httplib::Request& req, const httplib::Response& res) {
    double seconds =
        std::chrono::duration<double>(Clock::now() - t_request.start).count();
    metrics.ObserveRequest(t_request.route, res.status, seconds);
    json j = {{"time", FormatTime(node->env()->NowUnixNanos() / 1000)},
              {"remote", req.remote_addr},
              {"method", req.method},
              {"path", req.path},
              {"route", t_request.route},
              {"status", res.status},
              {"ms", static_cast<int64_t>(seconds * 1e6) / 1e3},
              {"bytes", res.body.size()},
              {"user", t_request.user}};
    std::string line;
    AppendJson(&line, j);
    if (options.access_log) {
      options.access_log(line);
    } else {
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), stderr);
    }
  }
};

Result<std::unique_ptr<ApiServer>> ApiServer::Create(Node* node,
                                                     ServerOptions options) {
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return Status::InvalidInput("--tls-cert and --tls-key go together");
  }
  auto impl = std::make_unique<Impl>(node, std::move(options));
  // Open the log before any request thread can race to.
  RETURN_IF_ERROR(node->Log().status());
  // Connections are admitted per address and read with deadlines
  // (server/connections.h).
  const ConnectionLimits& limits = impl->options.connections;
  if (impl->options.tls_cert.empty()) {
    impl->http = NewGuardedServer(limits, &impl->connection_counters);
  } else {
    for (const auto& f : {impl->options.tls_cert, impl->options.tls_key}) {
      if (!node->env()->FileExists(f)) {
        return Status::NotFound(f + ": no such file");
      }
    }
    std::unique_ptr<httplib::Server> tls =
        NewGuardedServer(limits, &impl->connection_counters,
                         impl->options.tls_cert, impl->options.tls_key);
    if (!tls->is_valid()) {
      return Status::InvalidInput(
          "could not load the TLS certificate and key (PEM expected)");
    }
    SSL_CTX* context =
        static_cast<httplib::SSLServer*>(tls.get())->ssl_context();
    RETURN_IF_ERROR(RestrictTls(context));
    // Ask every client for a certificate, accept any (or none) in the
    // handshake: people and tools use tokens, and a peer node's
    // certificate is checked against its pin by the federation routes
    // (CheckPeerCertificate), which refuse a peer without one.
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER,
                       [](int, X509_STORE_CTX*) { return 1; });
    impl->http = std::move(tls);
    // Peers pin the certificate served here; it is also the one this node
    // presents to them.
    node->set_tls_identity({impl->options.tls_cert, impl->options.tls_key});
  }
  Impl* p = impl.get();
  httplib::Server& http = *impl->http;
  http.set_keep_alive_max_count(10000);
  http.set_keep_alive_timeout(std::max<time_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(limits.keep_alive)
             .count()));
  // Answers go out at once (no Nagle delay behind small writes), and each
  // served connection has a thread: the pool serves that many at a time,
  // at most per_address of them from one address.
  http.set_tcp_nodelay(true);
  http.new_task_queue = [threads = std::max<size_t>(limits.threads, 1)] {
    return new httplib::ThreadPool(threads);  // httplib takes ownership
  };
  // httplib listens with a backlog of 5: peers and clients that connect at
  // once beyond that (a courier opens a connection per conversation) lose
  // their handshakes and fail. The listening socket is remembered here and
  // given the system's full backlog once bound.
  http.set_socket_options([p](socket_t sock) {
    httplib::default_socket_options(sock);
    p->listen_fd = sock;
  });
  // Only evidence uploads (PATCH) stream large bodies; every other body is
  // JSON of at most max_json_body bytes (checked by ParseBody, which answers
  // 413). Bodies far beyond that, or chunked ones, are refused before they
  // are read, so that no request can make the server buffer gigabytes.
  http.set_payload_max_length(size_t{1} << 44);  // 16 TiB
  http.set_pre_routing_handler([p](const httplib::Request& req,
                                   httplib::Response& res) {
    t_request = HttpRequestState{Clock::now(), "unmatched", "-"};
    // The headers are in: a body must now arrive within the body timeout,
    // an upload's for as long as it keeps coming. A PATCH anywhere else has
    // no route to stream it and would be read whole into memory: it gets
    // the limits of every other body.
    bool upload =
        req.method == "PATCH" && std::regex_match(req.path, kUploadPath);
    RequestHeadersRead(upload);
    if (upload) return httplib::Server::HandlerResponse::Unhandled;
    bool chunked = req.has_header("Transfer-Encoding");
    uint64_t length = 0;
    if (req.has_header("Content-Length")) {
      const std::string& v = req.get_header_value("Content-Length");
      length =
          v.size() > 19 ? UINT64_MAX : std::strtoull(v.c_str(), nullptr, 10);
    }
    if (chunked || length > 16 * p->options.max_json_body) {
      WriteProblem(res, 413, Code::kTooLarge,
                   chunked ? "send a Content-Length, not a chunked body"
                           : "the body is larger than this endpoint accepts (" +
                                 std::to_string(p->options.max_json_body) +
                                 " bytes)",
                   RequestLang(req));
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors raised by the HTTP layer itself (no route, body too large, bad
  // request line) get a problem document too. httplib calls this for every
  // status from 400 up, the handlers' problem documents included, and then
  // cuts the request's Range out of the body: a Range asks for part of a
  // representation, never of an error, so it is dropped here.
  http.set_error_handler([](const httplib::Request& req,
                            httplib::Response& res) {
    const_cast<httplib::Request&>(req).ranges.clear();
    if (RequestTimedOut()) {
      // A connection that sent part of a request and stalled.
      res.status = 408;
      WriteProblem(res, 408, Code::kInvalidInput,
                   "the request did not arrive in time", RequestLang(req));
      res.set_header("Connection", "close");
      return;
    }
    if (!res.body.empty()) return;
    Code code = res.status == 404   ? Code::kNotFound
                : res.status == 413 ? Code::kTooLarge
                : res.status < 500  ? Code::kInvalidInput
                                    : Code::kIO;
    std::string detail =
        res.status == 404   ? "no such resource: " + req.method + " " + req.path
        : res.status == 413 ? "the body is larger than this endpoint accepts"
                            : "the server could not read this request";
    WriteProblem(res, res.status, code, detail, RequestLang(req));
  });
  http.set_exception_handler([](const httplib::Request& req,
                                httplib::Response& res, std::exception_ptr) {
    WriteProblem(res, 500, Code::kIO, "internal error", RequestLang(req));
  });
  http.set_logger(
      [p](const httplib::Request& req, const httplib::Response& res) {
        p->AccessLog(req, res);
      });
  impl->AddRoutes();

  if (impl->options.port == 0) {
    impl->port = http.bind_to_any_port(impl->options.host);
    if (impl->port <= 0) {
      return Status::Unavailable("cannot listen on " + impl->options.host);
    }
  } else {
    if (!http.bind_to_port(impl->options.host, impl->options.port)) {
      return Status::Unavailable("cannot listen on " + impl->options.host +
                                 ":" + std::to_string(impl->options.port) +
                                 " (in use, or not an address of this host)");
    }
    impl->port = impl->options.port;
  }
  if (impl->listen_fd >= 0) (void)::listen(impl->listen_fd, SOMAXCONN);
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiServer::~ApiServer() { Stop(); }

int ApiServer::port() const { return impl_->port; }

std::string ApiServer::url() const {
  return std::string(impl_->options.tls_cert.empty() ? "http" : "https") +
         "://" + impl_->options.host + ":" + std::to_string(impl_->port);
}

Status ApiServer::Run() {
  Impl* impl = impl_.get();
  // Lapsed preservations move to expired, once a minute.
  impl->sweeper = std::thread([impl] {
    impl->Every(std::chrono::seconds(60), "expiring requests", [impl] {
      return RequestBook(impl->node).SweepExpired().status();
    });
  });
  if (impl->options.courier_interval.count() > 0) {
    impl->courier = std::thread([impl] {
      impl->Every(impl->options.courier_interval, "delivering messages",
                  [impl] { return Courier(impl->node).DeliverDue().status(); });
    });
  }
  if (impl->options.fetch_interval.count() > 0) {
    impl->fetcher = std::thread([impl] {
      impl->Every(impl->options.fetch_interval, "pulling evidence", [impl] {
        return Fetcher(impl->node, std::chrono::seconds(30), &impl->stop_pulls)
            .FetchDue()
            .status();
      });
    });
  }
  if (impl->options.witness_interval.count() > 0) {
    // Failures are recorded per peer (amanah peer list), not printed.
    impl->witness_submitter = std::thread([impl] {
      impl->Every(impl->options.witness_interval, "submitting checkpoints",
                  [impl] {
                    WitnessClient(impl->node).SubmitToAll();
                    return Status::OK();
                  });
    });
  }
  if (!impl_->http->listen_after_bind()) {
    return Status::Unavailable("the server stopped listening");
  }
  return Status::OK();
}

void ApiServer::Stop() {
  if (!impl_ || !impl_->http) return;
  impl_->http->stop();
  {
    std::lock_guard<std::mutex> l(impl_->sweep_mu);
    impl_->stopping = true;
  }
  impl_->stop_pulls = true;
  impl_->sweep_cv.notify_all();
  if (impl_->sweeper.joinable()) impl_->sweeper.join();
  if (impl_->witness_submitter.joinable()) impl_->witness_submitter.join();
  if (impl_->courier.joinable()) impl_->courier.join();
  if (impl_->fetcher.joinable()) impl_->fetcher.join();
}

}  // namespace amanah
