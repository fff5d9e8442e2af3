#include "ossl.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "vqi/base/hash.h"

namespace vqi::pki::internal {

Status OsslError(const std::string& what, StatusCode code) {
  std::string msg = what;
  bool first = true;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    msg += first ? ": " : "; ";
    msg += buf;
    first = false;
  }
  return Status(code, msg);
}

namespace {
Result<std::string> BioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  if (n < 0 || data == nullptr) return OsslError("read memory BIO");
  return std::string(data, static_cast<size_t>(n));
}
}  // namespace

Result<std::string> ToPem(X509* cert) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return OsslError("encode certificate");
  return BioString(bio.get());
}

Result<std::string> ToPem(X509_CRL* crl) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl) != 1) return OsslError("encode CRL");
  return BioString(bio.get());
}

Result<std::string> KeyToPem(EVP_PKEY* key) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return OsslError("encode private key");
  return BioString(bio.get());
}

Result<Ptr<X509>> CertFromPem(std::string_view pem, const std::string& where) {
  ERR_clear_error();
  Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OsslError("memory BIO");
  Ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return OsslError(where + ": not a PEM certificate", StatusCode::kInvalidArgument);
  return cert;
}

Result<Ptr<EVP_PKEY>> KeyFromPem(std::string_view pem, const std::string& where) {
  ERR_clear_error();
  Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OsslError("memory BIO");
  Ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return OsslError(where + ": not a PEM private key", StatusCode::kDataLoss);
  return key;
}

Result<Ptr<EVP_PKEY>> NewP256Key() {
  Ptr<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return OsslError("generate EC P-256 key");
  return key;
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  Ptr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return "";
  char* hex = BN_bn2hex(bn.get());
  std::string out = hex ? hex : "";
  OPENSSL_free(hex);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t nz = out.find_first_not_of('0');
  return nz == std::string::npos ? "0" : out.substr(nz);
}

Result<Ptr<ASN1_INTEGER>> SerialFromHex(const std::string& hex) {
  BIGNUM* raw = nullptr;
  if (hex.empty() || hex.size() > 64 ||
      BN_hex2bn(&raw, hex.c_str()) != static_cast<int>(hex.size()))
    return DataLoss("serial \"" + hex + "\" is not hexadecimal");
  Ptr<BIGNUM> bn(raw);
  Ptr<ASN1_INTEGER> out(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!out) return OsslError("serial");
  return out;
}

Result<std::string> Fingerprint(X509* cert) {
  unsigned char* der = nullptr;
  int n = i2d_X509(cert, &der);
  if (n <= 0) return OsslError("encode certificate DER");
  std::string out = Sha256Hex(std::string_view(reinterpret_cast<char*>(der), n));
  OPENSSL_free(der);
  return out;
}

Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return OsslError(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value);
  return Status::Ok();
}

std::string Rfc3339(time_t t) {
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<time_t> ParseRfc3339(const std::string& s) {
  struct tm tm {};
  int n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
      static_cast<size_t>(n) != s.size())
    return DataLoss("\"" + s + "\" is not an RFC 3339 UTC time");
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return timegm(&tm);
}

Result<time_t> AsnTimeToUnix(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return OsslError("certificate time");
  return timegm(&tm);
}

static Status Errno(const std::string& what) {
  int e = errno;
  std::string msg = what + ": " + std::strerror(e);
  if (e == EACCES || e == EPERM) return PermissionDenied(msg);
  if (e == ENOENT) return NotFound(msg);
  if (e == ENOSPC || e == EDQUOT) return ResourceExhausted(msg);
  return Unavailable(msg);
}

Status WriteFileMode(const std::string& path, std::string_view data, unsigned mode) {
  static std::atomic<unsigned> counter{0};
  const std::string tmp =
      path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Errno("create " + tmp);
  auto fail = [&](Status s, bool close_fd) {
    if (close_fd) ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };
  if (::fchmod(fd, mode) != 0) return fail(Errno("chmod " + tmp), true);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errno("write " + tmp), true);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail(Errno("fsync " + tmp), true);
  if (::close(fd) != 0) return fail(Errno("close " + tmp), false);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(Errno("rename to " + path), false);
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const int dfd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Result<std::unique_ptr<CaLock>> CaLock::Acquire(const std::string& dir) {
  const std::string path = dir + "/lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open " + path);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    Status s = Errno("lock " + path);
    ::close(fd);
    return s;
  }
  return std::unique_ptr<CaLock>(new CaLock(fd));
}

CaLock::~CaLock() { ::close(fd_); }

}  // namespace vqi::pki::internal
