// ParseManifest (bundle/manifest.h) on any bytes: it refuses cleanly or
// gives a manifest that FormatManifest writes in one canonical form, which
// parses back to the same manifest.

#include "bundle/manifest.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amanah;
  Result<BundleManifest> m = ParseManifest(fuzz::AsText(data, size));
  if (!m.ok()) {
    FUZZ_CHECK(m.status().code() == Code::kInvalidInput ||
               m.status().code() == Code::kTooLarge);
    return 0;
  }
  std::string canonical = FormatManifest(*m);
  Result<BundleManifest> again = ParseManifest(canonical);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(FormatManifest(*again) == canonical);
  FUZZ_CHECK(again->items.size() == m->items.size());
  for (const BundleItem& item : again->items) {
    FUZZ_CHECK(item.address == "sha256:" + item.sha256);
  }
  return 0;
}
