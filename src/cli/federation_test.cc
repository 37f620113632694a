// Federation between real nodes: `amanah serve` processes on loopback pin
// one another, cosign one another's logs as they grow, catch a node whose
// history was forked, exchange requests, and deliver evidence through a
// receiver that is killed again and again.

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "cli/testutil.h"
#include "ledger/note.h"

namespace amanah {
namespace {

namespace fs = std::filesystem;

using testutil::Outcome;

class FederationTest : public testutil::ServingNodesTest {
 protected:
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
};

TEST_F(FederationTest, ThreeNodesWitnessEachOtherAndCatchAFork) {
  NodeProc& kw = Init("ccd.moi.gov.kw");
  NodeProc& us = Init("cyber.doj.example");
  NodeProc& eu = Init("ncsc.example.eu");
  // The Kuwaiti node serves over TLS with a self-signed certificate, which
  // its peers pin.
  std::string cert = ServeTls(kw);
  std::vector<NodeProc*> all = {&kw, &us, &eu};
  for (NodeProc* a : all) {
    for (NodeProc* b : all) {
      if (a == b) continue;
      // Every node pins every other's certificate: the one it serves
      // https with, or the one `amanah init` made, which it presents as a
      // client (mutual TLS with the Kuwaiti node).
      std::string pin =
          " --tls-cert " + (b->data / "keys" / "tls.pem").string();
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
  EXPECT_EQ(Amanah(kw.data,
                   "peer add other.example --url https://h:1 --key " + us.key)
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
  Outcome created = Amanah(kw.data,
                           "--json request create --case KW-1 --type "
                           "subscriber --profile eu --direction outgoing "
                           "--fields " +
                               Fields());
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

// The answering node delivers evidence over TLS; the requesting node pulls
// it while being killed (kill -9) again and again. Every object arrives once
// and intact, pulls resume where the committed bytes end, and neither
// side's log records anything twice.
TEST_F(FederationTest, EvidenceArrivesOnceThroughReceiverKills) {
  NodeProc& kw = Init("ccd.moi.gov.kw");
  NodeProc& us = Init("cyber.doj.example");
  std::string cert = ServeTls(us);
  ASSERT_EQ(Amanah(kw.data, "peer add " + us.name + " --url " + us.url() +
                                " --key " + us.key + " --tls-cert " + cert)
                .code,
            0);
  ASSERT_EQ(Amanah(us.data, "peer add " + kw.name + " --url " + kw.url() +
                                " --key " + kw.key + " --tls-cert " +
                                (kw.data / "keys" / "tls.pem").string())
                .code,
            0);
  // Kuwait asks for the data of a production request ...
  ASSERT_EQ(Amanah(kw.data,
                   "case open KW-7 --title t --offence cybercrime "
                   "--legal-basis x")
                .code,
            0);
  std::string request =
      Json(kw,
           "request create --case KW-7 --type production --profile "
           "budapest --direction outgoing --fields " +
               Fields())["id"];
  std::string message =
      Json(kw, "request send " + request + " --to " + us.name)["message"];
  Start(kw);
  Start(us);
  for (int i = 0; i < 400 && Json(us, "inbox").empty(); ++i) ::usleep(50000);
  Stop(us);
  // ... the US files it, acknowledges it, and delivers two objects.
  ASSERT_EQ(Amanah(us.data,
                   "case open US-7 --title t --offence cybercrime "
                   "--legal-basis x")
                .code,
            0);
  std::string theirs = Json(us, "inbox file " + message + " --case US-7")["id"];
  ASSERT_EQ(
      Amanah(us.data, "request move " + theirs + " --to acknowledged").code, 0);
  const uint64_t big_size = (96u << 20) + 12345;
  std::string big = (dir_ / "mailbox.mbox").string();
  std::string small = (dir_ / "subscriber.csv").string();
  ASSERT_EQ(std::system(("head -c " + std::to_string(big_size) +
                         " /dev/urandom > " + big)
                            .c_str()),
            0);
  std::ofstream(small) << "account,created\nvictim@example.com,2026-01-02\n";
  std::vector<std::string> addresses;
  for (const auto& f : {big, small}) {
    addresses.push_back(
        Json(us, "ingest " + f + " --case US-7 --md5")[0]["address"]);
  }
  ASSERT_EQ(Amanah(us.data, "request deliver " + theirs + " --item " +
                                addresses[0] + " --item " + addresses[1])
                .code,
            0);
  Start(us);

  // Wait for the manifest to arrive, then kill the receiver at random
  // moments while it pulls, and look at what it had committed each time.
  auto incoming = [&] { return Json(kw, "transfers")["incoming"]; };
  for (int i = 0; i < 400 && incoming().size() < 2; ++i) ::usleep(20000);
  ASSERT_EQ(incoming().size(), 2u);
  std::mt19937 rng(42);
  int kills = 0, mid_transfer = 0;
  bool done = false;
  for (int round = 0; round < 15 && !done; ++round) {
    if (round > 0) Start(kw);
    ::usleep(30000 + rng() % 250000);
    Kill(kw);
    ++kills;
    auto list = incoming();
    done = true;
    for (const auto& t : list) {
      if (t["state"] != "done") done = false;
      if (t["address"] == addresses[0] && t["state"] == "pending" &&
          t["received_bytes"] > 0 && t["received_bytes"] < big_size) {
        ++mid_transfer;
      }
    }
  }
  Start(kw);
  nlohmann::json list;
  for (int i = 0; i < 600; ++i) {
    list = incoming();
    bool all = true;
    for (const auto& t : list) all = all && t["state"] == "done";
    if (all) break;
    ::usleep(50000);
  }
  ASSERT_EQ(list.size(), 2u) << list;
  for (const auto& t : list) ASSERT_EQ(t["state"], "done") << list;
  RecordProperty("kills", kills);
  RecordProperty("kills_mid_transfer", mid_transfer);
  std::printf("%d kills, %d with part of the object committed\n", kills,
              mid_transfer);
  EXPECT_GE(kills, 2);
  EXPECT_GE(mid_transfer, 1) << "no kill landed while bytes were committed";

  // Confirmed back to the US, which knows each object's receiving entry.
  nlohmann::json outgoing;
  for (int i = 0; i < 400; ++i) {
    outgoing = Json(us, "transfers")["outgoing"];
    bool all = outgoing.size() == 2;
    for (const auto& o : outgoing) {
      all = all && o.contains("peer_received_entry");
    }
    if (all) break;
    ::usleep(50000);
  }
  Stop(kw);
  Stop(us);
  ASSERT_EQ(outgoing.size(), 2u);
  std::map<std::string, uint64_t> received_at;
  for (const auto& t : list) received_at[t["address"]] = t["entry_index"];
  for (const auto& o : outgoing) {
    ASSERT_TRUE(o.contains("peer_received_entry")) << outgoing;
    EXPECT_EQ(o["peer_received_entry"], received_at[o["address"]]);
  }

  // Intact, once: each object verifies, the whole node checks out, and each
  // log holds one evidence.received / evidence.transferred per object; a
  // pull after a kill continued with a Range request.
  for (const auto& a : addresses) {
    Outcome v = Amanah(kw.data, "verify " + a + " --case KW-7");
    EXPECT_EQ(v.code, 0) << v.out << v.err;
  }
  Outcome fsck = Amanah(kw.data, "fsck");
  EXPECT_EQ(fsck.code, 0) << fsck.out << fsck.err;
  auto count = [&](const NodeProc& n, const std::string& kind) {
    int c = 0;
    for (const auto& e : Json(n, "log show")) c += e["entry"]["kind"] == kind;
    return c;
  };
  EXPECT_EQ(count(kw, "evidence.received"), 2);
  EXPECT_EQ(count(us, "evidence.transferred"), 2);
  int resumed = 0;
  for (const auto& e : Json(us, "log show --open")) {
    if (e["entry"]["kind"] == "evidence.accessed" &&
        e["opened"]["data"]["range"].get<std::string>().rfind("bytes=", 0) ==
            0) {
      ++resumed;
    }
  }
  EXPECT_GE(resumed, 1);
  auto kw_inbox = Json(kw, "inbox");
  int manifests = 0;
  for (const auto& m : kw_inbox) manifests += m["type"] == "evidence.manifest";
  EXPECT_EQ(manifests, 1);
  // The received objects are evidence of the Kuwaiti case.
  auto kase = Json(kw, "case show KW-7");
  EXPECT_EQ(kase["evidence"].size(), 2u) << kase;
}

// `amanah demo` walks the whole flow between two nodes and leaves them in
// --dir, where each node checks out on its own.
TEST_F(FederationTest, DemoWalksTheWholeFlowAndLeavesNodesThatVerify) {
  fs::path demo = dir_ / "demo";
  Outcome o = Amanah(dir_ / "unused", "demo --dir " + demo.string());
  ASSERT_EQ(o.code, 0) << o.out << o.err;
  for (const char* step :
       {"signed receipt from cyber.doj.example", "preserved until",
        "evidence.received #", "cosigned by ccd.moi.gov.kw",
        "cosigned by cyber.doj.example", "intact"}) {
    EXPECT_NE(o.out.find(step), std::string::npos) << step << "\n" << o.out;
  }
  for (const char* node : {"ccd.moi.gov.kw", "cyber.doj.example"}) {
    Outcome fsck = Amanah(demo / node, "fsck");
    EXPECT_EQ(fsck.code, 0) << node << fsck.out << fsck.err;
  }
  NodeProc kw;
  kw.data = demo / "ccd.moi.gov.kw";
  auto in = Json(kw, "transfers")["incoming"];
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0]["state"], "done");
  // A directory that is not empty is refused, and left alone.
  Outcome again = Amanah(dir_ / "unused", "demo --dir " + demo.string());
  EXPECT_EQ(again.code, 4) << again.err;
  EXPECT_TRUE(fs::exists(demo / "ccd.moi.gov.kw" / "keys" / "signing.key"));
}

}  // namespace
}  // namespace amanah
