// Durable executions: create the record, run with the store's journal, watch for stop
// requests, record the result.
#include "vqi/workflow/service.h"

#include <sstream>
#include <thread>

#include "interp.h"

namespace vqi::workflow {
namespace {

Result<ExecutionResult> Run(ExecutionStore& store, const ExecutionRecord& rec,
                            const DurableOptions& options,
                            std::shared_ptr<const StateMachine> machine) {
  if (machine == nullptr) {
    VQI_ASSIGN_OR_RETURN(machine, LoadDefinitionText(rec.definition, "definition"));
  }
  VQI_ASSIGN_OR_RETURN(std::unique_ptr<Journal> journal, store.OpenJournal(rec.id));
  VQI_ASSIGN_OR_RETURN(int64_t last_event, store.LastEventId(rec.id));
  std::atomic<bool> cancel{false}, done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      auto stop = store.StopRequested(rec.id);
      if (stop.ok() && *stop) {
        cancel = true;
        return;
      }
      for (int i = 0; i < 10 && !done.load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  ExecutionOptions opts;
  opts.execution_name = rec.name;
  opts.state_machine_name = rec.state_machine;
  opts.execution_id = rec.id;
  opts.clock = options.clock;
  opts.journal = journal.get();
  opts.max_workers = options.max_workers;
  opts.cancel = &cancel;
  opts.first_event_id = last_event + 1;
  opts.start_time_ms = rec.start_ms;
  ExecutionResult result = RunExecution(machine, rec.input, opts);
  done = true;
  watcher.join();
  VQI_RETURN_IF_ERROR(journal->Sync());
  Clock& clock = options.clock != nullptr ? *options.clock : RealClock();
  VQI_RETURN_IF_ERROR(store.Finish(rec.id, result, clock.NowMs()));
  return result;
}

}  // namespace

Result<ExecutionResult> StartExecution(ExecutionStore& store, const std::string& definition_text,
                                       const Json& input, const std::string& name,
                                       const DurableOptions& options) {
  VQI_ASSIGN_OR_RETURN(auto machine, LoadDefinitionText(definition_text, "definition"));
  Clock& clock = options.clock != nullptr ? *options.clock : RealClock();
  VQI_ASSIGN_OR_RETURN(ExecutionRecord rec,
                       store.Create(name, options.state_machine_name, definition_text, input,
                                    clock.NowMs()));
  if (options.on_created) options.on_created(rec);
  return Run(store, rec, options, machine);
}

Result<ExecutionResult> ResumeExecution(ExecutionStore& store, const ExecutionRecord& record,
                                        const DurableOptions& options) {
  if (record.status != "RUNNING") {
    ExecutionResult r;
    r.status = record.status;
    r.output = record.output;
    r.error = record.error;
    r.cause = record.cause;
    return r;
  }
  return Run(store, record, options, nullptr);
}

std::string DescribeExecution(const ExecutionRecord& rec, const std::vector<HistoryEvent>& history) {
  std::ostringstream o;
  o << "Execution  " << rec.name << "\n"
    << "  id       " << rec.id << "\n"
    << "  status   " << rec.status << "\n"
    << "  started  " << IsoTime(rec.start_ms) << "\n";
  if (rec.stop_ms != 0) o << "  stopped  " << IsoTime(rec.stop_ms) << "\n";
  o << "  input    " << rec.input.dump() << "\n";
  if (rec.status == "SUCCEEDED") o << "  output   " << rec.output.dump() << "\n";
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
      o << "  #" << e.id << "  " << IsoTime(e.timestamp_ms) << "  <- " << name << "  output "
        << out << "\n";
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
