// IpcServer: the socket, the poll loop and connections (vqi/agent/ipc_server.h). The
// operations are in ipc_ops.cc.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "ipc_server_impl.h"
#include "vqi/base/log.h"
#include "vqi/ipc_client/client.h"

namespace vqi::agent {
namespace {

std::string RandomToken() {
  unsigned char b[32] = {};
  size_t got = 0;
  while (got < sizeof b) {
    ssize_t n = ::getrandom(b + got, sizeof b - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<IpcServer>> IpcServer::Start(const IpcServerOptions& options, Spool* spool,
                                                    std::function<void()> on_spooled) {
  sockaddr_un addr{};
  if (options.socket_path.empty() || options.socket_path.size() >= sizeof addr.sun_path)
    return InvalidArgument("IPC socket path \"" + options.socket_path +
                           "\" is empty or longer than " +
                           std::to_string(sizeof addr.sun_path - 1) + " bytes");
  auto impl = std::make_unique<Impl>();
  impl->o = options;
  impl->spool = spool;
  impl->on_spooled = std::move(on_spooled);
  ::unlink(options.socket_path.c_str());  // a stale socket of an earlier run
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Unavailable(std::string("IPC socket: ") + std::strerror(errno));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, options.socket_path.data(), options.socket_path.size());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    const int e = errno;
    ::close(fd);
    return Unavailable("IPC socket " + options.socket_path + ": " + std::strerror(e));
  }
  ::chmod(options.socket_path.c_str(), 0666);
  impl->listen_fd = fd;
  if (::pipe2(impl->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(fd);
    return Unavailable(std::string("IPC wake pipe: ") + std::strerror(errno));
  }
  Impl* raw = impl.get();
  // The thread starts with SIGCHLD/SIGTERM/SIGINT blocked, so those stay with the engine's
  // poll loop (the supervisor's self-pipe), as for the MQTT network thread.
  sigset_t block, old;
  sigemptyset(&block);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&block, sig);
  ::pthread_sigmask(SIG_BLOCK, &block, &old);
  impl->thread = std::thread([raw] { raw->Run(); });
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return std::unique_ptr<IpcServer>(new IpcServer(std::move(impl)));
}

IpcServer::IpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IpcServer::~IpcServer() { Stop(); }

void IpcServer::Stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  impl_->Wake();
  if (impl_->thread.joinable()) impl_->thread.join();
  for (auto& [fd, c] : impl_->conns) ::close(fd);
  impl_->conns.clear();
  ::close(impl_->listen_fd);
  ::unlink(impl_->o.socket_path.c_str());
  ::close(impl_->wake[0]);
  ::close(impl_->wake[1]);
}

std::string IpcServer::Register(const IpcComponent& component) {
  std::lock_guard lock(impl_->mu);
  auto& token = impl_->token_of[component.name];
  if (token.empty()) {
    token = RandomToken();
    impl_->name_of[token] = component.name;
  }
  auto it = impl_->components.find(component.name);
  const bool changed =
      it != impl_->components.end() && it->second.configuration != component.configuration;
  impl_->components[component.name] = component;
  impl_->unregistered.erase(component.name);
  if (changed) {
    impl_->config_changed.push_back(component.name);
    impl_->Wake();
  }
  return token;
}

void IpcServer::Unregister(const std::string& name) {
  std::lock_guard lock(impl_->mu);
  auto t = impl_->token_of.find(name);
  if (t != impl_->token_of.end()) {
    impl_->name_of.erase(t->second);
    impl_->token_of.erase(t);
  }
  impl_->components.erase(name);
  impl_->states.erase(name);
  impl_->unregistered.insert(name);
  impl_->Wake();
}

void IpcServer::ClearState(const std::string& name) {
  std::lock_guard lock(impl_->mu);
  impl_->states.erase(name);
}

Json IpcServer::States() const {
  std::lock_guard lock(impl_->mu);
  return Json(impl_->states);
}

IpcServerStats IpcServer::Stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

void IpcServer::Impl::Wake() {
  const char b = 1;
  (void)!::write(wake[1], &b, 1);
}

void IpcServer::Impl::Run() {
  std::vector<pollfd> fds;
  while (!stopping) {
    fds.clear();
    fds.push_back({wake[0], POLLIN, 0});
    fds.push_back({listen_fd, POLLIN, 0});
    for (auto& [fd, c] : conns)
      fds.push_back({fd, static_cast<short>(POLLIN | (c->out.empty() ? 0 : POLLOUT)), 0});
    if (::poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) break;
    if (fds[0].revents) {
      char buf[64];
      while (::read(wake[0], buf, sizeof buf) > 0) {
      }
    }
    if (stopping) break;
    // Work handed over by Register/Unregister.
    std::deque<std::string> changed;
    std::set<std::string> gone;
    {
      std::lock_guard lock(mu);
      changed.swap(config_changed);
      gone.swap(unregistered);
    }
    for (const auto& name : changed) AnnounceConfig(name);
    for (auto& [fd, c] : conns)
      if (gone.count(c->component)) c->close_after_flush = true;
    if (fds[1].revents & POLLIN) Accept();
    for (size_t i = 2; i < fds.size(); ++i) {
      auto it = conns.find(fds[i].fd);
      if (it == conns.end()) continue;
      IpcConn& c = *it->second;
      bool keep = true;
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) keep = ReadFrom(c);
      if (keep) keep = Flush(c);
      if (keep && c.close_after_flush && c.out.empty()) keep = false;
      if (!keep) {
        ::close(c.fd);
        conns.erase(it);
      }
    }
    // Connections that got events from others' requests.
    for (auto it = conns.begin(); it != conns.end();) {
      if (!Flush(*it->second)) {
        ::close(it->first);
        it = conns.erase(it);
      } else {
        ++it;
      }
    }
    std::lock_guard lock(mu);
    stats.open = conns.size();
  }
}

void IpcServer::Impl::Accept() {
  for (;;) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    {
      std::lock_guard lock(mu);
      ++stats.connections;
    }
    auto c = std::make_unique<IpcConn>(fd, o.max_frame_bytes);
    if (conns.size() >= o.max_connections) {
      Answer(*c, Json{{"id", 0}},
             ResourceExhausted("the agent already serves " + std::to_string(o.max_connections) +
                               " IPC connections (docs/limits.md)"));
      (void)Flush(*c);
      ::close(fd);
      continue;
    }
    conns[fd] = std::move(c);
  }
}

bool IpcServer::Impl::ReadFrom(IpcConn& c) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) return false;  // closed by the component
    Status s = c.reader.Feed(std::string_view(buf, static_cast<size_t>(n)));
    while (s.ok() && !c.close_after_flush) {
      auto frame = c.reader.Next();
      if (!frame) break;
      if (!frame->ok()) {
        s = frame->status();
        break;
      }
      Handle(c, **frame);
    }
    if (!s.ok()) {
      // Frame boundaries are lost: answer once (id 0) and close. The agent carries on.
      VQI_LOG_WARN("ipc: {}: malformed frame, connection closed: {}",
                   c.component.empty() ? "unauthenticated" : c.component, s.message());
      {
        std::lock_guard lock(mu);
        ++stats.malformed;
      }
      Answer(c, Json{{"id", 0}}, InvalidArgument("malformed IPC frame: " + s.message()));
      (void)Flush(c);
      return false;
    }
  }
}

bool IpcServer::Impl::Flush(IpcConn& c) {
  while (!c.out.empty()) {
    ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) return false;
    c.out.erase(0, static_cast<size_t>(n));
  }
  if (c.out.size() > o.max_pending_out_bytes) {
    VQI_LOG_WARN("ipc: {}: {} bytes unread by the component, connection closed", c.component,
                 c.out.size());
    return false;
  }
  return true;
}

void IpcServer::Impl::Send(IpcConn& c, const Json& frame) {
  auto bytes = ipc::EncodeFrame(frame, o.max_frame_bytes);
  if (!bytes.ok()) {
    auto err = ipc::EncodeFrame(Json{{"id", frame.value("id", Json(0))},
                                     {"ok", false},
                                     {"code", "ResourceExhausted"},
                                     {"error", bytes.status().message()}});
    if (err.ok()) c.out += *err;
    return;
  }
  c.out += *bytes;
}

void IpcServer::Impl::Answer(IpcConn& c, const Json& request, const Status& status, Json body) {
  body["id"] = request.contains("id") ? request["id"] : Json(0);
  body["ok"] = status.ok();
  if (!status.ok()) {
    body["code"] = ipc::CodeName(status.code());
    body["error"] = status.message();
  }
  {
    std::lock_guard lock(mu);
    ++stats.requests;
  }
  Send(c, body);
}

void IpcServer::Impl::CountDenied(const Status& s) {
  if (s.code() != StatusCode::kPermissionDenied) return;
  std::lock_guard lock(mu);
  ++stats.denied;
}

void IpcServer::Impl::AnnounceConfig(const std::string& name) {
  Json config;
  {
    std::lock_guard lock(mu);
    auto it = components.find(name);
    if (it == components.end()) return;
    config = it->second.configuration;
  }
  const Json event{
      {"event", "configurationUpdate"}, {"component", name}, {"configuration", config}};
  for (auto& [fd, c] : conns)
    if (c->config_subs.count(name)) Send(*c, event);
}

}  // namespace vqi::agent
