// Test helpers for the JSONata tests.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "vqi/jsonata/jsonata.h"

namespace vqi::jsonata::testing {

// Evaluates and returns the result as JSON text, "undefined", or "error: <message>".
inline std::string Ev(const std::string& expr, const Json& input = nullptr,
                      const std::map<std::string, Json>& bindings = {}) {
  auto r = Evaluate(expr, input, bindings);
  if (!r.ok()) return "error: " + r.status().message();
  if (!r->has_value()) return "undefined";
  return (*r)->dump();
}

inline Json J(const char* text) { return Json::parse(text); }

}  // namespace vqi::jsonata::testing
