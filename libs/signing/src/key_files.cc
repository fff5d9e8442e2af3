// Key names, ids and the key file formats (docs/design/signing.md).
#include "key_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "ed25519.h"
#include "vqi/base/hash.h"
#include "vqi/base/json.h"
#include "vqi/signing/encoding.h"

namespace vqi::signing {

std::string KeyId(std::string_view public_key) { return Sha256Hex(public_key).substr(0, 16); }

Status ValidateKeyName(std::string_view name) {
  auto refuse = [&](const std::string& why) {
    return InvalidArgument("key name '" + std::string(name.substr(0, kMaxKeyNameLength)) +
                           (name.size() > kMaxKeyNameLength ? "...'" : "'") + ": " + why +
                           " (1-64 characters [A-Za-z0-9._-], starting with a letter or digit)");
  };
  if (name.empty())
    return InvalidArgument(
        "key name is empty (1-64 characters [A-Za-z0-9._-], starting with a letter or digit)");
  if (name.size() > kMaxKeyNameLength)
    return refuse("longer than " + std::to_string(kMaxKeyNameLength) + " characters");
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (i == 0 && !alnum) return refuse("must start with a letter or digit");
    if (!alnum && c != '.' && c != '_' && c != '-') {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c);
      return refuse(std::string("character ") + hex + " at position " + std::to_string(i) +
                    " is not allowed");
    }
  }
  return Status::Ok();
}

namespace {
constexpr std::string_view kPublicFormat = "vqi-public-key/1";
constexpr std::string_view kSecretFormat = "vqi-secret-key/1";

Result<std::string> StringField(const Json& j, const char* field, const std::string& where) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string())
    return InvalidArgument(where + ": field '" + field + "' is missing or not a string");
  return it->get<std::string>();
}

// The fields shared by public and secret key files.
Result<PublicKey> ParsePublicFields(const Json& j, std::string_view format,
                                    const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + ": not a JSON object (a vqi key file)");
  VQI_ASSIGN_OR_RETURN(std::string fmt, StringField(j, "format", where));
  if (fmt != format)
    return InvalidArgument(where + ": format '" + fmt + "' is not '" + std::string(format) + "'");
  PublicKey k;
  VQI_ASSIGN_OR_RETURN(k.name, StringField(j, "name", where));
  if (Status st = ValidateKeyName(k.name); !st.ok()) return st.WithContext(where + ": name");
  VQI_ASSIGN_OR_RETURN(std::string hex, StringField(j, "public_key", where));
  VQI_ASSIGN_OR_RETURN(k.bytes, FromHex(hex, kPublicKeyBytes, where + ": public_key"));
  VQI_ASSIGN_OR_RETURN(k.key_id, StringField(j, "key_id", where));
  if (k.key_id != KeyId(k.bytes))
    return InvalidArgument(where + ": key_id '" + k.key_id.substr(0, 64) +
                           "' does not match the public key (whose id is " + KeyId(k.bytes) + ")");
  if (auto it = j.find("created"); it != j.end() && it->is_string())
    k.created = it->get<std::string>();
  return k;
}

Json PublicJson(const PublicKey& key, std::string_view format) {
  return Json{{"format", format},
              {"name", key.name},
              {"key_id", key.key_id},
              {"created", key.created},
              {"public_key", ToHex(key.bytes)}};
}

}  // namespace

std::string PublicKeyFileText(const PublicKey& key) {
  return PublicJson(key, kPublicFormat).dump() + "\n";
}

Result<PublicKey> ParsePublicKeyFile(std::string_view text, const std::string& where) {
  if (text.size() > kMaxKeyFileBytes)
    return ResourceExhausted(where + ": " + std::to_string(text.size()) +
                             " bytes, more than the maximum of " +
                             std::to_string(kMaxKeyFileBytes) + " for a key file (docs/limits.md)");
  VQI_ASSIGN_OR_RETURN(Json j, ParseJson(text, where, 4));
  return ParsePublicFields(j, kPublicFormat, where);
}

namespace internal {

std::string SecretKeyFileText(const SecretKey& key) {
  Json j = PublicJson(key.pub, kSecretFormat);
  j["secret_key"] = ToHex(key.secret);
  return j.dump() + "\n";
}

Result<SecretKey> ParseSecretKeyFile(std::string_view text, const std::string& where) {
  VQI_ASSIGN_OR_RETURN(Json j, ParseJson(text, where, 4));
  SecretKey k;
  VQI_ASSIGN_OR_RETURN(k.pub, ParsePublicFields(j, kSecretFormat, where));
  VQI_ASSIGN_OR_RETURN(std::string hex, StringField(j, "secret_key", where));
  VQI_ASSIGN_OR_RETURN(k.secret, FromHex(hex, kSecretKeyBytes, where + ": secret_key"));
  if (PublicFromSecret(k.secret) != k.pub.bytes)
    return DataLoss(where +
                    ": the secret key does not belong to the public key in the file "
                    "(damaged or edited key file)");
  return k;
}

namespace {
Status Errno(const std::string& what) {
  const int e = errno;
  if (e == EACCES || e == EPERM) return PermissionDenied(what + ": " + std::strerror(e));
  if (e == ENOENT) return NotFound(what + ": " + std::strerror(e));
  return Unavailable(what + ": " + std::strerror(e));
}
}  // namespace

Result<std::string> ReadSecretFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return Errno("secret key file " + path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = Errno("stat " + path);
    ::close(fd);
    return s;
  }
  auto fail = [&](Status s) {
    ::close(fd);
    return s;
  };
  if (!S_ISREG(st.st_mode))
    return fail(InvalidArgument("secret key file " + path + " is not a regular file"));
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(PermissionDenied("secret key file " + path + " has mode " + mode +
                                 ": it must not be accessible by group or others (chmod 600 " +
                                 path + ")"));
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxKeyFileBytes)
    return fail(ResourceExhausted("secret key file " + path + " has " + std::to_string(st.st_size) +
                                  " bytes, more than the maximum of " +
                                  std::to_string(kMaxKeyFileBytes) + " (docs/limits.md)"));
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errno("read " + path));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  data.resize(got);
  return data;
}

Status WriteNewFile(const std::string& path, std::string_view data, unsigned mode) {
  static std::atomic<unsigned> counter{0};
  const std::string tmp =
      path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Errno("create " + tmp);
  auto fail = [&](Status s, bool close_fd) {
    if (close_fd) ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };
  if (::fchmod(fd, mode) != 0) return fail(Errno("chmod " + tmp), true);  // exact, not umask'd
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errno("write " + tmp), true);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail(Errno("fsync " + tmp), true);
  if (::close(fd) != 0) return fail(Errno("close " + tmp), false);
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    if (errno == EEXIST) return fail(AlreadyExists(path + " already exists"), false);
    return fail(Errno("link " + path), false);
  }
  ::unlink(tmp.c_str());
  const std::string dir =
      path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    const int rc = ::fsync(dfd);
    ::close(dfd);
    if (rc != 0) return Errno("fsync " + dir);
  }
  return Status::Ok();
}

}  // namespace internal
}  // namespace vqi::signing
