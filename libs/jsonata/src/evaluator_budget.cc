// The build budget of one evaluation (kMaxBuiltValues, D1013): counts what the evaluation
// builds so that many values, each within its own limit, cannot together exhaust memory.
#include <string>

#include "evaluator.h"
#include "lexer.h"

namespace vqi::jsonata {

namespace {

// Counts owned blocks of `v` not counted yet and marks them. Children already counted are
// skipped, so every block is counted (and walked) once. Recursion is bounded by kMaxValueDepth
// (Eval refuses deeper values before charging them).
int64_t CountNewBlocks(const Value& v) {
  if (Array* a = v.owned_array(); a && !a->charged) {
    a->charged = true;
    int64_t n = 1 + static_cast<int64_t>(a->items.size());
    for (const Value& item : a->items) {
      if (item.IsArray() || item.IsObject()) n += CountNewBlocks(item);
    }
    return n;
  }
  if (Object* o = v.owned_object(); o && !o->charged) {
    o->charged = true;
    int64_t n = 1 + static_cast<int64_t>(o->fields.size());
    for (const auto& [key, field] : o->fields) {
      if (field.IsArray() || field.IsObject()) n += CountNewBlocks(field);
    }
    return n;
  }
  return 0;
}

// Nodes whose result is a value computed elsewhere (already counted when it was built).
bool PassesThrough(NodeType t) {
  switch (t) {
    case NodeType::kPath:
    case NodeType::kName:
    case NodeType::kString:
    case NodeType::kVariable:
    case NodeType::kWildcard:
    case NodeType::kDescendant:
    case NodeType::kBlock:
    case NodeType::kCondition:
    case NodeType::kCoalesce:
    case NodeType::kElvis:
    case NodeType::kBind:
      return true;
    default:
      return false;
  }
}

}  // namespace

Status Evaluator::Charge(int64_t n) {
  built_ += n;
  if (built_ > kMaxBuiltValues) {
    return JsonataError("D1013", "The expression builds more than " +
                                     std::to_string(kMaxBuiltValues) +
                                     " values (limit: docs/limits.md)");
  }
  return Status::Ok();
}

Status Evaluator::ChargeBlocks(const Value& v) { return Charge(CountNewBlocks(v)); }

Status Evaluator::ChargeResult(const Node& n, const Value& v) {
  if (v.IsString()) {
    if (!v.owned() || PassesThrough(n.type)) return Status::Ok();
    return Charge(1 + static_cast<int64_t>(v.str().size() / 16));
  }
  return ChargeBlocks(v);
}

}  // namespace vqi::jsonata
