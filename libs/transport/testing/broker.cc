#include "transport/testing/broker.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "vqi/base/file.h"
#include "vqi/transport/broker_config.h"

namespace vqi::transport::testing {
namespace {

using Clock = std::chrono::steady_clock;

Result<int> FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return Unavailable("bind 127.0.0.1:0 failed");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

}  // namespace

bool MosquittoAvailable() { return ::access(kMosquittoPath, X_OK) == 0; }

std::string Broker::Log() const {
  auto text = ReadFile(log_);
  return text.ok() ? *text : "";
}

Status Broker::Spawn() {
  pid_t pid = ::fork();
  if (pid < 0) return Unavailable("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the test
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
    }
    int err = ::open(log_.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (err >= 0) ::dup2(err, 2);
    ::execl(kMosquittoPath, kMosquittoPath, "-c", conf_.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_ = pid;
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Unavailable("mosquitto exited during start-up (status " + std::to_string(status) +
                         "):\n" + Log());
    }
    if (Accepts(port_)) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Stop();
  return Unavailable("mosquitto did not listen on port " + std::to_string(port_) +
                     " within 5 s:\n" + Log());
}

Status Broker::Reload() {
  if (pid_ < 0) return FailedPrecondition("broker is not running");
  const std::string marker = "Reloading config";
  const size_t before = Count(Log(), marker);
  if (::kill(pid_, SIGHUP) != 0) return Unavailable("kill -HUP failed");
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    if (Count(Log(), marker) > before) {
      // The reload happens right after the log line; give the loop a moment to finish it.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return DeadlineExceeded("mosquitto did not log a reload within 5 s:\n" + Log());
}

Status Broker::Restart() {
  Stop();
  return Spawn();
}

void Broker::Stop() {
  if (pid_ < 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

Broker::~Broker() { Stop(); }

Result<std::unique_ptr<Broker>> StartBroker(const BrokerOptions& o) {
  if (!MosquittoAvailable())
    return FailedPrecondition(std::string(kMosquittoPath) +
                              " not found: install the Debian package mosquitto");
  if (o.dir.empty()) return InvalidArgument("BrokerOptions.dir is empty");
  VQI_RETURN_IF_ERROR(MakeDirs(o.dir));
  std::unique_ptr<Broker> b(new Broker());
  if (o.port != 0) {
    b->port_ = o.port;
  } else {
    VQI_ASSIGN_OR_RETURN(b->port_, FreePort());
  }
  b->conf_ = o.dir + "/mosquitto.conf";
  b->log_ = o.dir + "/mosquitto.log";
  BrokerConfig config;
  config.host = b->host_;
  config.port = b->port_;
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
  VQI_RETURN_IF_ERROR(WriteFileAtomic(config.acl_file, MosquittoAcl(config)));
  const std::string conf = MosquittoConf(config);
  VQI_RETURN_IF_ERROR(WriteFileAtomic(b->conf_, conf));
  VQI_RETURN_IF_ERROR(b->Spawn());
  return b;
}

}  // namespace vqi::transport::testing
