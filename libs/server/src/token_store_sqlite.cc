// The SQLite implementation of TokenStore: one connection under a mutex.
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <mutex>

#include "time_util.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/server/token_store.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::server {
namespace {

constexpr size_t kIdHex = 12;
constexpr size_t kSecretHex = 64;
constexpr std::string_view kPrefix = "vqi_";

const std::vector<sqlite::Migration> kMigrations = {
    {1,
     "CREATE TABLE IF NOT EXISTS tokens ("
     "  id TEXT PRIMARY KEY,"
     "  name TEXT NOT NULL UNIQUE,"
     "  scope TEXT NOT NULL,"
     "  secret_sha256 TEXT NOT NULL,"
     "  created_at TEXT NOT NULL,"
     "  revoked_at TEXT)",
     {}},
};

bool IsHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<std::string> RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    return Internal("RAND_bytes failed: no randomness for a token");
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return hex;
}

class SqliteTokenStore : public TokenStore {
 public:
  explicit SqliteTokenStore(sqlite::Db db) : db_(std::move(db)) {}

  Result<NewToken> Create(const std::string& name, Scope scope) override {
    VQI_RETURN_IF_ERROR(ValidateTokenName(name));
    VQI_ASSIGN_OR_RETURN(std::string id, RandomHex(kIdHex / 2));
    VQI_ASSIGN_OR_RETURN(std::string secret, RandomHex(kSecretHex / 2));
    NewToken t;
    t.info = {id, name, scope, NowRfc3339(), std::nullopt};
    t.token = std::string(kPrefix) + id + "_" + secret;
    std::lock_guard<std::mutex> lock(mu_);
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt st,
        db_.Prepare("INSERT INTO tokens(id, name, scope, secret_sha256, created_at) "
                    "VALUES(?, ?, ?, ?, ?)"));
    st.Bind(1, id).Bind(2, name).Bind(3, ScopeName(scope)).Bind(4, Sha256Hex(secret));
    st.Bind(5, t.info.created_at);
    Status s = st.Run();
    if (s.code() == StatusCode::kAlreadyExists)
      return AlreadyExists("a token named '" + name + "' exists (revoked tokens keep their name)");
    VQI_RETURN_IF_ERROR(s);
    return t;
  }

  Result<std::vector<TokenInfo>> List() override {
    std::lock_guard<std::mutex> lock(mu_);
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt st,
                         db_.Prepare("SELECT id, name, scope, created_at, revoked_at FROM tokens "
                                     "ORDER BY created_at, rowid"));
    std::vector<TokenInfo> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      VQI_ASSIGN_OR_RETURN(TokenInfo info, FromRow(st));
      out.push_back(std::move(info));
    }
    return out;
  }

  Result<TokenInfo> Revoke(const std::string& id_or_name) override {
    std::lock_guard<std::mutex> lock(mu_);
    Status s = db_.InTransaction([&]() -> Status {
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt st,
                           db_.Prepare("UPDATE tokens SET revoked_at = ? "
                                       "WHERE (id = ? OR name = ?) AND revoked_at IS NULL"));
      st.Bind(1, NowRfc3339()).Bind(2, id_or_name).Bind(3, id_or_name);
      return st.Run();
    });
    VQI_RETURN_IF_ERROR(s);
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt st,
                         db_.Prepare("SELECT id, name, scope, created_at, revoked_at FROM tokens "
                                     "WHERE id = ? OR name = ?"));
    st.Bind(1, id_or_name).Bind(2, id_or_name);
    VQI_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return NotFound("no token with id or name '" + id_or_name + "'");
    return FromRow(st);
  }

  Result<TokenInfo> Authenticate(std::string_view token) override {
    const size_t want = kPrefix.size() + kIdHex + 1 + kSecretHex;
    if (token.size() != want || token.substr(0, kPrefix.size()) != kPrefix ||
        token[kPrefix.size() + kIdHex] != '_')
      return PermissionDenied("malformed token (expected vqi_<12 hex>_<64 hex>)");
    const std::string_view id = token.substr(kPrefix.size(), kIdHex);
    const std::string_view secret = token.substr(kPrefix.size() + kIdHex + 1);
    if (!IsHex(id) || !IsHex(secret)) return PermissionDenied("malformed token (not hex)");
    const std::string digest = Sha256Hex(secret);

    std::lock_guard<std::mutex> lock(mu_);
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt st,
        db_.Prepare("SELECT id, name, scope, created_at, revoked_at, secret_sha256 FROM tokens "
                    "WHERE id = ?"));
    st.Bind(1, id);
    VQI_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return PermissionDenied("unknown token id " + std::string(id));
    const std::string stored = st.Text(5);
    if (stored.size() != digest.size() ||
        CRYPTO_memcmp(stored.data(), digest.data(), digest.size()) != 0)
      return PermissionDenied("wrong secret for token id " + std::string(id));
    VQI_ASSIGN_OR_RETURN(TokenInfo info, FromRow(st));
    if (info.revoked_at) return PermissionDenied("token " + info.id + " was revoked");
    return info;
  }

 private:
  static Result<TokenInfo> FromRow(const sqlite::Stmt& st) {
    TokenInfo info;
    info.id = st.Text(0);
    info.name = st.Text(1);
    auto scope = ParseScope(st.Text(2));
    if (!scope.ok())
      return DataLoss("tokens.db: token " + info.id + ": " + scope.status().message());
    info.scope = *scope;
    info.created_at = st.Text(3);
    info.revoked_at = st.OptText(4);
    return info;
  }

  std::mutex mu_;
  sqlite::Db db_;  // guarded by mu_
};

}  // namespace

Status ValidateTokenName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  if (!ok)
    return InvalidArgument("token name '" + std::string(name) +
                           "' must be 1-64 characters of A-Z a-z 0-9 . _ -");
  return Status::Ok();
}

Result<std::unique_ptr<TokenStore>> OpenTokenStore(const std::string& home) {
  const std::string dir = home + "/server";
  VQI_RETURN_IF_ERROR(MakeDirs(dir));
  VQI_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::Db::Open(dir + "/tokens.db"));
  VQI_RETURN_IF_ERROR(db.Migrate(kMigrations));
  return std::unique_ptr<TokenStore>(new SqliteTokenStore(std::move(db)));
}

}  // namespace vqi::server
