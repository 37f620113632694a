// docs/openapi.yaml (written in JSON syntax, so nlohmann::json reads it)
// against a running server: every operation it describes is served by the
// route of that name, every route the server registers is described, the
// operations declare the problem responses their handlers give, request
// bodies have exactly the fields and types the server accepts, required
// parameters are required, the body limits hold, and x-amanah-action agrees
// with the role x action matrix.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "app/cases.h"
#include "app/requests.h"
#include "app/testutil.h"
#include "app/users.h"
#include "server/server.h"

namespace amanah {
namespace {

using nlohmann::json;

// src/server/openapi_test.cc -> the repository root.
std::filesystem::path RepoRoot() {
  return std::filesystem::path(__FILE__)
      .parent_path()
      .parent_path()
      .parent_path();
}

std::string ReadText(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(c));
  return s;
}

// A route name as server.cc writes it: "GET /api/v1/cases/{id}", or
// "PATCH /api/v1/uploads/{id}" for the route registered without Route().
const std::regex kRouteName(R"re("((GET|POST|DELETE|PATCH) (/[^"]*))")re");

// The route name the server gives an operation of the spec.
std::string RouteName(const std::string& method, const std::string& path) {
  if (method == "get" && path == "/log/tile/{path}") return "GET /log/tile";
  return Upper(method) + " " + path;
}

// `path` with each {param} replaced by its value.
std::string Fill(std::string path,
                 const std::map<std::string, std::string>& values) {
  for (const auto& [name, value] : values) {
    std::string key = "{" + name + "}";
    for (size_t at; (at = path.find(key)) != std::string::npos;) {
      path.replace(at, key.size(), value);
    }
  }
  return path;
}

// The names of the {params} in a path template.
std::set<std::string> TemplateParams(const std::string& path) {
  std::set<std::string> out;
  static const std::regex kParam(R"(\{([^}]+)\})");
  for (std::sregex_iterator it(path.begin(), path.end(), kParam), end;
       it != end; ++it) {
    out.insert((*it)[1].str());
  }
  return out;
}

// Sends `head` (a request line, headers and any body) on a connection of its
// own and returns the response's status and body; `head` should ask for
// Connection: close. From `source` (an address of 127/8) if given, and the
// response's status line and headers in *response_head if asked for.
std::pair<int, std::string> RawRequest(int port, const std::string& head,
                                       const char* source = nullptr,
                                       std::string* response_head = nullptr) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {0, "(no socket)"};
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (source != nullptr) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0) {
      ::close(fd);
      return {0, "(cannot bind)"};
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::send(fd, head.data(), head.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(head.size())) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) {
      response.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  static const std::regex kStatus(R"(^HTTP/1\.[01] ([0-9]{3}) )");
  std::smatch m;
  if (!std::regex_search(response, m, kStatus)) return {0, response};
  size_t body = response.find("\r\n\r\n");
  if (response_head != nullptr) *response_head = response.substr(0, body);
  return {std::stoi(m[1]),
          body == std::string::npos ? "" : response.substr(body + 4)};
}

struct Operation {
  std::string method;  // lower case, as in the spec
  std::string path;    // the template
  json op;
};

// One node and server for the whole suite: the requests the tests make
// change nothing the other tests look at.
class OpenApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("OpenApiTest_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::string data = (dir_ / "data").string();
    ASSERT_TRUE(Node::Init(Env::Default(), data, "ccd.moi.gov.kw").ok());
    node_ = std::move(Node::Open(Env::Default(), data)).value();
    for (Role r : AllRoles()) {
      std::string name = "u-" + std::string(RoleName(r));
      auto token = testutil::AddEnrolledUser(node_.get(), name, r);
      ASSERT_TRUE(token.ok()) << token.status().ToString();
      tokens_[r] = *token;
    }
    // A case the investigator opened and the prosecutor joined, with a
    // request in it.
    CaseDraft d{"KW-1", "a case", Offence::kCybercrime, "Budapest art. 29"};
    CaseBook book(node_.get());
    ASSERT_TRUE(book.Open("user:u-investigator", d, "u-investigator").ok());
    ASSERT_TRUE(book.AddMember("local:test", "KW-1", "u-prosecutor").ok());
    RequestDraft rd;
    rd.type = RequestType::kSubscriber;
    json authority = {{"name", "CCD"}, {"time_zone", "Asia/Kuwait"}};
    json text = {{"en", "text"}};
    rd.fields = {{"requesting_authority", authority},
                 {"requested_authority", authority},
                 {"offence", text},
                 {"summary_of_facts", text},
                 {"data_requested", text}};
    auto request =
        RequestBook(node_.get()).Create("user:u-prosecutor", "KW-1", rd);
    ASSERT_TRUE(request.ok()) << request.status().ToString();
    request_id_ = request->id;

    ServerOptions o;
    o.port = 0;
    o.access_log = [](const std::string& line) {
      std::lock_guard<std::mutex> l(log_mu_);
      access_log_.push_back(line);
    };
    auto server = ApiServer::Create(node_.get(), o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    thread_ = std::thread([] { (void)server_->Run(); });

    // An upload in KW-1, for the operations on /api/v1/uploads/{id}.
    httplib::Client client("127.0.0.1", server_->port());
    for (int i = 0; i < 200 && !client.Get("/healthz"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    auto upload = client.Post(
        "/api/v1/cases/KW-1/uploads",
        {{"Authorization", "Bearer " + tokens_[Role::kInvestigator]}},
        R"({"name":"openapi.bin"})", "application/json");
    ASSERT_TRUE(upload);
    ASSERT_EQ(upload->status, 201) << upload->body;
    upload_id_ = json::parse(upload->body)["id"];
  }
  static void TearDownTestSuite() {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  void SetUp() override {
    ASSERT_TRUE(server_) << "the server did not start";
    std::filesystem::path spec_path = RepoRoot() / "docs" / "openapi.yaml";
    ASSERT_TRUE(std::filesystem::exists(spec_path)) << spec_path;
    spec_ = json::parse(ReadText(spec_path), nullptr, false);
    ASSERT_TRUE(spec_.is_object()) << spec_path << " is not JSON";
    ASSERT_TRUE(spec_["paths"].is_object());
    for (const auto& [path, item] : spec_["paths"].items()) {
      for (const auto& [method, op] : item.items()) {
        if (method == "get" || method == "post" || method == "delete" ||
            method == "put" || method == "patch" || method == "head" ||
            method == "options" || method == "trace") {
          ops_.push_back({method, path, op});
        }
      }
    }
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    for (int i = 0; i < 200 && !client_->Get("/healthz"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // Follows a local "$ref" ("#/components/...").
  const json& Resolve(const json& j) const {
    const json* at = &j;
    for (int depth = 0; depth < 10 && at->is_object() && at->contains("$ref");
         ++depth) {
      std::string ref = (*at)["$ref"];
      EXPECT_EQ(ref.rfind("#/", 0), 0u) << ref;
      json::json_pointer ptr(ref.substr(1));
      if (!spec_.contains(ptr)) {
        ADD_FAILURE() << "unresolved $ref " << ref;
        static const json kNull;
        return kNull;
      }
      at = &spec_.at(ptr);
    }
    return *at;
  }

  // The JSON type of a schema: "string", "integer", "boolean", ...
  std::string TypeOf(const json& schema) const {
    const json& s = Resolve(schema);
    if (s.contains("type") && s["type"].is_string()) return s["type"];
    if (s.contains("enum") && !s["enum"].empty() && s["enum"][0].is_string()) {
      return "string";
    }
    if (s.contains("allOf") && !s["allOf"].empty()) {
      return TypeOf(s["allOf"][0]);
    }
    return "";
  }

  std::vector<json> Parameters(const Operation& o) const {
    std::vector<json> out;
    if (o.op.contains("parameters")) {
      for (const auto& p : o.op["parameters"]) out.push_back(Resolve(p));
    }
    return out;
  }

  static bool HasResponse(const Operation& o, const char* status) {
    return o.op.contains("responses") && o.op["responses"].contains(status);
  }

  // Whether the operation accepts a bearer token at all.
  bool Secured(const Operation& o) const {
    const json& sec =
        o.op.contains("security") ? o.op["security"] : spec_["security"];
    for (const auto& req : sec) {
      if (!req.empty()) return true;
    }
    return false;
  }
  // Whether it can be called without one.
  bool Anonymous(const Operation& o) const {
    const json& sec =
        o.op.contains("security") ? o.op["security"] : spec_["security"];
    if (sec.empty()) return true;
    for (const auto& req : sec) {
      if (req.empty()) return true;
    }
    return false;
  }

  // `values` for an operation on the caller's own account (x-amanah-self
  // names the path parameter that must be the caller) with that parameter
  // set to `r`'s user.
  static std::map<std::string, std::string> ForCaller(
      const Operation& o, std::map<std::string, std::string> values, Role r) {
    if (o.op.contains("x-amanah-self")) {
      values[o.op["x-amanah-self"].get<std::string>()] =
          "u-" + std::string(RoleName(r));
    }
    return values;
  }

  // Whether `r`'s test user is a member of KW-1.
  static bool Member(Role r) {
    return r == Role::kInvestigator || r == Role::kProsecutor;
  }

  // Path parameter values; {id} is a request's id under /api/v1/requests/
  // and an upload's under /api/v1/uploads/.
  static std::string FillFor(const std::string& path,
                             std::map<std::string, std::string> values,
                             const std::string& request_id,
                             const std::string& upload_id = upload_id_) {
    if (path.rfind("/api/v1/requests/", 0) == 0) values["id"] = request_id;
    if (path.rfind("/api/v1/uploads/", 0) == 0) values["id"] = upload_id;
    if (path.rfind("/api/v1/inbox/", 0) == 0)
      values["id"] = std::string(32, 'a');
    return Fill(path, values);
  }

  // "?name=value&..." for the operation's required query parameters, or "".
  std::string Query(const Operation& o,
                    const std::map<std::string, std::string>& values,
                    const std::string& omit = "") const {
    std::string q;
    for (const json& p : Parameters(o)) {
      if (p["in"] != "query" || p.value("required", false) == false) continue;
      std::string name = p["name"];
      if (name == omit) continue;
      auto v = values.find(name);
      EXPECT_NE(v, values.end()) << "no value for ?" << name;
      if (v == values.end()) continue;
      q += (q.empty() ? "?" : "&") + name + "=" + v->second;
    }
    return q;
  }

  // Whether the operation is about one case: one in its path, or named by a
  // required ?case=.
  bool AboutOneCase(const Operation& o) const {
    if (o.path.find("{id}") != std::string::npos) return true;
    for (const json& p : Parameters(o)) {
      if (p["in"] == "query" && p["name"] == "case" &&
          p.value("required", false)) {
        return true;
      }
    }
    return false;
  }

  // Whether the request body is JSON (rather than streamed bytes).
  static bool JsonBody(const Operation& o) {
    return o.op.contains("requestBody") &&
           o.op["requestBody"]["content"].contains("application/json");
  }

  httplib::Headers Auth(Role r) {
    return {{"Authorization", "Bearer " + tokens_[r]}};
  }

  // A request as the operation takes it: GET and DELETE without a body,
  // POST with `body` as JSON, and PATCH (the upload) with a few bytes at
  // Upload-Offset: 0, which commits nothing (only whole 1 MiB chunks are).
  httplib::Result Send(const std::string& method, const std::string& path,
                       const httplib::Headers& h,
                       const std::string& body = "{}") {
    if (method == "get") return client_->Get(path.c_str(), h);
    if (method == "delete") return client_->Delete(path.c_str(), h);
    if (method == "patch") {
      httplib::Headers with = h;
      if (with.find("Upload-Offset") == with.end()) {
        with.emplace("Upload-Offset", "0");
      }
      return client_->Patch(path.c_str(), with, "amanah openapi test",
                            "application/octet-stream");
    }
    return client_->Post(path.c_str(), h, body, "application/json");
  }

  // Any method with any body.
  httplib::Result SendBody(const std::string& method, const std::string& path,
                           const httplib::Headers& h, const std::string& body,
                           const std::string& content_type) {
    httplib::Request req;
    req.method = Upper(method);
    req.path = path;
    req.headers = h;
    req.headers.emplace("Content-Type", content_type);
    req.body = body;
    return client_->send(req);
  }

  // A role whose user may do the operation's action on KW-1; the admin for
  // secured operations without one.
  httplib::Headers Permitted(const Operation& o) {
    if (!o.op.contains("x-amanah-action")) {
      return Secured(o) ? Auth(Role::kAdmin) : httplib::Headers{};
    }
    std::string action = o.op["x-amanah-action"];
    for (Role r : AllRoles()) {
      for (Action a : AllActions()) {
        if (ActionName(a) == action && Allowed(r, a, Member(r))) {
          return Auth(r);
        }
      }
    }
    ADD_FAILURE() << "no role may " << action;
    return {};
  }

  void ClearLog() {
    std::lock_guard<std::mutex> l(log_mu_);
    access_log_.clear();
  }

  // The route the access log names for a request; the log line is written
  // after the response, so wait for it.
  std::string LoggedRoute(const std::string& method, const std::string& path) {
    for (int i = 0; i < 400; ++i) {
      {
        std::lock_guard<std::mutex> l(log_mu_);
        for (const auto& line : access_log_) {
          json j = json::parse(line, nullptr, false);
          if (j.is_object() && j["method"] == method && j["path"] == path) {
            return j["route"];
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return "(no access log line)";
  }

  static std::string Detail(const httplib::Result& r) {
    if (!r) return "(no response)";
    json j = json::parse(r->body, nullptr, false);
    if (!j.is_object() || !j.contains("detail")) return "";
    return j["detail"];
  }

  static inline std::filesystem::path dir_;
  static inline std::unique_ptr<Node> node_;
  static inline std::unique_ptr<ApiServer> server_;
  static inline std::thread thread_;
  static inline std::map<Role, std::string> tokens_;
  static inline std::string request_id_;
  static inline std::string upload_id_;
  static inline std::mutex log_mu_;
  static inline std::vector<std::string> access_log_;

  json spec_;
  std::vector<Operation> ops_;
  std::unique_ptr<httplib::Client> client_;
};

// (a) Each operation, requested without credentials, reaches the route of
// its name; secured operations answer 401, public ones do not.
TEST_F(OpenApiTest, EveryOperationIsServedByItsRoute) {
  ASSERT_GE(ops_.size(), 10u);
  const std::map<std::string, std::string> values = {
      {"id", "KW-1"},        {"name", "u-admin"},
      {"user", "u-admin"},   {"index", "0"},
      {"path", "0/000.p/1"}, {"address", "sha256:" + std::string(64, '0')},
      {"case", "KW-1"}};
  for (const Operation& o : ops_) {
    std::string route = RouteName(o.method, o.path);
    SCOPED_TRACE(route);
    std::string path = FillFor(o.path, values, "R-2026-00001",
                               "0123456789abcdef0123456789abcdef");
    ASSERT_EQ(path.find('{'), std::string::npos) << "no value for " << path;
    ClearLog();
    auto r = Send(o.method, path + Query(o, values), {});
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(LoggedRoute(Upper(o.method), path), route);
    if (!Anonymous(o)) {
      EXPECT_EQ(r->status, 401) << r->body;
    } else {
      EXPECT_NE(r->status, 401) << r->body;
    }
    EXPECT_LT(r->status, 500) << r->body;
  }
}

// (b) Every route name registered in server.cc is described.
TEST_F(OpenApiTest, EveryRouteIsInTheSpec) {
  std::string source = ReadText(RepoRoot() / "src" / "server" / "server.cc");
  ASSERT_FALSE(source.empty());
  std::set<std::string> routes;
  for (std::sregex_iterator it(source.begin(), source.end(), kRouteName), end;
       it != end; ++it) {
    routes.insert((*it)[1].str());
  }
  ASSERT_GE(routes.size(), 10u);
  std::set<std::string> described;
  for (const Operation& o : ops_) {
    EXPECT_TRUE(described.insert(RouteName(o.method, o.path)).second)
        << "described twice: " << o.method << " " << o.path;
  }
  for (const std::string& r : routes) {
    EXPECT_TRUE(described.count(r)) << r << " is not in docs/openapi.yaml";
  }
  for (const std::string& d : described) {
    EXPECT_TRUE(routes.count(d)) << d << " is not a route of server.cc";
  }
}

// The fields each route's ParseBody call reads, the body shape it names in
// server.cc (body::kCase) as request_input.h writes it ({"title", T::string,
// true}), are the fields its request body describes, with the same types
// and the same required ones.
TEST_F(OpenApiTest, BodyFieldsAreThoseTheHandlersRead) {
  std::string source = ReadText(RepoRoot() / "src" / "server" / "server.cc");
  std::string shapes =
      ReadText(RepoRoot() / "src" / "server" / "request_input.h");
  static const std::regex kField(
      R"re(\{"([a-z0-9_]+)",\s*T::([a-z_]+),\s*(true|false)\})re");
  static const std::regex kShape(
      R"re(inline constexpr BodyField (k[A-Za-z]+)\[\] = \{([^;]*)\};)re");
  static const std::regex kShapeUse(
      R"re(ParseBody\(req, body::(k[A-Za-z]+)\))re");
  std::map<std::string, std::string> shape_text;  // kCase -> its fields
  for (std::sregex_iterator it(shapes.begin(), shapes.end(), kShape), end;
       it != end; ++it) {
    shape_text[(*it)[1].str()] = (*it)[2].str();
  }
  ASSERT_GE(shape_text.size(), 4u);
  const std::map<std::string, std::string> types = {
      {"string", "string"},
      {"boolean", "boolean"},
      {"number_unsigned", "integer"},
      {"object", "object"},
      {"array", "array"}};
  std::map<std::string, std::string> ops;  // route name -> "method path"
  for (const Operation& o : ops_) {
    ops[RouteName(o.method, o.path)] = o.method + " " + o.path;
  }
  // Each route's text runs from its name to the next route's name.
  std::vector<std::pair<size_t, std::string>> names;
  for (std::sregex_iterator it(source.begin(), source.end(), kRouteName), end;
       it != end; ++it) {
    names.push_back({static_cast<size_t>(it->position()), (*it)[1].str()});
  }
  int with_body = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& route = names[i].second;
    SCOPED_TRACE(route);
    size_t from = names[i].first;
    size_t to = i + 1 < names.size() ? names[i + 1].first : source.size();
    std::string route_text = source.substr(from, to - from);
    std::map<std::string, std::pair<std::string, bool>> read;
    for (std::sregex_iterator
             use(route_text.begin(), route_text.end(), kShapeUse),
         end;
         use != end; ++use) {
      ASSERT_TRUE(shape_text.count((*use)[1].str())) << (*use)[0];
      const std::string& text = shape_text[(*use)[1].str()];
      for (std::sregex_iterator it(text.begin(), text.end(), kField); it != end;
           ++it) {
        auto t = types.find((*it)[2].str());
        ASSERT_NE(t, types.end()) << (*it)[0];
        read[(*it)[1].str()] = {t->second, (*it)[3] == "true"};
      }
    }
    auto op = std::find_if(ops_.begin(), ops_.end(), [&](const Operation& o) {
      return RouteName(o.method, o.path) == route;
    });
    if (op == ops_.end()) continue;  // EveryRouteIsInTheSpec says so
    if (read.empty()) {
      EXPECT_FALSE(JsonBody(*op)) << "the handler reads no JSON body";
      continue;
    }
    ++with_body;
    ASSERT_TRUE(JsonBody(*op)) << "the handler reads a JSON body";
    const json& schema =
        Resolve(op->op["requestBody"]["content"]["application/json"]["schema"]);
    std::set<std::string> required;
    for (const auto& f : schema["required"]) required.insert(f);
    std::set<std::string> described;
    for (const auto& [field, prop] : schema["properties"].items()) {
      described.insert(field);
    }
    for (const auto& [field, type_required] : read) {
      SCOPED_TRACE(field);
      ASSERT_TRUE(described.count(field)) << "not described";
      EXPECT_EQ(TypeOf(schema["properties"][field]), type_required.first);
      EXPECT_EQ(required.count(field) == 1, type_required.second);
    }
    for (const std::string& field : described) {
      EXPECT_TRUE(read.count(field)) << field << " is not read by the handler";
    }
  }
  EXPECT_GE(with_body, 4);
}

// (c) The document's own rules: problem responses where handlers give them,
// problem documents for every error, parameters that match the templates,
// closed request bodies, resolvable references.
TEST_F(OpenApiTest, OperationsDeclareTheirProblems) {
  EXPECT_EQ(spec_["openapi"].get<std::string>().rfind("3.1", 0), 0u);
  const json& bearer = spec_["components"]["securitySchemes"]["bearerAuth"];
  EXPECT_EQ(bearer["type"], "http");
  EXPECT_EQ(bearer["scheme"], "bearer");
  const json& problem = spec_["components"]["schemas"]["Problem"];
  EXPECT_EQ(problem["required"], json({"type", "title", "status", "detail"}));
  for (const char* f : {"type", "title", "status", "detail"}) {
    EXPECT_TRUE(problem["properties"].contains(f)) << f;
  }

  std::set<std::string> ids;
  for (const Operation& o : ops_) {
    SCOPED_TRACE(o.method + " " + o.path);
    ASSERT_TRUE(o.op["operationId"].is_string());
    EXPECT_TRUE(ids.insert(o.op["operationId"]).second);
    ASSERT_TRUE(o.op["responses"].is_object());
    if (Secured(o)) {
      EXPECT_TRUE(HasResponse(o, "401"));
    }
    if (o.op.contains("x-amanah-action")) {
      EXPECT_TRUE(Secured(o));
      EXPECT_TRUE(HasResponse(o, "403"));
    }
    if (o.op.contains("x-amanah-self")) {
      EXPECT_TRUE(Secured(o));
      EXPECT_FALSE(Anonymous(o));
      EXPECT_TRUE(HasResponse(o, "403"));
      EXPECT_TRUE(TemplateParams(o.path).count(o.op["x-amanah-self"]));
    }
    // Every route but the upload refuses bodies over the JSON limit.
    if (o.method != "patch") {
      EXPECT_TRUE(HasResponse(o, "413"));
    }
    if (o.op.contains("requestBody")) {
      EXPECT_TRUE(HasResponse(o, "400"));
      EXPECT_EQ(o.op["requestBody"]["content"].size(), 1u);
      // Streamed bytes, or the C2SP tlog-witness text body, rather than
      // JSON: only the upload and add-checkpoint take them.
      // Signed federation messages are exact bytes too, not an API body.
      bool text = o.path == "/witness/add-checkpoint";
      bool signed_bytes = o.path == "/federation/v1/messages";
      EXPECT_EQ(JsonBody(o), o.method != "patch" && !text && !signed_bytes);
      if (text) {
        EXPECT_TRUE(o.op["requestBody"]["content"].contains("text/plain"));
      }
      if (signed_bytes) {
        EXPECT_TRUE(o.op["requestBody"]["content"].contains(
            "application/vnd.amanah.message+json"));
      }
    }
    if (o.method == "patch") {
      EXPECT_TRUE(
          o.op["requestBody"]["content"].contains("application/octet-stream"));
    }
    if (JsonBody(o)) {
      const json& content = o.op["requestBody"]["content"];
      const json& schema = Resolve(content["application/json"]["schema"]);
      EXPECT_EQ(schema["type"], "object");
      EXPECT_EQ(schema["additionalProperties"], false);
      for (const auto& r : schema["required"]) {
        EXPECT_TRUE(schema["properties"].contains(r.get<std::string>())) << r;
      }
    }

    // Parameters: each {param} of the template is a required path
    // parameter, and nothing else is; query and header parameters can be
    // malformed or missing.
    std::set<std::string> in_path;
    bool has_query = false;
    for (const json& p : Parameters(o)) {
      ASSERT_TRUE(p["name"].is_string()) << p;
      if (p["in"] == "path") {
        in_path.insert(p["name"]);
        EXPECT_EQ(p["required"], true) << p["name"];
      } else {
        EXPECT_TRUE(p["in"] == "query" || p["in"] == "header") << p["name"];
        has_query = true;
      }
      EXPECT_TRUE(p.contains("schema")) << p["name"];
    }
    EXPECT_EQ(in_path, TemplateParams(o.path));
    if (has_query) {
      EXPECT_TRUE(HasResponse(o, "400"));
    }
    if (!in_path.empty()) {
      EXPECT_TRUE(HasResponse(o, "404"));
    }

    for (const auto& [status, response] : o.op["responses"].items()) {
      SCOPED_TRACE(status);
      const json& r = Resolve(response);
      EXPECT_TRUE(r["description"].is_string());
      int code = std::stoi(status);
      if (code == 409 && o.path == "/witness/add-checkpoint") {
        // C2SP tlog-witness prescribes this body: the size last cosigned.
        EXPECT_TRUE(r["content"].contains("text/x.tlog.size"));
      } else if (code >= 400) {
        ASSERT_TRUE(r.contains("content"));
        EXPECT_EQ(r["content"].size(), 1u);
        EXPECT_EQ(r["content"]["application/problem+json"]["schema"],
                  json({{"$ref", "#/components/schemas/Problem"}}));
      } else if (code == 204) {
        EXPECT_FALSE(r.contains("content"));
      } else {
        EXPECT_TRUE(r.contains("content"));
      }
    }
  }

  // Every reference resolves.
  std::function<void(const json&)> walk = [&](const json& j) {
    if (j.is_object()) {
      if (j.contains("$ref")) (void)Resolve(j);
      for (const auto& [k, v] : j.items()) walk(v);
    } else if (j.is_array()) {
      for (const auto& v : j) walk(v);
    }
  };
  walk(spec_);
}

// Request bodies: every described field is one the server knows, of the
// described type; the required ones are exactly those the server requires;
// any other field is refused.
TEST_F(OpenApiTest, RequestBodiesMatchWhatTheServerAccepts) {
  const std::map<std::string, std::string> values = {
      {"id", "KW-1"}, {"name", "nobody"}, {"user", "nobody"}};
  int bodies = 0;
  for (const Operation& o : ops_) {
    if (!JsonBody(o)) continue;
    ++bodies;
    SCOPED_TRACE(o.method + " " + o.path);
    const json& schema =
        Resolve(o.op["requestBody"]["content"]["application/json"]["schema"]);
    httplib::Headers h = Permitted(o);
    if (Secured(o)) {
      ASSERT_FALSE(h.empty());
    }
    // Permitted() is the admin for an operation without an action.
    std::string path =
        FillFor(o.path, ForCaller(o, values, Role::kAdmin), request_id_);
    auto post = [&](const json& body) {
      return Send(o.method, path, h, body.dump());
    };

    auto unknown = post({{"no_such_field", 1}});
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->status, 400);
    EXPECT_EQ(Detail(unknown), "unknown field \"no_such_field\"");

    json valid = json::object();  // the required fields, well typed
    for (const auto& [field, prop] : schema["properties"].items()) {
      SCOPED_TRACE(field);
      std::string type = TypeOf(prop);
      json wrong;
      std::string want;
      if (type == "string") {
        wrong = 1;
        want = "a string";
        const json& s = Resolve(prop);
        valid[field] = s.contains("enum") ? s["enum"][0] : json("?");
      } else if (type == "integer") {
        wrong = "1";
        want = "a whole number";
        valid[field] = 1;
      } else if (type == "object") {
        wrong = 1;
        want = "an object";
        valid[field] = json::object();
      } else if (type == "boolean") {
        wrong = "true";
        want = "true or false";
        valid[field] = true;
      } else if (type == "array") {
        wrong = "[]";
        want = "an array";
        valid[field] = json::array();
      } else {
        ADD_FAILURE() << "unexpected type \"" << type << "\"";
        continue;
      }
      auto r = post({{field, wrong}});
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 400);
      EXPECT_EQ(Detail(r), "field \"" + field + "\" must be " + want);
    }
    std::set<std::string> required;
    for (const auto& f : schema["required"]) required.insert(f);
    for (auto it = valid.begin(); it != valid.end();) {
      it = required.count(it.key()) ? std::next(it) : valid.erase(it);
    }
    for (const std::string& f : required) {
      json body = valid;
      body.erase(f);
      auto r = post(body);
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 400) << f;
      EXPECT_EQ(Detail(r), "field \"" + f + "\" is required");
    }
    // With just the required fields, the body's shape is accepted (what
    // follows may still refuse its values).
    auto r = post(valid);
    ASSERT_TRUE(r);
    static const std::regex kShapeError(R"((unknown )?field "[^".]*"( .*)?)");
    EXPECT_FALSE(std::regex_match(Detail(r), kShapeError)) << r->body;
  }
  EXPECT_GE(bodies, 4);
}

// x-amanah-action: roles the matrix refuses (on KW-1 for an operation
// about one case or request; its members are the investigator and the
// prosecutor) get 403; roles it allows do not.
TEST_F(OpenApiTest, ActionsMatchTheRoleMatrix) {
  // Names that do not exist, so that allowed requests change nothing.
  const std::map<std::string, std::string> values = {
      {"id", "KW-1"},
      {"name", "nobody"},
      {"user", "nobody"},
      {"index", "0"},
      {"path", "entries/000.p/1"},
      {"address", "sha256:" + std::string(64, '0')},
      {"case", "KW-1"}};
  int checked = 0;
  for (const Operation& o : ops_) {
    if (!o.op.contains("x-amanah-action")) continue;
    std::string name = o.op["x-amanah-action"];
    SCOPED_TRACE(o.method + " " + o.path + " " + name);
    const Action* action = nullptr;
    for (const Action& a : AllActions()) {
      if (ActionName(a) == name) action = &a;
    }
    ASSERT_NE(action, nullptr) << "no action " << name;
    std::string path = FillFor(o.path, values, request_id_) + Query(o, values);
    bool about_one = AboutOneCase(o);
    for (Role r : AllRoles()) {
      SCOPED_TRACE(std::string(RoleName(r)));
      uint64_t log_before = (*node_->Log())->Latest().size;
      auto res = Send(o.method, path, Auth(r));
      ASSERT_TRUE(res);
      if (about_one ? Allowed(r, *action, Member(r)) : RoleAllows(r, *action)) {
        EXPECT_NE(res->status, 401) << res->body;
        EXPECT_NE(res->status, 403) << res->body;
      } else {
        EXPECT_EQ(res->status, 403) << res->body;
        // A refusal changes nothing: not even a custody entry.
        EXPECT_EQ((*node_->Log())->Latest().size, log_before);
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

// x-amanah-self: an operation on the caller's own account (the admin's
// included) is refused, 403 and unrecorded, for anyone else's.
TEST_F(OpenApiTest, SelfOperationsAreForTheCallerOnly) {
  int checked = 0;
  for (const Operation& o : ops_) {
    if (!o.op.contains("x-amanah-self")) continue;
    SCOPED_TRACE(o.method + " " + o.path);
    EXPECT_FALSE(o.op.contains("x-amanah-action"));
    for (Role r : AllRoles()) {
      SCOPED_TRACE(std::string(RoleName(r)));
      for (Role other : AllRoles()) {
        std::string path = FillFor(o.path, ForCaller(o, {}, other), "");
        uint64_t log_before = (*node_->Log())->Latest().size;
        auto res = Send(o.method, path, Auth(r));
        ASSERT_TRUE(res);
        if (other == r) {
          EXPECT_NE(res->status, 401) << res->body;
          EXPECT_NE(res->status, 403) << res->body;
        } else {
          EXPECT_EQ(res->status, 403) << res->body;
          EXPECT_EQ((*node_->Log())->Latest().size, log_before);
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 0);
}

// Required query and header parameters: a caller who may do the operation
// but leaves one out gets a 400 that names it.
TEST_F(OpenApiTest, RequiredParametersAreRequired) {
  const std::map<std::string, std::string> values = {
      {"id", "KW-1"},
      {"address", "sha256:" + std::string(64, '0')},
      {"case", "KW-1"}};
  int checked = 0;
  for (const Operation& o : ops_) {
    for (const json& p : Parameters(o)) {
      if (p["in"] == "path" || !p.value("required", false)) continue;
      std::string name = p["name"];
      SCOPED_TRACE(o.method + " " + o.path + " without " + name);
      std::string path = FillFor(o.path, values, request_id_);
      if (p["in"] == "header") {
        // Send() adds the upload's header itself, so build the request here.
        ASSERT_TRUE(o.method == "patch" ||
                    o.path == "/federation/v1/messages" ||
                    o.path == "/federation/v1/objects/{address}")
            << "a required header elsewhere";
      } else {
        ASSERT_EQ(p["in"], "query");
      }
      auto r = p["in"] == "query"
                   ? Send(o.method, path + Query(o, values, name), Permitted(o))
               : o.method == "patch"
                   ? client_->Patch(path.c_str(), Permitted(o), "x",
                                    "application/octet-stream")
               : o.method == "get"
                   ? client_->Get(path.c_str())
                   : client_->Post(path.c_str(), Permitted(o), "{}",
                                   "application/vnd.amanah.message+json");
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 400) << r->body;
      EXPECT_NE(Detail(r).find(name), std::string::npos) << Detail(r);
      ++checked;
    }
  }
  // ?case=, Upload-Offset, Amanah-Signature, Amanah-Pull
  EXPECT_GE(checked, 4);
}

// The body limits: every operation but the upload refuses a chunked body,
// or one announced as over 16 MiB, before reading it, and a body over 1 MiB
// once read (GET and HEAD bodies are never read), with a too-large problem;
// the upload takes a chunked body.
TEST_F(OpenApiTest, BodiesOverTheLimitAreRefused) {
  const size_t max = ServerOptions().max_json_body;
  const std::map<std::string, std::string> values = {
      {"id", "KW-1"},        {"name", "nobody"},
      {"user", "nobody"},    {"index", "0"},
      {"path", "0/000.p/1"}, {"address", "sha256:" + std::string(64, '0')},
      {"case", "KW-1"}};
  auto too_large = [](int status, const std::string& body) {
    EXPECT_EQ(status, 413) << body;
    json j = json::parse(body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << body;
    EXPECT_EQ(j["type"], "urn:amanah:problem:too-large");
    EXPECT_EQ(j["status"], 413);
  };
  int checked = 0;
  for (const Operation& o : ops_) {
    SCOPED_TRACE(o.method + " " + o.path);
    std::string target =
        FillFor(o.path, values, request_id_) + Query(o, values);
    std::string head =
        Upper(o.method) + " " + target +
        " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
        tokens_[Role::kInvestigator] +
        "\r\nUpload-Offset: 0\r\nConnection: close\r\n";
    if (o.method == "patch") {
      // The upload takes a chunked body (a few bytes, which commit nothing).
      auto taken = RawRequest(
          server_->port(),
          head +
              "Content-Type: application/octet-stream\r\n"
              "Transfer-Encoding: chunked\r\n\r\n5\r\nbytes\r\n0\r\n\r\n");
      EXPECT_EQ(taken.first, 204) << taken.second;
      continue;
    }
    head += "Content-Type: application/json\r\n";
    // Refused before the body is sent, so none is.
    auto chunked = RawRequest(server_->port(),
                              head + "Transfer-Encoding: chunked\r\n\r\n");
    too_large(chunked.first, chunked.second);
    auto huge = RawRequest(
        server_->port(),
        head + "Content-Length: " + std::to_string(16 * max + 1) + "\r\n\r\n");
    too_large(huge.first, huge.second);
    if (o.method != "get" && o.method != "head") {
      auto r = SendBody(o.method, target, Auth(Role::kInvestigator),
                        std::string(max + 1, ' '), "application/json");
      ASSERT_TRUE(r);
      too_large(r->status, r->body);
    }
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

// Throttled sign-in: the 429 the server answers once a name has failed
// too often from an address is declared, with the headers it carries.
TEST_F(OpenApiTest, ThrottledSignInIsAsDescribed) {
  const Operation* sessions = nullptr;
  for (const Operation& o : ops_) {
    if (o.method == "post" && o.path == "/api/v1/sessions") sessions = &o;
  }
  ASSERT_NE(sessions, nullptr);
  ASSERT_TRUE(HasResponse(*sessions, "429"));
  const json& declared = Resolve(sessions->op["responses"]["429"]);
  ASSERT_TRUE(declared["headers"].contains("Retry-After"));
  // From an address of its own, so that no other test's sign-ins count.
  std::string body = R"({"name":"throttled","password":"not the password"})";
  std::string request =
      "POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nConnection: close\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  std::pair<int, std::string> r;
  std::string head;
  for (int i = 0; i < 6 && r.first != 429; ++i) {
    r = RawRequest(server_->port(), request, "127.0.0.9", &head);
    ASSERT_TRUE(r.first == 401 || r.first == 429) << r.first << r.second;
  }
  ASSERT_EQ(r.first, 429);
  json j = json::parse(r.second, nullptr, false);
  EXPECT_EQ(j["type"], "urn:amanah:problem:too-many-requests");
  for (const auto& [name, header] : declared["headers"].items()) {
    EXPECT_NE(head.find("\r\n" + name + ": "), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace amanah
