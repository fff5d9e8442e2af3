// The typed tree of an Amazon States Language definition, built once by LoadDefinition()
// and immutable afterwards (safe to share between threads).
//
// Data flow: JSON text -> ParseDefinition (shape of every field, errors name the state and
// field, e.g. "States.Fail.Retry[1].ErrorEquals: ...") -> ValidateDefinition (cross-state
// rules: Next targets inside their scope, States.ALL last, ...) -> StateMachine.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::workflow {

enum class QueryLanguage { kJsonPath, kJsonata };
enum class StateType { kTask, kPass, kChoice, kWait, kSucceed, kFail, kParallel, kMap };

const char* StateTypeName(StateType t);

// A JSONPath-mode path field that may be absent (default "$") or JSON null (discard).
struct PathField {
  bool present = false;
  bool is_null = false;
  std::string path = "$";
};

// A payload or expression field that may be absent; `value` holds the raw JSON.
struct JsonField {
  bool present = false;
  Json value;
};

struct Retrier {
  std::vector<std::string> error_equals;
  double interval_seconds = 1;
  int max_attempts = 3;
  double backoff_rate = 2.0;
  std::optional<double> max_delay_seconds;
  bool jitter_full = false;
};

struct Catcher {
  std::vector<std::string> error_equals;
  std::string next;
  PathField result_path;  // JSONPath
  JsonField output;       // JSONata
  JsonField assign;
};

// One node of a Choice rule tree. Top-level rules carry `next` (and may carry Assign/Output).
struct ChoiceRule {
  enum class Kind { kAnd, kOr, kNot, kCompare, kCondition };
  Kind kind = Kind::kCompare;
  std::vector<ChoiceRule> children;  // And/Or (many), Not (one)
  std::string variable;              // JSONPath: path of the compared value
  std::string op;                    // e.g. "StringEquals", "NumericLessThanPath", "IsNull"
  Json operand;                      // literal or path (for *Path operators)
  Json condition;                    // JSONata: Condition (bool or "{% .. %}")
  std::string next;
  JsonField assign;
  JsonField output;
};

struct StateMachine;

struct State {
  std::string name;
  StateType type = StateType::kPass;
  QueryLanguage query_language = QueryLanguage::kJsonPath;
  std::string next;
  bool end = false;

  // Input/output pipeline (JSONPath).
  PathField input_path, output_path, result_path;
  JsonField parameters, result_selector, result;
  // JSONata.
  JsonField arguments, output;
  JsonField assign;

  std::vector<Retrier> retry;
  std::vector<Catcher> catch_;

  // Task.
  std::string resource;
  JsonField timeout_seconds, heartbeat_seconds;  // number or "{% %}"
  std::string timeout_seconds_path, heartbeat_seconds_path;
  JsonField credentials;

  // Choice.
  std::vector<ChoiceRule> choices;
  std::string default_next;

  // Wait.
  JsonField seconds, timestamp;
  std::string seconds_path, timestamp_path;

  // Fail.
  JsonField error, cause;
  std::string error_path, cause_path;

  // Parallel.
  std::vector<std::shared_ptr<const StateMachine>> branches;

  // Map.
  std::shared_ptr<const StateMachine> processor;
  bool distributed = false;
  std::string items_path = "$";
  JsonField items;          // JSONata
  JsonField item_selector;  // ItemSelector or (legacy) Parameters
  JsonField item_batcher;
  JsonField max_concurrency, tolerated_failure_count, tolerated_failure_percentage;
  std::string max_concurrency_path, tolerated_failure_count_path, tolerated_failure_percentage_path;
  std::string label;
};

struct StateMachine {
  std::string start_at;
  QueryLanguage query_language = QueryLanguage::kJsonPath;
  std::string comment;
  std::optional<double> timeout_seconds;
  std::map<std::string, State> states;
  // Location prefix of this (sub)machine in the definition, e.g. "" or "States.M.ItemProcessor.".
  std::string where;
};

// Parses and validates a definition. InvalidArgument names the state and field.
Result<std::shared_ptr<const StateMachine>> LoadDefinition(const Json& definition);
Result<std::shared_ptr<const StateMachine>> LoadDefinitionText(std::string_view text,
                                                               const std::string& where);

// True when `s` is a JSONata expression string "{% ... %}"; `expr` receives the inside.
bool IsJsonataExpression(const Json& s, std::string* expr = nullptr);

}  // namespace vqi::workflow
