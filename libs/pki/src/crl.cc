// Revocation: marking certificates revoked in the index, and the CRL the broker reads.
#include <openssl/pem.h>

#include <cctype>
#include <ctime>

#include "ossl.h"
#include "vqi/pki/pki.h"

namespace vqi::pki {

using namespace internal;

namespace {

int ReasonCode(RevocationReason r) {
  switch (r) {
    case RevocationReason::kUnspecified:
      return CRL_REASON_UNSPECIFIED;
    case RevocationReason::kKeyCompromise:
      return CRL_REASON_KEY_COMPROMISE;
    case RevocationReason::kSuperseded:
      return CRL_REASON_SUPERSEDED;
    case RevocationReason::kCessationOfOperation:
      return CRL_REASON_CESSATION_OF_OPERATION;
  }
  return CRL_REASON_UNSPECIFIED;
}

}  // namespace

Result<std::vector<std::string>> Revoke(const Ca& ca, const std::string& serial_or_cn,
                                        RevocationReason reason) {
  VQI_ASSIGN_OR_RETURN(auto lock, CaLock::Acquire(ca.dir));
  VQI_ASSIGN_OR_RETURN(Index index, LoadIndex(ca));
  std::string key = serial_or_cn;
  // A serial may be typed in upper case or with leading zeros (as `openssl x509 -serial`
  // prints it): compare its canonical form.
  std::string canonical;
  for (char c : key) canonical += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t nz = canonical.find_first_not_of('0');
  canonical = nz == std::string::npos ? "0" : canonical.substr(nz);
  bool by_serial = false;
  for (const CertRecord& r : index.certs) {
    if (r.serial == canonical) key = canonical;
  }
  for (const CertRecord& r : index.certs) by_serial = by_serial || r.serial == key;
  bool matched = false;
  std::vector<std::string> revoked;
  const std::string now = Rfc3339(std::time(nullptr));
  for (CertRecord& r : index.certs) {
    if (by_serial ? r.serial != key : r.common_name != key) continue;
    matched = true;
    if (r.revoked_at) continue;
    r.revoked_at = now;
    r.reason = reason;
    revoked.push_back(r.serial);
  }
  if (!matched)
    return NotFound("no certificate with serial or common name \"" + key.substr(0, 160) + "\" in " +
                    ca.dir);
  if (!revoked.empty()) VQI_RETURN_IF_ERROR(SaveIndex(ca, index));
  return revoked;
}

Status WriteCrl(const Ca& ca) {
  VQI_ASSIGN_OR_RETURN(auto lock, CaLock::Acquire(ca.dir));
  VQI_ASSIGN_OR_RETURN(Index index, LoadIndex(ca));
  VQI_ASSIGN_OR_RETURN(CaMaterial issuer, LoadCaMaterial(ca));
  Ptr<X509_CRL> crl(X509_CRL_new());
  if (!crl) return OsslError("new CRL");
  const time_t now = std::time(nullptr);
  Ptr<ASN1_TIME> last(ASN1_TIME_set(nullptr, now));
  Ptr<ASN1_TIME> next(ASN1_TIME_set(nullptr, now + int64_t{kCrlDays} * 86400));
  if (X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.cert.get())) != 1 || !last ||
      !next || X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1)
    return OsslError("CRL fields");
  for (const CertRecord& r : index.certs) {
    if (!r.revoked_at) continue;
    Ptr<X509_REVOKED> entry(X509_REVOKED_new());
    VQI_ASSIGN_OR_RETURN(auto serial, SerialFromHex(r.serial));
    VQI_ASSIGN_OR_RETURN(time_t when, ParseRfc3339(*r.revoked_at));
    Ptr<ASN1_TIME> t(ASN1_TIME_set(nullptr, when));
    if (!entry || !t || X509_REVOKED_set_serialNumber(entry.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(entry.get(), t.get()) != 1)
      return OsslError("CRL entry " + r.serial);
    const auto reason = r.reason.value_or(RevocationReason::kUnspecified);
    if (reason != RevocationReason::kUnspecified) {  // RFC 5280: omit "unspecified"
      ASN1_ENUMERATED* code = ASN1_ENUMERATED_new();
      const bool ok = code && ASN1_ENUMERATED_set(code, ReasonCode(reason)) == 1 &&
                      X509_REVOKED_add1_ext_i2d(entry.get(), NID_crl_reason, code, 0, 0) == 1;
      ASN1_ENUMERATED_free(code);
      if (!ok) return OsslError("CRL reason " + r.serial);
    }
    if (X509_CRL_add0_revoked(crl.get(), entry.get()) != 1) return OsslError("CRL entry");
    entry.release();
  }
  X509_CRL_sort(crl.get());
  index.crl_number += 1;
  Ptr<ASN1_INTEGER> number(ASN1_INTEGER_new());
  if (!number || ASN1_INTEGER_set_int64(number.get(), index.crl_number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1)
    return OsslError("CRL number");
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer.cert.get(), nullptr, nullptr, crl.get(), 0);
  Ptr<X509_EXTENSION> aki(
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (!aki || X509_CRL_add_ext(crl.get(), aki.get(), -1) != 1) return OsslError("CRL AKI");
  if (X509_CRL_sign(crl.get(), issuer.key.get(), EVP_sha256()) <= 0) return OsslError("sign CRL");
  VQI_ASSIGN_OR_RETURN(std::string pem, ToPem(crl.get()));
  VQI_RETURN_IF_ERROR(SaveIndex(ca, index));
  return WriteFileMode(ca.CrlPath(), pem, 0644);
}

}  // namespace vqi::pki
