// RunBroker: the supervisor behind `vqi broker run` (broker_service.h).
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include "broker_home.h"
#include "vqi/base/log.h"
#include "vqi/pki/pki.h"

namespace vqi::transport {
namespace {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

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
  VQI_RETURN_IF_ERROR(internal::CheckOptions(o.home));
  VQI_ASSIGN_OR_RETURN(auto lock, internal::HomeLock::Take(BrokerLayoutOf(o.home.home)));
  VQI_ASSIGN_OR_RETURN(PreparedBroker prepared, internal::PrepareLocked(o.home));
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
      auto again = internal::PrepareLocked(o.home);
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
