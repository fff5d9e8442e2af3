#include "transport/testing/broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vqi/base/file.h"
#include "vqi/base/testing/free_port.h"
#include "vqi/transport/broker_config.h"

namespace vqi::transport::testing {
namespace {

// Below the kernel's ephemeral range (vqi/base/testing/free_port.h).
Result<int> FreePort() {
  const int port = vqi::testing::FreeLoopbackPort();
  if (port == 0) return Unavailable("no free loopback port (socket or bind failed)");
  return port;
}

}  // namespace

std::string Broker::Log() const { return process_ ? process_->Log(size_t{1} << 30) : ""; }

Status Broker::Reload() { return process_->Reload(); }

Status Broker::Restart() { return process_->Restart(); }

void Broker::Stop() {
  if (process_) process_->Stop();
}

Broker::~Broker() { Stop(); }

Result<std::unique_ptr<Broker>> StartBroker(const BrokerOptions& o) {
  if (!MosquittoAvailable())
    return FailedPrecondition(std::string(kMosquittoPath) +
                              " not found: install the Debian package mosquitto");
  if (o.dir.empty()) return InvalidArgument("BrokerOptions.dir is empty");
  BrokerProcessOptions p;
  p.dir = o.dir;
  BrokerConfig& config = p.config;
  config.host = "127.0.0.1";
  if (o.port != 0) {
    config.port = o.port;
  } else {
    VQI_ASSIGN_OR_RETURN(config.port, FreePort());
  }
  config.ca_file = o.ca_file;
  config.server_cert_file = o.server_cert_file;
  config.server_key_file = o.server_key_file;
  config.crl_file = o.crl_file;
  config.acl_file = o.dir + "/acl";
  config.persistence_dir = o.dir;
  config.server_identity = o.server_identity;
  config.extra_acl_lines = o.extra_acl_lines;
  config.max_packet_bytes = o.max_packet_bytes;
  config.run_as_root = ::getuid() == 0;
  std::unique_ptr<Broker> b(new Broker());
  VQI_ASSIGN_OR_RETURN(b->process_, StartBrokerProcess(p));
  return b;
}

}  // namespace vqi::transport::testing
