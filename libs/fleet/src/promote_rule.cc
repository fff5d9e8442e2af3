// PromoteRule: a recursive-descent parser over a tiny grammar (docs/design/shadow.md) and its
// evaluator. Hand-written: the grammar is ~10 productions and every error must name a position.
#include "vqi/fleet/promote_rule.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace vqi::fleet {

enum class Metric {
  kImages,
  kDevices,
  kVerdictAgreement,
  kBoxMatch,
  kScoreShift,
  kAbsScoreShift,
  kLatencyRatio,
  kLiveLatencyMs,
  kCandidateLatencyMs,
  kCandidateErrors,
};

namespace {

struct MetricName {
  const char* name;
  Metric metric;
};
constexpr MetricName kMetrics[] = {
    {"images", Metric::kImages},
    {"devices", Metric::kDevices},
    {"verdict_agreement", Metric::kVerdictAgreement},
    {"box_match", Metric::kBoxMatch},
    {"score_shift", Metric::kScoreShift},
    {"abs_score_shift", Metric::kAbsScoreShift},
    {"latency_ratio", Metric::kLatencyRatio},
    {"live_latency_ms", Metric::kLiveLatencyMs},
    {"candidate_latency_ms", Metric::kCandidateLatencyMs},
    {"candidate_errors", Metric::kCandidateErrors},
};

enum class Op { kGe, kLe, kGt, kLt, kEq, kNe };

double Value(const ShadowAggregate& a, Metric m) {
  switch (m) {
    case Metric::kImages:
      return static_cast<double>(a.images);
    case Metric::kDevices:
      return static_cast<double>(a.devices);
    case Metric::kVerdictAgreement:
      return a.VerdictAgreement();
    case Metric::kBoxMatch:
      return a.BoxMatch();
    case Metric::kScoreShift:
      return a.ScoreShift();
    case Metric::kAbsScoreShift:
      return std::fabs(a.ScoreShift());
    case Metric::kLatencyRatio:
      return a.LatencyRatio();
    case Metric::kLiveLatencyMs:
      return a.LiveLatencyMs();
    case Metric::kCandidateLatencyMs:
      return a.CandidateLatencyMs();
    case Metric::kCandidateErrors:
      return static_cast<double>(a.candidate_errors);
  }
  return 0;
}

}  // namespace

struct PromoteRule::Node {
  enum class Kind { kCmp, kAnd, kOr, kNot } kind = Kind::kCmp;
  Metric metric = Metric::kImages;
  Op op = Op::kGe;
  double number = 0;
  std::shared_ptr<const Node> a, b;

  bool Eval(const ShadowAggregate& s) const {
    switch (kind) {
      case Kind::kAnd:
        return a->Eval(s) && b->Eval(s);
      case Kind::kOr:
        return a->Eval(s) || b->Eval(s);
      case Kind::kNot:
        return !a->Eval(s);
      case Kind::kCmp:
        break;
    }
    const double v = Value(s, metric);
    switch (op) {
      case Op::kGe:
        return v >= number;
      case Op::kLe:
        return v <= number;
      case Op::kGt:
        return v > number;
      case Op::kLt:
        return v < number;
      case Op::kEq:
        return v == number;
      case Op::kNe:
        return v != number;
    }
    return false;
  }
};

namespace {

using NodePtr = std::shared_ptr<const PromoteRule::Node>;
using Node = PromoteRule::Node;

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}

  Result<NodePtr> Rule() {
    VQI_ASSIGN_OR_RETURN(NodePtr n, Or());
    Skip();
    if (i_ < t_.size()) return Error("expected && or || or the end of the rule, found " + Here());
    return n;
  }

 private:
  Result<NodePtr> Or() {
    VQI_ASSIGN_OR_RETURN(NodePtr left, And());
    while (Accept("||")) {
      VQI_ASSIGN_OR_RETURN(NodePtr right, And());
      left = Join(Node::Kind::kOr, left, right);
    }
    return left;
  }
  Result<NodePtr> And() {
    VQI_ASSIGN_OR_RETURN(NodePtr left, Unary());
    while (Accept("&&")) {
      VQI_ASSIGN_OR_RETURN(NodePtr right, Unary());
      left = Join(Node::Kind::kAnd, left, right);
    }
    return left;
  }
  Result<NodePtr> Unary() {
    if (++depth_ > 32) return Error("nested deeper than 32");
    Result<NodePtr> out = UnaryBody();
    --depth_;
    return out;
  }
  Result<NodePtr> UnaryBody() {
    Skip();
    if (i_ < t_.size() && t_[i_] == '!' && !(i_ + 1 < t_.size() && t_[i_ + 1] == '=')) {
      ++i_;
      VQI_ASSIGN_OR_RETURN(NodePtr inner, Unary());
      auto n = std::make_shared<Node>();
      n->kind = Node::Kind::kNot;
      n->a = inner;
      return NodePtr(n);
    }
    if (Accept("(")) {
      VQI_ASSIGN_OR_RETURN(NodePtr inner, Or());
      if (!Accept(")")) return Error("expected ), found " + Here());
      return inner;
    }
    return Comparison();
  }
  Result<NodePtr> Comparison() {
    Skip();
    const size_t start = i_;
    while (i_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[i_])) || t_[i_] == '_'))
      ++i_;
    const std::string_view name = t_.substr(start, i_ - start);
    if (name.empty()) {
      i_ = start;
      return Error("expected a metric name, (, or !, found " + Here());
    }
    auto n = std::make_shared<Node>();
    bool known = false;
    for (const MetricName& m : kMetrics)
      if (name == m.name) {
        n->metric = m.metric;
        known = true;
      }
    if (!known) {
      i_ = start;
      return Error("unknown name \"" + std::string(name) +
                   "\"; accepted: " + PromoteRule::MetricNames());
    }
    Skip();
    static constexpr std::pair<const char*, Op> kOps[] = {{">=", Op::kGe}, {"<=", Op::kLe},
                                                          {"==", Op::kEq}, {"!=", Op::kNe},
                                                          {">", Op::kGt},  {"<", Op::kLt}};
    bool have_op = false;
    for (const auto& [text, op] : kOps)
      if (!have_op && Accept(text)) {
        n->op = op;
        have_op = true;
      }
    if (!have_op)
      return Error("expected one of >= <= > < == != after " + std::string(name) + ", found " +
                   Here());
    Skip();
    const size_t num_at = i_;
    while (i_ < t_.size() && (std::isdigit(static_cast<unsigned char>(t_[i_])) || t_[i_] == '.' ||
                              t_[i_] == '-' || t_[i_] == '+' || t_[i_] == 'e' || t_[i_] == 'E'))
      ++i_;
    const std::string num(t_.substr(num_at, i_ - num_at));
    char* end = nullptr;
    const double v = num.empty() ? 0 : std::strtod(num.c_str(), &end);
    if (num.empty() || end != num.c_str() + num.size() || !std::isfinite(v)) {
      i_ = num_at;
      return Error("expected a number, found " + Here());
    }
    n->number = v;
    if (++comparisons_ > kMaxRuleComparisons)
      return Error("more than " + std::to_string(kMaxRuleComparisons) + " comparisons");
    return NodePtr(n);
  }

  NodePtr Join(Node::Kind k, NodePtr a, NodePtr b) {
    auto n = std::make_shared<Node>();
    n->kind = k;
    n->a = std::move(a);
    n->b = std::move(b);
    return n;
  }
  void Skip() {
    while (i_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[i_]))) ++i_;
  }
  bool Accept(std::string_view s) {
    Skip();
    if (t_.substr(i_, s.size()) != s) return false;
    i_ += s.size();
    return true;
  }
  std::string Here() const {
    if (i_ >= t_.size()) return "the end of the rule";
    std::string_view rest = t_.substr(i_, 12);
    std::string out = "\"";
    for (char c : rest) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
    return out + (i_ + 12 < t_.size() ? "...\"" : "\"");
  }
  Status Error(const std::string& what) const {
    return InvalidArgument("position " + std::to_string(i_ + 1) + ": " + what);
  }

  std::string_view t_;
  size_t i_ = 0;
  int depth_ = 0;
  int comparisons_ = 0;
};

}  // namespace

std::string PromoteRule::MetricNames() {
  std::string out;
  for (const MetricName& m : kMetrics) out += (out.empty() ? "" : ", ") + std::string(m.name);
  return out;
}

Result<PromoteRule> PromoteRule::Parse(std::string_view text) {
  if (text.size() > kMaxRuleBytes)
    return ResourceExhausted("rule of " + std::to_string(text.size()) + " bytes; the limit is " +
                             std::to_string(kMaxRuleBytes) + " (docs/limits.md, Shadow)");
  Parser p(text);
  VQI_ASSIGN_OR_RETURN(NodePtr root, p.Rule());
  PromoteRule r;
  r.text_ = std::string(text);
  r.root_ = std::move(root);
  return r;
}

bool PromoteRule::Holds(const ShadowAggregate& a) const {
  return root_ && a.devices > 0 && root_->Eval(a);
}

}  // namespace vqi::fleet
