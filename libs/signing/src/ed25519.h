// The only file that speaks libsodium: Ed25519 key pairs, detached signatures.
#pragma once

#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi::signing::internal {

inline constexpr size_t kSecretKeyBytes = 64;  // libsodium: seed || public key

struct KeyPair {
  std::string public_key;  // 32 bytes
  std::string secret_key;  // 64 bytes
};

// Internal if libsodium cannot initialise (no entropy source).
Result<KeyPair> GenerateKeyPair();
// The public half of a 64-byte secret key.
std::string PublicFromSecret(std::string_view secret_key);
// REQUIRES: secret_key.size() == kSecretKeyBytes.
std::string SignDetached(std::string_view secret_key, std::string_view message);
// False for a wrong signature, key or message (and for wrong sizes).
bool VerifyDetached(std::string_view public_key, std::string_view message,
                    std::string_view signature);

}  // namespace vqi::signing::internal
