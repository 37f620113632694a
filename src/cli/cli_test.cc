// The amanah binary as a user meets it: exit codes, one-line errors, --json.

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "app/node.h"
#include "cli/testutil.h"
#include "storage/testutil.h"

namespace {

namespace fs = std::filesystem;

using amanah::testutil::Outcome;

class CliTest : public amanah::testutil::TempDirTest {
 protected:
  Outcome Amanah(const std::string& args) {
    return amanah::testutil::RunAmanah(dir_ / "data", args, dir_ / "stderr");
  }
};

TEST_F(CliTest, IngestCatVerifyFsckRoundTrip) {
  ASSERT_EQ(Amanah("init --name ccd.moi.gov.kw").code, 0);
  std::ofstream(dir_ / "e.txt") << "evidence bytes";
  // No ingest into a case that was never opened.
  Outcome nocase =
      Amanah("ingest " + (dir_ / "e.txt").string() + " --case KW-1");
  EXPECT_EQ(nocase.code, 3);
  EXPECT_NE(nocase.err.find("no case KW-1"), std::string::npos);
  Outcome open = Amanah(
      "case open KW-1 --title 'ransomware at a ministry' --offence cybercrime "
      "--legal-basis 'Budapest Convention art. 29'");
  ASSERT_EQ(open.code, 0) << open.err;
  Outcome in = Amanah("--json ingest " + (dir_ / "e.txt").string() +
                      " --case KW-1 --md5");
  ASSERT_EQ(in.code, 0) << in.err;
  auto j = nlohmann::json::parse(in.out);
  std::string address = j[0]["address"];
  EXPECT_EQ(j[0]["entry"]["kind"], "evidence.ingested");
  EXPECT_EQ(j[0]["hashes"]["md5"].get<std::string>().size(), 32u);
  // A read names the case the object is evidence of.
  EXPECT_EQ(Amanah("cat " + address).code, 2);
  EXPECT_EQ(Amanah("cat " + address + " --case KW-2").code, 3);
  Outcome cat = Amanah("cat " + address + " --case KW-1");
  EXPECT_EQ(cat.code, 0);
  EXPECT_EQ(cat.out, "evidence bytes");
  EXPECT_EQ(Amanah("verify " + address + " --case KW-1").code, 0);
  Outcome prove = Amanah("--json log prove 1");
  ASSERT_EQ(prove.code, 0);
  EXPECT_TRUE(nlohmann::json::parse(prove.out)["verified"].get<bool>());
  Outcome show = Amanah("--json log show");
  auto entries = nlohmann::json::parse(show.out);
  ASSERT_EQ(entries.size(), 4u);  // opened, ingested, accessed, verified
  EXPECT_EQ(entries[0]["entry"]["kind"], "case.opened");
  EXPECT_EQ(entries[2]["entry"]["kind"], "evidence.accessed");
  EXPECT_EQ(entries[3]["entry"]["kind"], "evidence.verified");
  EXPECT_EQ(Amanah("log consistency 1 4").code, 0);
  Outcome fsck = Amanah("fsck");
  EXPECT_EQ(fsck.code, 0) << fsck.out;
  // stdin.
  Outcome piped = Amanah("ingest - --case KW-1 < " + (dir_ / "e.txt").string());
  EXPECT_EQ(piped.code, 0) << piped.err;
  EXPECT_NE(piped.out.find(address), std::string::npos);
  // The case shows its evidence with every custody entry about it.
  Outcome shown = Amanah("--json case show KW-1");
  ASSERT_EQ(shown.code, 0) << shown.err;
  auto c = nlohmann::json::parse(shown.out);
  EXPECT_EQ(c["offence"], "cybercrime");
  ASSERT_EQ(c["evidence"].size(), 1u);
  EXPECT_EQ(c["evidence"][0]["address"], address);
  // ingested, accessed, verified, ingested again (stdin)
  EXPECT_EQ(c["evidence"][0]["custody"].size(), 4u);
  EXPECT_EQ(Amanah("case open KW-1 --title x --offence other "
                   "--legal-basis y")
                .code,
            4);
  EXPECT_EQ(Amanah("case open --title x --offence piracy --legal-basis y").code,
            2);
}

// An E01 image: the media's hashes and what its header says are printed,
// and given in --json, from the ingest (the entry itself is sealed).
TEST_F(CliTest, IngestingAnE01ShowsItsHeaderValues) {
  if (std::system("command -v ewfacquire >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "ewfacquire (Debian package ewf-tools) is not installed";
  }
  ASSERT_EQ(Amanah("init --name ccd.moi.gov.kw").code, 0);
  ASSERT_EQ(Amanah("case open KW-1 --title t --offence cybercrime "
                   "--legal-basis b")
                .code,
            0);
  std::ofstream(dir_ / "disk.raw") << std::string(4096, 'd');
  std::string acquire =
      "ewfacquire -u -q -c none -C EWF-7 -E EV-3 -e 'Lt. Fahad' -N 'bag 12' "
      "-t " +
      (dir_ / "img").string() + " " + (dir_ / "disk.raw").string() +
      " >/dev/null 2>&1";
  ASSERT_EQ(std::system(acquire.c_str()), 0);
  std::string image = (dir_ / "img.E01").string();
  Outcome in = Amanah("ingest " + image + " --case KW-1");
  ASSERT_EQ(in.code, 0) << in.err;
  EXPECT_NE(in.out.find("    verdict match\n"), std::string::npos) << in.out;
  EXPECT_NE(in.out.find("    case_number      EWF-7\n"), std::string::npos)
      << in.out;
  EXPECT_NE(in.out.find("    examiner         Lt. Fahad\n"), std::string::npos)
      << in.out;
  Outcome json = Amanah("--json ingest " + image + " --case KW-1");
  ASSERT_EQ(json.code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j[0]["ewf"]["verdict"], "match") << json.out;
  EXPECT_EQ(j[0]["ewf"]["media_size"], 4096);
  EXPECT_EQ(j[0]["ewf_header"]["case_number"], "EWF-7");
  EXPECT_EQ(j[0]["ewf_header"]["evidence_number"], "EV-3");
  EXPECT_EQ(j[0]["ewf_header"]["notes"], "bag 12");
  EXPECT_EQ(j[0]["entry"]["data"].size(), 1u);  // {"sd":[…]}
  // A member reads the entry opened.
  Outcome shown = Amanah("log show --open");
  ASSERT_EQ(shown.code, 0) << shown.err;
  EXPECT_NE(shown.out.find("\"examiner\":\"Lt. Fahad\""), std::string::npos)
      << shown.out;
}

// A file in the vault's tmp/ that nothing is writing (a kill -9 of an
// earlier version left such files): fsck fails naming it, --repair removes
// it with a node.repaired entry, and fsck passes.
TEST_F(CliTest, FsckReportsLeftoversAndRepairRemovesThem) {
  ASSERT_EQ(Amanah("init --name ccd.moi.gov.kw").code, 0);
  std::filesystem::create_directories(dir_ / "data" / "vault" / "tmp");
  std::ofstream(dir_ / "data" / "vault" / "tmp" / "put-deadbeef")
      << std::string(1000, 'x');
  Outcome bad = Amanah("fsck");
  EXPECT_EQ(bad.code, 5) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("put-deadbeef"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("fsck --repair"), std::string::npos) << bad.out;
  Outcome fixed = Amanah("fsck --repair");
  EXPECT_EQ(fixed.code, 0) << fixed.out << fixed.err;
  EXPECT_NE(fixed.out.find("1 temporary file(s) (1000 bytes)"),
            std::string::npos)
      << fixed.out;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data" / "vault" / "tmp" /
                                       "put-deadbeef"));
  auto entries = nlohmann::json::parse(Amanah("--json log show").out);
  int repaired = 0;
  for (const auto& e : entries)
    repaired += e["entry"]["kind"] == "node.repaired";
  EXPECT_EQ(repaired, 1);
  EXPECT_EQ(Amanah("fsck").code, 0);
}

// `amanah fsck` right after a crash, before the node served again: it
// recovers the node as opening it to serve would (an entry whose change a
// kill kept from committing is voided), then checks it. Without that it
// failed on what the next open undoes, which the crash test met.
TEST_F(CliTest, FsckAfterACrashRecoversFirst) {
  ASSERT_EQ(Amanah("init --name ccd.moi.gov.kw").code, 0);
  ASSERT_EQ(Amanah("case open KW-1 --title t --offence cybercrime "
                   "--legal-basis x")
                .code,
            0);
  {
    // Appended as a change does, then the process dies before COMMIT.
    auto node =
        amanah::Node::Open(amanah::Env::Default(), (dir_ / "data").string());
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    amanah::CustodyEntry e;
    e.kind = amanah::EntryKind::kCaseOpened;
    e.node = (*node)->info().name;
    e.actor = "user:alice";
    e.case_id = "KW-1";
    e.subject = "case:KW-9";
    auto sealed = (*node)->Seal(e);
    ASSERT_TRUE(sealed.ok());
    auto log = (*node)->Log();
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append(sealed->bytes).ok());
  }
  Outcome fsck = Amanah("fsck");
  EXPECT_EQ(fsck.code, 0) << fsck.out << fsck.err;
  auto entries = nlohmann::json::parse(Amanah("--json log show").out);
  ASSERT_EQ(entries.size(), 4u);  // opened, never committed, voided, checked
  EXPECT_EQ(entries[2]["entry"]["kind"], "entry.voided");
  EXPECT_EQ(entries[3]["entry"]["kind"], "node.checked");
  EXPECT_EQ(entries[3]["entry"]["data"]["result"], "ok");
}

TEST_F(CliTest, BadInputGivesOneLineAndExitCode) {
  Outcome none = Amanah("fsck");
  EXPECT_EQ(none.code, 3);
  EXPECT_EQ(std::count(none.err.begin(), none.err.end(), '\n'), 1);
  EXPECT_NE(none.err.find("no amanah node"), std::string::npos);
  ASSERT_EQ(Amanah("init --name ccd.moi.gov.kw").code, 0);
  EXPECT_EQ(Amanah("init --name ccd.moi.gov.kw").code, 4);
  Outcome missing = Amanah("ingest " + (dir_ / "nope").string() + " --case C");
  EXPECT_EQ(missing.code, 3);
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1);
  EXPECT_EQ(Amanah("cat sha256:xyz").code, 2);
  EXPECT_EQ(Amanah("cat sha256:" + std::string(64, '0') + " --case C").code, 3);
  EXPECT_EQ(Amanah("log prove 5").code, 2);
  EXPECT_EQ(Amanah("ingest").code, 2);
  // Nothing was recorded by the failures.
  Outcome cp = Amanah("--json log checkpoint");
  EXPECT_EQ(nlohmann::json::parse(cp.out)["size"], 0);
}

// A prosecutor exports a case; a court's expert checks it with the small
// amanah-verify, or with `amanah verify`, and sees the verdict in the exit
// code.
TEST_F(CliTest, ExportAndVerifyABundle) {
  ASSERT_EQ(Amanah("init --name ccd.moi.gov.kw").code, 0);
  ASSERT_EQ(Amanah("case open KW-9 --title t --offence cybercrime "
                   "--legal-basis x")
                .code,
            0);
  std::ofstream(dir_ / "e.bin") << std::string(300000, 'e');
  ASSERT_EQ(Amanah("ingest " + (dir_ / "e.bin").string() +
                   " --case KW-9 --md5 --sha1")
                .code,
            0);
  std::string tar = (dir_ / "KW-9.tar").string();
  Outcome exported = Amanah("--json export --case KW-9 --out " + tar);
  ASSERT_EQ(exported.code, 0) << exported.err;
  auto j = nlohmann::json::parse(exported.out);
  std::string key = j["key"];
  EXPECT_EQ(j["items"], 1);

  std::string verifier =
      (fs::path(AMANAH_BINARY).parent_path() / "amanah-verify").string();
  auto run = [&](const std::string& args) {
    return amanah::testutil::RunCommand(verifier + " " + args, dir_ / "verr");
  };
  Outcome good = run(tar + " --key '" + key + "'");
  EXPECT_EQ(good.code, 0) << good.out << good.err;
  EXPECT_NE(good.out.find("PASS"), std::string::npos);
  EXPECT_NE(good.out.find("md5, sha1"), std::string::npos) << good.out;
  Outcome same = Amanah("--json verify " + tar + " --key '" + key + "'");
  EXPECT_EQ(same.code, 0) << same.err;
  EXPECT_EQ(nlohmann::json::parse(same.out)["ok"], true);

  // One byte of the object changed inside the archive.
  std::string bytes;
  {
    std::ifstream in(tar, std::ios::binary);
    bytes.assign((std::istreambuf_iterator<char>(in)), {});
  }
  size_t at = bytes.find(std::string(1000, 'e'));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 500] = 'f';
  std::string bad = (dir_ / "bad.tar").string();
  std::ofstream(bad, std::ios::binary) << bytes;
  Outcome tampered = run(bad + " --key '" + key + "' --json");
  EXPECT_EQ(tampered.code, 5);
  auto report = nlohmann::json::parse(tampered.out);
  EXPECT_EQ(report["ok"], false);
  EXPECT_EQ(
      report["first_failure"].get<std::string>().rfind("blobs/sha256/", 0), 0u)
      << report.dump();

  // Usage errors: one line and a non-zero code, no report.
  Outcome no_key = run(tar);
  EXPECT_EQ(no_key.code, 2);
  EXPECT_NE(no_key.err.find("--key is required"), std::string::npos);
  Outcome bad_key = run(tar + " --key nonsense");
  EXPECT_EQ(bad_key.code, 2);
  EXPECT_EQ(std::count(bad_key.err.begin(), bad_key.err.end(), '\n'), 1);
  EXPECT_EQ(run((dir_ / "nope.tar").string() + " --key '" + key + "'").code, 3);
  EXPECT_EQ(Amanah("verify " + tar).code, 2);  // a bundle needs --key
  EXPECT_EQ(run("--help").code, 0);

  // The export never overwrites, and an unknown case is not found.
  EXPECT_EQ(Amanah("export --case KW-9 --out " + tar).code, 4);
  EXPECT_EQ(Amanah("export --case NOPE --out " + tar + "2").code, 3);
}

TEST_F(CliTest, RequestRoundTrip) {
  ASSERT_EQ(Amanah("init --name ccd.moi.gov.kw").code, 0);
  ASSERT_EQ(Amanah("case open KW-2 --title 'financing' --offence "
                   "terrorist-financing --legal-basis 'Law 106/2013'")
                .code,
            0);
  std::ofstream(dir_ / "fields.json") << R"({
    "requesting_authority": {"name": "FIU Kuwait", "time_zone": "Asia/Kuwait"},
    "requested_authority": {"name": "Example Bank", "time_zone": "America/New_York"},
    "offence": {"en": "Terrorist financing", "ar": "تمويل الإرهاب"},
    "summary_of_facts": {"en": "Transfers to a listed entity"},
    "data_requested": {"en": "Account holder details"}})";
  Outcome created = Amanah(
      "--json request create --case KW-2 --type "
      "subscriber --profile eu --direction incoming "
      "--fields " +
      (dir_ / "fields.json").string());
  ASSERT_EQ(created.code, 0) << created.err;
  auto r = nlohmann::json::parse(created.out);
  std::string id = r["id"];
  EXPECT_EQ(r["state"], "received");
  EXPECT_NEAR(r["hours_left"].get<double>(), 240, 0.1);  // EU: 10 days
  EXPECT_EQ(Amanah("request move " + id + " --to acknowledged").code, 0);
  Outcome bad = Amanah("request move " + id + " --to preserved");
  EXPECT_EQ(bad.code, 4);
  EXPECT_NE(bad.err.find("cannot become preserved"), std::string::npos);
  EXPECT_EQ(Amanah("request move " + id + " --to refused").code, 2);
  Outcome listed = Amanah("request list");
  EXPECT_NE(listed.out.find(id), std::string::npos);
  Outcome page = Amanah("request print " + id);
  EXPECT_NE(page.out.find("dir=\"rtl\""), std::string::npos);
  Outcome shown = Amanah("request show " + id);
  EXPECT_EQ(nlohmann::json::parse(shown.out)["history"].size(), 1u);
  // Bad fields: a clear error, nothing created.
  std::ofstream(dir_ / "bad.json") << R"({"offence": "not bilingual"})";
  Outcome rejected = Amanah(
      "request create --case KW-2 --type subscriber "
      "--profile eu --direction outgoing --fields " +
      (dir_ / "bad.json").string());
  EXPECT_EQ(rejected.code, 2);
  EXPECT_EQ(std::count(rejected.err.begin(), rejected.err.end(), '\n'), 1);
  EXPECT_EQ(nlohmann::json::parse(Amanah("--json request list --case KW-2").out)
                .size(),
            1u);
}

// People enrol themselves with the secret `user add` printed; there is no
// console command that sets a password or makes a token for someone else.
TEST_F(CliTest, UsersEnrolThemselves) {
  ASSERT_EQ(Amanah("init --name ccd.moi.gov.kw").code, 0);
  EXPECT_EQ(Amanah("user token alice --days 3").code, 2);
  EXPECT_EQ(
      Amanah("user add alice --role investigator --password-stdin < /dev/null")
          .code,
      2);
  Outcome added = Amanah("user add alice --role investigator");
  ASSERT_EQ(added.code, 0) << added.err;
  std::string secret = added.out.substr(0, added.out.find('\n'));
  EXPECT_EQ(secret.rfind("amanah_enrol_", 0), 0u) << added.out;
  EXPECT_NE(added.err.find("hand it to alice alone"), std::string::npos);

  std::ofstream(dir_ / "wrong") << "amanah_enrol_wrong\nalice's own password\n";
  std::ofstream(dir_ / "right") << secret << "\nalice's own password\n";
  Outcome wrong = Amanah("user enrol alice < " + (dir_ / "wrong").string());
  EXPECT_EQ(wrong.code, 9);
  EXPECT_EQ(std::count(wrong.err.begin(), wrong.err.end(), '\n'), 1);
  Outcome right = Amanah("user enrol alice < " + (dir_ / "right").string());
  EXPECT_EQ(right.code, 0) << right.err;
  Outcome twice = Amanah("user enrol alice < " + (dir_ / "right").string());
  EXPECT_EQ(twice.code, 9);
  EXPECT_EQ(twice.err, wrong.err);

  // A service account takes its first token.
  Outcome bot = Amanah("--json user add bot --role auditor");
  ASSERT_EQ(bot.code, 0) << bot.err;
  std::ofstream(dir_ / "bot")
      << nlohmann::json::parse(bot.out)["enrolment_secret"].get<std::string>()
      << "\n";
  Outcome token =
      Amanah("user enrol bot --token --days 2 < " + (dir_ / "bot").string());
  ASSERT_EQ(token.code, 0) << token.err;
  EXPECT_EQ(token.out.rfind("amanah_", 0), 0u);

  // alice leads the case she was named lead of; reissuing her enrolment
  // takes her out of it.
  ASSERT_EQ(Amanah("case open KW-3 --title t --offence other --legal-basis x "
                   "--lead alice")
                .code,
            0);
  auto shown = nlohmann::json::parse(Amanah("--json case show KW-3").out);
  EXPECT_EQ(shown["lead"], "alice");
  EXPECT_EQ(shown["members"].size(), 1u);
  Outcome reenrol = Amanah("user reenrol alice");
  ASSERT_EQ(reenrol.code, 0) << reenrol.err;
  EXPECT_EQ(reenrol.out.rfind("amanah_enrol_", 0), 0u);
  shown = nlohmann::json::parse(Amanah("--json case show KW-3").out);
  EXPECT_EQ(shown["lead"], "");
  EXPECT_EQ(shown["members"].size(), 0u);
  // The old secret is spent, the old password gone.
  EXPECT_EQ(Amanah("user enrol alice < " + (dir_ / "right").string()).code, 9);
  // An admin account never joins a case.
  ASSERT_EQ(Amanah("user add root --role admin").code, 0);
  Outcome admin = Amanah("case add-member KW-3 root");
  EXPECT_EQ(admin.code, 4);
  EXPECT_NE(admin.err.find("an admin account never joins a case"),
            std::string::npos);
}

// While a server holds the node, a CLI command that writes says so within
// seconds rather than hanging; reads go on working.
TEST_F(CliTest, WritingWhileServedIsAClearErrorNotAHang) {
  ASSERT_EQ(Amanah("init --name ccd.moi.gov.kw").code, 0);
  std::string log = (dir_ / "serve.log").string();
  std::string cmd = std::string(AMANAH_BINARY) + " --data " +
                    (dir_ / "data").string() + " serve --listen 127.0.0.1:0 >" +
                    log + " 2>&1 & echo $!";
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[32] = {0};
  ASSERT_NE(std::fgets(buf, sizeof(buf), p), nullptr);
  ::pclose(p);
  int pid = std::atoi(buf);
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 100; ++i) {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    if (text.find("serving") != std::string::npos) break;
    ::usleep(50000);
  }
  auto start = std::chrono::steady_clock::now();
  Outcome open =
      Amanah("case open X-1 --title t --offence other --legal-basis x");
  double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_EQ(open.code, 7) << open.err;
  EXPECT_NE(open.err.find("amanah serve"), std::string::npos) << open.err;
  EXPECT_NE(open.err.find(std::to_string(pid)), std::string::npos) << open.err;
  EXPECT_LT(waited, 30);
  EXPECT_EQ(Amanah("log checkpoint").code, 0);
  ::kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i) ::usleep(50000);
  (void)status;
  // Once it has stopped, the CLI writes again.
  EXPECT_EQ(
      Amanah("case open X-1 --title t --offence other --legal-basis x").code,
      0);
}

// The actor of what the CLI records: "local:" and the login of the uid in
// the passwd database. Neither an option nor $USER can write another actor
// (such as a user of the API) into the log.
TEST_F(CliTest, EntriesNameTheLoginOfTheEffectiveUid) {
  ASSERT_EQ(Amanah("init --name ccd.moi.gov.kw").code, 0);
  const passwd* pw = ::getpwuid(::geteuid());
  ASSERT_NE(pw, nullptr);
  const std::string me = std::string("local:") + pw->pw_name;
  auto open = [](const std::string& id) {
    return " case open " + id + " --title t --offence other --legal-basis x";
  };
  Outcome forged = Amanah("--actor user:pros" + open("KW-1"));
  EXPECT_EQ(forged.code, 2);
  EXPECT_NE(forged.err.find("--actor"), std::string::npos) << forged.err;
  const std::string amanah =
      std::string(AMANAH_BINARY) + " --data " + (dir_ / "data").string();
  Outcome with_user = amanah::testutil::RunCommand(
      "USER=pros LOGNAME=pros " + amanah + open("KW-2"), dir_ / "stderr");
  EXPECT_EQ(with_user.code, 0) << with_user.err;
  Outcome without_user = amanah::testutil::RunCommand(
      "env -u USER -u LOGNAME " + amanah + open("KW-3"), dir_ / "stderr");
  EXPECT_EQ(without_user.code, 0) << without_user.err;
  Outcome shown = Amanah("--json log show --open");
  ASSERT_EQ(shown.code, 0) << shown.err;
  auto entries = nlohmann::json::parse(shown.out);
  EXPECT_EQ(entries.size(), 2u);  // KW-2 and KW-3; nothing for KW-1
  for (const auto& e : entries) {
    EXPECT_EQ(e["opened"]["kind"], "case.opened");
    EXPECT_EQ(e["opened"]["actor"], me) << e;
  }
}

// A uid with no passwd entry is named by its number, never "unknown".
TEST_F(CliTest, AUidWithoutALoginIsNamedByItsNumber) {
  if (::geteuid() != 0) GTEST_SKIP() << "acting as another uid needs root";
  uid_t uid = 54321;
  while (::getpwuid(uid) != nullptr) ++uid;
  ASSERT_EQ(Amanah("init --name ccd.moi.gov.kw").code, 0);
  // The binary is copied where that uid may run it.
  fs::path bin = dir_ / "amanah";
  fs::copy_file(AMANAH_BINARY, bin);
  std::string id = std::to_string(uid);
  ASSERT_EQ(amanah::testutil::RunCommand(
                "chown -R " + id + ":" + id + " " + (dir_ / "data").string(),
                dir_ / "stderr")
                .code,
            0);
  Outcome open = amanah::testutil::RunCommand(
      "env -u USER setpriv --reuid=" + id + " --regid=" + id +
          " --clear-groups " + bin.string() + " --data " +
          (dir_ / "data").string() +
          " case open KW-1 --title t --offence other --legal-basis x",
      dir_ / "stderr");
  ASSERT_EQ(open.code, 0) << open.err;
  auto entries = nlohmann::json::parse(Amanah("--json log show --open").out);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["opened"]["actor"], "local:uid" + id);
}

}  // namespace
