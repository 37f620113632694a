// Test support for the CLI tests: running the amanah binary as a user
// would. Included only by tests.

#ifndef AMANAH_CLI_TESTUTIL_H_
#define AMANAH_CLI_TESTUTIL_H_

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace amanah::testutil {

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

// Runs `command` through the shell; stderr goes through `err_file`.
inline Outcome RunCommand(const std::string& command,
                          const std::filesystem::path& err_file) {
  std::string cmd = command + " 2>" + err_file.string();
  Outcome r;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err_file);
  r.err.assign((std::istreambuf_iterator<char>(e)), {});
  return r;
}

// Runs `amanah --data DATA ARGS` through the shell (ARGS may redirect).
inline Outcome RunAmanah(const std::filesystem::path& data,
                         const std::string& args,
                         const std::filesystem::path& err_file) {
  return RunCommand(
      std::string(AMANAH_BINARY) + " --data " + data.string() + " " + args,
      err_file);
}

}  // namespace amanah::testutil

#endif  // AMANAH_CLI_TESTUTIL_H_
