// JSONata evaluator for the subset of the language AWS Step Functions definitions use
// (see docs/design/jsonata.md for what is and is not supported).
//
// Thread-safety: all functions are safe to call concurrently. Parsed expressions are cached by
// their text in a bounded, mutex-protected cache shared by all threads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::jsonata {

// Evaluates a JSONata expression (the text inside {% ... %}) against `input` (bound to `$`),
// with variable bindings (e.g. "states" -> {"input":..,"context":..,"result":..}, plus workflow
// variables from Assign). `bindings` must outlive the call only. Undefined results are
// std::nullopt.
//
// Errors: InvalidArgument whose message is jsonata-js's "<code>: <message>", e.g.
// "T2001: The left side of the \"+\" operator must evaluate to a number" (syntax errors too).
Result<std::optional<Json>> Evaluate(std::string_view expression, const Json& input,
                                     const std::map<std::string, Json>& bindings);

// Parse-only check for validation: InvalidArgument with a message on syntax errors.
Status Check(std::string_view expression);

}  // namespace vqi::jsonata
