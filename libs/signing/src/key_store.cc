// KeyStore: own key pairs and trusted public keys under <home>/keys/.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ed25519.h"
#include "key_files.h"
#include "vqi/base/file.h"
#include "vqi/signing/encoding.h"
#include "vqi/signing/keys.h"

namespace vqi::signing {

namespace fs = std::filesystem;

KeyStore::KeyStore(const std::string& home, Clock& clock) : dir_(home + "/keys"), clock_(&clock) {}

std::string KeyStore::SecretPath(const std::string& name) const {
  return dir_ + "/" + name + ".key";
}
std::string KeyStore::PublicPath(const std::string& name) const {
  return dir_ + "/" + name + ".pub";
}
std::string KeyStore::TrustedPath(const std::string& name) const {
  return dir_ + "/trusted/" + name + ".pub";
}

namespace {

KeyInfo Info(const PublicKey& k, bool has_secret, bool trusted_only) {
  return KeyInfo{k.name, k.key_id, k.created, ToHex(k.bytes), has_secret, trusted_only};
}

Status MakePrivateDir(const std::string& dir) {
  VQI_RETURN_IF_ERROR(MakeDirs(dir));
  if (::chmod(dir.c_str(), 0700) != 0)
    return Unavailable("chmod 700 " + dir + ": " + std::strerror(errno));
  return Status::Ok();
}

Result<PublicKey> ReadPublicFile(const std::string& path) {
  VQI_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxKeyFileBytes));
  return ParsePublicKeyFile(text, path);
}

}  // namespace

Result<KeyInfo> KeyStore::Create(const std::string& name) {
  VQI_RETURN_IF_ERROR(ValidateKeyName(name));
  if (FileExists(SecretPath(name)) || FileExists(PublicPath(name)))
    return AlreadyExists("key '" + name + "' already exists (" +
                         (FileExists(SecretPath(name)) ? SecretPath(name) : PublicPath(name)) +
                         "); keys are never overwritten");
  if (FileExists(TrustedPath(name)))
    return AlreadyExists("key name '" + name + "' is already used by a trusted key (" +
                         TrustedPath(name) + ")");
  VQI_RETURN_IF_ERROR(MakePrivateDir(dir_));
  VQI_ASSIGN_OR_RETURN(internal::KeyPair kp, internal::GenerateKeyPair());
  internal::SecretKey sk;
  sk.pub = PublicKey{name, KeyId(kp.public_key), kp.public_key, FormatRfc3339(clock_->NowMs())};
  sk.secret = kp.secret_key;
  if (Status st = internal::WriteNewFile(SecretPath(name), internal::SecretKeyFileText(sk), 0600);
      !st.ok()) {
    if (st.code() == StatusCode::kAlreadyExists)
      return AlreadyExists("key '" + name + "' already exists (" + SecretPath(name) +
                           "); keys are never overwritten");
    return st;
  }
  VQI_RETURN_IF_ERROR(internal::WriteNewFile(PublicPath(name), PublicKeyFileText(sk.pub), 0644));
  return Info(sk.pub, true, false);
}

Result<std::vector<PublicKey>> KeyStore::ReadFolder(const std::string& dir) const {
  std::vector<PublicKey> keys;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return keys;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() <= 4 || file.compare(file.size() - 4, 4, ".pub") != 0) continue;
    const std::string stem = file.substr(0, file.size() - 4);
    if (!ValidateKeyName(stem).ok()) continue;  // temporary files and strays
    VQI_ASSIGN_OR_RETURN(PublicKey k, ReadPublicFile(it->path().string()));
    if (k.name != stem)
      return InvalidArgument(it->path().string() + ": holds key '" + k.name +
                             "', but the file is named for '" + stem + "'");
    keys.push_back(std::move(k));
  }
  if (ec) return Unavailable("list " + dir + ": " + ec.message());
  std::sort(keys.begin(), keys.end(),
            [](const PublicKey& a, const PublicKey& b) { return a.name < b.name; });
  return keys;
}

Result<std::vector<KeyInfo>> KeyStore::List() const {
  std::vector<KeyInfo> out;
  VQI_ASSIGN_OR_RETURN(std::vector<PublicKey> own, ReadFolder(dir_));
  for (const PublicKey& k : own) out.push_back(Info(k, FileExists(SecretPath(k.name)), false));
  VQI_ASSIGN_OR_RETURN(std::vector<PublicKey> trusted, ReadFolder(dir_ + "/trusted"));
  for (const PublicKey& k : trusted) out.push_back(Info(k, false, true));
  return out;
}

Result<PublicKey> KeyStore::Public(const std::string& name_or_id) const {
  if (ValidateKeyName(name_or_id).ok()) {
    if (FileExists(PublicPath(name_or_id))) return ReadPublicFile(PublicPath(name_or_id));
    if (FileExists(TrustedPath(name_or_id))) return ReadPublicFile(TrustedPath(name_or_id));
  }
  VQI_ASSIGN_OR_RETURN(TrustedKeys all, Trusted());
  if (auto it = all.find(name_or_id); it != all.end()) return it->second;
  return NotFound("no key named '" + name_or_id.substr(0, kMaxKeyNameLength) +
                  "' and none with that key id in " + dir_ + " (see vqi key list)");
}

Result<std::string> KeyStore::ExportPublic(const std::string& name) const {
  VQI_RETURN_IF_ERROR(ValidateKeyName(name));
  if (!FileExists(PublicPath(name)))
    return NotFound("no own key named '" + name + "' in " + dir_ + " (see vqi key list)");
  VQI_ASSIGN_OR_RETURN(PublicKey k, ReadPublicFile(PublicPath(name)));
  return PublicKeyFileText(k);
}

Result<std::string> KeyStore::Sign(const std::string& name, std::string_view bytes) const {
  VQI_RETURN_IF_ERROR(ValidateKeyName(name));
  auto text = internal::ReadSecretFile(SecretPath(name));
  if (!text.ok() && text.status().code() == StatusCode::kNotFound)
    return NotFound("no secret key named '" + name + "' in " + dir_ +
                    " (create one with: vqi key create " + name + ")");
  if (!text.ok()) return text.status();
  VQI_ASSIGN_OR_RETURN(internal::SecretKey sk,
                       internal::ParseSecretKeyFile(*text, SecretPath(name)));
  if (sk.pub.name != name)
    return InvalidArgument(SecretPath(name) + ": holds key '" + sk.pub.name +
                           "', but the file is named for '" + name + "'");
  return internal::SignDetached(sk.secret, bytes);
}

Result<KeyInfo> KeyStore::Trust(const std::string& name, const std::string& public_key_file) {
  VQI_RETURN_IF_ERROR(ValidateKeyName(name));
  VQI_ASSIGN_OR_RETURN(std::string text, ReadFile(public_key_file, kMaxKeyFileBytes));
  VQI_ASSIGN_OR_RETURN(PublicKey key, ParsePublicKeyFile(text, public_key_file));
  key.name = name;
  for (const auto& [path, own] : {std::pair{PublicPath(name), true}, {TrustedPath(name), false}}) {
    if (!FileExists(path)) continue;
    VQI_ASSIGN_OR_RETURN(PublicKey existing, ReadPublicFile(path));
    if (existing.bytes == key.bytes)
      return Info(existing, own && FileExists(SecretPath(name)), !own);
    return AlreadyExists("key name '" + name + "' is already " +
                         (own ? "an own key" : "a trusted key") + " with key id " +
                         existing.key_id + " (" + path + "); " + public_key_file +
                         " holds key id " + key.key_id + ": trust it under another name");
  }
  VQI_RETURN_IF_ERROR(MakePrivateDir(dir_));
  VQI_RETURN_IF_ERROR(MakeDirs(dir_ + "/trusted"));
  VQI_RETURN_IF_ERROR(internal::WriteNewFile(TrustedPath(name), PublicKeyFileText(key), 0644));
  return Info(key, false, true);
}

Result<TrustedKeys> KeyStore::Trusted() const {
  TrustedKeys out;
  VQI_ASSIGN_OR_RETURN(std::vector<PublicKey> own, ReadFolder(dir_));
  VQI_ASSIGN_OR_RETURN(std::vector<PublicKey> trusted, ReadFolder(dir_ + "/trusted"));
  for (auto* list : {&own, &trusted})
    for (PublicKey& k : *list) out.emplace(k.key_id, std::move(k));
  return out;
}

}  // namespace vqi::signing
