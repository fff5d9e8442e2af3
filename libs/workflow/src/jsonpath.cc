#include "vqi/workflow/jsonpath.h"

#include <cctype>
#include <charconv>
#include <cmath>

namespace vqi::workflow {
namespace {

class PathParser {
 public:
  explicit PathParser(std::string_view s) : s_(s) {}
  static constexpr int kMaxFilterNesting = 32;

  Status Fail(const std::string& why) const {
    return InvalidArgument("invalid JSONPath '" + std::string(s_) + "': " + why + " at offset " +
                           std::to_string(i_));
  }
  bool AtEnd() const { return i_ >= s_.size(); }
  char Peek(size_t k = 0) const { return i_ + k < s_.size() ? s_[i_ + k] : '\0'; }

  static bool IsNameChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
           static_cast<unsigned char>(c) >= 0x80 || c == '$' || c == ':' || c == '@';
  }

  std::string Name() {
    size_t b = i_;
    while (!AtEnd() && IsNameChar(s_[i_])) ++i_;
    return std::string(s_.substr(b, i_ - b));
  }

  void SkipSpace() {
    while (!AtEnd() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }

  Result<std::string> Quoted() {
    char q = s_[i_++];
    std::string out;
    while (!AtEnd() && s_[i_] != q) {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
      out += s_[i_++];
    }
    if (AtEnd()) return Fail("unterminated string");
    ++i_;
    return out;
  }

  Result<long long> Integer() {
    SkipSpace();
    size_t b = i_;
    if (Peek() == '-') ++i_;
    while (!AtEnd() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    if (i_ == b || (i_ == b + 1 && s_[b] == '-')) return Fail("expected an integer");
    long long v = 0;
    auto [ptr, ec] = std::from_chars(s_.data() + b, s_.data() + i_, v);
    if (ec != std::errc() || ptr != s_.data() + i_) return Fail("integer out of range");
    return v;
  }

  Result<Json> Literal() {
    SkipSpace();
    char c = Peek();
    if (c == '\'' || c == '"') {
      VQI_ASSIGN_OR_RETURN(std::string s, Quoted());
      return Json(s);
    }
    size_t b = i_;
    while (!AtEnd() && s_[i_] != ')' && !std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    std::string tok(s_.substr(b, i_ - b));
    if (tok == "true") return Json(true);
    if (tok == "false") return Json(false);
    if (tok == "null") return Json(nullptr);
    try {
      size_t used = 0;
      double d = std::stod(tok, &used);
      if (used != tok.size()) return Fail("bad literal '" + tok + "'");
      if (tok.find_first_of(".eE") == std::string::npos) return Json(std::stoll(tok));
      return Json(d);
    } catch (...) {
      return Fail("bad literal '" + tok + "'");
    }
  }

  // Parses segments until end (or, inside a filter, until an operator / ')').
  Status Segments(std::vector<JsonPath::Segment>& out, bool* definite, bool in_filter) {
    using K = JsonPath::Segment::Kind;
    while (!AtEnd()) {
      char c = Peek();
      if (in_filter && (c == ')' || c == ' ' || c == '=' || c == '!' || c == '<' || c == '>'))
        return Status::Ok();
      JsonPath::Segment seg;
      if (c == '.') {
        ++i_;
        bool descend = false;
        if (Peek() == '.') {
          ++i_;
          descend = true;
          *definite = false;
        }
        if (Peek() == '*') {
          ++i_;
          seg.kind = descend ? K::kDescend : K::kWildcard;
          if (!descend) *definite = false;
        } else if (Peek() == '[' && descend) {
          seg.kind = K::kDescend;
          out.push_back(seg);
          continue;
        } else {
          seg.name = Name();
          if (seg.name.empty()) return Fail("expected a field name");
          seg.kind = descend ? K::kDescend : K::kField;
        }
        out.push_back(std::move(seg));
      } else if (c == '[') {
        ++i_;
        SkipSpace();
        if (Peek() == '\'' || Peek() == '"') {
          VQI_ASSIGN_OR_RETURN(seg.name, Quoted());
          seg.kind = K::kField;
        } else if (Peek() == '*') {
          ++i_;
          seg.kind = K::kWildcard;
          *definite = false;
        } else if (Peek() == '?') {
          ++i_;
          if (Peek() != '(') return Fail("expected '(' after '?'");
          ++i_;
          SkipSpace();
          if (Peek() != '@') return Fail("filter must start with '@'");
          ++i_;
          bool d = true;
          // Filters nest by recursion: bounded, or a long path overflows the stack (found by
          // workflow_jsonpath_fuzz; docs/limits.md, Workflows).
          if (++filter_depth_ > kMaxFilterNesting) {
            return Fail("filters are nested deeper than " + std::to_string(kMaxFilterNesting) +
                        " levels (docs/limits.md)");
          }
          Status nested = Segments(seg.filter_path, &d, true);
          --filter_depth_;
          VQI_RETURN_IF_ERROR(nested);
          SkipSpace();
          if (Peek() != ')') {
            size_t b = i_;
            while (!AtEnd() && std::string("=!<>~").find(s_[i_]) != std::string::npos) ++i_;
            seg.filter_op = std::string(s_.substr(b, i_ - b));
            static const char* kOps[] = {"==", "!=", "<", "<=", ">", ">="};
            bool known = false;
            for (const char* op : kOps) known |= seg.filter_op == op;
            if (!known) return Fail("unknown filter operator '" + seg.filter_op + "'");
            VQI_ASSIGN_OR_RETURN(seg.filter_value, Literal());
            SkipSpace();
          }
          if (Peek() != ')') return Fail("expected ')'");
          ++i_;
          seg.kind = K::kFilter;
          *definite = false;
        } else {
          std::optional<long long> first;
          if (Peek() != ':') {
            VQI_ASSIGN_OR_RETURN(long long n, Integer());
            first = n;
          }
          SkipSpace();
          if (Peek() == ':') {
            ++i_;
            seg.kind = K::kSlice;
            seg.start = first;
            SkipSpace();
            if (Peek() != ']' && Peek() != ':') {
              VQI_ASSIGN_OR_RETURN(long long n, Integer());
              seg.end = n;
            }
            SkipSpace();
            if (Peek() == ':') {
              ++i_;
              SkipSpace();
              if (Peek() != ']') {
                VQI_ASSIGN_OR_RETURN(seg.step, Integer());
                if (seg.step == 0) return Fail("slice step cannot be 0");
              }
            }
            *definite = false;
          } else {
            seg.kind = K::kIndex;
            seg.index = *first;
          }
        }
        SkipSpace();
        if (Peek() != ']') return Fail("expected ']'");
        ++i_;
        out.push_back(std::move(seg));
      } else {
        return Fail(std::string("unexpected character '") + c + "'");
      }
    }
    return Status::Ok();
  }

  size_t i_ = 0;
  int filter_depth_ = 0;

 private:
  std::string_view s_;
};

int Compare(const Json& a, const Json& b, bool* comparable) {
  *comparable = true;
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    return a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
  }
  *comparable = false;
  return a == b ? 0 : 1;
}

// Every node a query steps on costs one unit. Repeated descents (`$..*..*..*`) revisit each
// subtree once per descent, so the work grows as depth^descents; the budget ends such a query
// with an error instead of an hour of CPU (found by workflow_jsonpath_fuzz; docs/limits.md).
struct Budget {
  uint64_t left = JsonPath::kMaxVisitedNodes;
  bool exhausted = false;
  bool Spend() {
    if (left == 0) {
      exhausted = true;
      return false;
    }
    --left;
    return true;
  }
};

void Walk(const std::vector<JsonPath::Segment>& segs, size_t k, const Json& node,
          std::vector<const Json*>& out, Budget& budget);

void Descend(const std::vector<JsonPath::Segment>& segs, size_t k, const Json& node,
             std::vector<const Json*>& out, Budget& budget) {
  if (!budget.Spend()) return;
  // `..name` matches `name` at any depth; `..*` every descendant; `..[..]` next segment anywhere.
  const JsonPath::Segment& s = segs[k];
  if (s.name.empty() && k + 1 < segs.size() && segs[k + 1].kind != JsonPath::Segment::Kind::kField) {
    Walk(segs, k + 1, node, out, budget);
  } else if (!s.name.empty()) {
    if (node.is_object()) {
      auto it = node.find(s.name);
      if (it != node.end()) Walk(segs, k + 1, *it, out, budget);
    }
  } else {
    if (node.is_structured())
      for (const Json& child : node) Walk(segs, k + 1, child, out, budget);
  }
  if (node.is_structured())
    for (const Json& child : node) Descend(segs, k, child, out, budget);
}

void Walk(const std::vector<JsonPath::Segment>& segs, size_t k, const Json& node,
          std::vector<const Json*>& out, Budget& budget) {
  using K = JsonPath::Segment::Kind;
  if (!budget.Spend()) return;
  if (k == segs.size()) {
    out.push_back(&node);
    return;
  }
  const JsonPath::Segment& s = segs[k];
  switch (s.kind) {
    case K::kField:
      if (node.is_object()) {
        auto it = node.find(s.name);
        if (it != node.end()) Walk(segs, k + 1, *it, out, budget);
      }
      break;
    case K::kIndex:
      if (node.is_array()) {
        long long n = static_cast<long long>(node.size());
        long long i = s.index < 0 ? n + s.index : s.index;
        if (i >= 0 && i < n) Walk(segs, k + 1, node[static_cast<size_t>(i)], out, budget);
      }
      break;
    case K::kWildcard:
      if (node.is_structured())
        for (const Json& child : node) Walk(segs, k + 1, child, out, budget);
      break;
    case K::kSlice:
      if (node.is_array()) {
        long long n = static_cast<long long>(node.size());
        auto norm = [n](long long v) { return v < 0 ? std::max(0LL, n + v) : std::min(v, n); };
        if (s.step > 0) {
          long long b = s.start ? norm(*s.start) : 0, e = s.end ? norm(*s.end) : n;
          for (long long i = b; i < e; i += s.step) Walk(segs, k + 1, node[size_t(i)], out, budget);
        } else {
          long long b = s.start ? norm(*s.start) : n - 1, e = s.end ? norm(*s.end) : -1;
          for (long long i = std::min(b, n - 1); i > e; i += s.step)
            Walk(segs, k + 1, node[size_t(i)], out, budget);
        }
      }
      break;
    case K::kDescend:
      Descend(segs, k, node, out, budget);
      break;
    case K::kFilter:
      if (node.is_structured()) {
        for (const Json& child : node) {
          std::vector<const Json*> hit;
          Walk(s.filter_path, 0, child, hit, budget);
          bool keep = false;
          if (s.filter_op.empty()) {
            keep = !hit.empty();
          } else if (!hit.empty()) {
            bool comparable = false;
            int c = Compare(*hit[0], s.filter_value, &comparable);
            const std::string& op = s.filter_op;
            if (op == "==") keep = c == 0;
            else if (op == "!=") keep = c != 0;
            else if (comparable && op == "<") keep = c < 0;
            else if (comparable && op == "<=") keep = c <= 0;
            else if (comparable && op == ">") keep = c > 0;
            else if (comparable && op == ">=") keep = c >= 0;
          }
          if (keep) Walk(segs, k + 1, child, out, budget);
        }
      }
      break;
  }
}

}  // namespace

Result<JsonPath> JsonPath::Parse(std::string_view text) {
  JsonPath p;
  p.text_ = std::string(text);
  PathParser parser(text);
  if (text.empty() || text[0] != '$') return parser.Fail("must start with '$'");
  parser.i_ = 1;
  if (text.size() > 1 && text[1] == '$') {
    p.root_ = Root::kContext;
    parser.i_ = 2;
  } else if (text.size() > 1 && text[1] != '.' && text[1] != '[') {
    p.root_ = Root::kVariable;
    p.variable_ = parser.Name();
    if (p.variable_.empty()) return parser.Fail("bad variable name");
  }
  VQI_RETURN_IF_ERROR(parser.Segments(p.segments_, &p.definite_, false));
  return p;
}

std::string JsonPath::Normalized() const {
  std::string out = root_ == Root::kContext ? "$$" : "$";
  if (root_ == Root::kVariable) out += variable_;
  for (const Segment& s : segments_) {
    switch (s.kind) {
      case Segment::Kind::kField: out += "['" + s.name + "']"; break;
      case Segment::Kind::kIndex: out += "[" + std::to_string(s.index) + "]"; break;
      case Segment::Kind::kWildcard: out += "[*]"; break;
      case Segment::Kind::kDescend: out += ".." + (s.name.empty() ? "*" : "['" + s.name + "']"); break;
      case Segment::Kind::kSlice:
        out += "[" + (s.start ? std::to_string(*s.start) : "") + ":" +
               (s.end ? std::to_string(*s.end) : "") + "]";
        break;
      case Segment::Kind::kFilter: out += "[?]"; break;
    }
  }
  return out;
}

Result<std::optional<Json>> JsonPath::Query(const Json& root) const {
  std::vector<const Json*> hits;
  Budget budget;
  Walk(segments_, 0, root, hits, budget);
  if (budget.exhausted) {
    return ResourceExhausted("JSONPath '" + text_ + "' visits more than " +
                             std::to_string(kMaxVisitedNodes) + " nodes (docs/limits.md)");
  }
  if (definite_) {
    if (hits.empty()) return std::optional<Json>();
    return std::optional<Json>(*hits[0]);
  }
  Json arr = Json::array();
  for (const Json* h : hits) arr.push_back(*h);
  return std::optional<Json>(std::move(arr));
}

Status JsonPath::Set(Json& root, Json value) const {
  if (!definite_) return InvalidArgument("cannot write to indefinite path " + text_);
  Json* node = &root;
  for (const Segment& s : segments_) {
    if (s.kind == Segment::Kind::kField) {
      if (node->is_null()) *node = Json::object();
      if (!node->is_object()) return FailedPrecondition("not an object");
      node = &(*node)[s.name];
    } else {
      if (!node->is_array()) return FailedPrecondition("not an array");
      long long n = static_cast<long long>(node->size());
      long long i = s.index < 0 ? n + s.index : s.index;
      if (i < 0 || i >= n) return FailedPrecondition("index out of range");
      node = &(*node)[static_cast<size_t>(i)];
    }
  }
  *node = std::move(value);
  return Status::Ok();
}

}  // namespace vqi::workflow
