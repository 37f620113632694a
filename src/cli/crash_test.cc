// Crash consistency of a whole node. `amanah serve` is killed (kill -9) at
// random moments while writers, each with HTTP connections of its own, open
// cases, draft requests, upload evidence in resumable pieces and file what
// a peer node sends, and while that peer (served all along) sends requests
// and delivers evidence to it. After each kill the node must open again,
// `amanah fsck` must pass (the custody log, the database and the vault
// agree: nothing half applied), and every write a writer was acknowledged
// (a 2xx it received before the kill) must be there: the case readable, the
// request present, the uploaded object readable and hashing to its address,
// the upload's committed offset kept, the request filed from the inbox
// there (filed whole, once), the peer's receipt for a message and its
// confirmation of an object naming an entry of the node that stands.
//
// AMANAH_CRASH_KILLS sets the number of kills (default 20);
// bench/crash_bench.sh runs 200 and reads the summary line printed at the
// end. AMANAH_CRASH_SEED sets the seed of the moments of the kills (the
// summary prints it); AMANAH_CRASH_KEEP=DIR keeps a copy of both nodes in
// DIR.

#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/encoding.h"
#include "cli/testutil.h"
#include "crypto/hash.h"

namespace amanah {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testutil::Outcome;
using Clock = std::chrono::steady_clock;

constexpr char kVictim[] = "ccd.moi.gov.kw";
constexpr char kPeer[] = "cyber.doj.example";
constexpr size_t kMiB = 1 << 20;

int KillsWanted() {
  const char* v = std::getenv("AMANAH_CRASH_KILLS");
  int n = v && *v ? std::atoi(v) : 20;
  return n > 0 ? n : 20;
}

std::string AddressOf(const std::string& content) {
  Hash256 h = Sha256(AsBytes(content));
  return "sha256:" + HexEncode(ByteView(h.data(), h.size()));
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(s.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return s;
}

void SleepMs(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

// The rows `sql` selects from a node's database, opened read-only beside
// whatever process serves it (SQLite's WAL lets both be).
std::vector<std::vector<std::string>> Query(const fs::path& data,
                                            const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* db = nullptr;
  std::string path = (data / "amanah.db").string();
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    ADD_FAILURE() << path << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return rows;
  }
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  } else {
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(q); ++i) {
        const unsigned char* t = sqlite3_column_text(q, i);
        row.push_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return rows;
}

class CrashTest : public testutil::ServingNodesTest {
 protected:
  // A write acknowledged with a 2xx: what it made, in which case, and the
  // token of the writer (a member of that case) to look for it with.
  struct Acked {
    std::string id, case_id, token;
  };
  // An upload session a writer was told exists, and the offset it was last
  // told is committed.
  struct Session {
    std::string token;
    uint64_t offset = 0;
    bool done = false;  // its object is acknowledged (and checked) instead
  };

  std::unique_ptr<httplib::Client> Client(const NodeProc& n,
                                          const std::string& token) {
    auto c = std::make_unique<httplib::Client>(n.url());
    c->set_connection_timeout(0, 300000);
    c->set_read_timeout(20, 0);
    c->set_write_timeout(20, 0);
    c->set_keep_alive(true);
    c->set_bearer_token_auth(token);
    return c;
  }

  // A request to the node being killed, counted while it is on the wire.
  template <typename F>
  httplib::Result ToVictim(F f) {
    ++in_flight_;
    httplib::Result r = f();
    --in_flight_;
    return r;
  }

  // An answer a writer did not expect: counted by route and status, to be
  // shown at the end. No answer at all (the node was down) is expected.
  void Unexpected(const std::string& what, const httplib::Result& r) {
    if (!r) return;
    std::lock_guard<std::mutex> l(mu_);
    std::string key = what + " " + std::to_string(r->status);
    if (unexpected_[key]++ == 0) first_unexpected_[key] = r->body;
  }

  void Lost(const std::string& what) {
    std::lock_guard<std::mutex> l(mu_);
    if (++lost_ <= 20) ADD_FAILURE() << "acknowledged, then lost: " << what;
  }

  void Pace(std::mt19937_64& rng, int max_ms) {
    SleepMs(static_cast<int>(rng() % (max_ms + 1)));
  }

  // ---- writers on the node that is killed -------------------------------

  void CaseWriter(std::string token) {
    auto c = Client(*victim_, token);
    std::mt19937_64 rng(1);
    for (int n = 0; !stop_; ++n) {
      std::string id = "K-" + std::to_string(n);
      json body = {{"id", id},
                   {"title", "case " + id},
                   {"offence", "cybercrime"},
                   {"legal_basis", "Law 63/2015 art. " + std::to_string(n)}};
      auto r = ToVictim([&] {
        return c->Post("/api/v1/cases", body.dump(), "application/json");
      });
      if (r && r->status == 201) {
        std::lock_guard<std::mutex> l(mu_);
        cases_.push_back({id, id, token});
      } else {
        Unexpected("POST /api/v1/cases", r);
        if (!r) SleepMs(20);
      }
      Pace(rng, 30);
    }
  }

  void RequestWriter(std::string token, std::string case_id) {
    auto c = Client(*victim_, token);
    std::mt19937_64 rng(2);
    json body = {{"type", "subscriber"},
                 {"profile", "eu"},
                 {"direction", "incoming"},
                 {"fields", json::parse(FieldsJson())}};
    while (!stop_) {
      auto r = ToVictim([&] {
        return c->Post("/api/v1/cases/" + case_id + "/requests", body.dump(),
                       "application/json");
      });
      if (r && r->status == 201) {
        std::string id = json::parse(r->body)["id"];
        std::lock_guard<std::mutex> l(mu_);
        requests_.push_back({id, case_id, token});
      } else {
        Unexpected("POST /api/v1/cases/{id}/requests", r);
        if (!r) SleepMs(20);
      }
      Pace(rng, 30);
    }
  }

  // Uploads objects: `pieces`, of 1 to 2 MiB in pieces (whole MiB chunks,
  // each committed when its request ends, and the rest with
  // Upload-Complete, or all that is left in one request); otherwise of up
  // to 64 KiB in one request. The vault grows slowly, as fsck reads all of
  // it after every kill. After a failed request it asks where the
  // upload stands, which must be no earlier than the offset it was last
  // acknowledged, and continues from there.
  void UploadWriter(std::string token, std::string case_id, bool pieces) {
    auto c = Client(*victim_, token);
    uint64_t seed = pieces ? 11 : 12;
    std::mt19937_64 rng(seed);
    for (int n = 0; !stop_; ++n) {
      std::string content = RandomBytes(
          rng, pieces ? kMiB + rng() % kMiB : 1 + rng() % (64 << 10));
      std::string address = AddressOf(content);
      json begin = {{"name", "upload-" + std::to_string(seed) + "-" +
                                 std::to_string(n) + ".bin"}};
      auto r = ToVictim([&] {
        return c->Post("/api/v1/cases/" + case_id + "/uploads", begin.dump(),
                       "application/json");
      });
      if (!r || r->status != 201) {
        Unexpected("POST /api/v1/cases/{id}/uploads", r);
        SleepMs(20);
        continue;
      }
      std::string id = json::parse(r->body)["id"];
      std::string path = "/api/v1/uploads/" + id;
      {
        std::lock_guard<std::mutex> l(mu_);
        sessions_[id] = {token, 0};
      }
      uint64_t offset = 0;
      bool done = false, broke = false;
      while (!done && !stop_) {
        size_t left = content.size() - offset;
        bool whole = left <= kMiB || rng() % 3 == 0;
        size_t len = whole ? left : kMiB;
        httplib::Headers h = {{"Upload-Offset", std::to_string(offset)},
                              {"Upload-Complete", whole ? "?1" : "?0"}};
        auto p = ToVictim([&] {
          return c->Patch(path, h, content.data() + offset, len,
                          "application/octet-stream");
        });
        if (p && p->status == 204) {
          offset = std::stoull(p->get_header_value("Upload-Offset"));
          std::lock_guard<std::mutex> l(mu_);
          sessions_[id].offset = std::max(sessions_[id].offset, offset);
          ++chunks_acked_;
          continue;
        }
        if (p && p->status == 201) {
          auto j = json::parse(p->body);
          EXPECT_EQ(j["address"], address) << p->body;
          std::lock_guard<std::mutex> l(mu_);
          uploads_.push_back({address, case_id, token});
          sessions_[id].done = true;
          resumed_ += broke;
          done = true;
          continue;
        }
        if (p) Unexpected("PATCH /api/v1/uploads/{id}", p);
        // Where does it stand? Asked until the node answers.
        broke = true;
        json at;
        while (!stop_) {
          auto g = ToVictim([&] { return c->Get(path); });
          if (g && g->status == 200) {
            at = json::parse(g->body);
            break;
          }
          if (g && g->status == 404) {
            Lost("upload session " + id + " (404 after a restart)");
            break;
          }
          Unexpected("GET /api/v1/uploads/{id}", g);
          SleepMs(20);
        }
        if (at.is_null()) break;
        uint64_t acked;
        {
          std::lock_guard<std::mutex> l(mu_);
          acked = sessions_[id].offset;
        }
        uint64_t now = at["offset"];
        if (now < acked) {
          Lost("upload " + id + ": offset " + std::to_string(acked) +
               " was acknowledged, the node now says " + std::to_string(now));
        }
        if (at["state"] == "done") {
          // Finished, though its answer never arrived.
          EXPECT_EQ(at["address"], address);
          std::lock_guard<std::mutex> l(mu_);
          uploads_.push_back({address, case_id, token});
          sessions_[id].done = true;
          ++resumed_;
          done = true;
        }
        offset = now;  // "sealed": the next request finishes it
        SleepMs(10);
      }
      if (pieces) SleepMs(500);
      Pace(rng, pieces ? 1500 : 300);
    }
  }

  // Files each request the peer sent into case `case_id`.
  void Filer(std::string token, std::string case_id) {
    auto c = Client(*victim_, token);
    std::mt19937_64 rng(3);
    std::set<std::string> tried;
    while (!stop_) {
      auto r = ToVictim([&] { return c->Get("/api/v1/inbox"); });
      if (!r || r->status != 200) {
        Unexpected("GET /api/v1/inbox", r);
        SleepMs(50);
        continue;
      }
      json inbox = json::parse(r->body);
      for (const auto& m : inbox["items"]) {
        std::string id = m["id"];
        if (m["type"] != "request" || tried.count(id) || stop_) continue;
        json body = {{"case", case_id}};
        auto f = ToVictim([&] {
          return c->Post("/api/v1/inbox/" + id + "/file", body.dump(),
                         "application/json");
        });
        if (f && f->status == 201) {
          std::string request = json::parse(f->body)["id"];
          std::lock_guard<std::mutex> l(mu_);
          filed_.push_back({request, case_id, token});
          tried.insert(id);
        } else if (f && f->status == 409) {
          tried.insert(id);  // filed by a request whose answer was lost
        } else {
          Unexpected("POST /api/v1/inbox/{id}/file", f);
        }
      }
      Pace(rng, 300);
    }
  }

  // ---- writers on the peer, which is never killed ------------------------

  // Drafts requests in `case_id` and sends each to the victim.
  void Sender(std::string token, std::string case_id) {
    auto c = Client(*peer_, token);
    std::mt19937_64 rng(4);
    json body = {{"type", "subscriber"},
                 {"profile", "eu"},
                 {"direction", "outgoing"},
                 {"fields", json::parse(FieldsJson())}};
    json send = {{"peer", kVictim}};
    while (!stop_) {
      auto r = c->Post("/api/v1/cases/" + case_id + "/requests", body.dump(),
                       "application/json");
      if (!r || r->status != 201) {
        Unexpected("peer: POST /api/v1/cases/{id}/requests", r);
        SleepMs(100);
        continue;
      }
      std::string id = json::parse(r->body)["id"];
      auto s = c->Post("/api/v1/requests/" + id + "/send", send.dump(),
                       "application/json");
      if (!s || s->status != 200) {
        Unexpected("peer: POST /api/v1/requests/{id}/send", s);
      } else {
        std::lock_guard<std::mutex> l(mu_);
        ++sent_;
      }
      Pace(rng, 400);
    }
  }

  // Uploads small objects into `case_id` and delivers each for the
  // victim's request `request` (filed on the peer as `request`).
  void EvidenceSender(std::string token, std::string case_id,
                      std::string request) {
    auto c = Client(*peer_, token);
    std::mt19937_64 rng(5);
    while (!stop_) {
      std::string content = RandomBytes(rng, 1 + rng() % (64 << 10));
      auto r =
          c->Post("/api/v1/cases/" + case_id + "/uploads",
                  json{{"name", "delivered.bin"}}.dump(), "application/json");
      if (!r || r->status != 201) {
        Unexpected("peer: POST /api/v1/cases/{id}/uploads", r);
        SleepMs(100);
        continue;
      }
      std::string path =
          "/api/v1/uploads/" + json::parse(r->body)["id"].get<std::string>();
      auto p =
          c->Patch(path, {{"Upload-Offset", "0"}, {"Upload-Complete", "?1"}},
                   content.data(), content.size(), "application/octet-stream");
      if (!p || p->status != 201) {
        Unexpected("peer: PATCH /api/v1/uploads/{id}", p);
        continue;
      }
      json items = {{"items", {AddressOf(content)}}};
      auto d = c->Post("/api/v1/requests/" + request + "/deliveries",
                       items.dump(), "application/json");
      if (!d || d->status != 201) {
        Unexpected("peer: POST /api/v1/requests/{id}/deliveries", d);
      } else {
        std::lock_guard<std::mutex> l(mu_);
        ++offered_;
      }
      Pace(rng, 1000);
    }
  }

  // ---- what is checked --------------------------------------------------

  // GET `path` on the victim as `token`, tried until it answers.
  httplib::Result Look(const std::string& token, const std::string& path) {
    auto& c = checkers_[token];
    if (!c) c = Client(*victim_, token);
    for (int i = 0;; ++i) {
      auto r = c->Get(path);
      if (r || i == 50) return r;
      SleepMs(100);
    }
  }

  // The messages the peer holds the victim's receipt for, with the index of
  // the victim's message.received entry each receipt names; and the objects
  // it delivered that the victim confirmed, with its evidence.received.
  std::map<std::string, uint64_t> PeerReceipts() {
    std::map<std::string, uint64_t> out;
    for (const auto& row :
         Query(peer_->data, std::string("SELECT id, receipt FROM outbox WHERE "
                                        "state='delivered' AND peer='") +
                                kVictim + "'")) {
      auto package = json::parse(row[1], nullptr, false);
      auto receipt =
          package.is_object()
              ? json::parse(package.value("receipt", ""), nullptr, false)
              : json();
      EXPECT_TRUE(receipt.is_object()) << row[1];
      if (receipt.is_object()) out[row[0]] = receipt["entry_index"];
    }
    return out;
  }
  std::map<std::string, uint64_t> PeerConfirmedObjects() {
    std::map<std::string, uint64_t> out;
    for (const auto& row :
         Query(peer_->data,
               std::string("SELECT address, received_index FROM "
                           "evidence_offers WHERE received_index >= 0 AND "
                           "peer='") +
                   kVictim + "'")) {
      out[row[0]] = std::stoull(row[1]);
    }
    return out;
  }

  // With the victim stopped: each receipt and each confirmation the peer
  // holds names an entry of the victim's log that its database knows as
  // that message's or that object's, not voided.
  void CheckReceiptsStand() {
    std::map<uint64_t, std::vector<std::string>> entries;
    for (auto& row :
         Query(victim_->data,
               "SELECT entry_index, kind, subject, voided_by IS NULL FROM "
               "custody_index WHERE kind IN ('message.received', "
               "'evidence.received')")) {
      entries[std::stoull(row[0])] = row;
    }
    std::set<std::string> inbox;
    for (auto& row : Query(victim_->data, "SELECT id FROM inbox")) {
      inbox.insert(row[0]);
    }
    auto receipts = PeerReceipts();
    for (const auto& [id, index] : receipts) {
      auto it = entries.find(index);
      if (it == entries.end() || it->second[1] != "message.received" ||
          it->second[2] != "message:" + id || it->second[3] != "1") {
        Lost("message " + id + ": the receipt names entry " +
             std::to_string(index) +
             ", which the node does not hold as its "
             "message.received");
      }
      if (!inbox.count(id)) Lost("message " + id + " is not in the inbox");
    }
    for (const auto& [address, index] : PeerConfirmedObjects()) {
      auto it = entries.find(index);
      if (it == entries.end() || it->second[1] != "evidence.received" ||
          it->second[3] != "1") {
        Lost("object " + address + ": confirmed as received in entry " +
             std::to_string(index) +
             ", which the node does not hold as its "
             "evidence.received");
      }
    }
    std::lock_guard<std::mutex> l(mu_);
    messages_acked_ = receipts.size();
  }

  // With the victim stopped: each request filed from the peer's inbox was
  // filed whole, once: its link to the peer's request, its message marked
  // filed as it, and the update that tells the peer, queued. fsck sees
  // each of these rows only against its own custody entry.
  void CheckFilingsWhole() {
    // Counted in one pass over each table: the node holds thousands.
    std::map<std::string, int> links, outcomes, updates, per_reference;
    for (const auto& row :
         Query(victim_->data, "SELECT request_id FROM request_links")) {
      ++links[row[0]];
    }
    for (const auto& row : Query(victim_->data,
                                 "SELECT outcome FROM inbox_outcomes WHERE "
                                 "outcome LIKE 'filed as %'")) {
      ++outcomes[row[0].substr(9)];
    }
    for (const auto& row :
         Query(victim_->data,
               "SELECT body FROM outbox WHERE type = 'request.update'")) {
      auto body = json::parse(row[0], nullptr, false);
      if (body.is_object() && body["payload"].is_object()) {
        ++updates[body["payload"].value("from_request", "")];
      }
    }
    auto filed = Query(victim_->data,
                       "SELECT id, reference FROM requests WHERE case_id = '" +
                           filed_case_ + "'");
    for (const auto& row : filed) ++per_reference[row[1]];
    for (const auto& row : filed) {
      const std::string& id = row[0];
      if (links[id] != 1 || outcomes[id] != 1 || updates[id] != 1 ||
          per_reference[row[1]] != 1) {
        std::lock_guard<std::mutex> l(mu_);
        if (++half_applied_ <= 20) {
          ADD_FAILURE() << "request " << id
                        << " filed from the inbox is half applied: links "
                        << links[id] << ", outcomes " << outcomes[id]
                        << ", updates " << updates[id]
                        << ", requests for its message "
                        << per_reference[row[1]];
        }
      }
    }
  }

  // With the victim serving: every write acknowledged since the last check
  // (or all of them) is there, as its writer sees it.
  void CheckAcknowledged(bool all) {
    std::vector<Acked> cases, requests, uploads, filed;
    std::map<std::string, Session> sessions;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto since = [&](const std::vector<Acked>& v, size_t* from) {
        std::vector<Acked> out(v.begin() + (all ? 0 : *from), v.end());
        *from = v.size();
        return out;
      };
      cases = since(cases_, &checked_cases_);
      requests = since(requests_, &checked_requests_);
      uploads = since(uploads_, &checked_uploads_);
      filed = since(filed_, &checked_filed_);
      sessions = sessions_;
    }
    for (const auto& a : cases) {
      auto r = Look(a.token, "/api/v1/cases/" + a.id);
      if (!r || r->status != 200) Lost("case " + a.id);
    }
    for (const auto* list : {&requests, &filed}) {
      for (const auto& a : *list) {
        auto r = Look(a.token, "/api/v1/requests/" + a.id);
        if (!r || r->status != 200 ||
            json::parse(r->body)["case"] != a.case_id) {
          Lost("request " + a.id + " of case " + a.case_id);
        }
      }
    }
    for (const auto& a : uploads) {
      auto r = Look(a.token,
                    "/api/v1/evidence/" + a.id + "/content?case=" + a.case_id);
      if (!r || r->status != 200 || AddressOf(r->body) != a.id) {
        Lost("object " + a.id + " uploaded into " + a.case_id);
      }
    }
    for (const auto& [id, s] : sessions) {
      if (s.done && !all) continue;
      auto r = Look(s.token, "/api/v1/uploads/" + id);
      if (!r || r->status != 200) {
        Lost("upload session " + id);
      } else if (json::parse(r->body)["offset"].get<uint64_t>() < s.offset) {
        Lost("upload " + id + " at offset " + std::to_string(s.offset));
      }
    }
    // What the peer was told was received: in the inbox, and each object
    // confirmed readable in the case it was asked for.
    auto receipts = PeerReceipts();
    auto in = Look(filer_token_, "/api/v1/inbox");
    std::set<std::string> inbox;
    if (in && in->status == 200) {
      json list = json::parse(in->body);
      for (const auto& m : list["items"]) {
        inbox.insert(m["id"].get<std::string>());
      }
    }
    for (const auto& [id, index] : receipts) {
      if (!inbox.count(id)) Lost("message " + id + " is not in the inbox");
    }
    for (const auto& [address, index] : PeerConfirmedObjects()) {
      if (!all && checked_objects_.count(address)) continue;
      auto r = Look(filer_token_, "/api/v1/evidence/" + address +
                                      "/content?case=" + evidence_case_);
      if (!r || r->status != 200 || AddressOf(r->body) != address) {
        Lost("object " + address + " received from the peer");
      }
      checked_objects_.insert(address);
    }
  }

  NodeProc* victim_ = nullptr;
  NodeProc* peer_ = nullptr;
  std::string filer_token_, evidence_case_, filed_case_ = "KW-IN";
  std::atomic<bool> stop_{false};
  std::atomic<int> in_flight_{0};
  std::map<std::string, std::unique_ptr<httplib::Client>> checkers_;
  std::set<std::string> checked_objects_;

  std::mutex mu_;  // guards what follows
  std::vector<Acked> cases_, requests_, uploads_, filed_;
  size_t checked_cases_ = 0, checked_requests_ = 0, checked_uploads_ = 0,
         checked_filed_ = 0;
  std::map<std::string, Session> sessions_;
  size_t chunks_acked_ = 0, resumed_ = 0, sent_ = 0, offered_ = 0,
         messages_acked_ = 0;
  int lost_ = 0, half_applied_ = 0;
  std::map<std::string, int> unexpected_;
  std::map<std::string, std::string> first_unexpected_;
};

TEST_F(CrashTest, NothingAcknowledgedIsLostAcrossKills) {
  const int kills_wanted = KillsWanted();
  NodeProc& kw = Init(kVictim);
  NodeProc& us = Init(kPeer);
  victim_ = &kw;
  peer_ = &us;
  witness_interval_ = "1";
  for (auto [a, b] : {std::pair{&kw, &us}, std::pair{&us, &kw}}) {
    ASSERT_EQ(Amanah(a->data, "peer add " + b->name + " --url " + b->url() +
                                  " --key " + b->key + " --tls-cert " +
                                  (b->data / "keys" / "tls.pem").string())
                  .code,
              0);
  }
  // The victim's people: one writer each, and a point of contact who files
  // what the peer sends and receives its evidence.
  std::string cases_token = AddTokenUser(kw, "w-cases", "prosecutor");
  std::string requests_token = AddTokenUser(kw, "w-requests", "prosecutor");
  std::string upload_token = AddTokenUser(kw, "w-uploads", "investigator");
  filer_token_ = AddTokenUser(kw, "w-inbox", "prosecutor");
  evidence_case_ = "KW-EV";
  for (auto [id, lead] :
       {std::pair{"KW-REQ", "w-requests"}, std::pair{"KW-UP", "w-uploads"},
        std::pair{"KW-IN", "w-inbox"}, std::pair{"KW-EV", "w-inbox"}}) {
    Outcome o = Amanah(kw.data, std::string("case open ") + id +
                                    " --title t --offence cybercrime "
                                    "--legal-basis x --lead " +
                                    lead);
    ASSERT_EQ(o.code, 0) << o.err;
  }
  std::string sender_token = AddTokenUser(us, "sender", "prosecutor");
  for (const char* id : {"US-OUT", "US-EV"}) {
    ASSERT_EQ(Amanah(us.data, std::string("case open ") + id +
                                  " --title t --offence cybercrime "
                                  "--legal-basis x --lead sender")
                  .code,
              0);
  }
  // The victim asks the peer for evidence, which the peer files, then
  // answers with objects while the victim is killed.
  std::string ours =
      Json(kw,
           "request create --case KW-EV --type production --profile budapest "
           "--direction outgoing --fields " +
               Fields())["id"];
  std::string message =
      Json(kw, "request send " + ours + " --to " + us.name)["message"];
  ASSERT_GT(Start(kw), 0);
  ASSERT_GT(Start(us), 0);
  auto peer_client = Client(us, sender_token);
  std::string theirs;
  for (int i = 0; i < 400 && theirs.empty(); ++i) {
    auto f =
        peer_client->Post("/api/v1/inbox/" + message + "/file",
                          json{{"case", "US-EV"}}.dump(), "application/json");
    if (f && f->status == 201) {
      theirs = json::parse(f->body)["id"];
    } else {
      SleepMs(50);
    }
  }
  ASSERT_FALSE(theirs.empty()) << "the peer never received the request";

  std::vector<std::thread> writers;
  writers.emplace_back([&] { CaseWriter(cases_token); });
  writers.emplace_back([&] { RequestWriter(requests_token, "KW-REQ"); });
  writers.emplace_back([&] { UploadWriter(upload_token, "KW-UP", true); });
  writers.emplace_back([&] { UploadWriter(upload_token, "KW-UP", false); });
  writers.emplace_back([&] { Filer(filer_token_, filed_case_); });
  writers.emplace_back([&] { Sender(sender_token, "US-OUT"); });
  writers.emplace_back([&] { EvidenceSender(sender_token, "US-EV", theirs); });

  // The moments of the kills; the seed is printed, to run them again
  // (AMANAH_CRASH_SEED).
  const char* seed_env = std::getenv("AMANAH_CRASH_SEED");
  const uint64_t seed = seed_env && *seed_env
                            ? std::strtoull(seed_env, nullptr, 10)
                            : std::random_device{}();
  std::mt19937_64 rng(seed);
  int kills = 0, in_flight_kills = 0, open_failures = 0, fsck_failures = 0;
  std::vector<double> restarts, fscks;
  auto since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  SleepMs(1000);
  auto began = Clock::now();
  for (int k = 0; k < kills_wanted; ++k) {
    SleepMs(100 + static_cast<int>(rng() % 1400));
    in_flight_kills += in_flight_ > 0;
    Kill(kw);
    ++kills;
    // After every other kill the node serves again at once, which must
    // recover it, and is stopped for fsck; after the others fsck runs on
    // the node as the kill left it (it recovers it the same way first).
    if (k % 2 == 0) {
      double t = Start(kw, 60);
      if (t < 0) {
        ++open_failures;
        break;
      }
      restarts.push_back(t);
      Stop(kw);
    }
    auto fsck_began = Clock::now();
    Outcome fsck = Amanah(kw.data, "fsck");
    fscks.push_back(since(fsck_began));
    if (fsck.code != 0) {
      ++fsck_failures;
      ADD_FAILURE() << "fsck after kill " << kills << ":\n"
                    << fsck.out << fsck.err;
      if (fsck_failures >= 10) break;
    }
    CheckReceiptsStand();
    CheckFilingsWhole();
    if (Start(kw, 60) < 0) {
      ++open_failures;
      break;
    }
    CheckAcknowledged(false);
    if (lost_ > 20) break;
  }
  double loop_s = since(began);
  stop_ = true;
  for (auto& w : writers) w.join();
  // Everything once more, then the last word of fsck on the stopped node.
  if (kw.pid > 0) CheckAcknowledged(true);
  Stop(kw);
  Stop(us);
  Outcome fsck = Amanah(kw.data, "fsck");
  EXPECT_EQ(fsck.code, 0) << fsck.out << fsck.err;
  fsck_failures += fsck.code != 0;
  CheckReceiptsStand();
  CheckFilingsWhole();

  auto median_ms = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2] * 1000;
  };
  double max_ms =
      restarts.empty()
          ? 0
          : *std::max_element(restarts.begin(), restarts.end()) * 1000;
  std::map<std::string, size_t> received;  // by the type of message
  for (const auto& row :
       Query(us.data, std::string("SELECT type, count(*) FROM outbox WHERE "
                                  "state='delivered' AND peer='") +
                          kVictim + "' GROUP BY type")) {
    received[row[0]] = std::stoull(row[1]);
  }
  size_t confirmed = PeerConfirmedObjects().size();
  // What the last fsck went through: its "log: …" and "vault: …" lines.
  std::string checked;
  std::istringstream lines(fsck.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("log: ", 0) == 0 || line.rfind("vault: ", 0) == 0) {
      checked += (checked.empty() ? " (the last: " : "; ") + line;
    }
  }
  if (!checked.empty()) checked += ")";
  std::printf(
      "crash summary: %d kills (%d with writes in flight, %d with fsck "
      "before the restart; seed %llu)\n"
      "  acknowledged: %zu cases, %zu requests, %zu uploads (%zu sessions, "
      "%zu chunks committed, %zu finished after a break), %zu requests filed "
      "from the inbox\n"
      "  from the peer: %zu messages received with a receipt (%zu of the %zu "
      "requests sent, %zu updates, %zu manifests), %zu of %zu objects "
      "delivered confirmed received\n"
      "  lost %d, half applied %d, fsck failures %d, failures to open %d\n"
      "  restart after a kill: median %.0f ms, max %.0f ms; fsck median %.0f "
      "ms%s; %.1f s a kill\n",
      kills, in_flight_kills, kills / 2, static_cast<unsigned long long>(seed),
      cases_.size(), requests_.size(), uploads_.size(), sessions_.size(),
      chunks_acked_, resumed_, filed_.size(), messages_acked_,
      received["request"], sent_, received["request.update"],
      received["evidence.manifest"], confirmed, offered_, lost_, half_applied_,
      fsck_failures, open_failures, median_ms(restarts), max_ms,
      median_ms(fscks), checked.c_str(), kills > 0 ? loop_s / kills : 0.0);
  for (const auto& [what, n] : unexpected_) {
    std::printf("  unexpected answer %s: %d times, first: %s\n", what.c_str(),
                n, first_unexpected_[what].substr(0, 300).c_str());
  }
  if (const char* keep = std::getenv("AMANAH_CRASH_KEEP"); keep && *keep) {
    // Both nodes as they were left, to look into.
    fs::copy(dir_, keep, fs::copy_options::recursive);
  }
  RecordProperty("kills", kills);
  RecordProperty("lost", lost_);
  RecordProperty("fsck_failures", fsck_failures);
  EXPECT_EQ(kills, kills_wanted);
  EXPECT_EQ(open_failures, 0);
  EXPECT_EQ(fsck_failures, 0);
  EXPECT_EQ(lost_, 0);
  EXPECT_EQ(half_applied_, 0);
  EXPECT_GE(in_flight_kills, kills / 2);
  EXPECT_GT(cases_.size(), 0u);
  EXPECT_GT(requests_.size(), 0u);
  EXPECT_GT(uploads_.size(), 0u);
  EXPECT_GT(chunks_acked_, 0u);
  EXPECT_GT(received["request"], 0u);
  EXPECT_GT(filed_.size(), 0u);
  EXPECT_GT(confirmed, 0u);
}

}  // namespace
}  // namespace amanah
