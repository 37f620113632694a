// VERIFY.txt: how a court's expert checks a bundle, with amanah-verify or by
// hand with tar, sha256sum and openssl. Its by-hand part is a POSIX shell
// script between the lines "#!/bin/sh" and "# end of script", which the
// tests run.

#ifndef AMANAH_BUNDLE_VERIFY_TEXT_H_
#define AMANAH_BUNDLE_VERIFY_TEXT_H_

#include <string>

#include "bundle/manifest.h"

namespace amanah {

std::string BundleVerifyInstructions(const BundleManifest& manifest);

}  // namespace amanah

#endif  // AMANAH_BUNDLE_VERIFY_TEXT_H_
