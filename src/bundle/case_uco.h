// A bundle's case.jsonld: the case, its evidence and every custody entry the
// bundle carries, as CASE/UCO JSON-LD, so that forensic tools that speak CASE
// can import the case without knowing amanah.
//
// Pinned to CASE 1.4.0 and UCO 1.4.0 (the UCO release CASE 1.4.0 imports).
// The shape follows CASE-Examples' forensic_lifecycle illustration:
//
//   case-investigation:Investigation   the case (name = id, description =
//                                      title); uco-core:object lists every
//                                      other node of the graph
//   uco-identity:Organization          the exporting node and each peer
//   uco-identity:Person                each user ("local:<name>",
//                                      "user:<name>") who acted on an item
//   uco-tool:Tool                      amanah, the instrument of every action
//   uco-observable:File                each item, with a ContentDataFacet
//                                      holding its size and uco-types:Hash
//                                      values (SHA256, and MD5, SHA1 if known)
//   case-investigation:ProvenanceRecord
//                                      each item as an exhibit of the case
//   case-investigation:InvestigativeAction
//                                      each custody entry, with performer,
//                                      instrument, object or result, times,
//                                      and a uco-core:ExternalReference to
//                                      the entry in its custody log
//
// docs/formats.md's "Bundle" lists the file; this comment is its format.

#ifndef AMANAH_BUNDLE_CASE_UCO_H_
#define AMANAH_BUNDLE_CASE_UCO_H_

#include <string>

#include "bundle/manifest.h"

namespace amanah {

inline constexpr char kCaseVersion[] = "1.4.0";
inline constexpr char kUcoVersion[] = "1.4.0";

// Returns the case as pretty-printed (2-space indent) JSON-LD with an inline
// @context, ending in a newline; the same input gives the same bytes. Entries
// the manifest names but `entries` lacks are left out (the verifier reports
// them). REQUIRES: manifest.node.name is a valid node name.
std::string CaseUcoJsonLd(const BundleManifest& manifest,
                          const BundleEntries& entries);

}  // namespace amanah

#endif  // AMANAH_BUNDLE_CASE_UCO_H_
