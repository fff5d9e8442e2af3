// The vqi certificate authority (docs/design/pki-mqtt.md): a CA in <home>/pki/, device (client)
// and server certificates, revocation, the CRL the broker reads, and peer verification for the
// server side. EC P-256 keys, SHA-256 signatures. OpenSSL stays private: no OpenSSL type here.
//
// Thread-safety: functions may be called from many threads and processes at once; every change
// to a CA's index is serialised by an flock on <dir>/lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"

namespace vqi::pki {

inline constexpr int kMaxDays = 3650;
inline constexpr int kCrlDays = 365;
inline constexpr size_t kMaxSans = 32;
inline constexpr size_t kMaxCertPemBytes = 64 * 1024;  // VerifyPeer input
inline constexpr size_t kMaxIndexBytes = 64 << 20;     // index.json

enum class CertKind { kServer, kClient };
const char* CertKindName(CertKind kind);  // "server" | "client"

// A CA on disk. Cheap to copy; holds only its folder.
struct Ca {
  std::string dir;
  std::string CertPath() const { return dir + "/ca.pem"; }
  std::string CrlPath() const { return dir + "/crl.pem"; }
};

// The CA folder of a vqi home: <home>/pki.
std::string CaDir(const std::string& home);

// Creates a CA in `dir` (made 0700): key, self-signed certificate `CN=<name>` (10 years), an
// empty index and an empty CRL. AlreadyExists when `dir` already holds a CA; InvalidArgument
// for a name outside [A-Za-z0-9 ._-]{1,64}.
Result<Ca> CreateCa(const std::string& dir, const std::string& name);
// Opens an existing CA: NotFound when there is none, DataLoss when its files are damaged.
Result<Ca> OpenCa(const std::string& dir);

struct IssueRequest {
  std::string common_name;  // a thing name (topics::ValidThingName)
  CertKind kind = CertKind::kClient;
  std::vector<std::string> dns_names;     // server only: subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // server only: subjectAltName IP entries (v4/v6)
  int days = 365;                         // 1..kMaxDays
};

struct Issued {
  std::string serial;  // lowercase hex, no leading zeros
  std::string common_name;
  CertKind kind = CertKind::kClient;
  std::string not_before, not_after;  // RFC 3339 UTC
  std::string cert_pem;
  std::string key_pem;  // PKCS#8; never stored by the CA
};

// Issues a fresh key and certificate. InvalidArgument for a bad CN, SAN or days (naming the
// field); AlreadyExists when the CN belongs to a certificate of the other kind (a device can
// never take the server's identity). The index is written (atomically) before returning.
Result<Issued> IssueCertificate(const Ca& ca, const IssueRequest& request);

// Writes <dir>/cert.pem (0644) and <dir>/key.pem (0600), each atomically (temporary file,
// fsync, rename); `dir` is created 0700 if missing.
Status WriteIssued(const std::string& dir, const Issued& issued);

enum class RevocationReason { kUnspecified, kKeyCompromise, kSuperseded, kCessationOfOperation };
// "unspecified" | "keyCompromise" | "superseded" | "cessationOfOperation".
const char* ReasonName(RevocationReason reason);
Result<RevocationReason> ParseReason(std::string_view name);

// Revokes the certificate with serial `serial_or_cn` (hex), or else every unrevoked certificate
// whose CN is `serial_or_cn`. Returns the serials newly revoked (empty when all matches were
// revoked already). NotFound when nothing matches. Does not write the CRL: call WriteCrl.
Result<std::vector<std::string>> Revoke(const Ca& ca, const std::string& serial_or_cn,
                                        RevocationReason reason);

// Writes ca.CrlPath() atomically: every revoked certificate, next update in kCrlDays days,
// a new CRL number. The broker must re-read it (see docs/design/pki-mqtt.md).
Status WriteCrl(const Ca& ca);

struct CertRecord {
  std::string serial, common_name;
  CertKind kind = CertKind::kClient;
  std::string not_before, not_after, sha256;
  std::optional<std::string> revoked_at;
  std::optional<RevocationReason> reason;
};
Result<std::vector<CertRecord>> ListCertificates(const Ca& ca);

struct VerifyOptions {
  std::optional<CertKind> expect_kind;  // also require this purpose (EKU)
  int64_t at_unix = 0;                  // 0 = now; the time validity is checked at
};

// Verifies a peer's certificate (PEM, at most kMaxCertPemBytes): signed by this CA, valid at
// the time, purpose matches, issued by this CA (serial in the index, same fingerprint) and not
// revoked. Returns its record. InvalidArgument for text that is not a certificate;
// PermissionDenied naming the reason otherwise (expired, not yet valid, revoked, unknown CA,
// unknown serial, wrong purpose).
Result<CertRecord> VerifyPeer(const Ca& ca, std::string_view cert_pem,
                              const VerifyOptions& options = {});

}  // namespace vqi::pki
