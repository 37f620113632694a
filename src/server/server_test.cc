// The HTTP API over real HTTP: a server on a loopback port, a client.

#include "server/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

#include "app/testutil.h"
#include "app/users.h"
#include "base/encoding.h"
#include "crypto/hash.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "storage/testutil.h"

namespace amanah {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

// A TCP connection to the server on `port` from `source`, any address of
// 127/8 (all loopback), so that one test can be clients at several
// addresses; -1 if it cannot be made.
int ConnectFrom(const std::string& source, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// What the server sends until it closes the connection (or resets it), or
// until `timeout` passes; *closed says whether it did close.
std::string ReadUntilClosed(int fd, milliseconds timeout,
                            bool* closed = nullptr) {
  std::string out;
  auto end = SteadyClock::now() + timeout;
  for (;;) {
    auto left =
        std::chrono::duration_cast<milliseconds>(end - SteadyClock::now());
    if (left.count() <= 0) break;
    timeval tv{static_cast<time_t>(left.count() / 1000),
               static_cast<suseconds_t>(left.count() % 1000 * 1000 + 1)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      continue;
    }
    if (closed) *closed = true;  // end of stream, or a reset
    return out;
  }
  if (closed) *closed = false;
  return out;
}

// A request with a JSON body, closing the connection after the answer.
std::string JsonRequest(const std::string& method, const std::string& path,
                        const std::string& body) {
  return method + " " + path +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
         "Connection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

class ServerTest : public testutil::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    std::string data = (dir_ / "data").string();
    ASSERT_TRUE(Node::Init(Env::Default(), data, "ccd.moi.gov.kw").ok());
    node_ = std::move(Node::Open(Env::Default(), data)).value();
    UserDirectory users(node_.get());
    ASSERT_TRUE(users.Add("local:test", "root", Role::kAdmin).ok());
    for (Role r : AllRoles()) {
      std::string name = "u-" + std::string(RoleName(r));
      auto token = testutil::AddEnrolledUser(node_.get(), name, r);
      ASSERT_TRUE(token.ok()) << token.status().ToString();
      tokens_[r] = *token;
    }
    StartServer();
  }
  void TearDown() override {
    StopServer();
    node_.reset();
    TempDirTest::TearDown();
  }

  // A server over node_ on a free port, and a client that has seen it answer.
  void StartServer() {
    ServerOptions o = options_;
    o.port = 0;
    o.access_log = [this](const std::string& line) {
      std::lock_guard<std::mutex> l(log_mu_);
      access_log_.push_back(line);
    };
    auto server = ApiServer::Create(node_.get(), o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    thread_ = std::thread([this] { (void)server_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    for (int i = 0; i < 200 && !client_->Get("/healthz"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  void StopServer() {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  httplib::Headers Auth(Role r) {
    return {{"Authorization", "Bearer " + tokens_[r]}};
  }
  httplib::Result PostJson(const std::string& path, const std::string& body,
                           const httplib::Headers& h = {}) {
    return client_->Post(path.c_str(), h, body, "application/json");
  }
  uint64_t LogSize() { return (*node_->Log())->Latest().size; }
  // Opens a case through the API as a user of `role` (its first member).
  void OpenCase(const std::string& id, const std::string& offence, Role role) {
    auto r = PostJson("/api/v1/cases",
                      R"({"id":")" + id + R"(","title":"t","offence":")" +
                          offence + R"(","legal_basis":"x"})",
                      Auth(role));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
  }
  size_t UserCount() { return UserDirectory(node_.get()).List()->size(); }

  // A problem document with this status, and the right media type.
  void ExpectProblem(const httplib::Result& r, int status) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/problem+json");
    json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r->body;
    EXPECT_EQ(j["status"], status);
    EXPECT_TRUE(j["title"].is_string());
    EXPECT_TRUE(j["detail"].is_string());
    EXPECT_EQ(j["type"].get<std::string>().rfind("urn:amanah:problem:", 0), 0u);
  }

  ServerOptions options_;  // what StartServer starts with, but the port
  std::unique_ptr<Node> node_;
  std::unique_ptr<ApiServer> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
  std::map<Role, std::string> tokens_;
  std::mutex log_mu_;
  std::vector<std::string> access_log_;
};

TEST_F(ServerTest, HealthAndSignedCheckpoint) {
  auto h = client_->Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(json::parse(h->body)["log_size"], LogSize());

  auto c = client_->Get("/log/checkpoint");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 200);
  EXPECT_EQ(c->get_header_value("Cache-Control"), "no-cache");
  auto note = ParseNote(c->body);
  ASSERT_TRUE(note.ok());
  auto key = ParseVerifierKey(node_->info().verifier_key);
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(VerifyNoteSignature(*note, *key).ok());
  EXPECT_EQ(ParseCheckpointBody(note->text)->size, LogSize());
}

// Many clients connecting at once (a peer's courier opens a connection per
// conversation) all get in: the listening socket has the system's backlog,
// not httplib's 5, whose overflow lost handshakes and failed deliveries.
TEST_F(ServerTest, ManyClientsConnectingAtOnceAreAllServed) {
  if (std::system("command -v ss > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "ss (Debian package iproute2) is not installed";
  }
  std::string cmd =
      "ss -ltnH 'sport = :" + std::to_string(server_->port()) + "'";
  FILE* out = ::popen(cmd.c_str(), "r");
  ASSERT_NE(out, nullptr);
  char line[512] = {};
  ASSERT_NE(std::fgets(line, sizeof(line), out), nullptr);
  ::pclose(out);
  char state[64];
  unsigned long recv_q = 0, send_q = 0;  // Send-Q: a listener's backlog
  ASSERT_EQ(std::sscanf(line, "%63s %lu %lu", state, &recv_q, &send_q), 3)
      << line;
  EXPECT_GE(send_q, 128u) << line;

  std::atomic<int> served{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 64; ++i) {
    clients.emplace_back([&] {
      httplib::Client c("127.0.0.1", server_->port());
      c.set_connection_timeout(10);
      auto r = c.Get("/healthz");
      if (r && r->status == 200) ++served;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(served.load(), 64);
}

TEST_F(ServerTest, TilesPublicEntriesNeedAUser) {
  uint64_t size = LogSize();  // a few users and their tokens: a partial tile
  ASSERT_LT(size, 256u);
  std::string w = std::to_string(size);
  auto t = client_->Get(("/log/tile/0/000.p/" + w).c_str());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->status, 200);
  EXPECT_EQ(t->body.size(), 32 * size);
  EXPECT_NE(t->get_header_value("Cache-Control").find("immutable"),
            std::string::npos);
  // A narrower width is the prefix (of the edge the log holds in memory, or
  // of a wider file); a wider one, or the full tile, is not there yet.
  auto one = client_->Get("/log/tile/0/000.p/1");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(one->body, t->body.substr(0, 32));
  ExpectProblem(
      client_->Get(("/log/tile/0/000.p/" + std::to_string(size + 1)).c_str()),
      404);
  ExpectProblem(client_->Get("/log/tile/0/000"), 404);
  ExpectProblem(client_->Get("/log/tile/0/000.p/0"), 404);
  ExpectProblem(client_->Get("/log/tile/0/000.p/256"), 404);
  // One spelling of each tile.
  for (const char* alias : {"/log/tile/00/000.p/1", "/log/tile/0/000.p/01",
                            "/log/tile/0/x000/000.p/1"}) {
    ExpectProblem(client_->Get(alias), 404);
  }

  ExpectProblem(client_->Get(("/log/tile/entries/000.p/" + w).c_str()), 401);
  auto e = client_->Get(("/log/tile/entries/000.p/" + w).c_str(),
                        Auth(Role::kAuditor));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 200);
  // Traversal and junk never reach the file system.
  for (const char* bad :
       {"/log/tile/../../keys/signing.key", "/log/tile/0/..%2f..%2fkeys",
        "/log/tile/0/1", "/log/tile/0/000.p/", "/log/tile/entries/x000"}) {
    ExpectProblem(client_->Get(bad, Auth(Role::kAuditor)), 404);
  }
}

TEST_F(ServerTest, LoginMeLogout) {
  ASSERT_TRUE(testutil::AddEnrolledUser(node_.get(), "alice",
                                        Role::kInvestigator,
                                        "correct horse battery")
                  .ok());
  auto bad = PostJson("/api/v1/sessions",
                      R"({"name":"alice","password":"wrong horse battery"})");
  ExpectProblem(bad, 401);
  EXPECT_EQ(bad->get_header_value("WWW-Authenticate"),
            "Bearer realm=\"amanah\"");

  auto ok = PostJson("/api/v1/sessions",
                     R"({"name":"alice","password":"correct horse battery"})");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 201) << ok->body;
  std::string token = json::parse(ok->body)["token"];
  httplib::Headers h = {{"Authorization", "Bearer " + token}};
  auto me = client_->Get("/api/v1/me", h);
  ASSERT_TRUE(me);
  EXPECT_EQ(json::parse(me->body)["role"], "investigator");
  auto out = client_->Delete("/api/v1/sessions/current", h);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 204);
  ExpectProblem(client_->Get("/api/v1/me", h), 401);
  ExpectProblem(client_->Get("/api/v1/me", {{"Authorization", "Basic eDp5"}}),
                401);
}

// Sign-in is throttled: after three failures of a name from an address the
// next attempt is a 429 with Retry-After and a problem document, while the
// right password from another address is not held back.
TEST_F(ServerTest, SignInIsThrottledWith429AndRetryAfter) {
  ASSERT_TRUE(testutil::AddEnrolledUser(node_.get(), "alice",
                                        Role::kInvestigator,
                                        "correct horse battery")
                  .ok());
  const std::string wrong =
      R"({"name":"alice","password":"wrong horse battery"})";
  const std::string right =
      R"({"name":"alice","password":"correct horse battery"})";
  for (int i = 0; i < 4; ++i) {
    ExpectProblem(PostJson("/api/v1/sessions", wrong), 401);
  }
  auto held = client_->Post("/api/v1/sessions", {{"Accept-Language", "ar"}},
                            right, "application/json");
  ExpectProblem(held, 429);
  EXPECT_EQ(held->get_header_value("Retry-After"), "1");
  json j = json::parse(held->body);
  EXPECT_EQ(j["type"], "urn:amanah:problem:too-many-requests");
  EXPECT_EQ(j["title"], "محاولات كثيرة؛ انتظر ثم أعد المحاولة");
  EXPECT_EQ(held->get_header_value("Content-Language"), "ar");

  int fd = ConnectFrom("127.0.0.2", server_->port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, JsonRequest("POST", "/api/v1/sessions", right)));
  std::string elsewhere = ReadUntilClosed(fd, seconds(20));
  ::close(fd);
  EXPECT_EQ(elsewhere.rfind("HTTP/1.1 201", 0), 0u) << elsewhere;

  std::this_thread::sleep_for(milliseconds(1100));
  auto later = PostJson("/api/v1/sessions", right);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->status, 201) << later->body;
}

// The user endpoints, role by role: only admin manages users; admin and
// auditor list them; every user, and only they, issue tokens to
// themselves; every refusal is a 403 that changes nothing.
TEST_F(ServerTest, UserEndpointsFollowTheMatrix) {
  ASSERT_TRUE(UserDirectory(node_.get())
                  .Add("local:test", "victim", Role::kAnalyst)
                  .ok());
  for (Role r : AllRoles()) {
    SCOPED_TRACE(std::string(RoleName(r)));
    std::string self = "u-" + std::string(RoleName(r));
    uint64_t log = LogSize();
    size_t count = UserCount();
    auto list = client_->Get("/api/v1/users", Auth(r));
    ASSERT_TRUE(list);
    EXPECT_EQ(list->status, RoleAllows(r, Action::kViewUsers) ? 200 : 403);

    std::string name = "new-" + std::string(RoleName(r));
    auto add =
        PostJson("/api/v1/users",
                 R"({"name":")" + name + R"(","role":"analyst"})", Auth(r));
    auto dis = PostJson("/api/v1/users/victim/disable", "{}", Auth(r));
    if (r == Role::kAdmin) {
      ASSERT_EQ(add->status, 201) << add->body;
      json j = json::parse(add->body);
      EXPECT_EQ(j["name"], name);
      EXPECT_EQ(
          j["enrolment_secret"].get<std::string>().rfind("amanah_enrol_", 0),
          0u);
      EXPECT_EQ(add->get_header_value("Cache-Control"), "no-store");
      EXPECT_EQ(dis->status, 204) << dis->body;
      EXPECT_EQ(UserCount(), count + 1);
      // user.added, user.enrolment_issued, user.disabled
      EXPECT_EQ(LogSize(), log + 3);
    } else {
      ExpectProblem(add, 403);
      ExpectProblem(dis, 403);
      EXPECT_EQ(UserCount(), count);
      EXPECT_EQ(LogSize(), log);
    }

    log = LogSize();
    auto own = PostJson("/api/v1/users/" + self + "/tokens",
                        R"({"days":3,"label":"mine"})", Auth(r));
    ASSERT_EQ(own->status, 201) << own->body;
    std::string token = json::parse(own->body)["token"];
    auto me =
        client_->Get("/api/v1/me", {{"Authorization", "Bearer " + token}});
    EXPECT_EQ(json::parse(me->body)["name"], self);
    EXPECT_EQ(LogSize(), log + 1);
    for (const char* other : {"u-investigator", "u-poc", "root", "nobody"}) {
      if (self == other) continue;
      ExpectProblem(PostJson(std::string("/api/v1/users/") + other + "/tokens",
                             R"({"days":3})", Auth(r)),
                    403);
    }
    EXPECT_EQ(LogSize(), log + 1);
  }
}

// Issue 18: the admin could read any evidence by minting a token for an
// investigator. A token is its own user's only.
TEST_F(ServerTest, TheAdminCannotMintATokenForSomeoneElse) {
  uint64_t log = LogSize();
  auto r = PostJson("/api/v1/users/u-investigator/tokens", R"({"days":1})",
                    Auth(Role::kAdmin));
  ExpectProblem(r, 403);
  EXPECT_EQ(r->body.find("amanah_"), std::string::npos);
  EXPECT_EQ(LogSize(), log);
  // Nor does creating an account give the admin anything but the secret to
  // hand over; the body takes no password.
  ExpectProblem(PostJson("/api/v1/users",
                         R"({"name":"mole","role":"investigator",)"
                         R"("password":"chosen by the admin"})",
                         Auth(Role::kAdmin)),
                400);
  EXPECT_EQ(LogSize(), log);
}

// The person redeems the enrolment secret; once, in time, and a wrong one
// is told apart from nothing.
TEST_F(ServerTest, EnrolmentThroughTheApi) {
  auto add = PostJson("/api/v1/users", R"({"name":"alice","role":"poc"})",
                      Auth(Role::kAdmin));
  ASSERT_EQ(add->status, 201) << add->body;
  std::string secret = json::parse(add->body)["enrolment_secret"];
  auto bot = PostJson("/api/v1/users", R"({"name":"bot","role":"analyst"})",
                      Auth(Role::kAdmin));
  ASSERT_EQ(bot->status, 201) << bot->body;
  std::string bot_secret = json::parse(bot->body)["enrolment_secret"];

  std::vector<std::string> details;
  auto refused = [&](const std::string& body) {
    auto r = PostJson("/api/v1/enrolments", body);
    ExpectProblem(r, 401);
    details.push_back(json::parse(r->body)["detail"]);
  };
  refused(R"({"name":"alice","secret":")" + bot_secret +
          R"(","password":"alice's own password"})");
  refused(R"({"name":"alice","secret":"amanah_enrol_x",)"
          R"("password":"alice's own password"})");
  refused(R"({"name":"nobody","secret":")" + secret +
          R"(","password":"alice's own password"})");
  ExpectProblem(
      PostJson("/api/v1/enrolments", R"({"name":"alice","secret":")" + secret +
                                         R"(","password":"alice's","days":3})"),
      400);
  ExpectProblem(
      PostJson("/api/v1/enrolments", R"({"name":"alice","secret":")" + secret +
                                         R"(","password":"short"})"),
      400);

  auto ok = PostJson("/api/v1/enrolments",
                     R"({"name":"alice","secret":")" + secret +
                         R"(","password":"alice's own password"})");
  ASSERT_EQ(ok->status, 201) << ok->body;
  json j = json::parse(ok->body);
  EXPECT_EQ(j["credential"], "session");
  EXPECT_EQ(j["user"]["name"], "alice");
  auto me = client_->Get(
      "/api/v1/me",
      {{"Authorization", "Bearer " + j["token"].get<std::string>()}});
  EXPECT_EQ(me->status, 200);
  refused(R"({"name":"alice","secret":")" + secret +
          R"(","password":"another password"})");
  auto login =
      PostJson("/api/v1/sessions",
               R"({"name":"alice","password":"alice's own password"})");
  EXPECT_EQ(login->status, 201);

  auto token = PostJson("/api/v1/enrolments",
                        R"({"name":"bot","secret":")" + bot_secret +
                            R"(","label":"nightly","days":7})");
  ASSERT_EQ(token->status, 201) << token->body;
  EXPECT_EQ(json::parse(token->body)["credential"], "token");
  for (const auto& d : details) EXPECT_EQ(d, details[0]);
  // Secrets stay out of the access log.
  std::lock_guard<std::mutex> l(log_mu_);
  for (const auto& line : access_log_) {
    EXPECT_EQ(line.find(secret), std::string::npos);
    EXPECT_EQ(line.find(bot_secret), std::string::npos);
  }
}

// Issue 18: an auditor reads every case, so the admin, who could redeem
// the enrolment secret of an account it makes, makes none over the API,
// nor re-enrols one; the operator at the console does (cli_test).
TEST_F(ServerTest, TheAdminMakesNoAccountThatReadsEveryCase) {
  OpenCase("KW-8", "cybercrime", Role::kInvestigator);
  const uint64_t log = LogSize();
  auto add = PostJson("/api/v1/users", R"({"name":"eye","role":"auditor"})",
                      Auth(Role::kAdmin));
  ExpectProblem(add, 403);
  EXPECT_NE(json::parse(add->body)["detail"].get<std::string>().find("console"),
            std::string::npos);
  EXPECT_EQ(LogSize(), log);
  auto users = client_->Get("/api/v1/users", Auth(Role::kAdmin));
  EXPECT_EQ(users->body.find("\"eye\""), std::string::npos);
  // An existing auditor is not re-enrolled over the API either; disabling
  // it is allowed, as it takes access away.
  ASSERT_TRUE(
      UserDirectory(node_.get()).Add("local:op", "eye", Role::kAuditor).ok());
  ExpectProblem(
      PostJson("/api/v1/users/eye/enrolment", "{}", Auth(Role::kAdmin)), 403);
  auto off = PostJson("/api/v1/users/eye/disable", "{}", Auth(Role::kAdmin));
  EXPECT_EQ(off->status, 204) << off->body;
}

// Issue 18: the admin could read a case by creating a user and adding it.
// The admin makes the account (and could redeem its secret), but has no
// part in any case's membership, nor sees the case.
TEST_F(ServerTest, AnAdminMadeUserIsNotLetIntoACaseByTheAdmin) {
  OpenCase("KW-7", "cybercrime", Role::kInvestigator);
  auto add =
      PostJson("/api/v1/users", R"({"name":"mole","role":"investigator"})",
               Auth(Role::kAdmin));
  ASSERT_EQ(add->status, 201) << add->body;
  std::string secret = json::parse(add->body)["enrolment_secret"];
  auto enrolled =
      PostJson("/api/v1/enrolments",
               R"({"name":"mole","secret":")" + secret + R"(","days":1})");
  ASSERT_EQ(enrolled->status, 201) << enrolled->body;
  httplib::Headers mole = {
      {"Authorization",
       "Bearer " + json::parse(enrolled->body)["token"].get<std::string>()}};

  uint64_t log = LogSize();
  ExpectProblem(PostJson("/api/v1/cases/KW-7/members", R"({"user":"mole"})",
                         Auth(Role::kAdmin)),
                403);
  ExpectProblem(PostJson("/api/v1/cases/KW-7/lead", R"({"user":"mole"})",
                         Auth(Role::kAdmin)),
                403);
  ExpectProblem(client_->Get("/api/v1/cases/KW-7", Auth(Role::kAdmin)), 403);
  auto list = client_->Get("/api/v1/cases", Auth(Role::kAdmin));
  EXPECT_EQ(json::parse(list->body)["items"].size(), 0u);
  ExpectProblem(client_->Get("/api/v1/cases/KW-7", mole), 403);
  EXPECT_EQ(LogSize(), log);
  // Nor can a lead let an admin account in.
  ExpectProblem(PostJson("/api/v1/cases/KW-7/members", R"({"user":"u-admin"})",
                         Auth(Role::kInvestigator)),
                409);
  EXPECT_EQ(LogSize(), log);
}

// A member who does not lead the case only proposes a change; it is made
// when a second member asks for the very same one. Every step is in the
// case's custody.
TEST_F(ServerTest, AMembersChangeIsAProposalUntilASecondConfirms) {
  OpenCase("KW-8", "terrorism", Role::kInvestigator);
  for (const char* user : {"u-prosecutor", "u-poc"}) {
    auto r = PostJson("/api/v1/cases/KW-8/members",
                      std::string(R"({"user":")") + user + R"("})",
                      Auth(Role::kInvestigator));
    ASSERT_EQ(r->status, 201) << r->body;
  }
  auto proposed = PostJson("/api/v1/cases/KW-8/members",
                           R"({"user":"u-analyst"})", Auth(Role::kProsecutor));
  ASSERT_EQ(proposed->status, 202) << proposed->body;
  json p = json::parse(proposed->body);
  EXPECT_EQ(p["change"], "add");
  EXPECT_EQ(p["proposed_by"], "u-prosecutor");
  ExpectProblem(client_->Get("/api/v1/cases/KW-8", Auth(Role::kAnalyst)), 403);
  ExpectProblem(PostJson("/api/v1/cases/KW-8/members",
                         R"({"user":"u-analyst"})", Auth(Role::kProsecutor)),
                409);
  auto waiting = client_->Get("/api/v1/cases/KW-8/proposals", Auth(Role::kPoc));
  ASSERT_EQ(waiting->status, 200) << waiting->body;
  ASSERT_EQ(json::parse(waiting->body)["items"].size(), 1u);

  auto confirmed = PostJson("/api/v1/cases/KW-8/members",
                            R"({"user":"u-analyst"})", Auth(Role::kPoc));
  ASSERT_EQ(confirmed->status, 201) << confirmed->body;
  EXPECT_EQ(client_->Get("/api/v1/cases/KW-8", Auth(Role::kAnalyst))->status,
            200);

  // Removing, and handing the lead, the same way.
  auto rm =
      client_->Delete("/api/v1/cases/KW-8/members/u-analyst", Auth(Role::kPoc));
  ASSERT_EQ(rm->status, 202) << rm->body;
  EXPECT_EQ(client_->Get("/api/v1/cases/KW-8", Auth(Role::kAnalyst))->status,
            200);
  rm = client_->Delete("/api/v1/cases/KW-8/members/u-analyst",
                       Auth(Role::kProsecutor));
  ASSERT_EQ(rm->status, 204) << rm->body;
  ExpectProblem(client_->Get("/api/v1/cases/KW-8", Auth(Role::kAnalyst)), 403);
  auto lead = PostJson("/api/v1/cases/KW-8/lead", R"({"user":"u-poc"})",
                       Auth(Role::kInvestigator));
  ASSERT_EQ(lead->status, 200) << lead->body;
  auto c = client_->Get("/api/v1/cases/KW-8", Auth(Role::kPoc));
  EXPECT_EQ(json::parse(c->body)["lead"], "u-poc");

  auto cust = client_->Get("/api/v1/cases/KW-8/custody", Auth(Role::kAuditor));
  ASSERT_EQ(cust->status, 200) << cust->body;
  json entries = json::parse(cust->body)["items"];
  std::vector<std::string> kinds, actors;
  for (const auto& e : entries) {
    kinds.push_back(e["kind"]);
    actors.push_back(e["actor"]);
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{
                       "case.opened", "case.member_added", "case.member_added",
                       "case.member_added", "case.change_proposed",
                       "case.member_added", "case.change_proposed",
                       "case.member_removed", "case.lead_changed"}));
  ASSERT_EQ(actors.size(), 9u);
  EXPECT_EQ(actors[4], "user:u-prosecutor");
  EXPECT_EQ(actors[5], "user:u-poc");
  EXPECT_EQ(actors[8], "user:u-investigator");
}

// Issue 18: reissuing an account's enrolment (a forgotten password, or an
// admin taking it over) takes it out of every case: the new secret's
// holder gains no case access.
TEST_F(ServerTest, ReenrolmentDropsCaseMemberships) {
  OpenCase("KW-5", "cybercrime", Role::kProsecutor);
  OpenCase("KW-6", "cybercrime", Role::kInvestigator);
  ASSERT_EQ(PostJson("/api/v1/cases/KW-5/members", R"({"user":"u-analyst"})",
                     Auth(Role::kProsecutor))
                ->status,
            201);
  ASSERT_EQ(client_->Get("/api/v1/cases/KW-5", Auth(Role::kAnalyst))->status,
            200);
  ExpectProblem(
      PostJson("/api/v1/users/u-analyst/enrolment", "{}", Auth(Role::kPoc)),
      403);
  uint64_t log = LogSize();
  auto r =
      PostJson("/api/v1/users/u-analyst/enrolment", "{}", Auth(Role::kAdmin));
  ASSERT_EQ(r->status, 201) << r->body;
  std::string secret = json::parse(r->body)["enrolment_secret"];
  // The old token is revoked at once.
  ExpectProblem(client_->Get("/api/v1/me", Auth(Role::kAnalyst)), 401);
  auto enrolled = PostJson("/api/v1/enrolments",
                           R"({"name":"u-analyst","secret":")" + secret +
                               R"(","password":"the new password"})");
  ASSERT_EQ(enrolled->status, 201) << enrolled->body;
  httplib::Headers again = {
      {"Authorization",
       "Bearer " + json::parse(enrolled->body)["token"].get<std::string>()}};
  ExpectProblem(client_->Get("/api/v1/cases/KW-5", again), 403);
  EXPECT_EQ(
      json::parse(client_->Get("/api/v1/cases", again)->body)["items"].size(),
      0u);
  // member_removed (in KW-5), enrolment_issued, enrolled.
  EXPECT_EQ(LogSize(), log + 3);
  auto cust = client_->Get("/api/v1/cases/KW-5/custody", Auth(Role::kAuditor));
  json items = json::parse(cust->body)["items"];
  EXPECT_EQ(items.back()["kind"], "case.member_removed");
  EXPECT_EQ(items.back()["actor"], "user:u-admin");
  // Reissuing a lead's enrolment leaves the case without one: two members
  // must then agree.
  ASSERT_EQ(PostJson("/api/v1/users/u-investigator/enrolment", "{}",
                     Auth(Role::kAdmin))
                ->status,
            201);
  auto c = client_->Get("/api/v1/cases/KW-6", Auth(Role::kAuditor));
  EXPECT_EQ(json::parse(c->body)["lead"], "");
  EXPECT_EQ(json::parse(c->body)["members"].size(), 0u);
}

TEST_F(ServerTest, BadBodiesAre4xxAndChangeNothing) {
  uint64_t log = LogSize();
  size_t count = UserCount();
  const std::string cases[] = {
      "",
      "{",
      "[]",
      "null",
      R"({"name":"x","role":"poc","extra":1})",
      R"({"name":1,"role":"poc"})",
      R"({"name":"x","role":["poc"]})",
      R"({"name":"x"})",
      R"({"name":"x","role":"emperor"})",
      R"({"name":"X Y","role":"poc"})",
      R"({"name":"x","role":"poc","password":"short"})",
      "{\"name\":\"\xff\",\"role\":\"poc\"}",
      std::string(100000, '['),
  };
  for (const auto& body : cases) {
    auto r = PostJson("/api/v1/users", body, Auth(Role::kAdmin));
    ASSERT_TRUE(r);
    EXPECT_GE(r->status, 400) << body.substr(0, 60);
    EXPECT_LT(r->status, 500) << body.substr(0, 60) << r->body;
  }
  // Wrong media type, oversize body, an unknown route and method.
  ExpectProblem(client_->Post("/api/v1/users", Auth(Role::kAdmin),
                              R"({"name":"x","role":"poc"})", "text/plain"),
                400);
  ExpectProblem(
      PostJson("/api/v1/users", std::string(2 << 20, ' '), Auth(Role::kAdmin)),
      413);
  ExpectProblem(client_->Get("/api/v1/nothing"), 404);
  ExpectProblem(client_->Get("/api/v1/log/inclusion/99999", Auth(Role::kPoc)),
                404);
  ExpectProblem(
      client_->Get("/api/v1/log/inclusion/0?size=abc", Auth(Role::kPoc)), 400);
  EXPECT_EQ(LogSize(), log);
  EXPECT_EQ(UserCount(), count);
}

// Only the upload streams a body of any size. A PATCH elsewhere, having no
// route to stream it to, was read whole into memory: now, like any other
// body announced over the limit, it is refused before it is read.
TEST_F(ServerTest, OnlyTheUploadStreamsABody) {
  for (const char* path :
       {"/api/v1/nothing", "/api/v1/uploads/123", "/api/v1/cases/KW-1"}) {
    int fd = ConnectFrom("127.0.0.1", server_->port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, std::string("PATCH ") + path +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Content-Type: application/octet-stream\r\n"
                                "Content-Length: 17000000000\r\n\r\n"));
    std::string answer = ReadUntilClosed(fd, seconds(5));
    ::close(fd);
    EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << path << answer;
    EXPECT_NE(answer.find("urn:amanah:problem:too-large"), std::string::npos);
  }
}

TEST_F(ServerTest, ArabicTitlesOnRequest) {
  auto r = client_->Get("/api/v1/me", {{"Accept-Language", "ar-KW, en;q=0.5"}});
  ExpectProblem(r, 401);
  EXPECT_EQ(r->get_header_value("Content-Language"), "ar");
  EXPECT_EQ(json::parse(r->body)["title"], "يلزم تسجيل الدخول");
}

// A Range header asks for part of a representation, not of an error: every
// problem document, whether a handler or httplib wrote it, goes out whole,
// with no Content-Range and no multipart wrapping.
TEST_F(ServerTest, RangeNeverCutsAProblemDocument) {
  struct Probe {
    std::string path;
    httplib::Headers auth;
    int status;
  };
  const Probe probes[] = {
      {"/api/v1/me", {}, 401},       // a handler's
      {"/api/v1/nothing", {}, 404},  // httplib's
      {"/api/v1/cases/NOPE", Auth(Role::kInvestigator), 404},
      {"/api/v1/users", Auth(Role::kAnalyst), 403},
  };
  for (const Probe& p : probes) {
    for (const char* range :
         {"bytes=0-9", "bytes=3-", "bytes=-5", "bytes=0-0,5-9", "bytes=9-2"}) {
      SCOPED_TRACE(p.path + " " + range);
      httplib::Headers h = p.auth;
      h.emplace("Range", range);
      auto r = client_->Get(p.path.c_str(), h);
      ASSERT_TRUE(r);
      // An unsatisfiable range header may be refused as such, but with a
      // whole problem document all the same.
      int want = std::string(range) == "bytes=9-2" ? r->status : p.status;
      ExpectProblem(r, want);
      EXPECT_FALSE(r->has_header("Content-Range"));
      EXPECT_EQ(r->get_header_value("Content-Length"),
                std::to_string(r->body.size()));
    }
  }
}
TEST_F(ServerTest, InclusionProofVerifiesAgainstTheCheckpoint) {
  uint64_t size = LogSize();
  for (uint64_t i = 0; i < size; ++i) {
    auto r =
        client_->Get(("/api/v1/log/inclusion/" + std::to_string(i)).c_str(),
                     Auth(Role::kInvestigator));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    json j = json::parse(r->body);
    auto note = ParseNote(j["checkpoint"].get<std::string>());
    ASSERT_TRUE(note.ok());
    auto cp = ParseCheckpointBody(note->text);
    std::vector<Hash256> proof;
    for (const auto& b : j["proof"]) {
      auto bytes = Base64Decode(b.get<std::string>());
      Hash256 h;
      std::copy(bytes->begin(), bytes->end(), h.begin());
      proof.push_back(h);
    }
    auto entry = (*node_->Log())->Reader().Entry(i);
    ASSERT_TRUE(entry.ok());
    EXPECT_TRUE(merkle::VerifyInclusion(i, cp->size,
                                        merkle::LeafHash(AsBytes(*entry)),
                                        proof, cp->root)
                    .ok())
        << i;
  }
}

TEST_F(ServerTest, MetricsAndAccessLog) {
  client_->Get("/healthz");
  client_->Get("/api/v1/me", Auth(Role::kPoc));
  // The server counts a request after it has answered it: wait for that.
  const std::string want =
      "amanah_http_requests_total{route=\"GET /api/v1/me\",status=\"200\"} 1";
  std::string body;
  for (int i = 0; i < 200 && body.find(want) == std::string::npos; ++i) {
    if (i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto m = client_->Get("/metrics");
    ASSERT_TRUE(m);
    body = m->body;
  }
  EXPECT_NE(body.find(want), std::string::npos) << body;
  auto m = client_->Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("amanah_log_size " + std::to_string(LogSize())),
            std::string::npos);
  EXPECT_NE(m->body.find("amanah_http_request_duration_seconds_bucket"),
            std::string::npos);
  std::lock_guard<std::mutex> l(log_mu_);
  bool saw_me = false;
  for (const auto& line : access_log_) {
    json j = json::parse(line);
    if (j["path"] == "/api/v1/me") {
      saw_me = true;
      EXPECT_EQ(j["user"], "u-poc");
      EXPECT_EQ(j["status"], 200);
    }
    // Secrets never reach the access log.
    for (const auto& [role, token] : tokens_) {
      EXPECT_EQ(line.find(token), std::string::npos);
    }
  }
  EXPECT_TRUE(saw_me);
}

// Case endpoints, role by role and member or not: every refusal is a 403
// that changes nothing; a case that does not exist is a 404.
TEST_F(ServerTest, CaseEndpointsFollowTheMatrix) {
  const std::string open_body =
      R"({"title":"ransomware at a ministry","offence":"cybercrime",)"
      R"("legal_basis":"Budapest Convention art. 29"})";
  std::map<Role, std::string> opened;  // role -> id of the case it opened
  for (Role r : AllRoles()) {
    SCOPED_TRACE(std::string(RoleName(r)));
    uint64_t log = LogSize();
    auto res = PostJson("/api/v1/cases", open_body, Auth(r));
    ASSERT_TRUE(res);
    if (RoleAllows(r, Action::kOpenCase)) {
      ASSERT_EQ(res->status, 201) << res->body;
      json c = json::parse(res->body);
      opened[r] = c["id"];
      EXPECT_EQ(res->get_header_value("Location"),
                "/api/v1/cases/" + opened[r]);
      EXPECT_EQ(LogSize(), log + 2);  // case.opened, case.member_added
    } else {
      ExpectProblem(res, 403);
      EXPECT_EQ(LogSize(), log);
    }
  }
  ASSERT_EQ(opened.size(), 3u);
  const std::string kase = opened[Role::kInvestigator];

  // Viewing the investigator's case: members (the opener) yes; others only
  // if their role sees every case.
  for (Role r : AllRoles()) {
    SCOPED_TRACE(std::string(RoleName(r)));
    bool member = r == Role::kInvestigator;
    auto res = client_->Get(("/api/v1/cases/" + kase).c_str(), Auth(r));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, Allowed(r, Action::kViewCase, member) ? 200 : 403)
        << res->body;
    auto cust =
        client_->Get(("/api/v1/cases/" + kase + "/custody").c_str(), Auth(r));
    EXPECT_EQ(cust->status,
              Allowed(r, Action::kViewCustody, member) ? 200 : 403);
  }
  ExpectProblem(client_->Get("/api/v1/cases/NO-SUCH", Auth(Role::kAuditor)),
                404);

  // Membership: the analyst is let in by the investigator, and can then
  // view the case; non-members cannot add themselves.
  uint64_t log = LogSize();
  ExpectProblem(PostJson("/api/v1/cases/" + kase + "/members",
                         R"({"user":"u-analyst"})", Auth(Role::kAnalyst)),
                403);
  ExpectProblem(PostJson("/api/v1/cases/" + kase + "/members",
                         R"({"user":"u-poc"})", Auth(Role::kPoc)),
                403);
  EXPECT_EQ(LogSize(), log);
  auto add = PostJson("/api/v1/cases/" + kase + "/members",
                      R"({"user":"u-analyst"})", Auth(Role::kInvestigator));
  ASSERT_EQ(add->status, 201) << add->body;
  ExpectProblem(PostJson("/api/v1/cases/" + kase + "/members",
                         R"({"user":"u-analyst"})", Auth(Role::kInvestigator)),
                409);
  ExpectProblem(PostJson("/api/v1/cases/" + kase + "/members",
                         R"({"user":"nobody"})", Auth(Role::kInvestigator)),
                404);
  auto view =
      client_->Get(("/api/v1/cases/" + kase).c_str(), Auth(Role::kAnalyst));
  ASSERT_EQ(view->status, 200);
  json c = json::parse(view->body);
  EXPECT_EQ(c["members"].size(), 2u);
  auto del =
      client_->Delete(("/api/v1/cases/" + kase + "/members/u-analyst").c_str(),
                      Auth(Role::kInvestigator));
  EXPECT_EQ(del->status, 204);
  ExpectProblem(
      client_->Get(("/api/v1/cases/" + kase).c_str(), Auth(Role::kAnalyst)),
      403);

  // The case's custody: opened, member added, member added, member removed.
  auto cust = client_->Get(("/api/v1/cases/" + kase + "/custody").c_str(),
                           Auth(Role::kAuditor));
  json items = json::parse(cust->body)["items"];
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0]["kind"], "case.opened");
  EXPECT_EQ(items[0]["actor"], "user:u-investigator");
  EXPECT_EQ(items[3]["kind"], "case.member_removed");
}

TEST_F(ServerTest, CaseListIsPagedAndScopedToMembership) {
  for (int i = 0; i < 5; ++i) {
    std::string body = R"({"id":"KW-)" + std::to_string(i) +
                       R"(","title":"t","offence":"terrorist-financing",)"
                       R"("legal_basis":"UNSCR 1373"})";
    ASSERT_EQ(PostJson("/api/v1/cases", body, Auth(Role::kProsecutor))->status,
              201);
  }
  std::vector<std::string> seen;
  std::string after;
  for (int page = 0; page < 10; ++page) {
    std::string url = "/api/v1/cases?limit=2";
    if (!after.empty()) url += "&after=" + after;
    auto r = client_->Get(url.c_str(), Auth(Role::kProsecutor));
    ASSERT_EQ(r->status, 200) << r->body;
    json j = json::parse(r->body);
    for (const auto& c : j["items"]) seen.push_back(c["id"]);
    if (j["next"].is_null()) break;
    after = j["next"];
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"KW-0", "KW-1", "KW-2", "KW-3", "KW-4"}));
  // Not a member of any: an empty list, not an error.
  auto poc = client_->Get("/api/v1/cases", Auth(Role::kPoc));
  EXPECT_EQ(json::parse(poc->body)["items"].size(), 0u);
  // The auditor sees them all.
  auto aud = client_->Get("/api/v1/cases", Auth(Role::kAuditor));
  EXPECT_EQ(json::parse(aud->body)["items"].size(), 5u);
  ExpectProblem(client_->Get("/api/v1/cases?limit=0", Auth(Role::kAuditor)),
                400);
  ExpectProblem(client_->Get("/api/v1/cases?limit=x", Auth(Role::kAuditor)),
                400);
  ExpectProblem(PostJson("/api/v1/cases",
                         R"({"id":"KW-0","title":"t","offence":"other",)"
                         R"("legal_basis":"x"})",
                         Auth(Role::kProsecutor)),
                409);
  ExpectProblem(PostJson("/api/v1/cases",
                         R"({"id":"a/b","title":"t","offence":"other",)"
                         R"("legal_basis":"x"})",
                         Auth(Role::kProsecutor)),
                400);
  ExpectProblem(
      PostJson("/api/v1/cases",
               R"({"title":"t","offence":"piracy","legal_basis":"x"})",
               Auth(Role::kProsecutor)),
      400);
}

json RequestBody(const std::string& type) {
  json auth = {{"name", "Cybercrime Dept."}, {"time_zone", "Asia/Kuwait"}};
  json f = {{"requesting_authority", auth},
            {"requested_authority", auth},
            {"offence", {{"en", "Ransomware"}, {"ar", "برمجيات الفدية"}}},
            {"summary_of_facts", {{"en", "Servers encrypted"}}},
            {"data_requested", {{"en", "IP logs"}}}};
  if (type == "preservation") {
    f["relation_to_offence"] = {{"en", "The note names the account"}};
    f["provider"] = "Example Mail";
    f["account_identifiers"] = {"x@example.com"};
    f["necessity"] = {{"en", "Deleted after 30 days"}};
    f["mla_to_follow"] = true;
  }
  return {{"type", type},
          {"profile", "us-2703f"},
          {"direction", "outgoing"},
          {"reference", "KW-CC-2026-17"},
          {"fields", f}};
}

// JSON nested deeper than kMaxJsonDepth is refused before it is parsed:
// nlohmann::json copies values recursively, and a request's fields nested
// 150,000 objects deep (900 KB, within the 1 MiB limit) overflowed the
// stack of the thread that checked them, which ended the node (found by
// fuzz/api_body_fuzz.cc). A federation message, which anyone reaching the
// node may send, is parsed before its signature is checked.
TEST_F(ServerTest, DeeplyNestedBodiesAreRefusedAndTheNodeServesOn) {
  OpenCase("KW-8", "cybercrime", Role::kPoc);
  const size_t depth = 150000;
  json r = RequestBody("preservation");
  std::string body = r.dump();
  std::string deep;
  for (size_t i = 0; i < depth; ++i) deep += "{\"a\":";
  deep += "1" + std::string(depth, '}');
  size_t at = body.find("\"fields\":{") + 10;
  body.insert(at, "\"nested\":" + deep + ",");
  ASSERT_LE(body.size(), 1u << 20);
  ExpectProblem(PostJson("/api/v1/cases/KW-8/requests", body, Auth(Role::kPoc)),
                400);
  std::string message =
      "{\"from\":\"x.example\",\"id\":\"" + std::string(32, '0') +
      "\",\"payload\":{\"a\":" + deep +
      "},\"time\":\"2026-12-07T00:00:00."
      "000000Z\",\"to\":\"ccd.moi.gov.kw\",\"type\":\"request\",\"v\":1}";
  auto sent =
      client_->Post("/federation/v1/messages", {{"Amanah-Signature", "AAAA"}},
                    message, "application/vnd.amanah.message+json");
  ExpectProblem(sent, 400);
  auto alive = client_->Get("/healthz");
  ASSERT_TRUE(alive);
  EXPECT_EQ(alive->status, 200);
}

// Requests: created by members whose role may, moved by the roles the
// state machine names, forbidden moves are 409 and change nothing.
TEST_F(ServerTest, RequestsThroughTheApi) {
  const std::string open_body =
      R"({"id":"KW-9","title":"t","offence":"cybercrime","legal_basis":"x"})";
  ASSERT_EQ(PostJson("/api/v1/cases", open_body, Auth(Role::kPoc))->status,
            201);
  for (Role r : {Role::kProsecutor, Role::kAnalyst, Role::kAuditor}) {
    std::string body =
        std::string(R"({"user":"u-)") + std::string(RoleName(r)) + R"("})";
    ASSERT_EQ(
        PostJson("/api/v1/cases/KW-9/members", body, Auth(Role::kPoc))->status,
        201);
  }
  // Who may create: members with the role for it.
  uint64_t log = LogSize();
  ExpectProblem(
      PostJson("/api/v1/cases/KW-9/requests",
               RequestBody("preservation").dump(), Auth(Role::kAnalyst)),
      403);
  ExpectProblem(PostJson("/api/v1/cases/KW-9/requests",
                         RequestBody("preservation").dump(),
                         Auth(Role::kInvestigator)),  // not a member
                403);
  EXPECT_EQ(LogSize(), log);
  auto created = PostJson("/api/v1/cases/KW-9/requests",
                          RequestBody("preservation").dump(), Auth(Role::kPoc));
  ASSERT_EQ(created->status, 201) << created->body;
  json r = json::parse(created->body);
  std::string id = r["id"];
  EXPECT_EQ(r["state"], "draft");
  EXPECT_EQ(r["next_states"], json({"sent", "withdrawn"}));
  std::string moves = "/api/v1/requests/" + id + "/moves";

  // Forbidden: wrong role (analyst), impossible move (draft -> preserved).
  log = LogSize();
  ExpectProblem(PostJson(moves, R"({"to":"sent"})", Auth(Role::kAnalyst)), 403);
  ExpectProblem(PostJson(moves, R"({"to":"preserved"})", Auth(Role::kPoc)),
                409);
  ExpectProblem(PostJson(moves, R"({"to":"expired"})", Auth(Role::kPoc)), 409);
  ExpectProblem(PostJson(moves, R"({"to":"nirvana"})", Auth(Role::kPoc)), 400);
  ExpectProblem(PostJson(moves, R"({"to":"sent","extra":1})", Auth(Role::kPoc)),
                400);
  EXPECT_EQ(LogSize(), log);

  for (const char* to : {"sent", "acknowledged", "preserved"}) {
    auto m = PostJson(moves, std::string(R"({"to":")") + to + R"("})",
                      Auth(Role::kPoc));
    ASSERT_EQ(m->status, 200) << to << " " << m->body;
  }
  auto shown =
      client_->Get(("/api/v1/requests/" + id).c_str(), Auth(Role::kAuditor));
  ASSERT_EQ(shown->status, 200) << shown->body;
  json s = json::parse(shown->body);
  EXPECT_EQ(s["state"], "preserved");
  EXPECT_EQ(s["history"].size(), 3u);
  EXPECT_NEAR(s["hours_left"].get<double>(), 90 * 24, 0.1);

  // A production request: the 24/7 contact may not send it; the
  // prosecutor may.
  auto prod =
      PostJson("/api/v1/cases/KW-9/requests", RequestBody("production").dump(),
               Auth(Role::kProsecutor));
  ASSERT_EQ(prod->status, 201) << prod->body;
  std::string pid = json::parse(prod->body)["id"];
  ExpectProblem(PostJson("/api/v1/requests/" + pid + "/moves",
                         R"({"to":"sent"})", Auth(Role::kPoc)),
                403);
  EXPECT_EQ(PostJson("/api/v1/requests/" + pid + "/moves", R"({"to":"sent"})",
                     Auth(Role::kProsecutor))
                ->status,
            200);
  ExpectProblem(PostJson("/api/v1/requests/" + pid + "/moves",
                         R"({"to":"refused"})", Auth(Role::kProsecutor)),
                400);  // a refusal needs a reason

  // Lists: the case's, and the open ones most urgent first.
  auto list = client_->Get("/api/v1/cases/KW-9/requests", Auth(Role::kPoc));
  EXPECT_EQ(json::parse(list->body)["items"].size(), 2u);
  auto open = client_->Get("/api/v1/requests", Auth(Role::kPoc));
  ASSERT_EQ(open->status, 200);
  EXPECT_EQ(json::parse(open->body)["items"][0]["id"], id);
  ExpectProblem(client_->Get("/api/v1/requests", Auth(Role::kAdmin)), 403);

  // The printable page.
  auto page = client_->Get(("/api/v1/requests/" + id + "/print").c_str(),
                           Auth(Role::kPoc));
  ASSERT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("dir=\"rtl\""), std::string::npos);
  EXPECT_NE(page->body.find("برمجيات الفدية"), std::string::npos);
  ExpectProblem(client_->Get("/api/v1/requests/R-2026-99999", Auth(Role::kPoc)),
                404);
}

// Sends a PATCH whose body breaks off after `send` of `total` bytes: the
// connection is closed mid-body, as when a link drops.
void BrokenPatch(int port, const std::string& path, const std::string& token,
                 uint64_t offset, const std::string& body, size_t send) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string head = "PATCH " + path +
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                     token + "\r\nUpload-Offset: " + std::to_string(offset) +
                     "\r\nUpload-Complete: ?1\r\nContent-Type: "
                     "application/octet-stream\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n";
  std::string all = head + body.substr(0, send);
  size_t done = 0;
  while (done < all.size()) {
    ssize_t n = ::send(fd, all.data() + done, all.size() - done, MSG_NOSIGNAL);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

// An upload interrupted at random offsets, many times, and resumed each
// time from the offset the server reports, ends as one object identical to
// the file and one evidence.ingested entry. Halfway, the server restarts.
TEST_F(ServerTest, UploadSurvivesDroppedConnectionsAndARestart) {
  ASSERT_NO_FATAL_FAILURE(OpenCase("UP-1", "cybercrime", Role::kInvestigator));
  std::mt19937_64 rng(42);
  std::string data(9 * 1048576 + 777, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  auto begin =
      PostJson("/api/v1/cases/UP-1/uploads",
               R"({"name":"phone.bin","md5":true})", Auth(Role::kInvestigator));
  ASSERT_EQ(begin->status, 201) << begin->body;
  std::string url = json::parse(begin->body)["url"];
  uint64_t log_before = LogSize();
  std::string token = tokens_[Role::kInvestigator];

  auto offset_now = [&]() -> uint64_t {
    for (int i = 0; i < 500; ++i) {
      auto g = client_->Get(url.c_str(), Auth(Role::kInvestigator));
      if (g && g->status == 200) {
        return std::stoull(g->get_header_value("Upload-Offset"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "no offset";
    return 0;
  };
  json finished;
  for (int attempt = 0; attempt < 200 && finished.is_null(); ++attempt) {
    if (attempt == 6) {
      // Restart: a new server (and upload desk) over the same node.
      StopServer();
      StartServer();
    }
    uint64_t off = offset_now();
    std::string rest = data.substr(off);
    if (attempt < 12) {
      // Break off somewhere in what is left.
      BrokenPatch(server_->port(), url, token, off, rest, rng() % rest.size());
      continue;
    }
    httplib::Headers h = Auth(Role::kInvestigator);
    h.emplace("Upload-Offset", std::to_string(off));
    h.emplace("Upload-Complete", "?1");
    auto r = client_->Patch(url.c_str(), h, rest, "application/octet-stream");
    if (!r || r->status == 409) {
      // The broken request was still being handled (its offset moved on, or
      // it held the upload): the server answered before reading our body
      // and the send failed, or said 409. A client asks again.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    ASSERT_EQ(r->status, 201) << r->body;
    finished = json::parse(r->body);
  }
  ASSERT_FALSE(finished.is_null());
  Hasher md5(HashAlgorithm::kMd5);
  md5.Update(AsBytes(data));
  EXPECT_EQ(finished["address"], "sha256:" + HexEncode(Sha256(AsBytes(data))));
  EXPECT_EQ(finished["hashes"]["md5"], HexEncode(md5.Finish()));
  EXPECT_EQ(finished["size"], data.size());
  EXPECT_EQ(finished["entry"]["kind"], "evidence.ingested");
  EXPECT_EQ(finished["entry"]["data"]["source"], "phone.bin");
  // Exactly one custody entry for the whole upload.
  EXPECT_EQ(LogSize(), log_before + 1);
  // Download it back: identical, and the access is recorded first.
  std::string address = finished["address"];
  auto down = client_->Get(
      ("/api/v1/evidence/" + address + "/content?case=UP-1").c_str(),
      Auth(Role::kInvestigator));
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 200);
  EXPECT_TRUE(down->body == data);
  EXPECT_EQ(LogSize(), log_before + 2);
  // A completed upload takes no more bytes.
  httplib::Headers h = Auth(Role::kInvestigator);
  h.emplace("Upload-Offset", std::to_string(data.size()));
  ExpectProblem(client_->Patch(url.c_str(), h, "x", "application/octet-stream"),
                409);
}

// Issue 18, items 1 and 3, through the API: bytes held in one case and
// uploaded into another are new to that case, and neither case's view,
// nor the log that every signed-in user reads, tells of the other.
TEST_F(ServerTest, CasesSharingContentLearnNothingOfEachOther) {
  ASSERT_NO_FATAL_FAILURE(OpenCase("SEC-2", "terrorism", Role::kInvestigator));
  ASSERT_NO_FATAL_FAILURE(OpenCase("SEC-1", "cybercrime", Role::kProsecutor));
  const std::string bytes = "the same attachment, seized twice";
  auto upload = [&](const std::string& case_id, Role r,
                    const std::string& name) {
    auto begin = PostJson("/api/v1/cases/" + case_id + "/uploads",
                          R"({"name":")" + name + R"("})", Auth(r));
    EXPECT_EQ(begin->status, 201) << begin->body;
    std::string url = json::parse(begin->body)["url"];
    httplib::Headers h = Auth(r);
    h.emplace("Upload-Offset", "0");
    h.emplace("Upload-Complete", "?1");
    auto done =
        client_->Patch(url.c_str(), h, bytes, "application/octet-stream");
    EXPECT_EQ(done->status, 201) << done->body;
    return json::parse(done->body);
  };
  EXPECT_FALSE(upload("SEC-2", Role::kInvestigator, "secret-source.eml")
                   .value("duplicate", true));
  EXPECT_FALSE(
      upload("SEC-1", Role::kProsecutor, "a.eml").value("duplicate", true));
  EXPECT_TRUE(
      upload("SEC-1", Role::kProsecutor, "b.eml").value("duplicate", false));

  // SEC-1's custody: its case and its two ingests, nothing of SEC-2.
  auto custody = client_->Get("/api/v1/cases/SEC-1/custody?limit=100",
                              Auth(Role::kProsecutor));
  ASSERT_EQ(custody->status, 200) << custody->body;
  EXPECT_EQ(custody->body.find("SEC-2"), std::string::npos);
  EXPECT_EQ(custody->body.find("secret-source"), std::string::npos);
  EXPECT_EQ(custody->body.find("investigator"), std::string::npos);
  int ingests = 0;
  const json view = json::parse(custody->body);
  for (const auto& item : view["items"]) {
    if (item["kind"] == "evidence.ingested") ++ingests;
  }
  EXPECT_EQ(ingests, 2);

  // The analyst, a member of neither, reads every entry of the log and its
  // proofs, and learns no case's id, file name, legal basis or hash.
  const uint64_t size = LogSize();
  std::string tiles;
  for (uint64_t i = 0; i < size; ++i) {
    auto proof =
        client_->Get(("/api/v1/log/inclusion/" + std::to_string(i)).c_str(),
                     Auth(Role::kAnalyst));
    ASSERT_EQ(proof->status, 200) << proof->body;
    tiles += proof->body;
  }
  auto bundle =
      client_->Get(("/log/tile/entries/000.p/" + std::to_string(size)).c_str(),
                   Auth(Role::kAnalyst));
  ASSERT_EQ(bundle->status, 200);
  tiles += bundle->body;
  for (const std::string& secret :
       {std::string("SEC-"), std::string("secret-source"), std::string("a.eml"),
        std::string("terrorism"), HexEncode(Sha256(AsBytes(bytes)))}) {
    EXPECT_EQ(tiles.find(secret), std::string::npos) << secret;
  }
  EXPECT_EQ(
      client_->Get("/api/v1/cases/SEC-2/custody", Auth(Role::kAnalyst))->status,
      403);
}

TEST_F(ServerTest, UploadAndDownloadRefusals) {
  ASSERT_NO_FATAL_FAILURE(OpenCase("UP-2", "other", Role::kInvestigator));
  uint64_t log = LogSize();
  // Not a member / not a role that uploads.
  ExpectProblem(PostJson("/api/v1/cases/UP-2/uploads", R"({"name":"a"})",
                         Auth(Role::kProsecutor)),
                403);
  ExpectProblem(PostJson("/api/v1/cases/UP-2/uploads", R"({"name":"../a"})",
                         Auth(Role::kInvestigator)),
                400);
  auto begin = PostJson("/api/v1/cases/UP-2/uploads", R"({"name":"a.txt"})",
                        Auth(Role::kInvestigator));
  ASSERT_EQ(begin->status, 201);
  std::string url = json::parse(begin->body)["url"];
  httplib::Headers h = Auth(Role::kInvestigator);
  ExpectProblem(
      client_->Patch(url.c_str(), h, "abc", "application/octet-stream"),
      400);  // no Upload-Offset
  h.emplace("Upload-Offset", "5");
  ExpectProblem(
      client_->Patch(url.c_str(), h, "abc", "application/octet-stream"),
      409);  // wrong offset
  ExpectProblem(client_->Patch(url.c_str(), Auth(Role::kAnalyst), "abc",
                               "application/octet-stream"),
                403);
  EXPECT_EQ(LogSize(), log);
  // JSON endpoints refuse big or chunked bodies before reading them.
  ExpectProblem(PostJson("/api/v1/cases/UP-2/uploads",
                         std::string(3 << 20, ' '), Auth(Role::kInvestigator)),
                413);
  // Downloads need the case, membership, and the object in that case.
  std::string zero = "sha256:" + std::string(64, '0');
  ExpectProblem(client_->Get(("/api/v1/evidence/" + zero + "/content").c_str(),
                             Auth(Role::kInvestigator)),
                400);
  ExpectProblem(
      client_->Get(("/api/v1/evidence/" + zero + "/content?case=UP-2").c_str(),
                   Auth(Role::kInvestigator)),
      404);
  ExpectProblem(
      client_->Get(("/api/v1/evidence/" + zero + "/content?case=UP-2").c_str(),
                   Auth(Role::kAuditor)),
      403);
  EXPECT_EQ(LogSize(), log);
}

// --tls-cert/--tls-key: the API over HTTPS with the given certificate;
// plain HTTP to that port gets nothing.
TEST_F(ServerTest, ServesOverTls) {
  std::string cert = (dir_ / "cert.pem").string();
  std::string key = (dir_ / "key.pem").string();
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
      "-keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ServerOptions o;
  o.port = 0;
  o.tls_cert = cert;
  o.tls_key = key;
  o.access_log = [](const std::string&) {};
  auto tls = ApiServer::Create(node_.get(), o);
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  EXPECT_EQ((*tls)->url().rfind("https://", 0), 0u);
  std::thread t([&] { (void)(*tls)->Run(); });
  httplib::SSLClient c("127.0.0.1", (*tls)->port());
  c.set_ca_cert_path(cert.c_str());
  c.enable_server_certificate_verification(true);
  int status = 0;
  for (int i = 0; i < 200 && status == 0; ++i) {
    auto r = c.Get("/healthz");
    if (r) {
      status = r->status;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  EXPECT_EQ(status, 200);
  httplib::Client plain("127.0.0.1", (*tls)->port());
  plain.set_connection_timeout(1);
  plain.set_read_timeout(1);
  auto p = plain.Get("/healthz");
  EXPECT_TRUE(!p || p->status != 200);
  (*tls)->Stop();
  t.join();
  // Bad key material is a clear error, not a crash.
  ServerOptions bad = o;
  bad.tls_key = cert;
  EXPECT_EQ(ApiServer::Create(node_.get(), bad).status().code(),
            Code::kInvalidInput);
  bad.tls_key = "";
  EXPECT_EQ(ApiServer::Create(node_.get(), bad).status().code(),
            Code::kInvalidInput);
}

// A closed case takes no evidence, uploads or requests, keeps its history
// readable, and can be reopened; both are custody entries.
TEST_F(ServerTest, ClosingACase) {
  ASSERT_NO_FATAL_FAILURE(OpenCase("CL-1", "other", Role::kInvestigator));
  uint64_t log = LogSize();
  ExpectProblem(
      PostJson("/api/v1/cases/CL-1/status",
               R"({"status":"closed","reason":"done"})", Auth(Role::kAuditor)),
      403);
  ExpectProblem(PostJson("/api/v1/cases/CL-1/status", R"({"status":"closed"})",
                         Auth(Role::kInvestigator)),
                400);
  ExpectProblem(PostJson("/api/v1/cases/CL-1/status",
                         R"({"status":"archived","reason":"x"})",
                         Auth(Role::kInvestigator)),
                400);
  EXPECT_EQ(LogSize(), log);
  auto closed = PostJson("/api/v1/cases/CL-1/status",
                         R"({"status":"closed","reason":"court decided"})",
                         Auth(Role::kInvestigator));
  ASSERT_EQ(closed->status, 200) << closed->body;
  EXPECT_EQ(json::parse(closed->body)["status"], "closed");
  ExpectProblem(PostJson("/api/v1/cases/CL-1/status",
                         R"({"status":"closed","reason":"again"})",
                         Auth(Role::kInvestigator)),
                409);
  ExpectProblem(PostJson("/api/v1/cases/CL-1/uploads", R"({"name":"a"})",
                         Auth(Role::kInvestigator)),
                409);
  ExpectProblem(
      PostJson("/api/v1/cases/CL-1/requests", RequestBody("production").dump(),
               Auth(Role::kInvestigator)),
      409);
  EXPECT_EQ(
      client_->Get("/api/v1/cases/CL-1", Auth(Role::kInvestigator))->status,
      200);
  auto reopened = PostJson("/api/v1/cases/CL-1/status",
                           R"({"status":"open","reason":"new lead"})",
                           Auth(Role::kInvestigator));
  ASSERT_EQ(reopened->status, 200);
  EXPECT_EQ(LogSize(), log + 2);
  auto cust = client_->Get("/api/v1/cases/CL-1/custody", Auth(Role::kAuditor));
  json items = json::parse(cust->body)["items"];
  EXPECT_EQ(items[items.size() - 2]["kind"], "case.closed");
  EXPECT_EQ(items[items.size() - 1]["kind"], "case.reopened");
}

// Connections from one address that send part of their headers and stall
// (here 100; 70 held every thread before) neither starve another address
// nor outlive the header deadline. Beyond the ones served (here 16) and
// waiting (64), an address's connections are refused with a 503.
TEST_F(ServerTest, StalledHeadersFromOneAddressDoNotStarveOthers) {
  StopServer();
  options_.connections.threads = 64;  // fewer than the stalled connections
  options_.connections.per_address = 16;
  options_.connections.waiting_per_address = 64;
  options_.connections.header_timeout = seconds(3);
  StartServer();
  const int kStalled = 100;
  std::vector<int> fds;
  auto opened = SteadyClock::now();
  for (int i = 0; i < kStalled; ++i) {
    int fd = ConnectFrom("127.0.0.2", server_->port());
    ASSERT_GE(fd, 0) << i;
    ASSERT_TRUE(SendAll(fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(milliseconds(300));

  // Another address is answered at once, well before the deadline.
  for (const char* other : {"127.0.0.1", "127.0.0.3"}) {
    auto start = SteadyClock::now();
    int fd = ConnectFrom(other, server_->port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd,
                        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Connection: close\r\n\r\n"));
    std::string answer = ReadUntilClosed(fd, seconds(10));
    ::close(fd);
    EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << other << answer;
    EXPECT_LT(SteadyClock::now() - start, milliseconds(1500)) << other;
  }

  // Every stalled connection ends: refused at once, or cut at the deadline
  // (a 408 if it was being read, unanswered if it waited its turn).
  int refused = 0, timed_out = 0, dropped = 0;
  for (int fd : fds) {
    bool closed = false;
    auto left = std::chrono::duration_cast<milliseconds>(opened + seconds(6) -
                                                         SteadyClock::now());
    std::string answer =
        ReadUntilClosed(fd, std::max(left, milliseconds(1)), &closed);
    ::close(fd);
    EXPECT_TRUE(closed) << "still open after 6 s";
    if (answer.rfind("HTTP/1.1 503", 0) == 0) {
      ++refused;
      EXPECT_NE(answer.find("Retry-After: 1\r\n"), std::string::npos);
      EXPECT_NE(answer.find("urn:amanah:problem:unavailable"),
                std::string::npos);
    } else if (answer.rfind("HTTP/1.1 408", 0) == 0) {
      ++timed_out;
    } else {
      EXPECT_EQ(answer, "");
      ++dropped;
    }
  }
  EXPECT_GE(SteadyClock::now() - opened, milliseconds(2900));
  EXPECT_EQ(refused, kStalled - 16 - 64);
  // The 16 served, and any waiting one whose turn came just before its own
  // deadline.
  EXPECT_GE(timed_out, 16);
  EXPECT_EQ(timed_out + dropped, 16 + 64);

  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("amanah_http_connections_refused_total 20\n"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("amanah_http_requests_timed_out_total " +
                               std::to_string(timed_out) + "\n"),
            std::string::npos);
}

// Headers and a JSON body must arrive within their deadlines, each counted
// from the start of its part, however slowly they trickle in; an upload's
// body streams for as long as its data keeps coming.
TEST_F(ServerTest, DeadlinesForHeadersAndBodiesButNotForUploads) {
  StopServer();
  options_.connections.header_timeout = seconds(1);
  options_.connections.body_timeout = seconds(1);
  StartServer();
  auto trickle = [](int fd, const std::string& data, size_t pieces,
                    milliseconds pause) {
    size_t step = (data.size() + pieces - 1) / pieces;
    for (size_t at = 0; at < data.size(); at += step) {
      if (!SendAll(fd, data.substr(at, step))) return false;
      std::this_thread::sleep_for(pause);
    }
    return true;
  };
  const std::string me =
      "GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
      tokens_[Role::kAuditor] + "\r\nConnection: close\r\n\r\n";

  // Headers over 0.6 s: in time.
  int fd = ConnectFrom("127.0.0.1", server_->port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(trickle(fd, me, 6, milliseconds(100)));
  std::string answer = ReadUntilClosed(fd, seconds(10));
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;

  // Headers over 2 s: a 408 at the deadline, and the connection closed.
  fd = ConnectFrom("127.0.0.1", server_->port());
  ASSERT_GE(fd, 0);
  (void)trickle(fd, me, 10, milliseconds(200));
  answer = ReadUntilClosed(fd, seconds(10));
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_NE(answer.find("application/problem+json"), std::string::npos);

  // A sign-in body over 2 s: the same.
  std::string login =
      JsonRequest("POST", "/api/v1/sessions",
                  R"({"name":"nobody","password":"not a password at all"})");
  size_t head = login.find("\r\n\r\n") + 4;
  fd = ConnectFrom("127.0.0.1", server_->port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, login.substr(0, head)));
  (void)trickle(fd, login.substr(head), 10, milliseconds(200));
  answer = ReadUntilClosed(fd, seconds(10));
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;

  // An upload's body over 3 s, well past both deadlines: taken whole.
  OpenCase("UP-3", "cybercrime", Role::kInvestigator);
  auto begin = PostJson("/api/v1/cases/UP-3/uploads", R"({"name":"slow.bin"})",
                        Auth(Role::kInvestigator));
  ASSERT_TRUE(begin);
  ASSERT_EQ(begin->status, 201) << begin->body;
  std::string url = json::parse(begin->body)["url"];
  std::string data(300000, 'x');
  fd = ConnectFrom("127.0.0.1", server_->port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(
      SendAll(fd, "PATCH " + url +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                      tokens_[Role::kInvestigator] +
                      "\r\nUpload-Offset: 0\r\nUpload-Complete: ?1\r\n"
                      "Content-Type: application/octet-stream\r\n"
                      "Connection: close\r\nContent-Length: " +
                      std::to_string(data.size()) + "\r\n\r\n"));
  ASSERT_TRUE(trickle(fd, data, 10, milliseconds(300)));
  answer = ReadUntilClosed(fd, seconds(20));
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 201", 0), 0u) << answer;
  EXPECT_NE(answer.find("\"size\":300000"), std::string::npos) << answer;
}

}  // namespace
}  // namespace amanah
