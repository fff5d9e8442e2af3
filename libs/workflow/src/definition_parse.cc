// Builds the typed tree from JSON, checking the shape of every field (LocalStack's parse/).
// Cross-state rules live in validator.cc.
#include <cctype>
#include <set>

#include "definition_internal.h"
#include "vqi/workflow/jsonpath.h"

namespace vqi::workflow {

const char* StateTypeName(StateType t) {
  switch (t) {
    case StateType::kTask:
      return "Task";
    case StateType::kPass:
      return "Pass";
    case StateType::kChoice:
      return "Choice";
    case StateType::kWait:
      return "Wait";
    case StateType::kSucceed:
      return "Succeed";
    case StateType::kFail:
      return "Fail";
    case StateType::kParallel:
      return "Parallel";
    case StateType::kMap:
      return "Map";
  }
  return "?";
}

bool IsJsonataExpression(const Json& s, std::string* expr) {
  if (!s.is_string()) return false;
  const std::string& t = s.get_ref<const std::string&>();
  if (t.size() < 4 || t.compare(0, 2, "{%") != 0 || t.compare(t.size() - 2, 2, "%}") != 0)
    return false;
  if (expr != nullptr) {
    size_t b = 2, e = t.size() - 2;
    while (b < e && std::isspace(static_cast<unsigned char>(t[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(t[e - 1]))) --e;
    *expr = t.substr(b, e - b);
  }
  return true;
}

namespace {

const std::set<std::string> kCommon = {"Type", "Comment", "QueryLanguage"};
const std::set<std::string> kFlow = {"Next", "End"};
const std::set<std::string> kJsonPathIo = {"InputPath", "OutputPath"};

std::set<std::string> AllowedFields(StateType t) {
  std::set<std::string> f = kCommon;
  auto add = [&f](std::initializer_list<const char*> names) {
    for (const char* n : names) f.insert(n);
  };
  switch (t) {
    case StateType::kPass:
      add({"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result", "Assign",
           "Output"});
      break;
    case StateType::kTask:
      add({"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector",
           "Resource", "Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds",
           "HeartbeatSecondsPath", "Credentials", "Arguments", "Output", "Assign"});
      break;
    case StateType::kChoice:
      add({"Choices", "Default", "InputPath", "OutputPath", "Assign", "Output"});
      break;
    case StateType::kWait:
      add({"Next", "End", "Seconds", "SecondsPath", "Timestamp", "TimestampPath", "InputPath",
           "OutputPath", "Assign", "Output"});
      break;
    case StateType::kSucceed:
      add({"InputPath", "OutputPath", "Output"});
      break;
    case StateType::kFail:
      add({"Error", "ErrorPath", "Cause", "CausePath"});
      break;
    case StateType::kParallel:
      add({"Next", "End", "Branches", "InputPath", "OutputPath", "ResultPath", "Parameters",
           "ResultSelector", "Retry", "Catch", "Arguments", "Output", "Assign"});
      break;
    case StateType::kMap:
      add({"Next",
           "End",
           "ItemProcessor",
           "Iterator",
           "ItemsPath",
           "Items",
           "ItemSelector",
           "Parameters",
           "ItemReader",
           "ItemBatcher",
           "ResultWriter",
           "MaxConcurrency",
           "MaxConcurrencyPath",
           "ToleratedFailureCount",
           "ToleratedFailureCountPath",
           "ToleratedFailurePercentage",
           "ToleratedFailurePercentagePath",
           "Label",
           "InputPath",
           "OutputPath",
           "ResultPath",
           "ResultSelector",
           "Retry",
           "Catch",
           "Output",
           "Assign",
           "Arguments"});
      break;
  }
  return f;
}

const std::set<std::string> kJsonPathOnly = {"InputPath",
                                             "OutputPath",
                                             "ResultPath",
                                             "Parameters",
                                             "ResultSelector",
                                             "ItemsPath",
                                             "SecondsPath",
                                             "TimestampPath",
                                             "ErrorPath",
                                             "CausePath",
                                             "TimeoutSecondsPath",
                                             "HeartbeatSecondsPath",
                                             "MaxConcurrencyPath",
                                             "ToleratedFailureCountPath",
                                             "ToleratedFailurePercentagePath"};
const std::set<std::string> kJsonataOnly = {"Arguments", "Output", "Items"};

Result<QueryLanguage> ParseQl(const Json& v, const std::string& where) {
  if (!v.is_string()) return InvalidArgument(where + "QueryLanguage: must be a string");
  if (v == "JSONPath") return QueryLanguage::kJsonPath;
  if (v == "JSONata") return QueryLanguage::kJsonata;
  return InvalidArgument(where + "QueryLanguage: must be \"JSONPath\" or \"JSONata\", got " +
                         v.dump());
}

}  // namespace

Status CheckPath(const Json& v, const std::string& field, bool allow_null, bool allow_vars) {
  if (v.is_null()) {
    if (allow_null) return Status::Ok();
    return InvalidArgument(field + ": must be a JSONPath string, got null");
  }
  if (!v.is_string()) return InvalidArgument(field + ": must be a JSONPath string");
  auto p = JsonPath::Parse(v.get<std::string>());
  if (!p.ok()) return InvalidArgument(field + ": " + p.status().message());
  if (!allow_vars && p->root() != JsonPath::Root::kInput)
    return InvalidArgument(field + ": must be a path into the state input ('$...')");
  return Status::Ok();
}

Result<PathField> ParsePathField(const Json& s, const char* name, const std::string& where,
                                 bool allow_vars) {
  PathField f;
  auto it = s.find(name);
  if (it == s.end()) return f;
  VQI_RETURN_IF_ERROR(CheckPath(*it, where + name, true, allow_vars));
  f.present = true;
  f.is_null = it->is_null();
  if (!f.is_null) f.path = it->get<std::string>();
  return f;
}

JsonField Field(const Json& s, const char* name) {
  JsonField f;
  auto it = s.find(name);
  if (it != s.end()) {
    f.present = true;
    f.value = *it;
  }
  return f;
}

Result<std::string> StringField(const Json& s, const char* name, const std::string& where,
                                bool required) {
  auto it = s.find(name);
  if (it == s.end()) {
    if (required) return InvalidArgument(where + name + ": required field is missing");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(where + name + ": must be a string");
  return it->get<std::string>();
}

Status CheckNumberOrExpr(const JsonField& f, const std::string& field, bool integer, double min,
                         double max) {
  if (!f.present) return Status::Ok();
  if (IsJsonataExpression(f.value)) {
    std::string expr;
    IsJsonataExpression(f.value, &expr);
    Status st = CheckJsonataExpr(expr);
    if (!st.ok()) return InvalidArgument(field + ": " + st.message());
    return Status::Ok();
  }
  if (!f.value.is_number()) return InvalidArgument(field + ": must be a number");
  if (integer && !f.value.is_number_integer())
    return InvalidArgument(field + ": must be an integer");
  if (f.value.get<double>() < min)
    return InvalidArgument(field + ": must be at least " + JsonNumberText(min));
  if (f.value.get<double>() > max)
    return InvalidArgument(field + ": must be at most " + JsonNumberText(max) +
                           " (limit: docs/limits.md)");
  return Status::Ok();
}

std::string JsonNumberText(double d) {
  Json j = d;
  if (d == static_cast<double>(static_cast<long long>(d))) j = static_cast<long long>(d);
  return j.dump();
}

namespace {
// Parallel/Map nesting of the definition being parsed on this thread (ParseMachine recurses
// through ParseParallel/ParseMap).
thread_local int g_nesting = 0;
struct NestingGuard {
  NestingGuard() { ++g_nesting; }
  ~NestingGuard() { --g_nesting; }
};
}  // namespace

Result<std::shared_ptr<StateMachine>> ParseMachine(const Json& def, const std::string& where,
                                                   QueryLanguage inherited) {
  NestingGuard nesting;
  // The root machine is level 1; each Parallel branch / Map processor adds one.
  if (g_nesting > kMaxStateNesting + 1)
    return InvalidArgument(where + "Type: Parallel/Map states are nested deeper than " +
                           std::to_string(kMaxStateNesting) + " levels (limit: docs/limits.md)");
  if (!def.is_object())
    return InvalidArgument((where.empty() ? "definition" : where) + ": must be a JSON object");
  auto m = std::make_shared<StateMachine>();
  m->where = where;
  m->query_language = inherited;
  for (auto& [k, v] : def.items()) {
    static const std::set<std::string> kTop = {"StartAt",        "States",         "Comment",
                                               "Version",        "TimeoutSeconds", "QueryLanguage",
                                               "ProcessorConfig"};
    if (!kTop.count(k)) return InvalidArgument(where + k + ": unknown field");
  }
  if (auto it = def.find("QueryLanguage"); it != def.end()) {
    VQI_ASSIGN_OR_RETURN(m->query_language, ParseQl(*it, where));
  }
  VQI_ASSIGN_OR_RETURN(m->start_at, StringField(def, "StartAt", where, true));
  VQI_ASSIGN_OR_RETURN(m->comment, StringField(def, "Comment", where, false));
  if (auto it = def.find("TimeoutSeconds"); it != def.end()) {
    if (!it->is_number_integer() || it->get<double>() < 0 || it->get<double>() > kMaxWaitSeconds)
      return InvalidArgument(where + "TimeoutSeconds: must be an integer from 0 to " +
                             std::to_string(kMaxWaitSeconds) + " (limit: docs/limits.md)");
    m->timeout_seconds = it->get<double>();
  }
  auto states = def.find("States");
  if (states == def.end()) return InvalidArgument(where + "States: required field is missing");
  if (!states->is_object() || states->empty())
    return InvalidArgument(where + "States: must be a non-empty object");
  for (auto& [name, sj] : states->items()) {
    std::string sw = where + "States." + name + ".";
    if (name.empty() || name.size() > 80)
      return InvalidArgument(where + "States." + name + ": state names must be 1-80 characters");
    if (!sj.is_object()) return InvalidArgument(where + "States." + name + ": must be an object");
    State st;
    st.name = name;
    VQI_RETURN_IF_ERROR(ParseState(sj, sw, m->query_language, &st));
    m->states.emplace(name, std::move(st));
  }
  return m;
}

Status ParseState(const Json& sj, const std::string& sw, QueryLanguage inherited, State* st) {
  auto type = sj.find("Type");
  if (type == sj.end()) return InvalidArgument(sw + "Type: required field is missing");
  static const std::map<std::string, StateType> kTypes = {
      {"Task", StateType::kTask},         {"Pass", StateType::kPass},
      {"Choice", StateType::kChoice},     {"Wait", StateType::kWait},
      {"Succeed", StateType::kSucceed},   {"Fail", StateType::kFail},
      {"Parallel", StateType::kParallel}, {"Map", StateType::kMap}};
  if (!type->is_string() || !kTypes.count(type->get<std::string>()))
    return InvalidArgument(sw + "Type: unknown state type " + type->dump());
  st->type = kTypes.at(type->get<std::string>());
  st->query_language = inherited;
  if (auto it = sj.find("QueryLanguage"); it != sj.end()) {
    VQI_ASSIGN_OR_RETURN(st->query_language, ParseQl(*it, sw));
    if (inherited == QueryLanguage::kJsonata && st->query_language == QueryLanguage::kJsonPath)
      return InvalidArgument(sw +
                             "QueryLanguage: a state cannot use JSONPath when the state "
                             "machine uses JSONata");
  }
  bool jsonata = st->query_language == QueryLanguage::kJsonata;
  std::set<std::string> allowed = AllowedFields(st->type);
  for (auto& [k, v] : sj.items()) {
    if (!allowed.count(k))
      return InvalidArgument(sw + k + ": field is not supported by " + StateTypeName(st->type) +
                             " states");
    if (jsonata && kJsonPathOnly.count(k))
      return InvalidArgument(sw + k + ": field is not supported with QueryLanguage JSONata");
    if (!jsonata && kJsonataOnly.count(k))
      return InvalidArgument(sw + k + ": field is only supported with QueryLanguage JSONata");
  }
  // Flow.
  bool terminal = st->type == StateType::kChoice || st->type == StateType::kSucceed ||
                  st->type == StateType::kFail;
  VQI_ASSIGN_OR_RETURN(st->next, StringField(sj, "Next", sw, false));
  if (auto it = sj.find("End"); it != sj.end()) {
    if (!it->is_boolean()) return InvalidArgument(sw + "End: must be a boolean");
    st->end = it->get<bool>();
  }
  if (!terminal) {
    if (sj.contains("Next") && st->end)
      return InvalidArgument(sw + "End: a state cannot have both Next and End");
    if (!sj.contains("Next") && !st->end)
      return InvalidArgument(sw + "Next: required field is missing (or set \"End\": true)");
  }
  // I/O.
  VQI_ASSIGN_OR_RETURN(st->input_path, ParsePathField(sj, "InputPath", sw, true));
  VQI_ASSIGN_OR_RETURN(st->output_path, ParsePathField(sj, "OutputPath", sw, true));
  VQI_ASSIGN_OR_RETURN(st->result_path, ParsePathField(sj, "ResultPath", sw, false));
  if (st->result_path.present && !st->result_path.is_null) {
    auto p = JsonPath::Parse(st->result_path.path);
    if (p.ok() && !p->definite())
      return InvalidArgument(sw + "ResultPath: must be a definite path (no wildcards)");
  }
  st->parameters = Field(sj, "Parameters");
  st->result_selector = Field(sj, "ResultSelector");
  st->result = Field(sj, "Result");
  st->arguments = Field(sj, "Arguments");
  st->output = Field(sj, "Output");
  st->assign = Field(sj, "Assign");
  for (const JsonField* f : {&st->parameters, &st->result_selector})
    if (f->present && !f->value.is_object())
      return InvalidArgument(sw + (f == &st->parameters ? "Parameters" : "ResultSelector") +
                             ": must be an object");
  if (st->assign.present && !st->assign.value.is_object())
    return InvalidArgument(sw + "Assign: must be an object");
  VQI_RETURN_IF_ERROR(CheckPayload(st->parameters, sw + "Parameters", false));
  VQI_RETURN_IF_ERROR(CheckPayload(st->result_selector, sw + "ResultSelector", false));
  VQI_RETURN_IF_ERROR(CheckPayload(st->assign, sw + "Assign", jsonata));
  VQI_RETURN_IF_ERROR(CheckPayload(st->arguments, sw + "Arguments", true));
  VQI_RETURN_IF_ERROR(CheckPayload(st->output, sw + "Output", true));
  VQI_RETURN_IF_ERROR(ParseRetryCatch(sj, sw, st));
  switch (st->type) {
    case StateType::kTask:
      return ParseTask(sj, sw, st);
    case StateType::kChoice:
      return ParseChoice(sj, sw, st);
    case StateType::kWait:
      return ParseWait(sj, sw, st);
    case StateType::kFail:
      return ParseFail(sj, sw, st);
    case StateType::kParallel:
      return ParseParallel(sj, sw, st);
    case StateType::kMap:
      return ParseMap(sj, sw, st);
    default:
      return Status::Ok();
  }
}

}  // namespace vqi::workflow
