// JSONPath-mode payloads: reference paths, payload templates ("key.$"), intrinsic calls,
// and the context object ($$).
#include <ctime>
#include <mutex>
#include <unordered_map>

#include "interp.h"
#include "intrinsics.h"

namespace vqi::workflow {
namespace {

Result<std::shared_ptr<const JsonPath>> CachedPath(const std::string& text) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::shared_ptr<const JsonPath>> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(text);
    if (it != cache.end()) return it->second;
  }
  VQI_ASSIGN_OR_RETURN(JsonPath p, JsonPath::Parse(text));
  auto sp = std::make_shared<const JsonPath>(std::move(p));
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() > 10000) cache.clear();
  cache[text] = sp;
  return sp;
}

Result<Json> EvalCall(const Scope& scope, const IntrinsicCall& call) {
  std::vector<Json> args;
  args.reserve(call.args.size());
  for (const IntrinsicArg& a : call.args) {
    switch (a.kind) {
      case IntrinsicArg::Kind::kLiteral: args.push_back(a.literal); break;
      case IntrinsicArg::Kind::kCall: {
        VQI_ASSIGN_OR_RETURN(Json v, EvalCall(scope, *a.call));
        args.push_back(std::move(v));
        break;
      }
      case IntrinsicArg::Kind::kPath: {
        VQI_ASSIGN_OR_RETURN(std::optional<Json> v, ResolvePath(scope, a.path));
        if (!v) return InvalidArgument("The JSONPath '" + a.path + "' could not be found");
        args.push_back(std::move(*v));
        break;
      }
    }
  }
  // Placeholders in States.Format literals keep their escapes until formatting.
  if (call.name != "States.Format") {
    for (size_t i = 0; i < call.args.size(); ++i) {
      if (call.args[i].kind != IntrinsicArg::Kind::kLiteral || !args[i].is_string()) continue;
      std::string s = args[i].get<std::string>(), t;
      for (size_t k = 0; k < s.size(); ++k) {
        if (s[k] == '\\' && k + 1 < s.size() && (s[k + 1] == '{' || s[k + 1] == '}')) ++k;
        t += s[k];
      }
      args[i] = t;
    }
  }
  const IntrinsicFn* fn = FindIntrinsic(call.name);
  if (fn == nullptr) return InvalidArgument("unknown intrinsic function " + call.name);
  return (*fn)(args);
}

}  // namespace

std::string JsonCompact(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string IsoTime(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

const Json& ContextObject(Env& env, const StateCtx& sc) {
  if (sc.context) return *sc.context;
  Json c;
  c["Execution"] = {{"Id", env.execution_id},
                    {"Input", env.input},
                    {"Name", env.execution_name},
                    {"RoleArn", "arn:aws:iam::111111111111:role/vqi-workflow"},
                    {"StartTime", env.start_time},
                    {"RedriveCount", 0}};
  c["StateMachine"] = {{"Id", env.state_machine_id}, {"Name", env.state_machine_name}};
  c["State"] = {{"Name", sc.state->name},
                {"EnteredTime", IsoTime(sc.entered_ms)},
                {"RetryCount", sc.retry_count}};
  if (!sc.task_token.empty()) c["Task"] = {{"Token", sc.task_token}};
  if (sc.frame != nullptr && !sc.frame->map_item.is_null()) c["Map"] = {{"Item", sc.frame->map_item}};
  sc.context = std::move(c);
  return *sc.context;
}

Failure RuntimeFailure(const StateCtx& sc, const std::string& error, const std::string& msg) {
  return Failure{error, "An error occurred while executing the state '" + sc.state->name +
                            "' (entered at the event id #" + std::to_string(sc.entered_event) +
                            "). " + msg};
}

bool LooksLikeIntrinsic(const std::string& s) { return s.rfind("States.", 0) == 0; }

Result<std::optional<Json>> ResolvePath(const Scope& scope, const std::string& path) {
  VQI_ASSIGN_OR_RETURN(std::shared_ptr<const JsonPath> p, CachedPath(path));
  switch (p->root()) {
    case JsonPath::Root::kInput: return p->Query(*scope.input);
    case JsonPath::Root::kContext: return p->Query(ContextObject(*scope.env, *scope.sc));
    case JsonPath::Root::kVariable: {
      const Json& vars = scope.sc->frame->variables;
      auto it = vars.find(p->variable());
      if (it == vars.end()) return std::optional<Json>();
      return p->Query(*it);
    }
  }
  return std::optional<Json>();
}

Result<Json> EvalIntrinsic(const Scope& scope, const std::string& text) {
  VQI_ASSIGN_OR_RETURN(std::shared_ptr<const IntrinsicCall> call, ParseIntrinsic(text));
  return EvalCall(scope, *call);
}

MaybeFailure EvalTemplate(const Scope& scope, const Json& tmpl, Json* out) {
  if (tmpl.is_array()) {
    *out = Json::array();
    for (const Json& v : tmpl) {
      Json r;
      if (auto f = EvalTemplate(scope, v, &r)) return f;
      out->push_back(std::move(r));
    }
    return std::nullopt;
  }
  if (!tmpl.is_object()) {
    *out = tmpl;
    return std::nullopt;
  }
  *out = Json::object();
  for (auto& [k, v] : tmpl.items()) {
    if (k.size() > 2 && k.compare(k.size() - 2, 2, ".$") == 0 && v.is_string()) {
      const std::string& expr = v.get_ref<const std::string&>();
      std::string key = k.substr(0, k.size() - 2);
      if (LooksLikeIntrinsic(expr)) {
        auto r = EvalIntrinsic(scope, expr);
        if (!r.ok())
          return RuntimeFailure(*scope.sc, "States.IntrinsicFailure", r.status().message());
        (*out)[key] = std::move(*r);
      } else {
        auto r = ResolvePath(scope, expr);
        if (!r.ok()) return RuntimeFailure(*scope.sc, "States.Runtime", r.status().message());
        if (!r->has_value()) {
          auto pr = JsonPath::Parse(expr);
          std::string where = "input";
          const Json* in = scope.input;
          Json ctx_or_var;
          if (pr.ok() && pr->root() == JsonPath::Root::kVariable) {
            return RuntimeFailure(*scope.sc, "States.Runtime",
                                  "The JSONPath '" + expr + "' specified for the field '" + k +
                                      "' could not be found in the input '" +
                                      JsonCompact(*in) + "'");
          }
          if (pr.ok() && pr->root() == JsonPath::Root::kContext) in = scope.input;
          return RuntimeFailure(*scope.sc, "States.Runtime",
                                "The JSONPath '" + expr + "' specified for the field '" + k +
                                    "' could not be found in the " + where + " '" +
                                    JsonCompact(*in) + "'");
        }
        (*out)[key] = std::move(**r);
      }
    } else {
      Json r;
      if (auto f = EvalTemplate(scope, v, &r)) return f;
      (*out)[k] = std::move(r);
    }
  }
  return std::nullopt;
}

}  // namespace vqi::workflow
