// Bearer tokens for `vqi server`.
//
// A token reads `vqi_<id>_<secret>`: `id` is 12 hex digits (public, names the token in logs and
// `vqi server token list`), `secret` 64 hex digits (32 random bytes from OpenSSL's RAND_bytes).
// The store keeps the id, the name, the scope and SHA-256 of the secret — never the token — so
// the token is shown once, when it is created. Authentication looks the id up and compares the
// digests in constant time (CRYPTO_memcmp).
//
// Errors: InvalidArgument for a bad name (1-64 of [A-Za-z0-9._-]), AlreadyExists for a name in
// use, NotFound for revoking an unknown token, PermissionDenied from Authenticate for a
// malformed, unknown or revoked token (the message says which, for the server log; callers
// answer 401 without it). Storage errors as libs/sqlite reports them.
//
// Thread-safety: every method may be called from many threads at once (implementations lock).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/server/scope.h"

namespace vqi::server {

struct TokenInfo {
  std::string id;    // 12 hex digits
  std::string name;  // unique
  Scope scope = Scope::kRead;
  std::string created_at;                 // RFC 3339 UTC
  std::optional<std::string> revoked_at;  // set once revoked
};

struct NewToken {
  TokenInfo info;
  std::string token;  // the bearer token; not stored anywhere
};

class TokenStore {
 public:
  virtual ~TokenStore() = default;
  virtual Result<NewToken> Create(const std::string& name, Scope scope) = 0;
  // Every token, revoked ones included, oldest first.
  virtual Result<std::vector<TokenInfo>> List() = 0;
  // Revokes the token with this id or name; revoking twice is OK (returns it unchanged).
  virtual Result<TokenInfo> Revoke(const std::string& id_or_name) = 0;
  // The token's record if `token` is a valid, unrevoked token.
  virtual Result<TokenInfo> Authenticate(std::string_view token) = 0;
};

// The SQLite token store at <home>/server/tokens.db (created with its folder if missing).
Result<std::unique_ptr<TokenStore>> OpenTokenStore(const std::string& home);

// Token name rule (also used by the HTTP route that creates tokens).
Status ValidateTokenName(std::string_view name);

}  // namespace vqi::server
