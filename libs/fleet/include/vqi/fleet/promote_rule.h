// The promotion rule of a shadow deployment (`vqi deployment create --promote-when`,
// `vqiShadow.promoteWhen`; grammar in docs/design/shadow.md):
//
//   images>=200 && verdict_agreement>=0.98 && box_match>=0.95 && devices>=2
//
// Comparisons of a metric with a number, joined by && and ||, with ! and parentheses.
// Parsing is total: any text gives a rule or InvalidArgument naming the 1-based position and
// what was expected there. Value type; thread-compatible.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "vqi/base/status.h"
#include "vqi/fleet/shadow.h"

namespace vqi::fleet {

inline constexpr size_t kMaxRuleBytes = 1024;
inline constexpr int kMaxRuleComparisons = 64;

class PromoteRule {
 public:
  // The accepted metric names, comma separated (for messages and --help).
  static std::string MetricNames();
  static Result<PromoteRule> Parse(std::string_view text);

  // Whether the rule holds for `a`. A rule never holds without data (a.devices == 0).
  bool Holds(const ShadowAggregate& a) const;
  const std::string& text() const { return text_; }

  struct Node;

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
};

}  // namespace vqi::fleet
