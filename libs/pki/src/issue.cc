// IssueCertificate: a fresh P-256 key and a server or client certificate signed by the CA.
#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/rand.h>

#include <ctime>
#include <set>

#include "ossl.h"
#include "vqi/pki/pki.h"
#include "vqi/transport/topics.h"

namespace vqi::pki {

using namespace internal;

namespace {

bool ValidDnsName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = name[i];
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = std::isalnum(c) || (c == '-' && label > 0) || (c == '*' && i == 0);
    if (!ok || ++label > 63) return false;
  }
  return label > 0 && name.back() != '-';
}

bool ValidIp(const std::string& ip) {
  unsigned char buf[16];
  return inet_pton(AF_INET, ip.c_str(), buf) == 1 || inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

Status CheckRequest(const IssueRequest& r) {
  VQI_RETURN_IF_ERROR(transport::topics::CheckThingName(r.common_name, "common_name"));
  if (r.days < 1 || r.days > kMaxDays)
    return InvalidArgument("days " + std::to_string(r.days) + " is out of range 1.." +
                           std::to_string(kMaxDays));
  if (r.kind == CertKind::kClient && (!r.dns_names.empty() || !r.ip_addresses.empty()))
    return InvalidArgument("dns_names/ip_addresses: a client certificate carries no SANs");
  if (r.dns_names.size() + r.ip_addresses.size() > kMaxSans)
    return ResourceExhausted("more than " + std::to_string(kMaxSans) +
                             " subject alternative names (docs/limits.md)");
  for (size_t i = 0; i < r.dns_names.size(); ++i) {
    if (!ValidDnsName(r.dns_names[i]))
      return InvalidArgument("dns_names[" + std::to_string(i) + "] \"" +
                             r.dns_names[i].substr(0, 80) + "\" is not a DNS name");
  }
  for (size_t i = 0; i < r.ip_addresses.size(); ++i) {
    if (!ValidIp(r.ip_addresses[i]))
      return InvalidArgument("ip_addresses[" + std::to_string(i) + "] \"" +
                             r.ip_addresses[i].substr(0, 80) + "\" is not an IPv4/IPv6 address");
  }
  return Status::Ok();
}

// 16 random bytes, top bit cleared (positive), not zero, never used before in this CA.
Result<Ptr<ASN1_INTEGER>> NewSerial(const std::set<std::string>& used) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return OsslError("random serial");
    bytes[0] &= 0x7f;
    Ptr<BIGNUM> bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
    if (!bn) return OsslError("serial");
    Ptr<ASN1_INTEGER> serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    if (!serial) return OsslError("serial");
    if (BN_is_zero(bn.get()) || used.count(SerialHex(serial.get()))) continue;
    return serial;
  }
  return Internal("could not draw an unused serial number");
}

}  // namespace

Result<Issued> IssueCertificate(const Ca& ca, const IssueRequest& request) {
  VQI_RETURN_IF_ERROR(CheckRequest(request));
  VQI_ASSIGN_OR_RETURN(auto lock, CaLock::Acquire(ca.dir));
  VQI_ASSIGN_OR_RETURN(Index index, LoadIndex(ca));
  VQI_ASSIGN_OR_RETURN(CaMaterial issuer, LoadCaMaterial(ca));
  std::set<std::string> used;
  for (const CertRecord& r : index.certs) {
    used.insert(r.serial);
    if (r.common_name == request.common_name && r.kind != request.kind)
      return AlreadyExists("common name \"" + request.common_name + "\" already belongs to a " +
                           CertKindName(r.kind) + " certificate (serial " + r.serial + "); a " +
                           CertKindName(request.kind) + " certificate cannot reuse it");
  }

  VQI_ASSIGN_OR_RETURN(auto key, NewP256Key());
  VQI_ASSIGN_OR_RETURN(auto serial, NewSerial(used));
  Ptr<X509> cert(X509_new());
  if (!cert) return OsslError("new certificate");
  time_t now = std::time(nullptr);
  X509_set_version(cert.get(), X509_VERSION_3);
  if (X509_set_serialNumber(cert.get(), serial.get()) != 1 ||
      !X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, -300, &now) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), request.days, 0, &now) ||
      X509_NAME_add_entry_by_txt(
          X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(request.common_name.c_str()), -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer.cert.get())) != 1 ||
      X509_set_pubkey(cert.get(), key.get()) != 1)
    return OsslError("certificate fields");
  X509* ca_cert = issuer.cert.get();
  const bool server = request.kind == CertKind::kServer;
  VQI_RETURN_IF_ERROR(AddExt(cert.get(), ca_cert, NID_basic_constraints, "critical,CA:FALSE"));
  VQI_RETURN_IF_ERROR(AddExt(cert.get(), ca_cert, NID_key_usage, "critical,digitalSignature"));
  VQI_RETURN_IF_ERROR(
      AddExt(cert.get(), ca_cert, NID_ext_key_usage, server ? "serverAuth" : "clientAuth"));
  VQI_RETURN_IF_ERROR(AddExt(cert.get(), ca_cert, NID_subject_key_identifier, "hash"));
  VQI_RETURN_IF_ERROR(AddExt(cert.get(), ca_cert, NID_authority_key_identifier, "keyid:always"));
  std::string sans;
  for (const auto& d : request.dns_names) sans += (sans.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& ip : request.ip_addresses) sans += (sans.empty() ? "IP:" : ",IP:") + ip;
  if (!sans.empty()) VQI_RETURN_IF_ERROR(AddExt(cert.get(), ca_cert, NID_subject_alt_name, sans));
  if (X509_sign(cert.get(), issuer.key.get(), EVP_sha256()) <= 0)
    return OsslError("sign certificate");

  Issued out;
  out.serial = SerialHex(serial.get());
  out.common_name = request.common_name;
  out.kind = request.kind;
  VQI_ASSIGN_OR_RETURN(time_t nb, AsnTimeToUnix(X509_get0_notBefore(cert.get())));
  VQI_ASSIGN_OR_RETURN(time_t na, AsnTimeToUnix(X509_get0_notAfter(cert.get())));
  out.not_before = Rfc3339(nb);
  out.not_after = Rfc3339(na);
  VQI_ASSIGN_OR_RETURN(out.cert_pem, ToPem(cert.get()));
  VQI_ASSIGN_OR_RETURN(out.key_pem, KeyToPem(key.get()));
  CertRecord record;
  record.serial = out.serial;
  record.common_name = out.common_name;
  record.kind = out.kind;
  record.not_before = out.not_before;
  record.not_after = out.not_after;
  VQI_ASSIGN_OR_RETURN(record.sha256, Fingerprint(cert.get()));
  index.certs.push_back(std::move(record));
  VQI_RETURN_IF_ERROR(SaveIndex(ca, index));
  return out;
}

}  // namespace vqi::pki
