// VerifyPeer: chain, time, purpose, issued-by-this-CA and revocation.
#include <ctime>

#include "ossl.h"
#include "vqi/base/file.h"
#include "vqi/pki/pki.h"

namespace vqi::pki {

using namespace internal;

Result<CertRecord> VerifyPeer(const Ca& ca, std::string_view cert_pem,
                              const VerifyOptions& options) {
  if (cert_pem.size() > kMaxCertPemBytes)
    return ResourceExhausted("peer certificate is " + std::to_string(cert_pem.size()) +
                             " bytes, more than the limit of " + std::to_string(kMaxCertPemBytes) +
                             " (docs/limits.md)");
  VQI_ASSIGN_OR_RETURN(auto cert, CertFromPem(cert_pem, "peer certificate"));
  auto ca_pem = ReadFile(ca.CertPath(), kMaxCertPemBytes);
  if (!ca_pem.ok()) return ca_pem.status();
  VQI_ASSIGN_OR_RETURN(auto ca_cert, CertFromPem(*ca_pem, ca.CertPath()));

  Ptr<X509_STORE> store(X509_STORE_new());
  Ptr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca_cert.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1)
    return OsslError("verification context");
  if (options.at_unix != 0) X509_STORE_CTX_set_time(ctx.get(), 0, options.at_unix);
  if (options.expect_kind) {
    const int purpose = *options.expect_kind == CertKind::kServer ? X509_PURPOSE_SSL_SERVER
                                                                  : X509_PURPOSE_SSL_CLIENT;
    if (X509_STORE_CTX_set_purpose(ctx.get(), purpose) != 1) return OsslError("purpose");
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return PermissionDenied(std::string("peer certificate refused: ") +
                            X509_verify_cert_error_string(err));
  }

  const std::string serial = SerialHex(X509_get0_serialNumber(cert.get()));
  VQI_ASSIGN_OR_RETURN(std::string fingerprint, Fingerprint(cert.get()));
  VQI_ASSIGN_OR_RETURN(Index index, LoadIndex(ca));
  for (const CertRecord& r : index.certs) {
    if (r.serial != serial) continue;
    if (r.sha256 != fingerprint)
      return PermissionDenied("peer certificate refused: serial " + serial +
                              " was issued to a different certificate");
    if (r.revoked_at)
      return PermissionDenied("peer certificate refused: serial " + serial + " (CN \"" +
                              r.common_name + "\") was revoked at " + *r.revoked_at + " (" +
                              ReasonName(r.reason.value_or(RevocationReason::kUnspecified)) + ")");
    if (options.expect_kind && *options.expect_kind != r.kind)
      return PermissionDenied("peer certificate refused: it is a " +
                              std::string(CertKindName(r.kind)) + " certificate");
    return r;
  }
  return PermissionDenied("peer certificate refused: serial " + serial +
                          " is not in this CA's index");
}

}  // namespace vqi::pki
