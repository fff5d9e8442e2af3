// Intrinsic functions (States.Format, States.Array*, ...): a parsed call tree and one
// implementation per function (intrinsic_*.cc), looked up by name.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::workflow {

struct IntrinsicCall;
struct IntrinsicArg {
  enum class Kind { kLiteral, kPath, kCall };
  Kind kind = Kind::kLiteral;
  Json literal;
  std::string path;
  std::shared_ptr<IntrinsicCall> call;
};
struct IntrinsicCall {
  std::string name;  // e.g. "States.Format"
  std::vector<IntrinsicArg> args;
};

// Parses "States.Name(arg, ...)"; InvalidArgument on syntax errors or unknown functions.
Result<std::shared_ptr<const IntrinsicCall>> ParseIntrinsic(const std::string& text);

// Evaluated arguments -> result; the Status message is the States.IntrinsicFailure cause.
using IntrinsicFn = std::function<Result<Json>(const std::vector<Json>& args)>;
const IntrinsicFn* FindIntrinsic(const std::string& name);

}  // namespace vqi::workflow
