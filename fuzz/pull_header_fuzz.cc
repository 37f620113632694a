// The Amanah-Pull header (app/transfers.h, CheckPullAuthorization) on any
// text, checked by a node that has pinned one peer. The input is the header,
// a newline and the object's address. To let the fuzzer reach past the
// clock and the signature, "@now" in the header stands for the node's
// current unix time and "@sig" for the peer's valid signature of the pull
// (made by PullAuthorization). Whatever the header, the answer is the
// peer's name or a refusal (kPermission, or kInvalidInput for no header);
// the peer's name only with a valid signature.

#include <string>

#include "app/transfers.h"
#include "fuzz/fuzz_node.h"

namespace amanah {
namespace {

void ReplaceAll(std::string* s, std::string_view what,
                const std::string& with) {
  for (size_t at = s->find(what); at != std::string::npos;
       at = s->find(what, at + with.size())) {
    s->replace(at, what.size(), with);
  }
}

}  // namespace
}  // namespace amanah

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amanah;
  fuzz::TwoNodes& nodes = fuzz::Nodes();
  std::string_view in = fuzz::AsText(data, size);
  size_t nl = in.find('\n');
  std::string header(in.substr(0, nl));
  std::string address(nl == std::string_view::npos ? "" : in.substr(nl + 1));
  bool signed_here = header.find("@sig") != std::string::npos;
  if (signed_here || header.find("@now") != std::string::npos) {
    // "<name> <unix> <signature>", as the peer would send it now.
    std::string valid =
        PullAuthorization(*nodes.peer, nodes.node->info().name, address);
    size_t a = valid.find(' '), b = valid.rfind(' ');
    ReplaceAll(&header, "@now", valid.substr(a + 1, b - a - 1));
    ReplaceAll(&header, "@sig", valid.substr(b + 1));
  }
  Result<std::string> who =
      CheckPullAuthorization(nodes.node.get(), header, address);
  if (who.ok()) {
    FUZZ_CHECK(*who == nodes.peer->info().name);
    FUZZ_CHECK(signed_here);
  } else {
    FUZZ_CHECK(who.status().code() == Code::kPermission ||
               (header.empty() && who.status().code() == Code::kInvalidInput));
  }
  return 0;
}
