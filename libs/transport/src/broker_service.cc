#include "vqi/transport/broker_service.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <memory>
#include <thread>
#include <vector>

#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/base/log.h"
#include "vqi/pki/pki.h"

namespace vqi::transport {
namespace {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

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

namespace {

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

// `<home>/broker/lock`, flocked by the one process that runs or configures this home's broker
// (two would share the persistence folder and the log, and a `config` with another port
// would change what a running broker restarts with). Released when the object dies.
class HomeLock {
 public:
  ~HomeLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  static Result<std::unique_ptr<HomeLock>> Take(const BrokerLayout& l) {
    VQI_RETURN_IF_ERROR(MakePrivateDir(l.dir));
    const std::string path = l.dir + "/lock";
    auto lock = std::make_unique<HomeLock>();
    lock->fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock->fd_ < 0) return Unavailable(path + ": open failed");
    if (::flock(lock->fd_, LOCK_EX | LOCK_NB) != 0) {
      auto holder = ReadFile(path, 64);
      return FailedPrecondition(
          l.dir + " is in use by another `vqi broker run` or `vqi broker config` (pid " +
          (holder.ok() && !holder->empty() ? *holder : std::string("?")) + "): stop it first");
    }
    const std::string pid = std::to_string(::getpid());
    const bool noted =
        ::ftruncate(lock->fd_, 0) == 0 &&
        ::pwrite(lock->fd_, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size());
    (void)noted;  // the pid in the file only makes the error message friendlier
    return lock;
  }

 private:
  int fd_ = -1;
};

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

}  // namespace

Result<PreparedBroker> PrepareBroker(const BrokerHomeOptions& o) {
  VQI_RETURN_IF_ERROR(CheckOptions(o));
  VQI_ASSIGN_OR_RETURN(auto lock, HomeLock::Take(BrokerLayoutOf(o.home)));
  return PrepareLocked(o);
}

namespace {

struct FileStamp {
  bool exists = false;
  ino_t inode = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp& o) const {
    return exists == o.exists && inode == o.inode && size == o.size && mtime_ns == o.mtime_ns;
  }
};

FileStamp Stamp(const std::string& path) {
  struct stat st {};
  FileStamp s;
  if (::stat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.inode = st.st_ino;
  s.size = st.st_size;
  s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  return s;
}

int64_t AgeSeconds(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(std::time(nullptr)) - st.st_mtim.tv_sec;
}

}  // namespace

Status RunBroker(const BrokerRunOptions& o, const std::atomic<bool>& stop) {
  auto event = [&](const std::string& text) {
    if (o.on_event)
      o.on_event(text);
    else
      VQI_LOG_INFO("broker: {}", text);
  };
  VQI_RETURN_IF_ERROR(CheckOptions(o.home));
  VQI_ASSIGN_OR_RETURN(auto lock, HomeLock::Take(BrokerLayoutOf(o.home.home)));
  VQI_ASSIGN_OR_RETURN(PreparedBroker prepared, PrepareLocked(o.home));
  if (prepared.ca_created) event("created the vqi CA in " + pki::CaDir(o.home.home));
  if (prepared.cert_issued)
    event("issued the broker certificate " + prepared.cert_serial + " (valid until " +
          prepared.cert_not_after + ")");
  const std::string crl = prepared.layout.crl;
  BrokerProcess broker(prepared.process);
  FileStamp crl_seen = Stamp(crl);  // before the start: a change during it still counts
  VQI_RETURN_IF_ERROR(broker.Start());
  event("mosquitto started (pid " + std::to_string(broker.pid()) + ") on " + broker.address());
  if (o.on_listening) o.on_listening(broker.address());

  auto started_at = Clock::now();
  auto last_poll = Clock::now();
  auto last_maintenance = Clock::now();
  auto last_crl_restart = Clock::now() - Ms(o.crl_min_restart_ms);
  auto next_start = Clock::time_point::max();  // when the child is down: the next attempt
  int backoff_ms = o.backoff_min_ms;

  auto restart = [&](const std::string& why) {
    event(why + ": restarting mosquitto");
    Status s = broker.WriteFiles();  // as generated, whatever happened to them meanwhile
    if (s.ok()) s = broker.Restart();
    started_at = Clock::now();  // a failed attempt counts too: the backoff must grow
    if (s.ok()) {
      event("mosquitto restarted (pid " + std::to_string(broker.pid()) + ")");
    } else {
      event("mosquitto did not come back: " + s.ToString());
    }
  };

  while (!stop.load()) {
    std::this_thread::sleep_for(Ms(50));
    const auto now = Clock::now();
    if (now - last_poll < Ms(o.crl_poll_ms)) continue;
    last_poll = now;

    std::string how;
    if (next_start == Clock::time_point::max() && !broker.Alive(&how)) {
      // Died on its own (or a restart failed): retry with a growing delay.
      if (now - started_at >= Ms(o.stable_after_ms)) backoff_ms = o.backoff_min_ms;
      event("mosquitto is not running (" + how + "); starting it again in " +
            std::to_string(backoff_ms) + " ms; log tail:\n" + broker.Log(1024));
      next_start = now + Ms(backoff_ms);
      backoff_ms = std::min(backoff_ms * 2, o.backoff_max_ms);
      continue;
    }
    if (next_start != Clock::time_point::max()) {
      if (now < next_start) continue;
      next_start = Clock::time_point::max();
      crl_seen = Stamp(crl);
      Status s = broker.WriteFiles();
      if (s.ok()) s = broker.Start();
      started_at = Clock::now();
      if (s.ok()) {
        event("mosquitto started again (pid " + std::to_string(broker.pid()) + ")");
      } else {
        event("mosquitto failed to start: " + s.ToString());
      }
      continue;
    }

    const FileStamp crl_now = Stamp(crl);
    if (!crl_now.exists) {
      event(crl + " is missing: writing it again from the CA's index");
      auto ca = pki::OpenCa(pki::CaDir(o.home.home));
      Status s = ca.ok() ? pki::WriteCrl(*ca) : ca.status();
      if (!s.ok()) event("cannot write the CRL: " + s.ToString());
      continue;  // the next poll sees the new file and restarts
    }
    // A burst of revocations costs one restart per crl_min_restart_ms, not one per change:
    // every restart disconnects the whole fleet.
    if (!(crl_now == crl_seen) && now - last_crl_restart >= Ms(o.crl_min_restart_ms)) {
      crl_seen = crl_now;
      last_crl_restart = now;
      restart(crl + " changed");
      continue;
    }

    if (now - last_maintenance >= Ms(o.maintenance_every_ms)) {
      last_maintenance = now;
      if (AgeSeconds(crl) > 30 * 86400) {
        auto ca = pki::OpenCa(pki::CaDir(o.home.home));
        Status s = ca.ok() ? pki::WriteCrl(*ca) : ca.status();
        event(s.ok() ? "refreshed the CRL (older than 30 days)"
                     : "cannot refresh the CRL: " + s.ToString());
      }
      auto again = PrepareLocked(o.home);
      if (!again.ok()) {
        event("maintenance failed: " + again.status().ToString());
      } else if (again->cert_issued) {
        restart("re-issued the broker certificate " + again->cert_serial);
        crl_seen = Stamp(crl);
      }
    }
  }
  broker.Stop();
  event("mosquitto stopped");
  return Status::Ok();
}

}  // namespace vqi::transport
