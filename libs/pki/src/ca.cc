// The CA folder: creation, opening, the index, and writing issued files.
#include <sys/stat.h>

#include <ctime>

#include "ossl.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/pki/pki.h"

namespace vqi::pki {

using namespace internal;

const char* CertKindName(CertKind kind) { return kind == CertKind::kServer ? "server" : "client"; }

const char* ReasonName(RevocationReason reason) {
  switch (reason) {
    case RevocationReason::kUnspecified:
      return "unspecified";
    case RevocationReason::kKeyCompromise:
      return "keyCompromise";
    case RevocationReason::kSuperseded:
      return "superseded";
    case RevocationReason::kCessationOfOperation:
      return "cessationOfOperation";
  }
  return "unspecified";
}

Result<RevocationReason> ParseReason(std::string_view name) {
  for (auto r : {RevocationReason::kUnspecified, RevocationReason::kKeyCompromise,
                 RevocationReason::kSuperseded, RevocationReason::kCessationOfOperation}) {
    if (name == ReasonName(r)) return r;
  }
  return InvalidArgument("revocation reason \"" + std::string(name).substr(0, 64) +
                         "\" is not one of unspecified, keyCompromise, superseded, "
                         "cessationOfOperation");
}

std::string CaDir(const std::string& home) { return home + "/pki"; }

namespace internal {

Result<Index> LoadIndex(const Ca& ca) {
  const std::string path = ca.dir + "/index.json";
  auto text = ReadFile(path, kMaxIndexBytes);
  if (!text.ok()) return text.status();
  auto json = ParseJson(*text, path);
  if (!json.ok()) return DataLoss(json.status().message());
  try {
    const Json& j = *json;
    if (j.at("format") != "vqi-ca-index/1") return DataLoss(path + ": unknown format");
    Index index;
    index.name = j.at("name").get<std::string>();
    index.crl_number = j.at("crl_number").get<int64_t>();
    for (const Json& c : j.at("certs")) {
      CertRecord r;
      r.serial = c.at("serial").get<std::string>();
      r.common_name = c.at("cn").get<std::string>();
      const std::string kind = c.at("kind").get<std::string>();
      if (kind != "server" && kind != "client") return DataLoss(path + ": bad kind " + kind);
      r.kind = kind == "server" ? CertKind::kServer : CertKind::kClient;
      r.not_before = c.at("not_before").get<std::string>();
      r.not_after = c.at("not_after").get<std::string>();
      r.sha256 = c.at("sha256").get<std::string>();
      if (c.contains("revoked_at")) {
        r.revoked_at = c.at("revoked_at").get<std::string>();
        auto reason = ParseReason(c.at("reason").get<std::string>());
        if (!reason.ok()) return DataLoss(path + ": " + reason.status().message());
        r.reason = *reason;
      }
      index.certs.push_back(std::move(r));
    }
    return index;
  } catch (const std::exception& e) {
    return DataLoss(path + ": malformed CA index: " + e.what());
  }
}

Status SaveIndex(const Ca& ca, const Index& index) {
  OrderedJson certs = OrderedJson::array();
  for (const CertRecord& r : index.certs) {
    OrderedJson c = {{"serial", r.serial},           {"cn", r.common_name},
                     {"kind", CertKindName(r.kind)}, {"not_before", r.not_before},
                     {"not_after", r.not_after},     {"sha256", r.sha256}};
    if (r.revoked_at) {
      c["revoked_at"] = *r.revoked_at;
      c["reason"] = ReasonName(r.reason.value_or(RevocationReason::kUnspecified));
    }
    certs.push_back(std::move(c));
  }
  OrderedJson j = {{"format", "vqi-ca-index/1"},
                   {"name", index.name},
                   {"crl_number", index.crl_number},
                   {"certs", std::move(certs)}};
  return WriteFileMode(ca.dir + "/index.json", j.dump(1) + "\n", 0644);
}

Result<CaMaterial> LoadCaMaterial(const Ca& ca) {
  auto cert_pem = ReadFile(ca.CertPath(), kMaxCertPemBytes);
  if (!cert_pem.ok()) return cert_pem.status();
  auto key_pem = ReadFile(ca.dir + "/ca.key", kMaxCertPemBytes);
  if (!key_pem.ok()) return key_pem.status();
  auto cert = CertFromPem(*cert_pem, ca.CertPath());
  if (!cert.ok()) return DataLoss(cert.status().message());
  auto key = KeyFromPem(*key_pem, ca.dir + "/ca.key");
  if (!key.ok()) return key.status();
  if (X509_check_private_key(cert->get(), key->get()) != 1)
    return OsslError(ca.dir + ": ca.key does not belong to ca.pem", StatusCode::kDataLoss);
  return CaMaterial{std::move(cert).value(), std::move(key).value()};
}

}  // namespace internal

static bool ValidCaName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != ' ' && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

Result<Ca> CreateCa(const std::string& dir, const std::string& name) {
  if (!ValidCaName(name))
    return InvalidArgument("CA name \"" + name.substr(0, 80) +
                           "\" is not valid: expected 1-64 characters [A-Za-z0-9 ._-]");
  VQI_RETURN_IF_ERROR(MakeDirs(dir));
  if (::chmod(dir.c_str(), 0700) != 0) return Unavailable("chmod 0700 " + dir + " failed");
  Ca ca{dir};
  VQI_ASSIGN_OR_RETURN(auto lock, CaLock::Acquire(dir));
  for (const char* f : {"/ca.key", "/ca.pem", "/index.json"}) {
    if (FileExists(dir + f))
      return AlreadyExists(dir + " already holds a CA (" + std::string(f + 1) + " exists)");
  }
  VQI_ASSIGN_OR_RETURN(auto key, NewP256Key());
  Ptr<X509> cert(X509_new());
  if (!cert) return OsslError("new certificate");
  X509_set_version(cert.get(), X509_VERSION_3);
  // Serial 1 is fine for the self-signed root: the index holds issued certificates only.
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), kMaxDays, 0, nullptr);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), subject) != 1 || X509_set_pubkey(cert.get(), key.get()) != 1)
    return OsslError("CA certificate fields");
  VQI_RETURN_IF_ERROR(
      AddExt(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  VQI_RETURN_IF_ERROR(
      AddExt(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  VQI_RETURN_IF_ERROR(AddExt(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  VQI_RETURN_IF_ERROR(AddExt(cert.get(), cert.get(), NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return OsslError("sign CA certificate");

  VQI_ASSIGN_OR_RETURN(std::string key_pem, KeyToPem(key.get()));
  VQI_ASSIGN_OR_RETURN(std::string cert_pem, ToPem(cert.get()));
  VQI_RETURN_IF_ERROR(WriteFileMode(dir + "/ca.key", key_pem, 0600));
  VQI_RETURN_IF_ERROR(WriteFileMode(ca.CertPath(), cert_pem, 0644));
  Index index;
  index.name = name;
  VQI_RETURN_IF_ERROR(SaveIndex(ca, index));  // last: its presence marks a complete CA
  lock.reset();
  VQI_RETURN_IF_ERROR(WriteCrl(ca));
  return ca;
}

Result<Ca> OpenCa(const std::string& dir) {
  Ca ca{dir};
  if (!FileExists(dir + "/index.json")) return NotFound("no vqi CA in " + dir + " (no index.json)");
  VQI_ASSIGN_OR_RETURN(auto index, LoadIndex(ca));
  VQI_ASSIGN_OR_RETURN(auto material, LoadCaMaterial(ca));
  (void)index;
  (void)material;
  return ca;
}

Result<std::vector<CertRecord>> ListCertificates(const Ca& ca) {
  VQI_ASSIGN_OR_RETURN(Index index, LoadIndex(ca));
  return std::move(index.certs);
}

Status WriteIssued(const std::string& dir, const Issued& issued) {
  if (!FileExists(dir)) {
    VQI_RETURN_IF_ERROR(MakeDirs(dir));
    if (::chmod(dir.c_str(), 0700) != 0) return Unavailable("chmod 0700 " + dir + " failed");
  }
  VQI_RETURN_IF_ERROR(WriteFileMode(dir + "/key.pem", issued.key_pem, 0600));
  return WriteFileMode(dir + "/cert.pem", issued.cert_pem, 0644);
}

}  // namespace vqi::pki
