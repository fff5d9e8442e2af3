// Durable executions: create the record, run with the store's journal, watch for stop
// requests, record the result.
#include "vqi/workflow/service.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

#include "interp.h"
#include "store_watch.h"
#include "vqi/workflow/limits.h"

namespace vqi::workflow {
namespace {

Clock& ClockOf(const DurableOptions& options) {
  return options.clock != nullptr ? *options.clock : RealClock();
}

// Marks a leased execution FAILED with `cause` (the engine could not run it).
Result<ExecutionResult> FailExecution(ExecutionStore& store, const ExecutionRecord& rec,
                                      const DurableOptions& options, const std::string& cause) {
  ExecutionResult r;
  r.status = ExecutionStatus::kFailed;
  r.error = "States.Runtime";
  r.cause = cause;
  VQI_RETURN_IF_ERROR(store.Finish(rec.id, r, ClockOf(options).NowMs(), ProcessOwner()));
  return r;
}

// While an execution runs: renews its lease and watches for stop requests from other
// processes. It blocks on a StoreWatch (inotify on the store file: woken when any process
// commits) and re-reads the stop flag only then; on each wake it also raises the store's change
// count so callback tasks blocked in AwaitChange re-read their token. A safety wake every
// kSafetyWake covers a lost event. Without inotify it falls back to reading every 200 ms.
class Supervisor {
 public:
  Supervisor(ExecutionStore& store, const ExecutionRecord& rec, const DurableOptions& options)
      : store_(store), rec_(rec), options_(options) {
    auto watch = StoreWatch::Open(store_.path());
    if (watch.ok()) watch_ = std::move(*watch);
    thread_ = std::thread([this] { Loop(); });
  }
  ~Supervisor() { Stop(); }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (watch_ != nullptr) watch_->Interrupt();
    if (thread_.joinable()) thread_.join();
  }
  const std::atomic<bool>* cancel() const { return &cancel_; }
  bool lease_lost() const { return lease_lost_.load(); }

 private:
  static constexpr auto kSafetyWake = std::chrono::milliseconds(2000);
  static constexpr auto kFallbackPoll = std::chrono::milliseconds(200);
  static constexpr auto kCoalesce = std::chrono::milliseconds(5);

  bool done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }
  // Blocks until the store file changes, Stop(), or `max`.
  void Sleep(std::chrono::milliseconds max) {
    if (watch_ != nullptr) {
      watch_->Wait(std::min(max, kSafetyWake));
      return;
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::min(max, kFallbackPoll), [this] { return done_; });
  }

  void Loop() {
    using Clock = std::chrono::steady_clock;
    auto renew_every = std::chrono::milliseconds(std::max<int64_t>(options_.lease_ms / 3, 10));
    auto next_renew = Clock::now() + renew_every;
    auto last_check = Clock::now() - kCoalesce;
    while (!done()) {
      auto to_renew =
          std::chrono::duration_cast<std::chrono::milliseconds>(next_renew - Clock::now());
      Sleep(std::max(to_renew, std::chrono::milliseconds(1)));
      if (done()) break;
      // This process's own journal commits wake the watch too: read at most once per kCoalesce
      // (bounds the extra reads of a busy durable run; adds at most kCoalesce to a stop).
      const auto since = Clock::now() - last_check;
      if (since < kCoalesce) {
        std::unique_lock<std::mutex> lock(mu_);
        if (cv_.wait_for(lock, kCoalesce - since, [this] { return done_; })) break;
      }
      last_check = Clock::now();
      auto stop = store_.StopRequested(rec_.id);
      if (stop.ok() && *stop) cancel_ = true;
      if (Clock::now() >= next_renew) {
        next_renew += renew_every;
        Status s =
            store_.RenewLease(rec_.id, ProcessOwner(), RealClock().NowMs(), options_.lease_ms);
        if (s.code() == StatusCode::kFailedPrecondition) {
          lease_lost_ = true;
          cancel_ = true;
        }
      }
      store_.NotifyChange();  // after cancel_ is set: woken waiters see it
    }
  }

  ExecutionStore& store_;
  const ExecutionRecord& rec_;
  const DurableOptions& options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<bool> cancel_{false}, lease_lost_{false};
  std::unique_ptr<StoreWatch> watch_;
  std::thread thread_;
};

// Runs a leased execution to its end and records the result.
Result<ExecutionResult> Run(ExecutionStore& store, const ExecutionRecord& rec,
                            const DurableOptions& options,
                            std::shared_ptr<const StateMachine> machine) {
  if (machine == nullptr) {
    auto m = LoadDefinitionText(rec.definition, "definition");
    if (!m.ok())
      return FailExecution(store, rec, options,
                           "the stored definition is refused: " + m.status().message());
    machine = *m;
  }
  auto journal = store.OpenJournal(rec.id, ProcessOwner());
  if (!journal.ok()) {
    if (journal.status().code() != StatusCode::kDataLoss) return journal.status();
    return FailExecution(store, rec, options, journal.status().message());
  }
  VQI_ASSIGN_OR_RETURN(int64_t last_event, store.LastEventId(rec.id));
  ExecutionResult result;
  {
    Supervisor supervisor(store, rec, options);
    ExecutionOptions opts;
    opts.execution_name = rec.name;
    opts.state_machine_name = rec.state_machine;
    opts.execution_id = rec.id;
    opts.clock = options.clock;
    opts.resources = options.resources;
    opts.journal = journal->get();
    opts.max_workers = options.max_workers;
    opts.cancel = supervisor.cancel();
    opts.first_event_id = last_event + 1;
    opts.start_time_ms = rec.start_ms;
    result = RunExecution(machine, rec.input, opts);
    supervisor.Stop();
    if (supervisor.lease_lost())
      return FailedPrecondition("execution " + rec.name +
                                " was taken over by another process while running here");
  }
  // A journal that failed to commit (damaged file, full disk, lost lease) fails the call:
  // the execution is never reported SUCCEEDED with part of its history missing.
  VQI_RETURN_IF_ERROR((*journal)->Sync());
  VQI_RETURN_IF_ERROR(store.Finish(rec.id, result, ClockOf(options).NowMs(), ProcessOwner()));
  return result;
}

}  // namespace

Result<ExecutionResult> StartExecution(ExecutionStore& store, const std::string& definition_text,
                                       const Json& input, const std::string& name,
                                       const DurableOptions& options) {
  VQI_ASSIGN_OR_RETURN(auto machine, LoadDefinitionText(definition_text, "definition"));
  std::string why;
  if (!PayloadWithinLimits(input, &why, "The execution input"))
    return ResourceExhausted(std::string(kDataLimitExceeded) + ": " + why);
  Clock& clock = ClockOf(options);
  VQI_ASSIGN_OR_RETURN(ExecutionRecord rec,
                       store.Create(name, options.state_machine_name, definition_text, input,
                                    clock.NowMs(), ProcessOwner(), options.lease_ms));
  if (options.on_created) options.on_created(rec);
  return Run(store, rec, options, machine);
}

Result<ExecutionResult> ResumeExecution(ExecutionStore& store, const ExecutionRecord& record,
                                        const DurableOptions& options) {
  if (record.status != ExecutionStatus::kRunning) {
    ExecutionResult r;
    r.status = record.status;
    r.output = record.output;
    r.error = record.error;
    r.cause = record.cause;
    return r;
  }
  VQI_ASSIGN_OR_RETURN(
      ExecutionRecord rec,
      store.AcquireLease(record.id, ProcessOwner(), RealClock().NowMs(), options.lease_ms));
  if (rec.takeovers > kMaxTakeovers)
    return FailExecution(store, rec, options,
                         "the execution was taken over " + std::to_string(rec.takeovers) +
                             " times without finishing (each time the process running it "
                             "died; limit " +
                             std::to_string(kMaxTakeovers) + ", docs/limits.md)");
  return Run(store, rec, options, nullptr);
}

std::string DescribeExecution(const ExecutionRecord& rec,
                              const std::vector<HistoryEvent>& history) {
  std::ostringstream o;
  o << "Execution  " << rec.name << "\n"
    << "  id       " << rec.id << "\n"
    << "  status   " << ExecutionStatusName(rec.status) << "\n"
    << "  started  " << IsoTime(rec.start_ms) << "\n";
  if (rec.stop_ms != 0) o << "  stopped  " << IsoTime(rec.stop_ms) << "\n";
  o << "  input    " << rec.input.dump() << "\n";
  if (rec.status == ExecutionStatus::kSucceeded) o << "  output   " << rec.output.dump() << "\n";
  if (rec.error) o << "  error    " << *rec.error << "\n";
  if (rec.cause) o << "  cause    " << *rec.cause << "\n";
  o << "\nStates (in the order they were entered):\n";
  for (const HistoryEvent& e : history) {
    const std::string& t = e.type;
    bool entered = t.size() > 12 && t.compare(t.size() - 12, 12, "StateEntered") == 0;
    bool exited = t.size() > 11 && t.compare(t.size() - 11, 11, "StateExited") == 0;
    std::string name = e.details.value("name", "");
    if (entered) {
      o << "  #" << e.id << "  " << IsoTime(e.timestamp_ms) << "  -> " << name << " ("
        << t.substr(0, t.size() - 12) << ")\n";
    } else if (exited) {
      std::string out = e.details.contains("output") ? e.details["output"].dump() : "";
      if (out.size() > 100) out = out.substr(0, 97) + "...";
      o << "  #" << e.id << "  " << IsoTime(e.timestamp_ms) << "  <- " << name << "  output " << out
        << "\n";
    } else if (t == "TaskFailed" || t == "TaskTimedOut" || t == "ExecutionFailed" ||
               t.find("Failed") != std::string::npos) {
      o << "  #" << e.id << "  " << IsoTime(e.timestamp_ms) << "  !! " << t << " "
        << e.details.value("error", "") << " " << e.details.value("cause", "") << "\n";
    } else if (t == "TaskSucceeded" || t == "TaskScheduled") {
      o << "  #" << e.id << "  " << IsoTime(e.timestamp_ms) << "     " << t << " "
        << e.details.value("resource", "") << "\n";
    }
  }
  return o.str();
}

}  // namespace vqi::workflow
