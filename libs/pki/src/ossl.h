// OpenSSL helpers for libs/pki (internal): owning pointers, errors as Status, PEM and time
// conversions, the CA's files and its index.
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/pki/pki.h"

namespace vqi::pki::internal {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(X509_REVOKED* p) const { X509_REVOKED_free(p); }
  // ASN1_INTEGER and ASN1_TIME are both ASN1_STRING.
  void operator()(ASN1_STRING* p) const { ASN1_STRING_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, Free>;

// `what` + ": " + the OpenSSL error queue (which is then cleared), as kInternal unless `code`.
Status OsslError(const std::string& what, StatusCode code = StatusCode::kInternal);

Result<std::string> ToPem(X509* cert);
Result<std::string> ToPem(X509_CRL* crl);
Result<std::string> KeyToPem(EVP_PKEY* key);
Result<Ptr<X509>> CertFromPem(std::string_view pem, const std::string& where);
Result<Ptr<EVP_PKEY>> KeyFromPem(std::string_view pem, const std::string& where);

Result<Ptr<EVP_PKEY>> NewP256Key();
// Lowercase hex of the serial, no leading zeros ("0" for zero).
std::string SerialHex(const ASN1_INTEGER* serial);
Result<Ptr<ASN1_INTEGER>> SerialFromHex(const std::string& hex);
// SHA-256 of the DER encoding, lowercase hex.
Result<std::string> Fingerprint(X509* cert);
// Adds an extension given in openssl.cnf syntax ("critical,CA:TRUE").
Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value);

std::string Rfc3339(time_t t);
Result<time_t> ParseRfc3339(const std::string& s);
Result<time_t> AsnTimeToUnix(const ASN1_TIME* t);

// Writes `path` atomically (temporary file created with `mode`, fsync, rename, fsync folder).
Status WriteFileMode(const std::string& path, std::string_view data, unsigned mode);

// flock(LOCK_EX) on <dir>/lock for the lifetime of the object.
class CaLock {
 public:
  static Result<std::unique_ptr<CaLock>> Acquire(const std::string& dir);
  ~CaLock();
  CaLock(const CaLock&) = delete;
  CaLock& operator=(const CaLock&) = delete;

 private:
  explicit CaLock(int fd) : fd_(fd) {}
  int fd_;
};

struct Index {
  std::string name;
  int64_t crl_number = 0;
  std::vector<CertRecord> certs;
};
Result<Index> LoadIndex(const Ca& ca);
Status SaveIndex(const Ca& ca, const Index& index);

struct CaMaterial {
  Ptr<X509> cert;
  Ptr<EVP_PKEY> key;
};
Result<CaMaterial> LoadCaMaterial(const Ca& ca);

}  // namespace vqi::pki::internal
