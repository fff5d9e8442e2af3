// Function signatures of the builtins (jsonata-js syntax, e.g. "<s-nn?:s>"): validates argument
// types, wraps singletons for array parameters and substitutes the context value for missing
// arguments marked '-'.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "value.h"

namespace vqi::jsonata {

class Signature {
 public:
  // REQUIRES: a well-formed signature (they are compile-time constants).
  explicit Signature(std::string_view text);

  // Returns the arguments to pass (one per parameter, undefined where absent), or T0410/T0411/
  // T0412 naming function `name`.
  Result<std::vector<Value>> Validate(const std::vector<Value>& args, const Value& context,
                                      std::string_view name) const;
  size_t arity() const { return params_.size(); }
  // Mandatory plus context parameters: jsonata-js's implementation.length, used to decide how
  // many arguments a higher-order function passes to a builtin callback.
  size_t required() const {
    size_t n = 0;
    for (const Param& p : params_) n += (p.modifier != '?' || p.context) ? 1 : 0;
    return n;
  }

 private:
  struct Param {
    std::string allowed;  // symbols accepted (see Symbol())
    char type = 0;
    char subtype = 0;      // a<n>: 'n'
    char modifier = 0;     // '?', '+'
    bool context = false;  // '-': use the context when missing
    std::string context_allowed;
  };
  bool Match(const std::string& symbols, size_t pi, size_t si,
             std::vector<std::string>* matched) const;

  std::vector<Param> params_;
};

// jsonata-js's type symbol: m(issing) f s n b l(null) a o.
char Symbol(const Value& v);

}  // namespace vqi::jsonata
