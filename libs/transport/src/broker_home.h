// Internal to libs/transport: what PrepareBroker and RunBroker share (broker_service.h).
#pragma once

#include <memory>

#include "vqi/base/status.h"
#include "vqi/transport/broker_service.h"

namespace vqi::transport::internal {

// InvalidArgument naming the field (home, bind, port, san, cert days).
Status CheckOptions(const BrokerHomeOptions& options);

// `<home>/broker/lock`, flocked by the one process that runs or configures this home's broker
// (two would share the persistence folder and the log, and a `config` with another port would
// change what a running broker restarts with). Released when the object dies (or the process).
class HomeLock {
 public:
  ~HomeLock();
  HomeLock(const HomeLock&) = delete;
  HomeLock& operator=(const HomeLock&) = delete;
  // FailedPrecondition naming the holder's pid when another process holds it.
  static Result<std::unique_ptr<HomeLock>> Take(const BrokerLayout& layout);

 private:
  HomeLock() = default;
  int fd_ = -1;
};

// PrepareBroker without taking the lock (the caller holds it).
Result<PreparedBroker> PrepareLocked(const BrokerHomeOptions& options);

}  // namespace vqi::transport::internal
