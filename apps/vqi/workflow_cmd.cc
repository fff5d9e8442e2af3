// vqi workflow validate|run|start|list|describe|history|resume|stop|task-success|
// task-failure|task-heartbeat: Amazon States Language executions (libs/workflow).
#include <cstdio>
#include <memory>
#include <string>

#include "cli.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/workflow/definition.h"
#include "vqi/workflow/engine.h"
#include "vqi/workflow/limits.h"
#include "vqi/workflow/service.h"
#include "vqi/workflow/store.h"

namespace vqi::cli {
namespace {

namespace wf = vqi::workflow;

struct WorkflowFlags {
  std::string definition, input = "{}", input_file, name, store, durability = "full", execution;
  std::string status, token, output = "{}", error, cause;
  bool local = false, skip_waits = false;
};

void PrintLine(const Json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

// A JSON payload from the command line, held to the workflow payload limits.
Result<Json> ParsePayload(const std::string& text, const std::string& where) {
  VQI_ASSIGN_OR_RETURN(Json j, ParseJson(text, where));
  std::string why;
  if (!wf::PayloadWithinLimits(j, &why, where))
    return ResourceExhausted(std::string(wf::kDataLimitExceeded) + ": " + why);
  return j;
}

Result<Json> ReadInput(const WorkflowFlags& f) {
  if (!f.input_file.empty()) {
    VQI_ASSIGN_OR_RETURN(std::string text, ReadFile(f.input_file));
    return ParsePayload(text, f.input_file);
  }
  return ParsePayload(f.input, "--input");
}

std::string StorePath(const Context& ctx, const WorkflowFlags& f) {
  if (!f.store.empty()) return f.store;
  (void)MakeDirs(ctx.home + "/workflow");
  return ctx.home + "/workflow/executions.db";
}

Result<std::unique_ptr<wf::ExecutionStore>> OpenStore(const Context& ctx, const WorkflowFlags& f) {
  wf::Durability d = wf::Durability::kFull;
  if (f.durability == "process")
    d = wf::Durability::kProcess;
  else if (f.durability == "every")
    d = wf::Durability::kEveryTransition;
  else if (f.durability != "full")
    return InvalidArgument("--durability must be full, process or every");
  return wf::ExecutionStore::Open(StorePath(ctx, f), d);
}

std::string DefaultName() {
  return "exec-" + std::to_string(wf::RealClock().NowMs()) + "-" + std::to_string(::getpid());
}

int ExitFor(const wf::ExecutionResult& r) {
  return r.status == wf::ExecutionStatus::kSucceeded ? 0 : 3;
}

Status Validate(const WorkflowFlags& f) {
  VQI_ASSIGN_OR_RETURN(std::string text, ReadFile(f.definition));
  VQI_ASSIGN_OR_RETURN(auto m, wf::LoadDefinitionText(text, f.definition));
  (void)m;
  std::printf("%s: valid\n", f.definition.c_str());
  return Status::Ok();
}

Result<int> RunOrStart(const Context& ctx, const WorkflowFlags& f, bool durable) {
  VQI_ASSIGN_OR_RETURN(std::string text, ReadFile(f.definition));
  VQI_ASSIGN_OR_RETURN(Json input, ReadInput(f));
  std::unique_ptr<wf::Clock> skip;
  if (f.skip_waits) skip = wf::NewSkippingClock(wf::RealClock().NowMs());
  if (!durable) {
    VQI_ASSIGN_OR_RETURN(auto machine, wf::LoadDefinitionText(text, f.definition));
    wf::ExecutionOptions opts;
    opts.execution_name = f.name.empty() ? "local" : f.name;
    opts.clock = skip.get();
    opts.max_workers = ctx.threads;
    wf::ExecutionResult r = wf::RunExecution(machine, input, opts);
    PrintLine(r.ToJson());
    return ExitFor(r);
  }
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f));
  wf::DurableOptions opts;
  opts.clock = skip.get();
  opts.max_workers = ctx.threads;
  opts.on_created = [](const wf::ExecutionRecord& rec) {
    std::fprintf(stderr, "execution %s started (%s)\n", rec.name.c_str(), rec.id.c_str());
  };
  VQI_ASSIGN_OR_RETURN(
      wf::ExecutionResult r,
      wf::StartExecution(*store, text, input, f.name.empty() ? DefaultName() : f.name, opts));
  PrintLine(r.ToJson());
  return ExitFor(r);
}

Status List(const Context& ctx, const WorkflowFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f));
  std::optional<wf::ExecutionStatus> status;
  if (!f.status.empty()) {
    status = wf::ParseExecutionStatus(f.status);
    if (!status)
      return InvalidArgument(
          "--status must be RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED, "
          "not '" +
          f.status + "'");
  }
  VQI_ASSIGN_OR_RETURN(auto recs, store->List(status));
  for (const auto& r : recs) {
    if (ctx.json) {
      PrintLine({{"name", r.name},
                 {"id", r.id},
                 {"status", wf::ExecutionStatusName(r.status)},
                 {"start_ms", r.start_ms}});
    } else {
      std::printf("%-40s %-10s %s\n", r.name.c_str(), wf::ExecutionStatusName(r.status),
                  r.id.c_str());
    }
  }
  return Status::Ok();
}

Status Describe(const Context& ctx, const WorkflowFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f));
  VQI_ASSIGN_OR_RETURN(auto rec, store->Get(f.execution));
  VQI_ASSIGN_OR_RETURN(auto hist, store->History(rec.id));
  std::printf("%s", wf::DescribeExecution(rec, hist).c_str());
  return Status::Ok();
}

Status History(const Context& ctx, const WorkflowFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f));
  VQI_ASSIGN_OR_RETURN(auto rec, store->Get(f.execution));
  VQI_ASSIGN_OR_RETURN(auto hist, store->History(rec.id));
  for (const auto& e : hist)
    PrintLine({{"id", e.id},
               {"previousEventId", e.previous_event_id},
               {"type", e.type},
               {"timestamp", e.timestamp_ms},
               {"details", e.details}});
  return Status::Ok();
}

Result<int> Resume(const Context& ctx, const WorkflowFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f));
  std::vector<wf::ExecutionRecord> todo;
  if (!f.execution.empty()) {
    VQI_ASSIGN_OR_RETURN(auto rec, store->Get(f.execution));
    todo.push_back(rec);
  } else {
    VQI_ASSIGN_OR_RETURN(todo, store->List(wf::ExecutionStatus::kRunning));
  }
  std::unique_ptr<wf::Clock> skip;
  if (f.skip_waits) skip = wf::NewSkippingClock(wf::RealClock().NowMs());
  wf::DurableOptions opts;
  opts.clock = skip.get();
  opts.max_workers = ctx.threads;
  // One execution's trouble never stops the others: each gets its own line. An execution
  // another live process is running is skipped ("skipped": why); any other error is
  // printed ("error": ...) and makes the exit code 1 once all are done.
  int code = 0;
  bool failed = false;
  for (const auto& rec : todo) {
    auto r = wf::ResumeExecution(*store, rec, opts);
    Json line;
    if (r.ok()) {
      line = r->ToJson();
      code = std::max(code, ExitFor(*r));
    } else if (r.status().code() == StatusCode::kFailedPrecondition) {
      line = {{"status", "SKIPPED"}, {"skipped", r.status().message()}};
    } else {
      line = {{"status", "ERROR"}, {"error", r.status().ToString()}};
      failed = true;
    }
    line["name"] = rec.name;
    PrintLine(line);
  }
  return failed ? std::max(code, 1) : code;
}

Status Stop(const Context& ctx, const WorkflowFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f));
  return store->RequestStop(f.execution);
}

Status TaskCallback(const Context& ctx, const WorkflowFlags& f, const std::string& kind) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f));
  if (kind == "heartbeat") return store->HeartbeatToken(f.token, wf::RealClock().NowMs());
  if (kind == "success") {
    VQI_ASSIGN_OR_RETURN(Json out, ParsePayload(f.output, "--output"));
    return store->CompleteToken(f.token, {{"status", "SUCCEEDED"}, {"output", out}});
  }
  return store->CompleteToken(f.token,
                              {{"status", "FAILED"}, {"error", f.error}, {"cause", f.cause}});
}

void Finish(const Result<int>& r) {
  if (!r.ok()) Exit(r.status());
  ExitCode(*r);
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  static WorkflowFlags f;
  CLI::App& w = Noun(app, "workflow", "Run Amazon States Language workflows");
  auto store_flags = [](CLI::App* c) {
    c->add_option("--store", f.store, "execution store (default <home>/workflow/executions.db)");
    c->add_option("--durability", f.durability,
                  "full (fsync, survives power loss) | process (survives kill -9) | every "
                  "(commit every transition)");
  };
  auto run_flags = [&](CLI::App* c) {
    c->add_option("--definition", f.definition, "ASL definition (JSON file)")->required();
    c->add_option("--input", f.input, "execution input (JSON text)");
    c->add_option("--input-file", f.input_file, "execution input (JSON file)");
    c->add_option("--name", f.name, "execution name");
    c->add_flag("--skip-waits", f.skip_waits, "run Wait states and retries on a skipping clock");
    store_flags(c);
  };
  auto* validate = w.add_subcommand("validate", "Check a definition without running it");
  validate->add_option("--definition", f.definition, "ASL definition (JSON file)")->required();
  validate->callback([] { Exit(Validate(f)); });

  auto* run = w.add_subcommand("run", "Run one execution and print its result as one JSON line");
  run_flags(run);
  run->add_flag("--local", f.local, "in-process, nothing stored");
  run->callback([&ctx] { Finish(RunOrStart(ctx, f, !f.local)); });

  auto* start = w.add_subcommand("start", "Start a durable execution and run it to its end");
  run_flags(start);
  start->callback([&ctx] { Finish(RunOrStart(ctx, f, true)); });

  auto* list = w.add_subcommand("list", "List stored executions");
  list->add_option("--status", f.status, "only this status (RUNNING, SUCCEEDED, ...)");
  store_flags(list);
  list->callback([&ctx] { Exit(List(ctx, f)); });

  auto* describe = w.add_subcommand("describe", "Show an execution state by state");
  describe->add_option("--execution", f.execution, "execution name or id")->required();
  store_flags(describe);
  describe->callback([&ctx] { Exit(Describe(ctx, f)); });

  auto* history = w.add_subcommand("history", "Print an execution's history events (JSON lines)");
  history->add_option("--execution", f.execution, "execution name or id")->required();
  store_flags(history);
  history->callback([&ctx] { Exit(History(ctx, f)); });

  auto* resume = w.add_subcommand("resume", "Continue unfinished executions after a crash");
  resume->add_option("--execution", f.execution, "only this execution (default: all RUNNING)");
  resume->add_flag("--skip-waits", f.skip_waits, "skip Wait states and retry delays");
  store_flags(resume);
  resume->callback([&ctx] { Finish(Resume(ctx, f)); });

  auto* stop = w.add_subcommand("stop", "Ask a running execution to stop (ABORTED)");
  stop->add_option("--execution", f.execution, "execution name or id")->required();
  store_flags(stop);
  stop->callback([&ctx] { Exit(Stop(ctx, f)); });

  auto* ok = w.add_subcommand("task-success", "Complete a callback task");
  ok->add_option("--token", f.token, "task token")->required();
  ok->add_option("--output", f.output, "task result (JSON)");
  store_flags(ok);
  ok->callback([&ctx] { Exit(TaskCallback(ctx, f, "success")); });

  auto* fail = w.add_subcommand("task-failure", "Fail a callback task");
  fail->add_option("--token", f.token, "task token")->required();
  fail->add_option("--error", f.error, "error name");
  fail->add_option("--cause", f.cause, "cause");
  store_flags(fail);
  fail->callback([&ctx] { Exit(TaskCallback(ctx, f, "failure")); });

  auto* beat = w.add_subcommand("task-heartbeat", "Report that a callback task is alive");
  beat->add_option("--token", f.token, "task token")->required();
  store_flags(beat);
  beat->callback([&ctx] { Exit(TaskCallback(ctx, f, "heartbeat")); });
});

}  // namespace
}  // namespace vqi::cli
