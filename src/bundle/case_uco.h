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
//   case-investigation:Authorization   the case's legal basis
//   uco-observable:Image               the media of an E01 image, with its
//                                      hashes and the verdict against the
//                                      hashes the image stores; an
//                                      ObservableRelationship says it is
//                                      Contained_Within the image's File
//   uco-observable:File                each exhibit (each ingest of an item,
//                                      wherever it happened), with a
//                                      FileFacet (the name it was ingested
//                                      under, its size) and a
//                                      ContentDataFacet holding its size and
//                                      uco-types:Hash values (SHA256, and
//                                      MD5, SHA1 if known)
//   case-investigation:ProvenanceRecord
//                                      each exhibit of the case
//   case-investigation:InvestigativeAction
//                                      each custody entry, with performer,
//                                      instrument, object or result, times,
//                                      and a uco-core:ExternalReference to
//                                      the entry in its custody log
//
// Every @id ends with a UUIDv5 of what the node is, never of who exported
// it (docs/formats.md, "case.jsonld identities").
//
// docs/formats.md's "Bundle" lists the file; this comment is its format.

#ifndef AMANAH_BUNDLE_CASE_UCO_H_
#define AMANAH_BUNDLE_CASE_UCO_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "bundle/manifest.h"

namespace amanah {

inline constexpr char kCaseVersion[] = "1.4.0";
inline constexpr char kUcoVersion[] = "1.4.0";

// Every node's @id is this base, its type and a UUID: "<base><type>-<uuid>"
// (written "kb:<type>-<uuid>" with the context's "kb" prefix). The base is
// the same for every exporter; docs/formats.md, "case.jsonld identities".
inline constexpr char kCaseUcoIriBase[] = "https://amanah.invalid/kb/";

using Uuid = std::array<uint8_t, 16>;

// The name-based UUID, version 5 (SHA-1), of `name` in namespace `ns`
// (RFC 9562, section 5.5).
Uuid UuidV5(const Uuid &ns, std::string_view name);
// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lower-case hex.
std::string UuidString(const Uuid &u);
// The namespace of amanah's identities: UuidV5(NameSpace_URL,
// kCaseUcoIriBase), c7dc99bf-4a97-5402-9664-f2dca011e196. A node's @id ends
// with UuidV5(this, "<type> <identity>").
const Uuid &AmanahUuidNamespace();

// Returns the case as pretty-printed (2-space indent) JSON-LD with an inline
// @context, ending in a newline; the same input gives the same bytes. Entries
// the manifest names but `entries` lacks are left out (the verifier reports
// them). REQUIRES: manifest.node.name is a valid node name.
// `legal_basis`, the case's, is its case-investigation:Authorization.
std::string CaseUcoJsonLd(const BundleManifest &manifest,
                          const BundleEntries &entries,
                          const std::string &legal_basis = "");

}  // namespace amanah

#endif  // AMANAH_BUNDLE_CASE_UCO_H_
