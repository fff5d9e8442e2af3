// The canonical manifest of a component: the one byte string a publisher signs and a device
// verifies (docs/design/signing.md gives the exact format). Deterministic: the same manifest
// always gives the same bytes, and parsing the bytes gives the same manifest back.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/signing/keys.h"

namespace vqi::signing {

inline constexpr std::string_view kManifestFormat = "vqi-manifest/1";

struct ManifestArtifact {
  std::string name;    // file name in the component's artifact folder (unique per manifest)
  std::string uri;     // as the recipe names it
  std::string digest;  // SHA-256, lowercase hex
  int64_t size = 0;
  std::string unarchive = "NONE";  // NONE or ZIP
  bool operator==(const ManifestArtifact&) const = default;
};

struct Manifest {
  std::string component;
  std::string version;
  std::string publisher;
  std::string key_id;                       // the signer (KeyId of its public key)
  Json recipe = Json::object();             // the recipe's canonical JSON
  std::vector<ManifestArtifact> artifacts;  // any order; canonical bytes sort them by name
};

// The canonical bytes. InvalidArgument naming the field for an empty component/version/key id,
// a malformed digest, a negative size, an unknown unarchive value, an empty or duplicate
// artifact name, or invalid UTF-8 anywhere.
Result<std::string> CanonicalManifest(const Manifest& manifest);

// Parses canonical bytes (e.g. received by a device): InvalidArgument for another format,
// missing fields, or bytes that are not in canonical form.
Result<Manifest> ParseManifest(std::string_view bytes);

struct SignedManifest {
  Manifest manifest;      // with key_id set to the signer
  std::string bytes;      // CanonicalManifest(manifest)
  std::string signature;  // kSignatureBytes
};

// Sets manifest.key_id to the key `key_name`, builds the canonical bytes and signs them.
Result<SignedManifest> SignManifest(const KeyStore& keys, const std::string& key_name,
                                    Manifest manifest);

// The SHA-256 (hex) of an artifact's stored content: NotFound when the content is missing;
// other errors are passed through.
using ArtifactHasher = std::function<Result<std::string>(const ManifestArtifact&)>;

// Steps 1-4 of docs/design/signing.md: a signature is present, well formed, by a trusted key,
// and matches the canonical bytes of `manifest`. PermissionDenied/DataLoss naming what failed.
Status VerifySignature(const Manifest& manifest, std::string_view signature,
                       const TrustedKeys& trusted);
// Steps 5-6: every artifact's content exists and hashes to its digest (name order).
Status VerifyArtifacts(const Manifest& manifest, const ArtifactHasher& hasher);
// All steps: the signature first, then the artifacts.
Status Verify(const Manifest& manifest, std::string_view signature, const TrustedKeys& trusted,
              const ArtifactHasher& hasher);

}  // namespace vqi::signing
