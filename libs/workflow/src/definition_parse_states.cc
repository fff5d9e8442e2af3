// Per-state-type field parsing: Task, Wait, Fail, Parallel, Map, Retry and Catch.
#include <set>

#include "definition_internal.h"
#include "vqi/workflow/jsonpath.h"

namespace vqi::workflow {
namespace {

Result<std::vector<std::string>> ErrorEquals(const Json& r, const std::string& where) {
  auto it = r.find("ErrorEquals");
  if (it == r.end()) return InvalidArgument(where + "ErrorEquals: required field is missing");
  if (!it->is_array() || it->empty())
    return InvalidArgument(where + "ErrorEquals: must be a non-empty array of strings");
  std::vector<std::string> out;
  for (const Json& e : *it) {
    if (!e.is_string()) return InvalidArgument(where + "ErrorEquals: must hold strings");
    out.push_back(e.get<std::string>());
  }
  for (const std::string& e : out)
    if (e == "States.ALL" && out.size() > 1)
      return InvalidArgument(where + "ErrorEquals: States.ALL must be the only error name");
  return out;
}

}  // namespace

Status ParseRetryCatch(const Json& sj, const std::string& sw, State* st) {
  if (auto it = sj.find("Retry"); it != sj.end()) {
    if (!it->is_array()) return InvalidArgument(sw + "Retry: must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& r = (*it)[i];
      std::string w = sw + "Retry[" + std::to_string(i) + "].";
      if (!r.is_object())
        return InvalidArgument(sw + "Retry[" + std::to_string(i) + "]: must be an object");
      static const std::set<std::string> kKeys = {
          "ErrorEquals",     "IntervalSeconds", "MaxAttempts", "BackoffRate",
          "MaxDelaySeconds", "JitterStrategy",  "Comment"};
      for (auto& [k, v] : r.items())
        if (!kKeys.count(k)) return InvalidArgument(w + k + ": unknown field");
      Retrier rt;
      VQI_ASSIGN_OR_RETURN(rt.error_equals, ErrorEquals(r, w));
      if (auto f = r.find("IntervalSeconds"); f != r.end()) {
        if (!f->is_number_integer() || f->get<long long>() < 1 || f->get<long long>() > 99999999)
          return InvalidArgument(w + "IntervalSeconds: must be an integer >= 1");
        rt.interval_seconds = f->get<double>();
      }
      if (auto f = r.find("MaxAttempts"); f != r.end()) {
        if (!f->is_number_integer() || f->get<long long>() < 0 || f->get<long long>() > 99999999)
          return InvalidArgument(w + "MaxAttempts: must be a non-negative integer");
        rt.max_attempts = f->get<int>();
      }
      if (auto f = r.find("BackoffRate"); f != r.end()) {
        if (!f->is_number() || f->get<double>() < 1.0 || f->get<double>() > 1e6)
          return InvalidArgument(w + "BackoffRate: must be a number from 1.0 to 1000000");
        rt.backoff_rate = f->get<double>();
      }
      if (auto f = r.find("MaxDelaySeconds"); f != r.end()) {
        if (!f->is_number_integer() || f->get<double>() < 1 || f->get<double>() > kMaxWaitSeconds)
          return InvalidArgument(w + "MaxDelaySeconds: must be an integer from 1 to " +
                                 std::to_string(kMaxWaitSeconds) + " (limit: docs/limits.md)");
        rt.max_delay_seconds = f->get<double>();
      }
      if (auto f = r.find("JitterStrategy"); f != r.end()) {
        if (*f != "FULL" && *f != "NONE")
          return InvalidArgument(w + "JitterStrategy: must be \"FULL\" or \"NONE\"");
        rt.jitter_full = *f == "FULL";
      }
      for (const std::string& e : rt.error_equals)
        if (e == "States.ALL" && i + 1 != it->size())
          return InvalidArgument(w + "ErrorEquals: a retrier with States.ALL must be last");
      st->retry.push_back(std::move(rt));
    }
  }
  if (auto it = sj.find("Catch"); it != sj.end()) {
    if (!it->is_array()) return InvalidArgument(sw + "Catch: must be an array");
    bool jsonata = st->query_language == QueryLanguage::kJsonata;
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& c = (*it)[i];
      std::string w = sw + "Catch[" + std::to_string(i) + "].";
      if (!c.is_object())
        return InvalidArgument(sw + "Catch[" + std::to_string(i) + "]: must be an object");
      static const std::set<std::string> kKeys = {"ErrorEquals", "Next",   "ResultPath",
                                                  "Output",      "Assign", "Comment"};
      for (auto& [k, v] : c.items())
        if (!kKeys.count(k)) return InvalidArgument(w + k + ": unknown field");
      Catcher ct;
      VQI_ASSIGN_OR_RETURN(ct.error_equals, ErrorEquals(c, w));
      VQI_ASSIGN_OR_RETURN(ct.next, StringField(c, "Next", w, true));
      if (jsonata && c.contains("ResultPath"))
        return InvalidArgument(w + "ResultPath: field is not supported with QueryLanguage JSONata");
      if (!jsonata && c.contains("Output"))
        return InvalidArgument(w + "Output: field is only supported with QueryLanguage JSONata");
      VQI_ASSIGN_OR_RETURN(ct.result_path, ParsePathField(c, "ResultPath", w, false));
      ct.output = Field(c, "Output");
      ct.assign = Field(c, "Assign");
      VQI_RETURN_IF_ERROR(CheckPayload(ct.assign, w + "Assign", jsonata));
      VQI_RETURN_IF_ERROR(CheckPayload(ct.output, w + "Output", true));
      for (const std::string& e : ct.error_equals)
        if (e == "States.ALL" && i + 1 != it->size())
          return InvalidArgument(w + "ErrorEquals: a catcher with States.ALL must be last");
      st->catch_.push_back(std::move(ct));
    }
  }
  return Status::Ok();
}

Status ParseTask(const Json& sj, const std::string& sw, State* st) {
  VQI_ASSIGN_OR_RETURN(st->resource, StringField(sj, "Resource", sw, true));
  if (st->resource.empty()) return InvalidArgument(sw + "Resource: must not be empty");
  st->timeout_seconds = Field(sj, "TimeoutSeconds");
  st->heartbeat_seconds = Field(sj, "HeartbeatSeconds");
  VQI_RETURN_IF_ERROR(
      CheckNumberOrExpr(st->timeout_seconds, sw + "TimeoutSeconds", true, 1, kMaxWaitSeconds));
  VQI_RETURN_IF_ERROR(
      CheckNumberOrExpr(st->heartbeat_seconds, sw + "HeartbeatSeconds", true, 1, kMaxWaitSeconds));
  VQI_ASSIGN_OR_RETURN(st->timeout_seconds_path, StringField(sj, "TimeoutSecondsPath", sw, false));
  VQI_ASSIGN_OR_RETURN(st->heartbeat_seconds_path,
                       StringField(sj, "HeartbeatSecondsPath", sw, false));
  if (st->timeout_seconds.present && !st->timeout_seconds_path.empty())
    return InvalidArgument(sw + "TimeoutSecondsPath: cannot be used with TimeoutSeconds");
  if (st->heartbeat_seconds.present && !st->heartbeat_seconds_path.empty())
    return InvalidArgument(sw + "HeartbeatSecondsPath: cannot be used with HeartbeatSeconds");
  for (const char* f : {"TimeoutSecondsPath", "HeartbeatSecondsPath"})
    if (sj.contains(f)) VQI_RETURN_IF_ERROR(CheckPath(sj[f], sw + f, false, true));
  if (st->timeout_seconds.present && st->heartbeat_seconds.present &&
      st->timeout_seconds.value.is_number() && st->heartbeat_seconds.value.is_number() &&
      st->heartbeat_seconds.value.get<double>() >= st->timeout_seconds.value.get<double>())
    return InvalidArgument(sw + "HeartbeatSeconds: must be smaller than TimeoutSeconds");
  st->credentials = Field(sj, "Credentials");
  return Status::Ok();
}

Status ParseWait(const Json& sj, const std::string& sw, State* st) {
  int n = 0;
  for (const char* f : {"Seconds", "SecondsPath", "Timestamp", "TimestampPath"})
    n += sj.contains(f);
  if (n != 1)
    return InvalidArgument(sw +
                           "Seconds: a Wait state needs exactly one of Seconds, "
                           "SecondsPath, Timestamp, TimestampPath");
  st->seconds = Field(sj, "Seconds");
  st->timestamp = Field(sj, "Timestamp");
  VQI_RETURN_IF_ERROR(CheckNumberOrExpr(st->seconds, sw + "Seconds", true, 0, kMaxWaitSeconds));
  if (st->timestamp.present) {
    if (!st->timestamp.value.is_string())
      return InvalidArgument(sw + "Timestamp: must be an ISO-8601 string");
    std::string expr;
    if (IsJsonataExpression(st->timestamp.value, &expr)) {
      Status s = CheckJsonataExpr(expr);
      if (!s.ok()) return InvalidArgument(sw + "Timestamp: " + s.message());
    }
  }
  VQI_ASSIGN_OR_RETURN(st->seconds_path, StringField(sj, "SecondsPath", sw, false));
  VQI_ASSIGN_OR_RETURN(st->timestamp_path, StringField(sj, "TimestampPath", sw, false));
  for (const char* f : {"SecondsPath", "TimestampPath"})
    if (sj.contains(f)) VQI_RETURN_IF_ERROR(CheckPath(sj[f], sw + f, false, true));
  return Status::Ok();
}

Status ParseFail(const Json& sj, const std::string& sw, State* st) {
  st->error = Field(sj, "Error");
  st->cause = Field(sj, "Cause");
  if (st->error.present && sj.contains("ErrorPath"))
    return InvalidArgument(sw + "ErrorPath: cannot be used with Error");
  if (st->cause.present && sj.contains("CausePath"))
    return InvalidArgument(sw + "CausePath: cannot be used with Cause");
  for (const JsonField* f : {&st->error, &st->cause})
    if (f->present && !f->value.is_string())
      return InvalidArgument(sw + (f == &st->error ? "Error" : "Cause") + ": must be a string");
  VQI_ASSIGN_OR_RETURN(st->error_path, StringField(sj, "ErrorPath", sw, false));
  VQI_ASSIGN_OR_RETURN(st->cause_path, StringField(sj, "CausePath", sw, false));
  for (const char* f : {"ErrorPath", "CausePath"}) {
    if (!sj.contains(f)) continue;
    const std::string s = sj[f].get<std::string>();
    if (s.rfind("States.", 0) == 0) {
      VQI_RETURN_IF_ERROR(CheckIntrinsicSyntax(s).WithContext(sw + f));
    } else {
      VQI_RETURN_IF_ERROR(CheckPath(sj[f], sw + f, false, true));
    }
  }
  return Status::Ok();
}

Status ParseParallel(const Json& sj, const std::string& sw, State* st) {
  auto it = sj.find("Branches");
  if (it == sj.end()) return InvalidArgument(sw + "Branches: required field is missing");
  if (!it->is_array() || it->empty())
    return InvalidArgument(sw + "Branches: must be a non-empty array");
  for (size_t i = 0; i < it->size(); ++i) {
    VQI_ASSIGN_OR_RETURN(auto b, ParseMachine((*it)[i], sw + "Branches[" + std::to_string(i) + "].",
                                              st->query_language));
    st->branches.push_back(std::move(b));
  }
  return Status::Ok();
}

Status ParseMap(const Json& sj, const std::string& sw, State* st) {
  bool has_proc = sj.contains("ItemProcessor"), has_iter = sj.contains("Iterator");
  if (has_proc == has_iter)
    return InvalidArgument(sw +
                           "ItemProcessor: a Map state needs exactly one of ItemProcessor "
                           "and Iterator");
  if (sj.contains("ItemSelector") && sj.contains("Parameters"))
    return InvalidArgument(sw + "ItemSelector: cannot be used together with Parameters");
  const char* pname = has_proc ? "ItemProcessor" : "Iterator";
  Json proc = sj[pname];
  if (proc.is_object() && proc.contains("ProcessorConfig")) {
    const Json& cfg = proc["ProcessorConfig"];
    if (!cfg.is_object())
      return InvalidArgument(sw + pname + ".ProcessorConfig: must be an object");
    if (auto m = cfg.find("Mode"); m != cfg.end()) {
      if (*m != "INLINE" && *m != "DISTRIBUTED")
        return InvalidArgument(sw + pname + ".ProcessorConfig.Mode: must be INLINE or DISTRIBUTED");
      st->distributed = *m == "DISTRIBUTED";
    }
  }
  VQI_ASSIGN_OR_RETURN(auto p, ParseMachine(proc, sw + pname + ".", st->query_language));
  st->processor = std::move(p);
  if (sj.contains("ItemReader"))
    return InvalidArgument(sw + "ItemReader: reading items from external stores is not supported");
  if (sj.contains("ItemsPath")) {
    VQI_RETURN_IF_ERROR(CheckPath(sj["ItemsPath"], sw + "ItemsPath", false, true));
    st->items_path = sj["ItemsPath"].get<std::string>();
  }
  st->items = Field(sj, "Items");
  st->item_selector =
      sj.contains("ItemSelector") ? Field(sj, "ItemSelector") : Field(sj, "Parameters");
  if (sj.contains("Parameters")) st->parameters = JsonField{};
  VQI_RETURN_IF_ERROR(CheckPayload(st->item_selector, sw + "ItemSelector",
                                   st->query_language == QueryLanguage::kJsonata));
  st->item_batcher = Field(sj, "ItemBatcher");
  if (st->item_batcher.present && !st->item_batcher.value.is_object())
    return InvalidArgument(sw + "ItemBatcher: must be an object");
  st->max_concurrency = Field(sj, "MaxConcurrency");
  st->tolerated_failure_count = Field(sj, "ToleratedFailureCount");
  st->tolerated_failure_percentage = Field(sj, "ToleratedFailurePercentage");
  VQI_RETURN_IF_ERROR(CheckNumberOrExpr(st->max_concurrency, sw + "MaxConcurrency", true, 0));
  VQI_RETURN_IF_ERROR(
      CheckNumberOrExpr(st->tolerated_failure_count, sw + "ToleratedFailureCount", true, 0));
  VQI_RETURN_IF_ERROR(CheckNumberOrExpr(st->tolerated_failure_percentage,
                                        sw + "ToleratedFailurePercentage", false, 0));
  struct {
    const char* name;
    std::string* dst;
    const JsonField* exclusive;
  } paths[] = {{"MaxConcurrencyPath", &st->max_concurrency_path, &st->max_concurrency},
               {"ToleratedFailureCountPath", &st->tolerated_failure_count_path,
                &st->tolerated_failure_count},
               {"ToleratedFailurePercentagePath", &st->tolerated_failure_percentage_path,
                &st->tolerated_failure_percentage}};
  for (auto& p : paths) {
    if (!sj.contains(p.name)) continue;
    if (p.exclusive->present)
      return InvalidArgument(sw + p.name + ": cannot be used together with " +
                             std::string(p.name).substr(0, std::string(p.name).size() - 4));
    VQI_RETURN_IF_ERROR(CheckPath(sj[p.name], sw + p.name, false, true));
    *p.dst = sj[p.name].get<std::string>();
  }
  VQI_ASSIGN_OR_RETURN(st->label, StringField(sj, "Label", sw, false));
  return Status::Ok();
}

}  // namespace vqi::workflow
