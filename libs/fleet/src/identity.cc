#include "vqi/fleet/identity.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>
#include <vector>

#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/base/log.h"

namespace vqi::fleet {
namespace {

constexpr int kDays = 365;
constexpr int64_t kRenewBeforeSeconds = int64_t{30} * 86400;

// Seconds since the epoch of an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ"; 0 when malformed.
int64_t ParseUtc(const std::string& text) {
  std::tm tm{};
  if (strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

// A certificate/key pair plus a marker file written last: "<serial> <extra>". A pair is reused
// only when the marker names the certificate's serial (so a crash between writing the key and
// the certificate, which removes the marker first, never leaves a mismatched pair in use), the
// CA still accepts it for `kind` and it stays valid for kRenewBeforeSeconds.
struct Pair {
  std::string cert_file, key_file, marker_file;
};

bool Reusable(const pki::Ca& ca, const Pair& p, pki::CertKind kind, const std::string& extra) {
  if (!FileExists(p.cert_file) || !FileExists(p.key_file)) return false;
  auto marker = ReadFile(p.marker_file, 64 * 1024);
  auto pem = ReadFile(p.cert_file, pki::kMaxCertPemBytes);
  if (!marker.ok() || !pem.ok()) return false;
  auto rec = pki::VerifyPeer(ca, *pem, {kind, 0});
  if (!rec.ok()) {
    VQI_LOG_INFO("{}: not reusable ({}), issuing a new certificate", p.cert_file,
                 rec.status().message());
    return false;
  }
  if (*marker != rec->serial + " " + extra) return false;
  return ParseUtc(rec->not_after) - static_cast<int64_t>(std::time(nullptr)) > kRenewBeforeSeconds;
}

Status WritePair(const Pair& p, const pki::Issued& issued, const std::string& extra) {
  if (FileExists(p.marker_file) && ::unlink(p.marker_file.c_str()) != 0)
    return Unavailable(p.marker_file + ": cannot remove");
  VQI_RETURN_IF_ERROR(WriteFileAtomic(p.key_file, issued.key_pem));
  if (::chmod(p.key_file.c_str(), 0600) != 0) return Unavailable(p.key_file + ": chmod failed");
  VQI_RETURN_IF_ERROR(WriteFileAtomic(p.cert_file, issued.cert_pem));
  return WriteFileAtomic(p.marker_file, issued.serial + " " + extra);
}

}  // namespace

Result<pki::Ca> OpenOrCreateCa(const std::string& home) {
  // `vqi broker run` and `vqi server` may start together on a fresh home: the one that loses
  // the race to create the CA opens the other's once it is complete (about a second at most).
  Status last;
  for (int attempt = 0; attempt < 40; ++attempt) {
    auto ca = pki::OpenCa(pki::CaDir(home));
    if (ca.ok()) return ca;
    if (ca.status().code() == StatusCode::kNotFound) {
      auto created = pki::CreateCa(pki::CaDir(home), "vqi CA");
      if (created.ok() || created.status().code() != StatusCode::kAlreadyExists) return created;
      last = created.status();
    } else if (ca.status().code() == StatusCode::kDataLoss) {
      last = ca.status();  // possibly half-written by the other process: look again
    } else {
      return ca.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return last;
}

Result<IdentityFiles> EnsureClientIdentity(const std::string& home, const std::string& name) {
  VQI_ASSIGN_OR_RETURN(pki::Ca ca, OpenOrCreateCa(home));
  const std::string dir = pki::CaDir(home) + "/identities";
  VQI_RETURN_IF_ERROR(MakeDirs(dir));
  ::chmod(dir.c_str(), 0700);
  IdentityFiles f{ca.CertPath(), dir + "/" + name + ".pem", dir + "/" + name + ".key"};
  const Pair pair{f.cert_file, f.key_file, dir + "/" + name + ".serial"};
  if (Reusable(ca, pair, pki::CertKind::kClient, name)) return f;
  VQI_ASSIGN_OR_RETURN(pki::Issued issued,
                       pki::IssueCertificate(ca, {name, pki::CertKind::kClient, {}, {}, kDays}));
  VQI_RETURN_IF_ERROR(WritePair(pair, issued, name));
  VQI_LOG_INFO("issued client certificate {} (serial {}) from the vqi CA", name, issued.serial);
  return f;
}

Result<IdentityFiles> EnsureServerTls(const std::string& home, const std::string& bind_address) {
  VQI_ASSIGN_OR_RETURN(pki::Ca ca, OpenOrCreateCa(home));
  const std::string dir = home + "/server/tls";
  VQI_RETURN_IF_ERROR(MakeDirs(dir));
  ::chmod(dir.c_str(), 0700);
  std::vector<std::string> ips{"127.0.0.1"}, dns{"localhost"};
  unsigned char buf[16];
  const bool v4 = inet_pton(AF_INET, bind_address.c_str(), buf) == 1;
  const bool v6 = !v4 && inet_pton(AF_INET6, bind_address.c_str(), buf) == 1;
  if (v4 || v6) {
    if (bind_address != "0.0.0.0" && bind_address != "::") ips.push_back(bind_address);
  } else if (!bind_address.empty()) {
    dns.push_back(bind_address);
  }
  std::sort(ips.begin(), ips.end());
  ips.erase(std::unique(ips.begin(), ips.end()), ips.end());
  std::sort(dns.begin(), dns.end());
  dns.erase(std::unique(dns.begin(), dns.end()), dns.end());
  const std::string sans = Json{{"dns", dns}, {"ip", ips}}.dump();
  IdentityFiles f{ca.CertPath(), dir + "/server.pem", dir + "/server.key"};
  const Pair pair{f.cert_file, f.key_file, dir + "/issued.txt"};
  if (Reusable(ca, pair, pki::CertKind::kServer, sans)) return f;
  // One CN per home; a server certificate's CN never collides with a thing (reserved prefix).
  VQI_ASSIGN_OR_RETURN(
      pki::Issued issued,
      pki::IssueCertificate(ca, {"vqi-https", pki::CertKind::kServer, dns, ips, kDays}));
  VQI_RETURN_IF_ERROR(WritePair(pair, issued, sans));
  VQI_LOG_INFO("issued HTTPS certificate (serial {}) for {}", issued.serial, sans);
  return f;
}

}  // namespace vqi::fleet
