// The durable execution store: SQLite in WAL mode holding executions, their journal of
// completed state visits (see journal.h), Step Functions-style history events, and
// callback task tokens.
//
// Crash safety: the interpreter calls Journal::Sync() before every effect outside the
// engine (task invocation, callback token handed out, wait/retry deadline), so those are
// on disk first; pure transitions (Pass, Choice, ...) are batched into the next commit and
// recomputed identically on resume if a crash loses them. Durability::kFull commits with
// synchronous=FULL (survives power loss); kProcess with synchronous=NORMAL (survives a kill
// of the process, not of the machine); kEveryTransition also commits after every state.
//
// Thread-safety: one ExecutionStore may be shared by threads (internal mutex). Several
// processes may open the same file (busy timeout). One process runs an execution at a time:
// it holds the execution's lease (owner + expiry in the store), renews it while running and
// loses it when it dies; another process takes it over once it has expired or its owner
// (a pid on this host) is gone.
//
// Damage: Open() runs PRAGMA quick_check and refuses a damaged file with DataLoss; SQLite's
// corruption errors on any later call are DataLoss with SQLite's own message.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/workflow/engine.h"
#include "vqi/workflow/journal.h"

namespace vqi::workflow {

enum class Durability { kProcess, kFull, kEveryTransition };

struct ExecutionRecord {
  std::string id, name, state_machine, definition;
  Json input;
  ExecutionStatus status = ExecutionStatus::kRunning;
  Json output;
  std::optional<std::string> error, cause;
  int64_t start_ms = 0, stop_ms = 0;
  bool stop_requested = false;
  std::string owner;  // lease holder ("" when none)
  int64_t lease_until_ms = 0;
  int takeovers = 0;  // times another process took the execution over
};

// This process's lease owner name: "<host>:<pid>:<random>".
const std::string& ProcessOwner();

class ExecutionStore {
 public:
  static Result<std::unique_ptr<ExecutionStore>> Open(const std::string& path,
                                                      Durability durability);
  ~ExecutionStore();
  ExecutionStore(const ExecutionStore&) = delete;
  ExecutionStore& operator=(const ExecutionStore&) = delete;

  // AlreadyExists if `name` is taken. The new execution is leased to `owner` until
  // start_ms + lease_ms.
  Result<ExecutionRecord> Create(const std::string& name, const std::string& state_machine,
                                 const std::string& definition, const Json& input, int64_t start_ms,
                                 const std::string& owner, int64_t lease_ms);
  // Records the result and frees the lease. FailedPrecondition when `owner` no longer holds
  // the lease (another process took the execution over): nothing is written.
  Status Finish(const std::string& id, const ExecutionResult& result, int64_t stop_ms,
                const std::string& owner);

  // Takes the lease of a RUNNING execution (`id` or name) for `owner` until now + lease_ms.
  // Succeeds when the execution has no owner, `owner` already holds it, the lease expired, or its
  // owner is a process of this host that no longer exists. FailedPrecondition (naming the holder)
  // otherwise or when the execution is not RUNNING.
  Result<ExecutionRecord> AcquireLease(const std::string& id, const std::string& owner,
                                       int64_t now_ms, int64_t lease_ms);
  // Extends a held lease; FailedPrecondition when `owner` lost it.
  Status RenewLease(const std::string& id, const std::string& owner, int64_t now_ms,
                    int64_t lease_ms);
  Result<ExecutionRecord> Get(const std::string& id_or_name);
  // Every execution (oldest first), or only those with `status`.
  Result<std::vector<ExecutionRecord>> List(std::optional<ExecutionStatus> status = std::nullopt);
  Result<std::vector<HistoryEvent>> History(const std::string& id);
  Result<int64_t> LastEventId(const std::string& id);
  Status RequestStop(const std::string& id);
  Result<bool> StopRequested(const std::string& id);

  // Callback tokens (task-success / task-failure / task-heartbeat from any process).
  Status CompleteToken(const std::string& token, const Json& outcome);
  Status HeartbeatToken(const std::string& token, int64_t now_ms);

  // Change notification inside this process (see Journal::ChangeCount). NotifyChange is called
  // after this store's own stop/token writes and by the execution's supervisor when its watch
  // on the file (StoreWatch) sees another process commit.
  uint64_t ChangeCount() const;
  void AwaitChange(uint64_t seen, std::chrono::milliseconds max) const;
  void NotifyChange() const;
  const std::string& path() const;

  // A journal bound to execution `id` written under `owner`'s lease (every commit checks
  // the lease is still held); loads its recorded visits. A failed commit is sticky: every
  // later Sync() returns the same error, so an execution never ends "SUCCEEDED" with part of
  // its journal lost.
  Result<std::unique_ptr<Journal>> OpenJournal(const std::string& id, const std::string& owner);

  struct Impl;  // SQLite handle, statements and mutex (store.cc)

 private:
  ExecutionStore();
  std::unique_ptr<Impl> impl_;
};

}  // namespace vqi::workflow
