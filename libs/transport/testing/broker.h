// Test support: a real Mosquitto broker on a free loopback port with the configuration vqi
// generates (docs/design/pki-mqtt.md): TLS listener, require_certificate, the certificate CN as
// user name, ACL by pattern, crlfile, persistence. Used by libs/transport tests and by later
// integration tests (target vqi_transport_testing).
//
// Not thread-safe: one owner drives a Broker. Start and Restart it from a thread that outlives
// it: the broker gets SIGTERM when the thread that forked it ends (PR_SET_PDEATHSIG, so no broker
// outlives a crashed test).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/transport/broker_process.h"

namespace vqi::transport::testing {

// A thin wrapper over transport::BrokerProcess (vqi/transport/broker_process.h), which does the
// process management; this adds the free port and the test-friendly defaults.
using transport::kMosquittoPath;

// True when /usr/sbin/mosquitto exists (tests skip with a message otherwise).
inline bool MosquittoAvailable() { return transport::MosquittoAvailable(); }

struct BrokerOptions {
  std::string dir;  // config, ACL, persistence and log go here (created)
  std::string ca_file, server_cert_file, server_key_file, crl_file;
  // The server's MQTT identity (its client certificate's CN): full access to vqi/#.
  std::string server_identity = "vqi-server";  // = topics::kServerIdentity
  std::vector<std::string> extra_acl_lines;    // appended to the ACL file
  size_t max_packet_bytes = 4 << 20;           // broker-side limit (max_packet_size)
  int port = 0;                                // 0 = pick a free loopback port
};

class Broker {
 public:
  ~Broker();  // Stop()
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  const std::string& host() const { return process_->host(); }
  int port() const { return process_->port(); }
  std::string address() const { return process_->address(); }
  std::string config_path() const { return process_->config_path(); }
  std::string Log() const;  // the broker's log so far (for failure messages)
  BrokerProcess& process() { return *process_; }

  // SIGHUP: Mosquitto re-reads the ACL file and the listener's TLS files (certificate, key,
  // CRL). Connected clients stay connected. Returns once the broker logged the reload.
  Status Reload();
  // SIGTERM, wait, start again on the same port; sessions survive (persistence).
  // This is how a revocation reaches a device that is already connected.
  Status Restart();
  // SIGTERM and wait (SIGKILL after 5 s). Idempotent.
  void Stop();

 private:
  friend Result<std::unique_ptr<Broker>> StartBroker(const BrokerOptions& options);
  Broker() = default;
  std::unique_ptr<BrokerProcess> process_;
};

// Writes mosquitto.conf and acl into options.dir, starts /usr/sbin/mosquitto and waits (up to
// 5 s) until it accepts connections. FailedPrecondition when mosquitto is missing; Unavailable
// with the broker's log when it exits or does not listen.
Result<std::unique_ptr<Broker>> StartBroker(const BrokerOptions& options);

}  // namespace vqi::transport::testing
