// Key file formats and the file operations the key store needs (internal).
#pragma once

#include <string>
#include <string_view>

#include "vqi/base/status.h"
#include "vqi/signing/keys.h"

namespace vqi::signing::internal {

struct SecretKey {
  PublicKey pub;
  std::string secret;  // 64 bytes (libsodium: seed || public key)
};

std::string SecretKeyFileText(const SecretKey& key);
// Parses a secret key file: InvalidArgument for a malformed file, DataLoss when the secret and
// public halves do not belong together.
Result<SecretKey> ParseSecretKeyFile(std::string_view text, const std::string& where);

// Reads a secret key file, refusing (PermissionDenied) one that group or others may access and
// anything that is not a regular file of at most kMaxKeyFileBytes.
Result<std::string> ReadSecretFile(const std::string& path);

// Creates `path` holding `data` with `mode`: written to a temporary file created with that
// mode, fsynced, then linked into place, so the file never exists half-written or with a wider
// mode, and an existing `path` is never replaced (AlreadyExists).
Status WriteNewFile(const std::string& path, std::string_view data, unsigned mode);

}  // namespace vqi::signing::internal
