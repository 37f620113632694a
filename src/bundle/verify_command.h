// `amanah verify BUNDLE` and `amanah-verify BUNDLE`: one implementation, so
// the small standalone verifier and the full CLI give the same verdict.

#ifndef AMANAH_BUNDLE_VERIFY_COMMAND_H_
#define AMANAH_BUNDLE_VERIFY_COMMAND_H_

#include <string>
#include <vector>

#include "bundle/verify.h"

namespace amanah {

struct VerifyCommand {
  std::string bundle;  // a .tar file or an extracted directory
  VerifyPolicy policy;
  bool json = false;
  bool progress = true;  // on stderr, for long runs on a terminal
};

// Verifies and prints the report (text or JSON) on standard output. Returns
// the exit code: 0 if every check holds, 5 (corruption) if one fails, and
// the code of the error for what prevented verifying (2 for a bad key, 3
// for a missing bundle, ...), with a one-line reason on stderr.
int RunVerifyCommand(const VerifyCommand& command);

// Parses amanah-verify's arguments into `command`; returns false, with a
// message in `error`, on a usage error. `help` is set for -h/--help.
bool ParseVerifyArgs(int argc, char** argv, VerifyCommand* command, bool* help,
                     std::string* error);

// amanah-verify's usage text.
extern const char kVerifyUsage[];

}  // namespace amanah

#endif  // AMANAH_BUNDLE_VERIFY_COMMAND_H_
