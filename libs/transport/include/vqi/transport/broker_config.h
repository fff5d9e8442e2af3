// The Mosquitto configuration vqi generates (docs/design/pki-mqtt.md): the ONE place it is
// written, used by the test broker (transport/testing/broker.h) and by whatever runs the
// broker for real (demo, `vqi` later). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "vqi/transport/topics.h"

namespace vqi::transport {

struct BrokerConfig {
  std::string host = "127.0.0.1";
  int port = 8883;
  std::string ca_file, server_cert_file, server_key_file, crl_file;
  std::string acl_file;         // where MosquittoAcl() is written
  std::string persistence_dir;  // ends without '/'; "" = no persistence
  std::string server_identity = std::string(topics::kServerIdentity);
  std::vector<std::string> extra_acl_lines;
  size_t max_packet_bytes = 4 << 20;
  // Per client, beyond the 20 in flight: an offline persistent session's queue, and an online
  // client's backlog. The server's results subscriber takes every device's spool flush after an
  // outage at once (a 4-device burst of 3,600 lost ~1,650 at 1,000), so the count is high and
  // the bytes bound the memory.
  size_t max_queued_messages = 100000;
  size_t max_queued_bytes = 64 << 20;
  bool run_as_root = false;           // write `user root` (else Mosquitto drops to `mosquitto`)
};

// mosquitto.conf: TLS listener, require_certificate, CN as user name, acl_file, crlfile,
// persistence, no anonymous access. REQUIRES: every path free of newlines.
std::string MosquittoConf(const BrokerConfig& config);

// The ACL: a device reads its desired state and writes its status, health and results; the
// server identity reads and writes vqi/#.
std::string MosquittoAcl(const BrokerConfig& config);

}  // namespace vqi::transport
