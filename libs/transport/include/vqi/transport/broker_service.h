// The production broker of a vqi home (`vqi broker run|config`, docs/design/pki-mqtt.md
// "The production broker"). Layout, all under <home>/broker/ (folder 0700):
//   mosquitto.conf, acl        generated (MosquittoConf / MosquittoAcl)
//   persistence/               Mosquitto's sessions and retained messages
//   mosquitto.log              the child's stderr (rotated to .1 above 64 MiB at a start)
//   tls/server.pem, server.key a CertKind::kServer certificate "vqi-broker" from the vqi CA in
//                              <home>/pki (SANs 127.0.0.1, localhost, the bind address and
//                              extra_sans),
//                              re-issued when missing, not from this CA, revoked, expiring
//                              within `renew_days`, or issued for other SANs
//   tls/server.json            {"serial", "not_after", "dns", "ip"} of that certificate
//   lock                       flocked by the one process that runs or configures the broker
// cafile = <home>/pki/ca.pem, crlfile = <home>/pki/crl.pem. The CA is created on first use
// exactly as `vqi thing create` does; a missing CRL is written from the CA's index.
//
// Thread-safety: one PrepareBroker or RunBroker per home at a time (<home>/broker/lock; the
// other gets FailedPrecondition naming the holder's pid); the CA serialises on its own lock.
// RunBroker owns its Mosquitto child and must run on a thread that outlives it.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/transport/broker_process.h"

namespace vqi::transport {

inline constexpr const char* kBrokerIdentity = "vqi-broker";  // the broker certificate's CN

struct BrokerHomeOptions {
  std::string home;
  std::string bind = "127.0.0.1";  // the listener's address (numeric)
  int port = 8883;
  // More names devices dial (an IP address or a DNS name each), e.g. the host's address when
  // bind is 0.0.0.0. Added to the certificate's SANs; changing them re-issues it.
  std::vector<std::string> extra_sans;
  int cert_days = 365;  // validity of a newly issued broker certificate (1..3650)
  int renew_days = 30;  // re-issue when it expires within this many days
  std::string mosquitto_path = kMosquittoPath;
};

struct BrokerLayout {
  std::string dir, conf, acl, persistence, log, tls_dir, cert, key, cert_info, ca, crl;
};
BrokerLayout BrokerLayoutOf(const std::string& home);

struct PreparedBroker {
  BrokerLayout layout;
  BrokerProcessOptions process;  // ready for BrokerProcess
  bool ca_created = false;       // the vqi CA did not exist and was created
  bool crl_written = false;      // crl.pem was missing and was written
  bool cert_issued = false;      // the broker certificate was (re)issued
  std::string cert_serial, cert_not_after;
};

// Makes the home ready for Mosquitto: CA, CRL, broker certificate, mosquitto.conf and acl.
// InvalidArgument for a bad bind address, port or SAN; FailedPrecondition while another
// process runs or configures this home's broker; the CA's errors otherwise (DataLoss for a
// damaged index: nothing is issued).
Result<PreparedBroker> PrepareBroker(const BrokerHomeOptions& options);

struct BrokerRunOptions {
  BrokerHomeOptions home;
  int crl_poll_ms = 500;  // how often crl.pem (inode, size, mtime) and the child are checked
  int crl_min_restart_ms = 2000;  // CRL changes closer together share one restart
  int backoff_min_ms = 500;       // first restart delay after Mosquitto died; doubles up to max
  int backoff_max_ms = 30000;
  int stable_after_ms = 60000;             // a child that ran this long resets the delay
  int maintenance_every_ms = 3600 * 1000;  // re-check the certificate and the CRL's age
  // Called once, after the first start, with "host:port" when the listener accepts.
  std::function<void(const std::string& address)> on_listening;
  // Every event (restart, crash, re-issue); default: logged to stderr.
  std::function<void(const std::string& event)> on_event;
};

// Prepares the home, starts Mosquitto and supervises it until `stop` becomes true (checked
// every 50 ms), then stops it (SIGTERM, SIGKILL after 5 s). While it runs:
// - crl.pem replaced or changed → Mosquitto is restarted (a SIGHUP would not disconnect a
//   device that is already connected; a restart makes every device handshake again, and a
//   revoked one fails), at most once per crl_min_restart_ms. A missing crl.pem is rewritten
//   from the index.
// - Mosquitto exited on its own → restarted after backoff_min_ms .. backoff_max_ms.
// - every maintenance_every_ms: a CRL older than 30 days is rewritten (its next update is
//   365 days) and an expiring broker certificate re-issued (each followed by a restart).
// Returns an error only when the preparation or the FIRST start fails.
Status RunBroker(const BrokerRunOptions& options, const std::atomic<bool>& stop);

}  // namespace vqi::transport
