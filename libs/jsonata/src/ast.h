// The parsed form of an expression. The parser builds it once (see parser.h); the evaluator
// only reads it, so one tree may be evaluated by many threads at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vqi/base/json.h"

namespace vqi::jsonata {

class Regex;

enum class NodeType {
  kPath,    // steps
  kName,    // value: field name
  kString,  // value
  kNumber,  // number
  kTrue,
  kFalse,
  kNull,
  kRegex,        // regex
  kVariable,     // value: name without '$' ("" is the context, "$" the root)
  kWildcard,     // *
  kDescendant,   // **
  kParent,       // % (not supported at evaluation)
  kBinary,       // op, lhs, rhs
  kNegate,       // lhs
  kArray,        // items
  kObject,       // pairs (lhs/rhs of each pair in items as kPair nodes)
  kPair,         // lhs: key, rhs: value
  kBlock,        // items
  kCondition,    // lhs: condition, rhs: then, els: else (optional)
  kCoalesce,     // lhs ?? rhs
  kElvis,        // lhs ?: rhs
  kBind,         // value: variable name, rhs
  kCall,         // lhs: procedure, items: arguments
  kPartial,      // like kCall, with kPlaceholder arguments
  kPlaceholder,  // ? in a partial application
  kLambda,       // params, rhs: body
  kApply,        // lhs ~> rhs
  kSort,         // items: kSortTerm (lhs: expression, descending)
  kSortTerm,
  kRange,  // lhs .. rhs (inside an array constructor)
  // Raw parser nodes, removed by the rewrite pass.
  kRawBinary,  // op in value: "." "[" "{" "^"
  kRawUnary,   // op in value: "[" "{"
};

enum class BinOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kConcat,
  kAnd,
  kOr,
  kIn,
};

struct Node;
using NodePtr = std::unique_ptr<Node>;

struct Node {
  NodeType type;
  size_t position = 0;
  std::string value;
  Json literal;  // kString: the string, borrowed by values at evaluation
  double number = 0;
  BinOp op = BinOp::kAdd;
  NodePtr lhs, rhs, els;
  std::vector<NodePtr> items;       // steps, arguments, expressions, pairs, sort terms
  std::vector<std::string> params;  // lambda parameter names
  std::vector<NodePtr> predicates;  // filters applied to this node's whole result
  std::vector<NodePtr> stages;      // filters applied per input item (path steps)
  NodePtr group;                    // kObject applied as a group-by
  std::shared_ptr<const Regex> regex;
  bool keep_array = false;            // `[]` on this step
  bool keep_singleton_array = false;  // path: some step has `[]`
  bool cons_array = false;            // array constructor first/last in a path
  bool descending = false;            // sort term

  Node(NodeType t, size_t pos) : type(t), position(pos) {}
};

}  // namespace vqi::jsonata
