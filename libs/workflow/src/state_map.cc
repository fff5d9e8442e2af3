// Map: items from ItemsPath/Items, ItemSelector per item, optional ItemBatcher, iterations
// run concurrently up to MaxConcurrency, tolerated failures by count or percentage.
#include <cmath>

#include "interp.h"

namespace vqi::workflow {
namespace {

std::string TypeName(const Json& v) {
  if (v.is_boolean()) return "boolean";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_object()) return "object";
  if (v.is_array()) return "array";
  return "null";
}

// A numeric Map setting from its literal/JSONata field or its *Path field.
MaybeFailure Setting(Env& env, const StateCtx& sc, const Json& eff, const JsonField& field,
                     const std::string& path, const char* name, bool integer, double* out) {
  const char* qerr = "States.QueryEvaluationError";
  if (field.present) {
    Json v = field.value;
    if (sc.state->query_language == QueryLanguage::kJsonata) {
      if (auto f = EvalJsonataValue(env, sc, field.value, name, Json(), &v)) return f;
      if (!v.is_number() || (integer && std::floor(v.get<double>()) != v.get<double>())) {
        std::string expr;
        IsJsonataExpression(field.value, &expr);
        return RuntimeFailure(sc, qerr,
                              "The JSONata expression '" + expr + "' specified for the field '" +
                                  name + "' returned an unexpected result type. Expected '" +
                                  (integer ? "integer" : "number") + "', but was '" + TypeName(v) +
                                  "' for value: " + JsonCompact(v));
      }
    }
    *out = v.get<double>();
    return std::nullopt;
  }
  if (path.empty()) return std::nullopt;
  Scope scope{&env, &sc, &eff};
  auto r = ResolvePath(scope, path);
  std::string pname = std::string(name) + "Path";
  if (!r.ok() || !r->has_value())
    return RuntimeFailure(sc, "States.Runtime",
                          "The " + pname + " field refers to a value that does not exist: " + path);
  const Json& v = **r;
  double d = 0;
  bool ok = false;
  if (v.is_number()) {
    d = v.get<double>();
    ok = !integer || std::floor(d) == d;
  } else if (v.is_string()) {
    try {
      size_t used = 0;
      std::string s = v.get<std::string>();
      d = integer ? static_cast<double>(std::stoll(s, &used)) : std::stod(s, &used);
      ok = used == s.size();
    } catch (...) {
      ok = false;
    }
  }
  if (!ok)
    return RuntimeFailure(sc, "States.Runtime",
                          "The " + pname + " field refers to value \"" + JsonCompact(v) +
                              "\" which is not a valid " + (integer ? "integer" : "number") + ": " +
                              path);
  *out = d;
  return std::nullopt;
}

MaybeFailure Batch(Env& env, const StateCtx& sc, const Json& eff, Json* items) {
  const Json& b = sc.state->item_batcher.value;
  size_t max_items = items->size();
  if (b.contains("MaxItemsPerBatch") && b["MaxItemsPerBatch"].is_number_integer())
    max_items = b["MaxItemsPerBatch"].get<size_t>();
  if (b.contains("MaxItemsPerBatchPath")) {
    Scope scope{&env, &sc, &eff};
    auto r = ResolvePath(scope, b["MaxItemsPerBatchPath"].get<std::string>());
    if (r.ok() && r->has_value() && (*r)->is_number_integer()) max_items = (*r)->get<size_t>();
  }
  size_t max_bytes = b.value("MaxInputBytesPerBatch", size_t{256 * 1024});
  if (max_items == 0) max_items = 1;
  Json batch_input;
  bool has_batch_input = b.contains("BatchInput");
  if (has_batch_input) {
    Scope scope{&env, &sc, &eff};
    if (auto f = EvalTemplate(scope, b["BatchInput"], &batch_input)) return f;
  }
  Json out = Json::array();
  Json cur = Json::array();
  size_t bytes = 0;
  for (Json& it : *items) {
    size_t sz = JsonCompact(it).size();
    if (!cur.empty() && (cur.size() >= max_items || bytes + sz > max_bytes)) {
      Json o = {{"Items", std::move(cur)}};
      if (has_batch_input) o["BatchInput"] = batch_input;
      out.push_back(std::move(o));
      cur = Json::array();
      bytes = 0;
    }
    bytes += sz;
    cur.push_back(std::move(it));
  }
  if (!cur.empty()) {
    Json o = {{"Items", std::move(cur)}};
    if (has_batch_input) o["BatchInput"] = batch_input;
    out.push_back(std::move(o));
  }
  *items = std::move(out);
  return std::nullopt;
}

}  // namespace

Step ExecuteMap(Env& env, StateCtx& sc) {
  const State& st = *sc.state;
  bool jsonata = st.query_language == QueryLanguage::kJsonata;
  Json eff;
  if (auto f = ApplyInputPath(env, sc, &eff)) return Step::Fail(*f);
  // Items.
  Json items;
  if (jsonata && st.items.present) {
    if (auto f = EvalJsonataValue(env, sc, st.items.value, "Items", Json(), &items))
      return Step::Fail(*f);
    if (!items.is_array()) {
      std::string expr;
      IsJsonataExpression(st.items.value, &expr);
      return Step::Fail(RuntimeFailure(sc, "States.QueryEvaluationError",
                                       "The JSONata expression '" + expr +
                                           "' specified for the field 'Items' returned an "
                                           "unexpected result type. Expected 'array', but was '" +
                                           TypeName(items) + "' for value: " + JsonCompact(items)));
    }
  } else {
    if (st.items_path == "$") {
      items = eff;
    } else {
      Scope scope{&env, &sc, &eff};
      auto r = ResolvePath(scope, st.items_path);
      if (!r.ok() || !r->has_value())
        return Step::Fail(RuntimeFailure(
            sc, "States.Runtime",
            "Invalid path '" + st.items_path + "' : No results for path: " + st.items_path));
      items = std::move(**r);
    }
    if (!items.is_array())
      return Step::Fail(
          RuntimeFailure(sc, jsonata ? "States.QueryEvaluationError" : "States.Runtime",
                         "Map state input must be an array but was: " + JsonCompact(items)));
  }
  double max_conc = 0, tol_count = -1, tol_pct = -1;
  if (auto f = Setting(env, sc, eff, st.max_concurrency, st.max_concurrency_path, "MaxConcurrency",
                       true, &max_conc))
    return Step::Fail(*f);
  if (auto f = Setting(env, sc, eff, st.tolerated_failure_count, st.tolerated_failure_count_path,
                       "ToleratedFailureCount", true, &tol_count))
    return Step::Fail(*f);
  if (auto f = Setting(env, sc, eff, st.tolerated_failure_percentage,
                       st.tolerated_failure_percentage_path, "ToleratedFailurePercentage", false,
                       &tol_pct))
    return Step::Fail(*f);
  const char* serr = jsonata ? "States.QueryEvaluationError" : "States.Runtime";
  if ((st.tolerated_failure_count.present || !st.tolerated_failure_count_path.empty()) &&
      tol_count < 0)
    return Step::Fail(RuntimeFailure(sc, serr, "ToleratedFailureCount cannot be negative."));
  if ((st.tolerated_failure_percentage.present || !st.tolerated_failure_percentage_path.empty()) &&
      (tol_pct < 0 || tol_pct > 100))
    return Step::Fail(
        RuntimeFailure(sc, serr, "ToleratedFailurePercentage must be between 0 and 100."));
  if (max_conc < 0)
    return Step::Fail(RuntimeFailure(sc, serr, "MaxConcurrency cannot be negative."));
  if (st.item_batcher.present)
    if (auto f = Batch(env, sc, eff, &items)) return Step::Fail(*f);

  return RunAttempts(env, sc, [&](int attempt) -> Step {
    size_t n = items.size();
    int64_t started = env.AddEvent("MapStateStarted", sc.frame->previous_event, {{"length", n}});
    std::vector<Step> results(n);
    std::atomic<bool> stop{false};
    std::atomic<size_t> failures{0};
    std::mutex mu;
    std::optional<size_t> first_failure;
    bool tolerant = tol_count >= 0 || tol_pct >= 0;
    auto exceeded = [&](size_t f) {
      if (!tolerant) return f > 0;
      bool over = false;
      if (tol_count >= 0 && static_cast<double>(f) > tol_count) over = true;
      if (tol_pct >= 0 && n > 0 &&
          100.0 * static_cast<double>(f) / static_cast<double>(n) > tol_pct)
        over = true;
      if (tol_count >= 0 && tol_pct >= 0)
        over = static_cast<double>(f) > tol_count &&
               100.0 * static_cast<double>(f) / static_cast<double>(n) > tol_pct;
      return over;
    };
    RunConcurrently(
        env, n, static_cast<size_t>(max_conc),
        [&](size_t i) {
          Frame frame;
          frame.key = sc.key + "@" + std::to_string(attempt) + "/i" + std::to_string(i);
          frame.variables = sc.frame->variables;
          frame.map_item = {{"Index", i}, {"Value", items[i]}};
          frame.stop = &stop;
          frame.parent = sc.frame;
          Json input = items[i];
          if (st.item_selector.present) {
            StateCtx isc = sc;
            isc.frame = &frame;
            isc.context.reset();
            MaybeFailure f;
            if (jsonata) {
              f = EvalJsonataValue(env, isc, st.item_selector.value, "ItemSelector", Json(),
                                   &input);
            } else {
              Scope scope{&env, &isc, &eff};
              f = EvalTemplate(scope, st.item_selector.value, &input);
            }
            if (f) {
              results[i] = Step::Fail(*f);
              std::lock_guard<std::mutex> lock(mu);
              if (!first_failure) first_failure = i;
              stop = true;
              return;
            }
          }
          frame.previous_event =
              env.AddEvent("MapIterationStarted", started, {{"index", i}, {"name", st.name}});
          results[i] = RunMachine(env, *st.processor, std::move(input), frame);
          if (results[i].failure) {
            env.AddEvent("MapIterationFailed", frame.previous_event,
                         {{"index", i}, {"name", st.name}});
            std::lock_guard<std::mutex> lock(mu);
            size_t f = ++failures;
            if (!first_failure) first_failure = i;
            if (exceeded(f)) stop = true;
          } else {
            env.AddEvent("MapIterationSucceeded", frame.previous_event,
                         {{"index", i}, {"name", st.name}});
          }
        },
        [&] { return stop.load(); });
    if (first_failure && (exceeded(failures.load()) || failures.load() == 0)) {
      env.AddEvent("MapStateFailed", started, Json::object());
      if (tolerant && failures.load() > 0)
        return Step::Fail({"States.ExceedToleratedFailureThreshold",
                           "The specified tolerance threshold was exceeded"});
      return Step::Fail(*results[*first_failure].failure);
    }
    Json out = Json::array();
    for (Step& r : results) {
      if (r.failure) {
        Json e = Json::object();
        if (r.failure->error) e["Error"] = *r.failure->error;
        if (r.failure->cause) e["Cause"] = *r.failure->cause;
        out.push_back(std::move(e));
      } else {
        out.push_back(std::move(r.output));
      }
    }
    sc.frame->previous_event = env.AddEvent("MapStateSucceeded", started, Json::object());
    return CompleteWith(env, sc, std::move(out));
  });
}

}  // namespace vqi::workflow
