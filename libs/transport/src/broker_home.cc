// The production broker's home: options, layout, the CA on first use, the broker certificate,
// the generated files and the home lock (broker_service.h).
#include "broker_home.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>
#include <vector>

#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/pki/pki.h"

namespace vqi::transport {
namespace {

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool IsWildcard(const std::string& s) { return s == "0.0.0.0" || s == "::"; }

Result<pki::Ca> OpenOrCreateCa(const std::string& home, bool* created) {
  const std::string dir = pki::CaDir(home);
  auto ca = pki::OpenCa(dir);
  if (ca.ok() || ca.status().code() != StatusCode::kNotFound) return ca;
  // The same name `vqi thing create` gives it; another process may win the race.
  auto made = pki::CreateCa(dir, "vqi CA");
  if (made.ok()) *created = true;
  if (made.ok() || made.status().code() != StatusCode::kAlreadyExists) return made;
  return pki::OpenCa(dir);
}

struct CertWanted {
  std::vector<std::string> dns, ip;
};

void AddOnce(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

CertWanted WantedSans(const BrokerHomeOptions& o) {
  CertWanted w{{"localhost"}, {"127.0.0.1"}};
  if (!IsWildcard(o.bind)) AddOnce(w.ip, o.bind);
  for (const std::string& san : o.extra_sans) AddOnce(IsIp(san) ? w.ip : w.dns, san);
  return w;
}

// A DNS name for a certificate: 1-253 characters of [A-Za-z0-9.-] (a leading "*." allowed).
bool ValidDnsName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  const size_t from = s.rfind("*.", 0) == 0 ? 2 : 0;
  if (from == s.size()) return false;
  for (size_t i = from; i < s.size(); ++i) {
    const char c = s[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  }
  return true;
}

// Why the broker certificate must be (re)issued, or "" when the one on disk is fine.
std::string ReissueReason(const pki::Ca& ca, const BrokerLayout& l, const CertWanted& want,
                          int renew_days) {
  if (!FileExists(l.cert) || !FileExists(l.key)) return "no broker certificate yet";
  auto pem = ReadFile(l.cert, pki::kMaxCertPemBytes);
  if (!pem.ok()) return "unreadable " + l.cert;
  pki::VerifyOptions v;
  v.expect_kind = pki::CertKind::kServer;
  v.at_unix = static_cast<int64_t>(std::time(nullptr)) + int64_t{renew_days} * 86400;
  auto rec = pki::VerifyPeer(ca, *pem, v);
  if (!rec.ok())
    return "the certificate on disk fails at now + " + std::to_string(renew_days) +
           " days: " + rec.status().message();
  auto info_text = ReadFile(l.cert_info, 64 * 1024);
  if (!info_text.ok()) return "no " + l.cert_info;
  auto info = ParseJson(*info_text, l.cert_info);
  if (!info.ok() || !info->is_object()) return "damaged " + l.cert_info;
  if (info->value("serial", "") != rec->serial) return l.cert_info + " names another serial";
  if (info->value("dns", Json::array()) != Json(want.dns) ||
      info->value("ip", Json::array()) != Json(want.ip))
    return "issued for other names";
  return "";
}

Status IssueBrokerCert(const pki::Ca& ca, const BrokerLayout& l, const CertWanted& want, int days,
                       PreparedBroker* out) {
  pki::IssueRequest req;
  req.common_name = kBrokerIdentity;
  req.kind = pki::CertKind::kServer;
  req.dns_names = want.dns;
  req.ip_addresses = want.ip;
  req.days = days;
  VQI_ASSIGN_OR_RETURN(pki::Issued issued, pki::IssueCertificate(ca, req));
  // tls/ is 0700 before the key is written, so the key is never readable by others.
  VQI_RETURN_IF_ERROR(WriteFileAtomic(l.key, issued.key_pem));
  if (::chmod(l.key.c_str(), 0600) != 0) return Unavailable("chmod 0600 " + l.key + " failed");
  VQI_RETURN_IF_ERROR(WriteFileAtomic(l.cert, issued.cert_pem));
  const Json info = {{"serial", issued.serial},
                     {"not_after", issued.not_after},
                     {"dns", want.dns},
                     {"ip", want.ip}};
  VQI_RETURN_IF_ERROR(WriteFileAtomic(l.cert_info, info.dump(2) + "\n"));
  out->cert_issued = true;
  out->cert_serial = issued.serial;
  out->cert_not_after = issued.not_after;
  return Status::Ok();
}

Status MakePrivateDir(const std::string& dir) {
  VQI_RETURN_IF_ERROR(MakeDirs(dir));
  if (::chmod(dir.c_str(), 0700) != 0) return Unavailable("chmod 0700 " + dir + " failed");
  return Status::Ok();
}

}  // namespace

BrokerLayout BrokerLayoutOf(const std::string& home) {
  BrokerLayout l;
  l.dir = home + "/broker";
  l.conf = l.dir + "/mosquitto.conf";
  l.acl = l.dir + "/acl";
  l.persistence = l.dir + "/persistence";
  l.log = l.dir + "/mosquitto.log";
  l.tls_dir = l.dir + "/tls";
  l.cert = l.tls_dir + "/server.pem";
  l.key = l.tls_dir + "/server.key";
  l.cert_info = l.tls_dir + "/server.json";
  l.ca = pki::CaDir(home) + "/ca.pem";
  l.crl = pki::CaDir(home) + "/crl.pem";
  return l;
}

namespace internal {

Status CheckOptions(const BrokerHomeOptions& o) {
  if (o.home.empty()) return InvalidArgument("home: empty");
  if (!IsIp(o.bind))
    return InvalidArgument("bind: '" + o.bind.substr(0, 64) +
                           "' is not a numeric IPv4 or IPv6 address");
  if (o.port < 1 || o.port > 65535)
    return InvalidArgument("port: " + std::to_string(o.port) + " is out of range [1, 65535]");
  for (const std::string& san : o.extra_sans)
    if (!IsIp(san) && !ValidDnsName(san))
      return InvalidArgument("san: '" + san.substr(0, 64) +
                             "' is neither an IP address nor a DNS name ([A-Za-z0-9.-], "
                             "1-253 characters)");
  if (o.cert_days < 1 || o.cert_days > pki::kMaxDays || o.renew_days < 0 ||
      o.renew_days >= o.cert_days)
    return InvalidArgument("cert days: " + std::to_string(o.cert_days) + " / renew days " +
                           std::to_string(o.renew_days) +
                           " (need 1 <= renew < days <= " + std::to_string(pki::kMaxDays) + ")");
  return Status::Ok();
}

HomeLock::~HomeLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<HomeLock>> HomeLock::Take(const BrokerLayout& l) {
  VQI_RETURN_IF_ERROR(MakePrivateDir(l.dir));
  const std::string path = l.dir + "/lock";
  auto lock = std::unique_ptr<HomeLock>(new HomeLock());
  lock->fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock->fd_ < 0) return Unavailable(path + ": open failed");
  if (::flock(lock->fd_, LOCK_EX | LOCK_NB) != 0) {
    auto holder = ReadFile(path, 64);
    return FailedPrecondition(l.dir +
                              " is in use by another `vqi broker run` or `vqi broker config` "
                              "(pid " +
                              (holder.ok() && !holder->empty() ? *holder : std::string("?")) +
                              "): stop it first");
  }
  const std::string pid = std::to_string(::getpid());
  const bool noted =
      ::ftruncate(lock->fd_, 0) == 0 &&
      ::pwrite(lock->fd_, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size());
  (void)noted;  // the pid in the file only makes the error message friendlier
  return lock;
}

Result<PreparedBroker> PrepareLocked(const BrokerHomeOptions& o) {
  PreparedBroker out;
  out.layout = BrokerLayoutOf(o.home);
  const BrokerLayout& l = out.layout;
  VQI_ASSIGN_OR_RETURN(pki::Ca ca, OpenOrCreateCa(o.home, &out.ca_created));
  if (!FileExists(l.crl)) {
    VQI_RETURN_IF_ERROR(pki::WriteCrl(ca));
    out.crl_written = true;
  }
  VQI_RETURN_IF_ERROR(MakePrivateDir(l.dir));
  VQI_RETURN_IF_ERROR(MakePrivateDir(l.tls_dir));
  const CertWanted want = WantedSans(o);
  if (!ReissueReason(ca, l, want, o.renew_days).empty())
    VQI_RETURN_IF_ERROR(IssueBrokerCert(ca, l, want, o.cert_days, &out));

  BrokerProcessOptions& p = out.process;
  p.dir = l.dir;
  p.mosquitto_path = o.mosquitto_path;
  BrokerConfig& c = p.config;
  c.host = o.bind;
  c.port = o.port;
  c.ca_file = l.ca;
  c.server_cert_file = l.cert;
  c.server_key_file = l.key;
  c.crl_file = l.crl;
  c.acl_file = l.acl;
  c.persistence_dir = l.persistence;
  c.run_as_root = ::getuid() == 0;
  BrokerProcess writer(p);
  VQI_RETURN_IF_ERROR(writer.WriteFiles());
  return out;
}

}  // namespace internal

Result<PreparedBroker> PrepareBroker(const BrokerHomeOptions& o) {
  VQI_RETURN_IF_ERROR(internal::CheckOptions(o));
  VQI_ASSIGN_OR_RETURN(auto lock, internal::HomeLock::Take(BrokerLayoutOf(o.home)));
  return internal::PrepareLocked(o);
}

}  // namespace vqi::transport
