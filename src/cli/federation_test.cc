// Witnessing between real nodes: three `amanah serve` processes on loopback
// pin one another, cosign one another's logs as they grow, and catch a node
// whose history was forked.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/testutil.h"
#include "ledger/note.h"
#include "storage/testutil.h"

namespace amanah {
namespace {

namespace fs = std::filesystem;

using testutil::Outcome;

// A port that was free a moment ago.
int FreePort() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

class FederationTest : public testutil::TempDirTest {
 protected:
  struct NodeProc {
    std::string name;
    fs::path data;
    int port = 0;
    int pid = 0;
    std::string key;  // verifier key
    std::string tls;  // "--tls-cert C --tls-key K", or empty
    std::string url() const {
      return std::string(tls.empty() ? "http" : "https") +
             "://127.0.0.1:" + std::to_string(port);
    }
  };

  void TearDown() override {
    for (auto& [name, n] : nodes_) Stop(n);
    TempDirTest::TearDown();
  }

  Outcome Amanah(const fs::path& data, const std::string& args) {
    return testutil::RunAmanah(data, args, dir_ / "stderr");
  }

  NodeProc& Init(const std::string& name) {
    NodeProc& n = nodes_[name];
    n.name = name;
    n.data = dir_ / name;
    n.port = FreePort();
    EXPECT_EQ(Amanah(n.data, "init --name " + name).code, 0);
    std::ifstream k(n.data / "keys" / "verifier.key");
    std::getline(k, n.key);
    return n;
  }

  void Start(NodeProc& n) {
    std::string log = (dir_ / (n.name + ".log")).string();
    std::string cmd =
        std::string(AMANAH_BINARY) + " --data " + n.data.string() +
        " serve --listen 127.0.0.1:" + std::to_string(n.port) + " " + n.tls +
        " --witness-interval 0.2 >>" + log + " 2>&1 & echo $!";
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[32] = {0};
    ASSERT_NE(std::fgets(buf, sizeof(buf), p), nullptr);
    ::pclose(p);
    n.pid = std::atoi(buf);
    httplib::Client c(n.url());
    c.enable_server_certificate_verification(false);
    for (int i = 0; i < 200; ++i) {
      if (auto r = c.Get("/healthz"); r && r->status == 200) return;
      ::usleep(50000);
    }
    std::ifstream in(log);
    FAIL() << n.name << " did not start: "
           << std::string((std::istreambuf_iterator<char>(in)), {});
  }

  void Stop(NodeProc& n) {
    if (n.pid <= 0) return;
    ::kill(n.pid, SIGTERM);
    for (int i = 0; i < 200 && ::kill(n.pid, 0) == 0; ++i) ::usleep(50000);
    n.pid = 0;
  }

  static uint64_t LogSize(const fs::path& data) {
    // The checkpoint file's second line.
    std::ifstream in(data / "log" / "checkpoint");
    std::string origin, size;
    std::getline(in, origin);
    std::getline(in, size);
    return std::stoull(size);
  }

  // Waits until `n`'s cosigned checkpoint is at its log's current size and
  // carries a valid cosignature by each of `witnesses`.
  void WaitCosigned(const NodeProc& n,
                    const std::vector<const NodeProc*>& witnesses) {
    uint64_t want = LogSize(n.data);
    httplib::Client c(n.url());
    c.enable_server_certificate_verification(false);
    std::string last;
    for (int i = 0; i < 300; ++i) {
      auto r = c.Get("/log/cosigned-checkpoint");
      if (r && r->status == 200) {
        last = r->body;
        auto note = ParseNote(r->body);
        ASSERT_TRUE(note.ok());
        auto cp = ParseCheckpointBody(note->text);
        ASSERT_TRUE(cp.ok());
        auto own = ParseVerifierKey(n.key);
        ASSERT_TRUE(own.ok());
        ASSERT_TRUE(VerifyNoteSignature(*note, *own).ok());
        bool all = cp->size >= want;
        for (const NodeProc* w : witnesses) {
          auto k = ParseVerifierKey(w->key);
          ASSERT_TRUE(k.ok());
          VerifierKey cosigner = *k;
          cosigner.name = w->name;
          cosigner.type = kNoteKeyTypeCosignatureV1;
          cosigner.key_id =
              NoteKeyId(cosigner.name, cosigner.type, cosigner.public_key);
          if (!VerifyCosignature(*note, cosigner).ok()) all = false;
        }
        if (all) return;
      }
      ::usleep(50000);
    }
    FAIL() << n.name << " was not cosigned at size " << want << "; last:\n"
           << last;
  }

  std::map<std::string, NodeProc> nodes_;
};

TEST_F(FederationTest, ThreeNodesWitnessEachOtherAndCatchAFork) {
  NodeProc& kw = Init("ccd.moi.gov.kw");
  NodeProc& us = Init("cyber.doj.example");
  NodeProc& eu = Init("ncsc.example.eu");
  // The Kuwaiti node serves over TLS with a self-signed certificate, which
  // its peers pin.
  std::string cert = (dir_ / "kw.pem").string();
  std::string key = (dir_ / "kw.key").string();
  ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt "
                         "ec_paramgen_curve:P-256 -nodes -days 2 -subj "
                         "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                         "-keyout " +
                         key + " -out " + cert + " 2>/dev/null")
                            .c_str()),
            0);
  kw.tls = "--tls-cert " + cert + " --tls-key " + key;
  std::vector<NodeProc*> all = {&kw, &us, &eu};
  for (NodeProc* a : all) {
    for (NodeProc* b : all) {
      if (a == b) continue;
      std::string pin;
      if (b == &kw) {
        // The EU node pins a wrong certificate at first.
        pin = a == &eu ? " --tls-pin " + std::string(64, '0')
                       : " --tls-cert " + cert;
      }
      Outcome o = Amanah(a->data, "peer add " + b->name + " --url " + b->url() +
                                      " --key " + b->key + pin);
      ASSERT_EQ(o.code, 0) << o.err;
    }
  }
  // A key that is not the named peer's is refused.
  EXPECT_EQ(
      Amanah(kw.data, "peer add other.example --url http://h:1 --key " + us.key)
          .code,
      2);
  for (NodeProc* n : all) Start(*n);
  WaitCosigned(kw, {&us, &eu});
  WaitCosigned(us, {&kw, &eu});

  // The EU node cannot reach a certificate other than the pinned one, and
  // says why.
  std::string why;
  for (int i = 0; i < 200 && why.find("does not match") == std::string::npos;
       ++i) {
    auto j = nlohmann::json::parse(Amanah(eu.data, "--json peer list").out);
    for (const auto& p : j["peers"]) {
      if (p["name"] == kw.name && p.contains("last_error")) {
        why = p["last_error"];
      }
    }
    ::usleep(50000);
  }
  EXPECT_NE(why.find("does not match the pinned SHA-256"), std::string::npos)
      << why;
  Stop(eu);
  ASSERT_EQ(Amanah(eu.data, "peer remove " + kw.name).code, 0);
  ASSERT_EQ(Amanah(eu.data, "peer add " + kw.name + " --url " + kw.url() +
                                " --key " + kw.key + " --tls-cert " + cert)
                .code,
            0);
  Start(eu);
  WaitCosigned(eu, {&kw, &us});

  // A snapshot of the Kuwaiti node, to fork its history from later.
  Stop(kw);
  fs::path forked = dir_ / "forked";
  fs::copy(kw.data, forked, fs::copy_options::recursive);
  fs::remove(forked / "LOCK");

  // The node's log grows while it is down; once back, its peers cosign the
  // new size through a consistency proof from the size they cosigned.
  ASSERT_EQ(Amanah(kw.data,
                   "case open KW-1 --title t --offence cybercrime "
                   "--legal-basis x")
                .code,
            0);
  Start(kw);
  WaitCosigned(kw, {&us, &eu});

  // The fork: same key, same size, other entries.
  ASSERT_EQ(Amanah(forked,
                   "case open KW-9 --title forged --offence other "
                   "--legal-basis x")
                .code,
            0);
  EXPECT_EQ(LogSize(forked), LogSize(kw.data));
  Outcome push = Amanah(forked, "peer witness");
  EXPECT_NE(push.code, 0) << push.out;
  EXPECT_NE(push.out.find("another history"), std::string::npos) << push.out;

  // Both witnesses caught it, say so, and still stand by the real history.
  for (NodeProc* w : {&us, &eu}) {
    Outcome list = Amanah(w->data, "--json peer list");
    EXPECT_EQ(list.code, 5) << list.err;
    auto j = nlohmann::json::parse(list.out);
    ASSERT_EQ(j["alarms"].size(), 1u) << list.out;
    EXPECT_EQ(j["alarms"][0]["origin"], "ccd.moi.gov.kw/custody");
    EXPECT_NE(
        j["alarms"][0]["reason"].get<std::string>().find("two different roots"),
        std::string::npos);
    for (const auto& p : j["peers"]) {
      if (p["name"] == "ccd.moi.gov.kw") {
        EXPECT_EQ(p["their_log_cosigned_size"], LogSize(kw.data));
        EXPECT_EQ(p["alarms"], 1);
      }
    }
    httplib::Client c(w->url());
    auto m = c.Get("/metrics");
    ASSERT_TRUE(m);
    EXPECT_NE(m->body.find("amanah_witness_alarms 1"), std::string::npos);
  }
  EXPECT_EQ(Amanah(kw.data, "peer list").code, 0);

  // A request to the US node while it is down: queued, signed, retried,
  // and delivered once it is back, with a receipt the sender checked.
  Stop(kw);
  Stop(us);
  std::ofstream(dir_ / "fields.json") << R"({
    "requesting_authority": {"name": "CCD Kuwait", "time_zone": "Asia/Kuwait"},
    "requested_authority": {"name": "DOJ CCIPS", "time_zone": "America/New_York"},
    "offence": {"en": "Fraud", "ar": "احتيال"},
    "summary_of_facts": {"en": "Phishing of bank customers"},
    "data_requested": {"en": "Subscriber of an e-mail account"}})";
  Outcome created =
      Amanah(kw.data,
             "--json request create --case KW-1 --type subscriber "
             "--profile eu --direction outgoing --fields " +
                 (dir_ / "fields.json").string());
  ASSERT_EQ(created.code, 0) << created.err;
  std::string request = nlohmann::json::parse(created.out)["id"];
  Outcome sent =
      Amanah(kw.data, "--json request send " + request + " --to " + us.name);
  ASSERT_EQ(sent.code, 0) << sent.err;
  std::string message = nlohmann::json::parse(sent.out)["message"];
  EXPECT_EQ(
      Amanah(kw.data, "request send " + request + " --to " + us.name).code,
      4);  // sent already
  Start(kw);
  std::string error;
  for (int i = 0; i < 200 && error.empty(); ++i) {
    auto j = nlohmann::json::parse(Amanah(kw.data, "--json outbox").out);
    if (!j.empty() && j[0].contains("last_error")) error = j[0]["last_error"];
    ::usleep(50000);
  }
  EXPECT_NE(error.find("cannot reach " + us.name), std::string::npos) << error;
  Start(us);
  std::string state;
  for (int i = 0; i < 400 && state != "delivered"; ++i) {
    auto j = nlohmann::json::parse(Amanah(kw.data, "--json outbox --all").out);
    ASSERT_EQ(j.size(), 1u);
    state = j[0]["state"];
    ::usleep(50000);
  }
  ASSERT_EQ(state, "delivered");
  auto inbox = nlohmann::json::parse(Amanah(us.data, "--json inbox").out);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0]["id"], message);
  EXPECT_EQ(inbox[0]["from"], kw.name);
  EXPECT_EQ(inbox[0]["message"]["payload"]["request"], request);
  EXPECT_EQ(inbox[0]["message"]["payload"]["fields"]["offence"]["ar"],
            "احتيال");
  auto shown =
      nlohmann::json::parse(Amanah(kw.data, "request show " + request).out);
  EXPECT_EQ(shown["state"], "sent");

  // The US contact files it in a case and acknowledges it; each move goes
  // back as a signed update that moves the Kuwaiti copy too.
  Stop(us);
  ASSERT_EQ(Amanah(us.data,
                   "case open US-1 --title 'From Kuwait' --offence "
                   "cybercrime --legal-basis 'MLAT'")
                .code,
            0);
  Outcome filed =
      Amanah(us.data, "--json inbox file " + message + " --case US-1");
  ASSERT_EQ(filed.code, 0) << filed.err;
  auto incoming = nlohmann::json::parse(filed.out);
  EXPECT_EQ(incoming["direction"], "incoming");
  EXPECT_EQ(incoming["reference"], request);
  std::string theirs = incoming["id"];
  EXPECT_EQ(Amanah(us.data, "inbox file " + message + " --case US-1").code,
            4);  // filed already
  ASSERT_EQ(
      Amanah(us.data, "request move " + theirs + " --to acknowledged").code, 0);
  Start(us);
  for (int i = 0; i < 400 && shown["state"] != "acknowledged"; ++i) {
    shown =
        nlohmann::json::parse(Amanah(kw.data, "request show " + request).out);
    ::usleep(50000);
  }
  EXPECT_EQ(shown["state"], "acknowledged");
  ASSERT_GE(shown["history"].size(), 3u);
  EXPECT_EQ(shown["history"][1]["to"], "received");
  EXPECT_EQ(shown["history"][1]["actor"], "peer:" + us.name);
  EXPECT_EQ(shown["history"][2]["to"], "acknowledged");
  auto kw_inbox = nlohmann::json::parse(Amanah(kw.data, "--json inbox").out);
  ASSERT_EQ(kw_inbox.size(), 2u);
  for (const auto& m : kw_inbox) EXPECT_EQ(m["outcome"], "applied");
}

}  // namespace
}  // namespace amanah
