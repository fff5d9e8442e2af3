// A Mosquitto child process with the configuration vqi generates (docs/design/pki-mqtt.md,
// "The production broker"): writes mosquitto.conf and the ACL (MosquittoConf / MosquittoAcl),
// runs /usr/sbin/mosquitto with its stderr appended to a log file, waits until the listener
// accepts connections, and reloads (SIGHUP), restarts or stops it. Used by `vqi broker run`
// (broker_service.h) and by the test broker (transport/testing/broker.h).
//
// Not thread-safe: one owner drives a BrokerProcess. The child gets SIGTERM when the THREAD
// that started it ends (PR_SET_PDEATHSIG), so no broker outlives a crashed parent: start it
// from a thread that outlives it (main, or a test's thread).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>

#include "vqi/base/status.h"
#include "vqi/transport/broker_config.h"

namespace vqi::transport {

inline constexpr const char* kMosquittoPath = "/usr/sbin/mosquitto";

// True when `path` is an executable file (callers skip or explain otherwise).
bool MosquittoAvailable(const std::string& path = kMosquittoPath);

struct BrokerProcessOptions {
  // mosquitto.conf and mosquitto.log go here (created 0700 when missing). config.acl_file is
  // where the ACL is written; config.persistence_dir must exist or be creatable.
  std::string dir;
  BrokerConfig config;
  std::string mosquitto_path = kMosquittoPath;
  int start_timeout_ms = 5000;  // spawn → Mosquitto logs that it runs (listeners open)
  int stop_timeout_ms = 5000;   // SIGTERM → exit; then SIGKILL
  // At every start a log larger than this is renamed to mosquitto.log.1 (one old copy kept).
  size_t max_log_bytes = size_t{64} << 20;
};

class BrokerProcess {
 public:
  explicit BrokerProcess(BrokerProcessOptions options);  // nothing is written or started
  ~BrokerProcess();                                      // Stop()
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  // Writes <dir>/mosquitto.conf and config.acl_file atomically and creates the persistence
  // folder. Does not touch a running child (Reload re-reads the ACL).
  Status WriteFiles();

  // Spawns Mosquitto and waits until its log says it runs (its listeners are open).
  // Mosquitto loads the CA, certificate, key and CRL before it listens, so a running broker
  // completes TLS handshakes. FailedPrecondition when already
  // running or mosquitto is missing; Unavailable with the log's tail when it exits during
  // start-up or does not listen in time (it is then stopped).
  Status Start();
  // SIGHUP: Mosquitto re-reads the ACL and the listener's TLS files (certificate, key, CRL);
  // connected clients stay connected. Returns once the log shows the reload.
  Status Reload();
  // Stop() then Start() on the same port; persistent sessions and retained messages survive
  // (persistence). Every client is disconnected and must reconnect — with a new CRL, a revoked
  // one fails the handshake.
  Status Restart();
  // SIGTERM, wait (SIGKILL after stop_timeout_ms). Idempotent.
  void Stop();

  // Reaps the child without blocking. False when it is not running; `*how` then says why
  // ("exit status 1", "killed by signal 9", "not started").
  bool Alive(std::string* how = nullptr);

  pid_t pid() const { return pid_; }
  const std::string& host() const { return options_.config.host; }
  int port() const { return options_.config.port; }
  std::string address() const { return host() + ":" + std::to_string(port()); }
  std::string config_path() const { return options_.dir + "/mosquitto.conf"; }
  std::string log_path() const { return options_.dir + "/mosquitto.log"; }
  // The log's last `max_bytes` bytes (for error messages).
  std::string Log(size_t max_bytes = 64 * 1024) const;

 private:
  BrokerProcessOptions options_;
  pid_t pid_ = -1;
};

// WriteFiles() and Start() in one call.
Result<std::unique_ptr<BrokerProcess>> StartBrokerProcess(const BrokerProcessOptions& options);

// The command line that runs Mosquitto with `config_path` (for users who run it themselves).
std::string MosquittoCommandLine(const std::string& config_path,
                                 const std::string& mosquitto_path = kMosquittoPath);

}  // namespace vqi::transport
