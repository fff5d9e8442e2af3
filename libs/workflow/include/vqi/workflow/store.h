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
// processes may open the same file (busy timeout); only one should run a given execution.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/workflow/engine.h"
#include "vqi/workflow/journal.h"

struct sqlite3;

namespace vqi::workflow {

enum class Durability { kProcess, kFull, kEveryTransition };

struct ExecutionRecord {
  std::string id, name, state_machine, definition;
  Json input;
  std::string status;  // RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
  Json output;
  std::optional<std::string> error, cause;
  int64_t start_ms = 0, stop_ms = 0;
  bool stop_requested = false;
};

class ExecutionStore {
 public:
  static Result<std::unique_ptr<ExecutionStore>> Open(const std::string& path,
                                                      Durability durability);
  ~ExecutionStore();
  ExecutionStore(const ExecutionStore&) = delete;
  ExecutionStore& operator=(const ExecutionStore&) = delete;

  // AlreadyExists if `name` is taken.
  Result<ExecutionRecord> Create(const std::string& name, const std::string& state_machine,
                                 const std::string& definition, const Json& input,
                                 int64_t start_ms);
  Status Finish(const std::string& id, const ExecutionResult& result, int64_t stop_ms);
  Result<ExecutionRecord> Get(const std::string& id_or_name);
  Result<std::vector<ExecutionRecord>> List(const std::string& status_filter = "");
  Result<std::vector<HistoryEvent>> History(const std::string& id);
  Result<int64_t> LastEventId(const std::string& id);
  Status RequestStop(const std::string& id);
  Result<bool> StopRequested(const std::string& id);

  // Callback tokens (task-success / task-failure / task-heartbeat from any process).
  Status CompleteToken(const std::string& token, const Json& outcome);
  Status HeartbeatToken(const std::string& token, int64_t now_ms);

  // A journal bound to execution `id`; loads its recorded visits. Not thread-safe by
  // itself beyond what the interpreter needs (it locks internally).
  Result<std::unique_ptr<Journal>> OpenJournal(const std::string& id);

  // Internal: used by the journal.
  Status Exec(const std::string& sql);
  sqlite3* db() { return db_; }
  std::mutex& mu() { return mu_; }
  Durability durability() const { return durability_; }

 private:
  ExecutionStore() = default;
  sqlite3* db_ = nullptr;
  std::mutex mu_;
  Durability durability_ = Durability::kFull;
};

}  // namespace vqi::workflow
