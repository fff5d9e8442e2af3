// The durability seam between the interpreter and a store.
//
// The interpreter records every completed state visit under a stable key (frame path +
// state + visit number). On resume it re-runs the definition and replays recorded visits
// instead of executing them, so completed tasks never run again and Waits keep their
// recorded deadlines. Record() may buffer; Sync() makes everything recorded so far durable
// and is called before any effect outside the engine (a task invocation, a callback token
// being handed out, a wait starting) and at the end of the execution.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/workflow/engine.h"

namespace vqi::workflow {

class Journal {
 public:
  virtual ~Journal() = default;
  virtual std::optional<Json> Lookup(const std::string& key) = 0;
  virtual void Record(const std::string& key, const Json& value) = 0;
  virtual void AppendEvent(const HistoryEvent& event) = 0;
  virtual Status Sync() = 0;
  // Callback tasks: the token was handed out / its current state
  // ({"status":"WAITING"|"SUCCEEDED"|"FAILED", "output"|"error"/"cause", "heartbeat_ms"}).
  virtual Status RegisterToken(const std::string& token, const std::string& key) = 0;
  virtual std::optional<Json> PollToken(const std::string& token) = 0;
  // Waiting without polling: ChangeCount() rises whenever the store may have changed (another
  // process committed, a stop was requested); AwaitChange blocks until it differs from `seen`
  // or `max` passes. Waiters read the count, then the state, then wait, so no change is missed.
  // The default (a journal that cannot tell) wakes every 50 ms.
  virtual uint64_t ChangeCount() { return 0; }
  virtual void AwaitChange(uint64_t seen, std::chrono::milliseconds max);
};

}  // namespace vqi::workflow
