// IpcServer's internals (ipc_server.cc: socket, loop, connections; ipc_ops.cc: operations).
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "vqi/agent/ipc_server.h"
#include "vqi/ipc_client/frame.h"

namespace vqi::agent {

struct IpcConn {
  int fd = -1;
  ipc::FrameReader reader;
  std::string out;                    // unsent bytes
  std::string component;              // empty until Connect succeeded
  std::set<std::string> topic_subs;   // local topic filters
  std::set<std::string> config_subs;  // component names
  bool close_after_flush = false;
  explicit IpcConn(int f, size_t max_frame) : fd(f), reader(max_frame) {}
};

struct IpcServer::Impl {
  IpcServerOptions o;
  Spool* spool = nullptr;
  std::function<void()> on_spooled;
  int listen_fd = -1;
  int wake[2] = {-1, -1};
  std::thread thread;
  std::atomic<bool> stopping{false};

  // IPC thread only.
  std::map<int, std::unique_ptr<IpcConn>> conns;

  mutable std::mutex mu;  // guards what follows
  std::map<std::string, IpcComponent> components;
  std::map<std::string, std::string> token_of;  // name -> token
  std::map<std::string, std::string> name_of;   // token -> name
  std::map<std::string, std::string> states;
  std::deque<std::string> config_changed;  // names, for the loop to announce
  std::set<std::string> unregistered;      // names, for the loop to disconnect
  IpcServerStats stats;

  void Run();
  void Wake();
  void Accept();
  // Reads what is there; false when the connection must be closed now.
  bool ReadFrom(IpcConn& c);
  bool Flush(IpcConn& c);
  void Send(IpcConn& c, const Json& frame);
  void Answer(IpcConn& c, const Json& request, const Status& status, Json body = Json::object());
  void Handle(IpcConn& c, const Json& request);  // ipc_ops.cc
  void AnnounceConfig(const std::string& name);
  void CountDenied(const Status& s);
};

}  // namespace vqi::agent
