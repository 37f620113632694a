// The amanah binary as a user meets it: exit codes, one-line errors, --json.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "storage/testutil.h"

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

class CliTest : public amanah::testutil::TempDirTest {
 protected:
  Outcome Amanah(const std::string& args) {
    std::string err = (dir_ / "stderr").string();
    std::string cmd = std::string(AMANAH_BINARY) + " --data " +
                      (dir_ / "data").string() + " " + args + " 2>" + err;
    Outcome r;
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
    int status = ::pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream e(err);
    r.err.assign((std::istreambuf_iterator<char>(e)), {});
    return r;
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
  Outcome cat = Amanah("cat " + address);
  EXPECT_EQ(cat.code, 0);
  EXPECT_EQ(cat.out, "evidence bytes");
  EXPECT_EQ(Amanah("verify " + address).code, 0);
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
  EXPECT_EQ(Amanah("cat sha256:" + std::string(64, '0')).code, 3);
  EXPECT_EQ(Amanah("log prove 5").code, 2);
  EXPECT_EQ(Amanah("ingest").code, 2);
  // Nothing was recorded by the failures.
  Outcome cp = Amanah("--json log checkpoint");
  EXPECT_EQ(nlohmann::json::parse(cp.out)["size"], 0);
}

}  // namespace
