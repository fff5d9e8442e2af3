// Ed25519 through libsodium (docs/design/signing.md: why libsodium).
#include "ed25519.h"

#include <sodium.h>

#include "vqi/signing/keys.h"

namespace vqi::signing::internal {
namespace {

bool Init() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

static_assert(crypto_sign_PUBLICKEYBYTES == kPublicKeyBytes);
static_assert(crypto_sign_SECRETKEYBYTES == kSecretKeyBytes);
static_assert(crypto_sign_BYTES == kSignatureBytes);

Result<KeyPair> GenerateKeyPair() {
  if (!Init()) return Internal("libsodium: sodium_init failed (no entropy source?)");
  KeyPair kp;
  kp.public_key.resize(kPublicKeyBytes);
  kp.secret_key.resize(kSecretKeyBytes);
  crypto_sign_keypair(U(kp.public_key), U(kp.secret_key));
  return kp;
}

std::string PublicFromSecret(std::string_view secret_key) {
  std::string pk(kPublicKeyBytes, '\0');
  std::string sk(secret_key);
  if (sk.size() != kSecretKeyBytes) return "";
  crypto_sign_ed25519_sk_to_pk(U(pk), U(sk));
  sodium_memzero(sk.data(), sk.size());
  return pk;
}

std::string SignDetached(std::string_view secret_key, std::string_view message) {
  VQI_CHECK(secret_key.size() == kSecretKeyBytes);
  VQI_CHECK(Init());
  std::string sig(kSignatureBytes, '\0');
  crypto_sign_detached(U(sig), nullptr, U(message), message.size(), U(secret_key));
  return sig;
}

bool VerifyDetached(std::string_view public_key, std::string_view message,
                    std::string_view signature) {
  if (public_key.size() != kPublicKeyBytes || signature.size() != kSignatureBytes) return false;
  if (!Init()) return false;
  return crypto_sign_verify_detached(U(signature), U(message), message.size(), U(public_key)) == 0;
}

}  // namespace vqi::signing::internal
