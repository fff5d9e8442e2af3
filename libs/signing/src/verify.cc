// Verification of a signed manifest and of the artifacts it names (docs/design/signing.md,
// "Verification and its errors": one message per failure).
#include <algorithm>
#include <string>
#include <vector>

#include "ed25519.h"
#include "vqi/signing/manifest.h"

namespace vqi::signing {

Status VerifySignature(const Manifest& manifest, std::string_view signature,
                       const TrustedKeys& trusted) {
  const std::string who = manifest.component + "@" + manifest.version;
  if (signature.empty()) return PermissionDenied("unsigned: " + who + " has no signature");
  if (signature.size() != kSignatureBytes)
    return DataLoss("signature of " + who + " is malformed (" + std::to_string(signature.size()) +
                    " bytes, expected " + std::to_string(kSignatureBytes) + ")");
  auto key = trusted.find(manifest.key_id);
  if (key == trusted.end()) {
    std::string ids;
    for (const auto& [id, k] : trusted) ids += (ids.empty() ? "" : ", ") + id + " (" + k.name + ")";
    return PermissionDenied("signed by unknown key " + manifest.key_id.substr(0, 64) +
                            " (trusted: " + (ids.empty() ? "none" : ids) + ")");
  }
  auto bytes = CanonicalManifest(manifest);
  if (!bytes.ok() || !internal::VerifyDetached(key->second.bytes, *bytes, signature))
    return PermissionDenied(
        "signature does not match the manifest (recipe or artifact list changed) of " + who +
        " signed by key " + manifest.key_id + " (" + key->second.name + ")");
  return Status::Ok();
}

Status VerifyArtifacts(const Manifest& manifest, const ArtifactHasher& hasher) {
  std::vector<ManifestArtifact> sorted = manifest.artifacts;
  std::sort(sorted.begin(), sorted.end(),
            [](const ManifestArtifact& a, const ManifestArtifact& b) { return a.name < b.name; });
  for (const ManifestArtifact& a : sorted) {
    Result<std::string> actual = hasher(a);
    if (!actual.ok() && actual.status().code() == StatusCode::kNotFound)
      return DataLoss("artifact missing: " + a.name + " (blob " + a.digest + "; " +
                      actual.status().message() + ")");
    if (!actual.ok()) return actual.status().WithContext("artifact " + a.name);
    if (*actual != a.digest)
      return DataLoss("artifact " + a.name + ": content hashes to " + *actual + ", manifest says " +
                      a.digest);
  }
  return Status::Ok();
}

Status Verify(const Manifest& manifest, std::string_view signature, const TrustedKeys& trusted,
              const ArtifactHasher& hasher) {
  VQI_RETURN_IF_ERROR(VerifySignature(manifest, signature, trusted));
  return VerifyArtifacts(manifest, hasher);
}

}  // namespace vqi::signing
