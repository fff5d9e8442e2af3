// vqi:exec: runs a local program (vqi::RunProcess) with the task input as JSON on stdin.
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/process.h"
#include "vqi/workflow/limits.h"
#include "vqi/workflow/resources.h"

namespace vqi::workflow {

TaskOutcome RunExecResource(const TaskRequest& req) {
  // Command from the input: {"Command": ["prog", "arg"...] | "prog", "Input": <stdin JSON>}.
  ProcessOptions p;
  Json stdin_json = req.input;
  if (req.input.is_object() && req.input.contains("Command")) {
    const Json& c = req.input["Command"];
    if (c.is_string()) p.argv.push_back(c.get<std::string>());
    if (c.is_array())
      for (const Json& a : c)
        if (a.is_string()) p.argv.push_back(a.get<std::string>());
    stdin_json = req.input.contains("Input") ? req.input["Input"] : Json::object();
  }
  if (p.argv.empty())
    return TaskOutcome::Failure("vqi.Exec.BadRequest",
                                "vqi:exec needs \"Command\": [program, args...] in its input");
  p.env.push_back("VQI_IDEMPOTENCY_KEY=" + req.idempotency_key);
  if (!req.task_token.empty()) p.env.push_back("VQI_TASK_TOKEN=" + req.task_token);
  p.stdin_data = stdin_json.dump(-1, ' ', false, Json::error_handler_t::replace);
  p.timeout_seconds = req.timeout_seconds;
  p.cancel = req.cancel;
  // stdout beyond the payload limit could never be a task result.
  p.max_output_bytes = kMaxPayloadBytes + 1;
  auto run = RunProcess(p);
  if (!run.ok()) return TaskOutcome::Failure("vqi.Exec.Failed", run.status().message());
  if (run->timed_out) return TaskOutcome::Failure("States.Timeout", "");
  if (run->cancelled) return TaskOutcome::Failure("States.Aborted", "stopped");
  const std::string& err = run->err;
  std::string tail = err.size() > 2000 ? err.substr(err.size() - 2000) : err;
  int code = run->signal != 0 ? 128 + run->signal : run->exit_code;
  if (run->out_truncated)
    return TaskOutcome::Failure(
        kDataLimitExceeded, "the program printed more than " + std::to_string(kMaxPayloadBytes) +
                                " bytes on stdout (256 KiB, docs/limits.md)");
  auto parsed = ParseJson(run->out.empty() ? "null" : run->out, "stdout");
  if (code != 0) {
    std::string error = "vqi.Exit." + std::to_string(code);
    if (parsed.ok() && parsed->is_object() && (*parsed)["Error"].is_string())
      error = (*parsed)["Error"].get<std::string>();
    return TaskOutcome::Failure(error, tail);
  }
  if (!parsed.ok())
    return TaskOutcome::Failure("vqi.Exec.BadOutput",
                                "stdout is not JSON: " + parsed.status().message());
  return TaskOutcome::Success(*parsed);
}

}  // namespace vqi::workflow
