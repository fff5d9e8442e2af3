// Parser: a Pratt (top-down operator precedence) parser with jsonata-js's binding powers,
// followed by a rewrite pass that turns `.` chains into path steps, attaches predicates,
// group-by and order-by clauses to their steps (jsonata-js's processAST).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ast.h"
#include "vqi/base/status.h"

namespace vqi::jsonata {

struct Program {
  std::string text;
  NodePtr root;
};

// InvalidArgument "<code>: <message>" on syntax errors. Nesting deeper than kMaxParseDepth is
// rejected rather than risking the stack.
Result<std::shared_ptr<const Program>> Parse(std::string_view text);

inline constexpr int kMaxParseDepth = 200;

}  // namespace vqi::jsonata
