// Publisher keys: Ed25519 key pairs under <home>/keys/ and the public keys trusted for
// verification (docs/design/signing.md has the file formats).
//
//   <home>/keys/<name>.key          secret key, mode 0600 (never readable by group/others)
//   <home>/keys/<name>.pub          its public key (what `vqi key export` prints)
//   <home>/keys/trusted/<name>.pub  a public key trusted for verification (devices hold only these)
//
// Errors: InvalidArgument for a bad key name or a malformed key file (naming the file and
// field), NotFound for an unknown name or id, AlreadyExists when a name is taken,
// PermissionDenied for a secret key file that group or others may access, DataLoss for a
// secret key file whose halves do not match, Unavailable for I/O errors.
//
// Thread-compatibility: a KeyStore holds no open files; several processes may use one folder
// (Create is atomic and never overwrites).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/clock.h"
#include "vqi/base/status.h"

namespace vqi::signing {

inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kSignatureBytes = 64;
inline constexpr size_t kMaxKeyNameLength = 64;         // docs/limits.md (Signing)
inline constexpr uint64_t kMaxKeyFileBytes = 64 << 10;  // docs/limits.md (Signing)

struct PublicKey {
  std::string name;
  std::string key_id;   // KeyId(bytes)
  std::string bytes;    // kPublicKeyBytes raw bytes
  std::string created;  // RFC 3339 UTC
};

// Keys trusted for verification, by key id.
using TrustedKeys = std::map<std::string, PublicKey>;

struct KeyInfo {
  std::string name;
  std::string key_id;
  std::string created;
  std::string public_key_hex;
  bool has_secret = false;    // an own key this home can sign with
  bool trusted_only = false;  // from keys/trusted/ (someone else's public key)
};

// The first 16 hex digits of SHA-256 of the raw public key.
std::string KeyId(std::string_view public_key);

// OK for 1..64 characters of [A-Za-z0-9._-] starting with a letter or digit; otherwise
// InvalidArgument naming the rule.
Status ValidateKeyName(std::string_view name);

// The text of a public key file ({"format":"vqi-public-key/1",...}, one line).
std::string PublicKeyFileText(const PublicKey& key);
// Parses a public key file; the key id in it must match the key. `where` names the file.
Result<PublicKey> ParsePublicKeyFile(std::string_view text, const std::string& where);

class KeyStore {
 public:
  // The key folder <home>/keys (created 0700 on first Create/Trust). `clock` stamps `created`
  // and must outlive the store.
  explicit KeyStore(const std::string& home, Clock& clock = RealClock());

  const std::string& dir() const { return dir_; }

  // Generates a key pair named `name`. AlreadyExists if the name is taken (own or trusted).
  Result<KeyInfo> Create(const std::string& name);
  // Own keys, then trusted keys, each sorted by name.
  Result<std::vector<KeyInfo>> List() const;
  // An own or trusted public key by name, or by key id (16 hex digits).
  Result<PublicKey> Public(const std::string& name_or_id) const;
  // The public key file text of an own key (for `vqi key trust` on another machine).
  Result<std::string> ExportPublic(const std::string& name) const;
  // The Ed25519 signature (kSignatureBytes) of `bytes` with the own key `name`.
  // PermissionDenied if its secret key file is accessible by group or others.
  Result<std::string> Sign(const std::string& name, std::string_view bytes) const;
  // Trusts the public key in `public_key_file` under `name`. Trusting the same key under the
  // same name again is a no-op; AlreadyExists if `name` holds a different key.
  Result<KeyInfo> Trust(const std::string& name, const std::string& public_key_file);
  // Every key verification accepts: own public keys and trusted ones.
  Result<TrustedKeys> Trusted() const;

 private:
  std::string SecretPath(const std::string& name) const;
  std::string PublicPath(const std::string& name) const;
  std::string TrustedPath(const std::string& name) const;
  Result<std::vector<PublicKey>> ReadFolder(const std::string& dir) const;

  std::string dir_;
  Clock* clock_;
};

}  // namespace vqi::signing
