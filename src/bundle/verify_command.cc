#include "bundle/verify_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "bundle/verify.h"
#include "ledger/note.h"

namespace amanah {

const char kVerifyUsage[] =
    "usage: amanah-verify BUNDLE --key KEY [--witness KEY ...]\n"
    "                     [--min-witnesses N] [--peer-key KEY ...] [--json]\n"
    "\n"
    "Checks an amanah evidence bundle (a .tar file or an extracted\n"
    "directory) offline: the checkpoint's signature by KEY (the exporting\n"
    "node's verifier key) and the required witness cosignatures, every\n"
    "custody entry's inclusion proof, every object's hashes, and that the\n"
    "manifest is the one the node logged. Exit code 0: every check holds;\n"
    "5: a check fails; other: the bundle could not be checked.\n";

namespace {

class StderrProgress {
 public:
  explicit StderrProgress(bool on)
      : on_(on && ::isatty(STDERR_FILENO)),
        start_(std::chrono::steady_clock::now()),
        last_(start_) {}
  ~StderrProgress() {
    if (shown_) std::fputs("\n", stderr);
  }
  void operator()(uint64_t bytes) {
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - start_).count();
    if (elapsed < 3 ||
        std::chrono::duration<double>(now - last_).count() < 0.5) {
      return;
    }
    last_ = now;
    shown_ = true;
    std::fprintf(stderr, "\rhashing objects: %.2f GiB, %.0f MB/s   ",
                 bytes / 1073741824.0, bytes / elapsed / 1e6);
  }

 private:
  bool on_, shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

int Error(const Status& s) {
  std::fprintf(stderr, "amanah-verify: %s\n", s.ToString().c_str());
  return ExitCodeFor(s.code());
}

}  // namespace

int RunVerifyCommand(const VerifyCommand& command) {
  auto key = ParseVerifierKey(command.policy.key);
  if (!key.ok() || key->type != kNoteKeyTypeEd25519) {
    return Error(Status::InvalidInput(
        "--key is not a node's verifier key (name+hex+base64, type 0x01)"));
  }
  for (const auto& w : command.policy.witnesses) {
    auto wk = ParseVerifierKey(w);
    if (!wk.ok() || wk->type != kNoteKeyTypeCosignatureV1) {
      return Error(Status::InvalidInput(
          "--witness " + w + " is not a cosignature/v1 key (type 0x04)"));
    }
  }
  if (command.policy.min_witnesses >
      static_cast<int>(command.policy.witnesses.size())) {
    return Error(Status::InvalidInput(
        "--min-witnesses is more than the witness keys given"));
  }
  auto source = OpenBundle(Env::Default(), command.bundle);
  if (!source.ok()) return Error(source.status());
  StderrProgress progress(command.progress);
  auto report = VerifyBundle(source->get(), command.policy,
                             [&](uint64_t n) { progress(n); });
  if (!report.ok()) return Error(report.status());
  if (command.json) {
    std::cout << report->ToJson() << "\n";
  } else {
    std::cout << report->ToText();
  }
  std::cout.flush();
  return report->ok ? 0 : ExitCodeFor(Code::kCorruption);
}

bool ParseVerifyArgs(int argc, char** argv, VerifyCommand* command, bool* help,
                     std::string* error) {
  *help = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        *error = arg + " needs a value";
        return false;
      }
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "-h" || arg == "--help") {
      *help = true;
      return true;
    } else if (arg == "--json") {
      command->json = true;
    } else if (arg == "--key") {
      if (!value(&command->policy.key)) return false;
    } else if (arg == "--witness") {
      if (!value(&v)) return false;
      command->policy.witnesses.push_back(v);
    } else if (arg == "--peer-key") {
      if (!value(&v)) return false;
      command->policy.peer_keys.push_back(v);
    } else if (arg == "--min-witnesses") {
      if (!value(&v)) return false;
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0 || n > 1000) {
        *error = "--min-witnesses needs a number from 0";
        return false;
      }
      command->policy.min_witnesses = static_cast<int>(n);
    } else if (!arg.empty() && arg[0] == '-') {
      *error = "unknown option " + arg;
      return false;
    } else if (command->bundle.empty()) {
      command->bundle = arg;
    } else {
      *error = "one bundle at a time (" + arg + ")";
      return false;
    }
  }
  if (command->bundle.empty()) {
    *error = "no bundle given";
    return false;
  }
  if (command->policy.key.empty()) {
    *error = "--key is required: the exporting node's verifier key";
    return false;
  }
  return true;
}

}  // namespace amanah
