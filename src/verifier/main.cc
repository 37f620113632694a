// amanah-verify: checks an amanah evidence bundle offline. Built from a few
// of amanah's sources with OpenSSL, libsodium and nlohmann-json only
// (cmake -DAMANAH_VERIFY_ONLY=ON), so a court can build and run just this.

#include <cstdio>
#include <string>

#include "bundle/verify_command.h"

int main(int argc, char** argv) {
  amanah::VerifyCommand command;
  bool help = false;
  std::string error;
  if (!amanah::ParseVerifyArgs(argc, argv, &command, &help, &error)) {
    std::fprintf(stderr, "amanah-verify: %s\n\n%s", error.c_str(),
                 amanah::kVerifyUsage);
    return 2;
  }
  if (help) {
    std::fputs(amanah::kVerifyUsage, stdout);
    return 0;
  }
  return amanah::RunVerifyCommand(command);
}
