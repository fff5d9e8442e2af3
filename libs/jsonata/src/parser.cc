#include "parser.h"

#include <map>

#include "lexer.h"
#include "regex.h"
#include "value.h"

namespace vqi::jsonata {
namespace {

int BindingPower(const Token& t) {
  if (t.type != TokenType::kOperator) return 0;
  static const std::map<std::string, int, std::less<>> kBp = {
      {".", 75},  {"[", 80},  {"{", 70},   {"(", 80},  {"@", 80},  {"#", 80},  {"?", 20},
      {"+", 50},  {"-", 50},  {"*", 60},   {"/", 60},  {"%", 60},  {"=", 40},  {"<", 40},
      {">", 40},  {"^", 40},  {":=", 10},  {"!=", 40}, {"<=", 40}, {">=", 40}, {"~>", 40},
      {"?:", 40}, {"??", 40}, {"and", 30}, {"or", 25}, {"in", 40}, {"&", 50}};
  auto it = kBp.find(t.value);
  return it == kBp.end() ? 0 : it->second;
}

bool BinaryOp(const std::string& s, BinOp* op) {
  static const std::map<std::string, BinOp, std::less<>> kOps = {
      {"+", BinOp::kAdd},   {"-", BinOp::kSub}, {"*", BinOp::kMul}, {"/", BinOp::kDiv},
      {"%", BinOp::kMod},   {"=", BinOp::kEq},  {"!=", BinOp::kNe}, {"<", BinOp::kLt},
      {"<=", BinOp::kLe},   {">", BinOp::kGt},  {">=", BinOp::kGe}, {"&", BinOp::kConcat},
      {"and", BinOp::kAnd}, {"or", BinOp::kOr}, {"in", BinOp::kIn}};
  auto it = kOps.find(s);
  if (it == kOps.end()) return false;
  *op = it->second;
  return true;
}

class Parser {
 public:
  explicit Parser(std::string_view src) : lex_(src) {}

  Result<NodePtr> ParseAll() {
    VQI_RETURN_IF_ERROR(Advance());
    VQI_ASSIGN_OR_RETURN(NodePtr expr, Expression(0));
    if (node_.type != TokenType::kEnd) {
      return JsonataError("S0201", "Syntax error: " + Quote(node_.value));
    }
    return Rewrite(std::move(expr), 0);
  }

 private:
  bool Is(const char* id) const { return node_.type == TokenType::kOperator && node_.value == id; }

  Status Advance(const char* id = nullptr, bool infix = false) {
    if (id && !Is(id)) {
      if (node_.type == TokenType::kEnd) {
        return JsonataError("S0203", "Expected " + Quote(id) + " before end of expression");
      }
      return JsonataError("S0202", "Expected " + Quote(id) + ", got " + Quote(node_.value));
    }
    VQI_RETURN_IF_ERROR(lex_.Next(infix, &node_));
    if (node_.type == TokenType::kOperator && (node_.value == "!" || node_.value == "~")) {
      return JsonataError("S0204", "Unknown operator: " + Quote(node_.value));
    }
    return Status::Ok();
  }

  Result<NodePtr> Expression(int rbp) {
    if (++depth_ > kMaxParseDepth) {
      return JsonataError(
          "S0200", "Expression nesting is too deep (limit " + std::to_string(kMaxParseDepth) + ")");
    }
    Token t = node_;
    VQI_RETURN_IF_ERROR(Advance(nullptr, true));
    VQI_ASSIGN_OR_RETURN(NodePtr left, Nud(t));
    while (rbp < BindingPower(node_)) {
      t = node_;
      VQI_RETURN_IF_ERROR(Advance());
      VQI_ASSIGN_OR_RETURN(left, Led(t, std::move(left)));
    }
    --depth_;
    return left;
  }

  Status ParsePairs(Node* n, const char* close) {
    if (!Is(close)) {
      for (;;) {
        auto pair = std::make_unique<Node>(NodeType::kPair, node_.position);
        VQI_ASSIGN_OR_RETURN(pair->lhs, Expression(0));
        VQI_RETURN_IF_ERROR(Advance(":"));
        VQI_ASSIGN_OR_RETURN(pair->rhs, Expression(0));
        n->items.push_back(std::move(pair));
        if (!Is(",")) break;
        VQI_RETURN_IF_ERROR(Advance(","));
      }
    }
    return Advance(close, true);
  }

  Result<NodePtr> Nud(const Token& t) {
    switch (t.type) {
      case TokenType::kEnd:
        return JsonataError("S0207", "Unexpected end of expression");
      case TokenType::kName: {
        auto n = std::make_unique<Node>(NodeType::kName, t.position);
        n->value = t.value;
        return n;
      }
      case TokenType::kVariable: {
        auto n = std::make_unique<Node>(NodeType::kVariable, t.position);
        n->value = t.value;
        return n;
      }
      case TokenType::kString: {
        auto n = std::make_unique<Node>(NodeType::kString, t.position);
        n->value = t.value;
        n->literal = t.value;
        return n;
      }
      case TokenType::kNumber: {
        auto n = std::make_unique<Node>(NodeType::kNumber, t.position);
        n->number = t.number;
        return n;
      }
      case TokenType::kValue: {
        NodeType type = t.value == "true"    ? NodeType::kTrue
                        : t.value == "false" ? NodeType::kFalse
                                             : NodeType::kNull;
        return std::make_unique<Node>(type, t.position);
      }
      case TokenType::kRegex: {
        auto n = std::make_unique<Node>(NodeType::kRegex, t.position);
        VQI_ASSIGN_OR_RETURN(n->regex, Regex::Compile(t.value, t.flags));
        n->value = t.value;
        return n;
      }
      case TokenType::kOperator:
        break;
    }
    const std::string& op = t.value;
    if (op == "and" || op == "or" || op == "in") {
      auto n = std::make_unique<Node>(NodeType::kName, t.position);
      n->value = op;
      return n;
    }
    if (op == "-") {
      auto n = std::make_unique<Node>(NodeType::kNegate, t.position);
      VQI_ASSIGN_OR_RETURN(n->lhs, Expression(70));
      return n;
    }
    if (op == "*") return std::make_unique<Node>(NodeType::kWildcard, t.position);
    if (op == "**") return std::make_unique<Node>(NodeType::kDescendant, t.position);
    if (op == "%") return std::make_unique<Node>(NodeType::kParent, t.position);
    if (op == "(") {
      auto n = std::make_unique<Node>(NodeType::kBlock, t.position);
      while (!Is(")")) {
        VQI_ASSIGN_OR_RETURN(NodePtr e, Expression(0));
        n->items.push_back(std::move(e));
        if (!Is(";")) break;
        VQI_RETURN_IF_ERROR(Advance(";"));
      }
      VQI_RETURN_IF_ERROR(Advance(")", true));
      return n;
    }
    if (op == "[") {
      auto n = std::make_unique<Node>(NodeType::kArray, t.position);
      if (!Is("]")) {
        for (;;) {
          VQI_ASSIGN_OR_RETURN(NodePtr item, Expression(0));
          if (Is("..")) {
            auto range = std::make_unique<Node>(NodeType::kRange, node_.position);
            range->lhs = std::move(item);
            VQI_RETURN_IF_ERROR(Advance(".."));
            VQI_ASSIGN_OR_RETURN(range->rhs, Expression(0));
            item = std::move(range);
          }
          n->items.push_back(std::move(item));
          if (!Is(",")) break;
          VQI_RETURN_IF_ERROR(Advance(","));
        }
      }
      VQI_RETURN_IF_ERROR(Advance("]", true));
      return n;
    }
    if (op == "{") {
      auto n = std::make_unique<Node>(NodeType::kObject, t.position);
      VQI_RETURN_IF_ERROR(ParsePairs(n.get(), "}"));
      return n;
    }
    if (op == "|") {
      return JsonataError("S0211",
                          "The symbol \"|\" cannot be used as a unary operator "
                          "(transform expressions are not supported)");
    }
    return JsonataError("S0211", "The symbol " + Quote(op) + " cannot be used as a unary operator");
  }

  Result<NodePtr> Led(const Token& t, NodePtr left) {
    const std::string& op = t.value;
    int bp = BindingPower(t);
    BinOp binop;
    if (op == ".") {
      auto n = std::make_unique<Node>(NodeType::kRawBinary, t.position);
      n->value = op;
      n->lhs = std::move(left);
      VQI_ASSIGN_OR_RETURN(n->rhs, Expression(bp));
      return n;
    }
    if (BinaryOp(op, &binop)) {
      auto n = std::make_unique<Node>(NodeType::kBinary, t.position);
      n->op = binop;
      n->value = op;
      n->lhs = std::move(left);
      VQI_ASSIGN_OR_RETURN(n->rhs, Expression(bp));
      return n;
    }
    if (op == "(") return Call(t, std::move(left));
    if (op == "[") {
      if (Is("]")) {
        Node* step = left.get();
        while (step->type == NodeType::kRawBinary && step->value == "[") step = step->lhs.get();
        step->keep_array = true;
        VQI_RETURN_IF_ERROR(Advance("]", true));
        return left;
      }
      auto n = std::make_unique<Node>(NodeType::kRawBinary, t.position);
      n->value = "[";
      n->lhs = std::move(left);
      VQI_ASSIGN_OR_RETURN(n->rhs, Expression(0));
      VQI_RETURN_IF_ERROR(Advance("]", true));
      return n;
    }
    if (op == "{") {
      auto n = std::make_unique<Node>(NodeType::kRawBinary, t.position);
      n->value = "{";
      n->lhs = std::move(left);
      n->rhs = std::make_unique<Node>(NodeType::kObject, t.position);
      VQI_RETURN_IF_ERROR(ParsePairs(n->rhs.get(), "}"));
      return n;
    }
    if (op == "^") {
      auto n = std::make_unique<Node>(NodeType::kRawBinary, t.position);
      n->value = "^";
      n->lhs = std::move(left);
      VQI_RETURN_IF_ERROR(Advance("("));
      for (;;) {
        auto term = std::make_unique<Node>(NodeType::kSortTerm, node_.position);
        if (Is("<")) {
          VQI_RETURN_IF_ERROR(Advance("<"));
        } else if (Is(">")) {
          term->descending = true;
          VQI_RETURN_IF_ERROR(Advance(">"));
        }
        VQI_ASSIGN_OR_RETURN(term->lhs, Expression(0));
        n->items.push_back(std::move(term));
        if (!Is(",")) break;
        VQI_RETURN_IF_ERROR(Advance(","));
      }
      VQI_RETURN_IF_ERROR(Advance(")", true));
      return n;
    }
    if (op == "?") {
      auto n = std::make_unique<Node>(NodeType::kCondition, t.position);
      n->lhs = std::move(left);
      VQI_ASSIGN_OR_RETURN(n->rhs, Expression(0));
      if (Is(":")) {
        VQI_RETURN_IF_ERROR(Advance(":"));
        VQI_ASSIGN_OR_RETURN(n->els, Expression(0));
      }
      return n;
    }
    if (op == "?:" || op == "??") {
      auto n =
          std::make_unique<Node>(op == "??" ? NodeType::kCoalesce : NodeType::kElvis, t.position);
      n->lhs = std::move(left);
      VQI_ASSIGN_OR_RETURN(n->rhs, Expression(0));
      return n;
    }
    if (op == ":=") {
      if (left->type != NodeType::kVariable) {
        return JsonataError("S0212", "The left side of := must be a variable name (start with $)");
      }
      auto n = std::make_unique<Node>(NodeType::kBind, t.position);
      n->value = left->value;
      VQI_ASSIGN_OR_RETURN(n->rhs, Expression(bp - 1));
      return n;
    }
    if (op == "~>") {
      auto n = std::make_unique<Node>(NodeType::kApply, t.position);
      n->lhs = std::move(left);
      VQI_ASSIGN_OR_RETURN(n->rhs, Expression(bp));
      return n;
    }
    if (op == "@" || op == "#") {
      return JsonataError("S0201", "Syntax error: " + Quote(op) +
                                       " (context and positional variable bindings are not "
                                       "supported)");
    }
    return JsonataError("S0201", "Syntax error: " + Quote(op));
  }

  Result<NodePtr> Call(const Token& t, NodePtr left) {
    auto n = std::make_unique<Node>(NodeType::kCall, t.position);
    if (!Is(")")) {
      for (;;) {
        if (Is("?")) {
          n->type = NodeType::kPartial;
          n->items.push_back(std::make_unique<Node>(NodeType::kPlaceholder, node_.position));
          VQI_RETURN_IF_ERROR(Advance("?"));
        } else {
          VQI_ASSIGN_OR_RETURN(NodePtr arg, Expression(0));
          n->items.push_back(std::move(arg));
        }
        if (!Is(",")) break;
        VQI_RETURN_IF_ERROR(Advance(","));
      }
    }
    VQI_RETURN_IF_ERROR(Advance(")", true));
    if (left->type == NodeType::kName && (left->value == "function" || left->value == "\u03BB")) {
      n->type = NodeType::kLambda;
      for (size_t i = 0; i < n->items.size(); ++i) {
        if (n->items[i]->type != NodeType::kVariable) {
          return JsonataError("S0208", "Parameter " + std::to_string(i + 1) +
                                           " of function definition must be a variable name "
                                           "(start with $)");
        }
        n->params.push_back(n->items[i]->value);
      }
      n->items.clear();
      if (Is("<")) {  // signature: accepted, not enforced
        int depth = 0;
        while (node_.type != TokenType::kEnd && !Is("{")) {
          if (Is("<")) ++depth;
          if (Is(">") && --depth == 0) break;
          VQI_RETURN_IF_ERROR(Advance());
        }
        VQI_RETURN_IF_ERROR(Advance(">"));
      }
      VQI_RETURN_IF_ERROR(Advance("{"));
      VQI_ASSIGN_OR_RETURN(n->rhs, Expression(0));
      VQI_RETURN_IF_ERROR(Advance("}", true));
      return n;
    }
    n->lhs = std::move(left);
    return n;
  }

  // jsonata-js's processAST.
  Result<NodePtr> Rewrite(NodePtr n, int depth) {
    if (depth > 4 * kMaxParseDepth) {
      return JsonataError("S0200", "Expression nesting is too deep (limit " +
                                       std::to_string(4 * kMaxParseDepth) + " operators)");
    }
    ++depth;
    switch (n->type) {
      case NodeType::kRawBinary:
        return RewriteRaw(std::move(n), depth);
      case NodeType::kNegate: {
        VQI_ASSIGN_OR_RETURN(NodePtr e, Rewrite(std::move(n->lhs), depth));
        if (e->type == NodeType::kNumber) {
          e->number = -e->number;
          return e;
        }
        n->lhs = std::move(e);
        return n;
      }
      case NodeType::kName: {
        auto path = std::make_unique<Node>(NodeType::kPath, n->position);
        path->keep_singleton_array = n->keep_array;
        path->items.push_back(std::move(n));
        return path;
      }
      default:
        break;
    }
    if (n->lhs) {
      VQI_ASSIGN_OR_RETURN(n->lhs, Rewrite(std::move(n->lhs), depth));
    }
    if (n->rhs) {
      VQI_ASSIGN_OR_RETURN(n->rhs, Rewrite(std::move(n->rhs), depth));
    }
    if (n->els) {
      VQI_ASSIGN_OR_RETURN(n->els, Rewrite(std::move(n->els), depth));
    }
    for (auto& item : n->items) {
      VQI_ASSIGN_OR_RETURN(item, Rewrite(std::move(item), depth));
    }
    return n;
  }

  Result<NodePtr> RewriteRaw(NodePtr n, int depth) {
    if (n->value == ".") {
      VQI_ASSIGN_OR_RETURN(NodePtr lstep, Rewrite(std::move(n->lhs), depth));
      NodePtr path;
      if (lstep->type == NodeType::kPath) {
        path = std::move(lstep);
      } else {
        path = std::make_unique<Node>(NodeType::kPath, n->position);
        path->items.push_back(std::move(lstep));
      }
      VQI_ASSIGN_OR_RETURN(NodePtr rest, Rewrite(std::move(n->rhs), depth));
      if (rest->type == NodeType::kPath) {
        for (auto& s : rest->items) path->items.push_back(std::move(s));
      } else {
        if (!rest->predicates.empty()) {
          for (auto& p : rest->predicates) rest->stages.push_back(std::move(p));
          rest->predicates.clear();
        }
        path->items.push_back(std::move(rest));
      }
      path->keep_singleton_array = false;
      for (auto& step : path->items) {
        switch (step->type) {
          case NodeType::kNumber:
            return JsonataError("S0213", "The literal value " + FormatJsNumber(step->number) +
                                             " cannot be used as a step within a path expression");
          case NodeType::kTrue:
          case NodeType::kFalse:
          case NodeType::kNull: {
            const char* v = step->type == NodeType::kTrue    ? "true"
                            : step->type == NodeType::kFalse ? "false"
                                                             : "null";
            return JsonataError("S0213", std::string("The literal value ") + v +
                                             " cannot be used as a step within a path expression");
          }
          case NodeType::kString:
            step->type = NodeType::kName;
            break;
          default:
            break;
        }
        if (step->keep_array) path->keep_singleton_array = true;
      }
      if (path->items.front()->type == NodeType::kArray) path->items.front()->cons_array = true;
      if (path->items.back()->type == NodeType::kArray) path->items.back()->cons_array = true;
      return path;
    }
    if (n->value == "[") {
      VQI_ASSIGN_OR_RETURN(NodePtr result, Rewrite(std::move(n->lhs), depth));
      Node* step = result.get();
      bool stage = false;
      if (result->type == NodeType::kPath && !result->items.empty()) {
        step = result->items.back().get();
        stage = true;
      }
      if (result->group) {
        return JsonataError("S0209", "A predicate cannot follow a grouping expression in a step");
      }
      VQI_ASSIGN_OR_RETURN(NodePtr pred, Rewrite(std::move(n->rhs), depth));
      (stage ? step->stages : step->predicates).push_back(std::move(pred));
      return result;
    }
    if (n->value == "{") {
      VQI_ASSIGN_OR_RETURN(NodePtr result, Rewrite(std::move(n->lhs), depth));
      if (result->group) {
        return JsonataError("S0210", "Each step can only have one grouping expression");
      }
      VQI_ASSIGN_OR_RETURN(result->group, Rewrite(std::move(n->rhs), depth));
      return result;
    }
    // "^": order-by becomes a sort step of a path.
    VQI_ASSIGN_OR_RETURN(NodePtr result, Rewrite(std::move(n->lhs), depth));
    if (result->type != NodeType::kPath) {
      auto path = std::make_unique<Node>(NodeType::kPath, n->position);
      path->items.push_back(std::move(result));
      result = std::move(path);
    }
    auto sort = std::make_unique<Node>(NodeType::kSort, n->position);
    for (auto& term : n->items) {
      VQI_ASSIGN_OR_RETURN(term->lhs, Rewrite(std::move(term->lhs), depth));
      sort->items.push_back(std::move(term));
    }
    result->items.push_back(std::move(sort));
    return result;
  }

  Lexer lex_;
  Token node_;
  int depth_ = 0;
};

}  // namespace

Result<std::shared_ptr<const Program>> Parse(std::string_view text) {
  Parser parser(text);
  VQI_ASSIGN_OR_RETURN(NodePtr root, parser.ParseAll());
  auto program = std::make_shared<Program>();
  program->text = std::string(text);
  program->root = std::move(root);
  return std::shared_ptr<const Program>(std::move(program));
}

}  // namespace vqi::jsonata
