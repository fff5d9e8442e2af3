// Parser for intrinsic function calls: States.Name('literal', 1, true, $.path, States.X(..)).
#include <cctype>
#include <mutex>
#include <unordered_map>

#include "intrinsics.h"
#include "vqi/workflow/jsonpath.h"

namespace vqi::workflow {
namespace {

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  Status Fail(const std::string& why) const {
    return InvalidArgument("invalid intrinsic function '" + s_ + "': " + why);
  }
  void Space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }

  Result<std::shared_ptr<IntrinsicCall>> Call(int depth) {
    if (depth > 32) return Fail("nested too deeply");
    Space();
    size_t b = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.'))
      ++i_;
    auto call = std::make_shared<IntrinsicCall>();
    call->name = s_.substr(b, i_ - b);
    if (FindIntrinsic(call->name) == nullptr) return Fail("unknown function '" + call->name + "'");
    Space();
    if (i_ >= s_.size() || s_[i_] != '(') return Fail("expected '('");
    ++i_;
    Space();
    if (i_ < s_.size() && s_[i_] == ')') {
      ++i_;
      return call;
    }
    while (true) {
      VQI_ASSIGN_OR_RETURN(IntrinsicArg a, Arg(depth));
      call->args.push_back(std::move(a));
      Space();
      if (i_ >= s_.size()) return Fail("missing ')'");
      if (s_[i_] == ')') {
        ++i_;
        return call;
      }
      if (s_[i_] != ',') return Fail("expected ',' or ')'");
      ++i_;
    }
  }

  Result<IntrinsicArg> Arg(int depth) {
    Space();
    IntrinsicArg a;
    if (i_ >= s_.size()) return Fail("missing argument");
    char c = s_[i_];
    if (c == '\'') {
      ++i_;
      std::string out;
      while (i_ < s_.size() && s_[i_] != '\'') {
        if (s_[i_] == '\\' && i_ + 1 < s_.size()) {
          char n = s_[i_ + 1];
          if (n == '\'' || n == '\\') {
            out += n;
            i_ += 2;
            continue;
          }
          if (n == '{' || n == '}') {  // kept escaped for States.Format
            out += '\\';
            out += n;
            i_ += 2;
            continue;
          }
        }
        out += s_[i_++];
      }
      if (i_ >= s_.size()) return Fail("unterminated string");
      ++i_;
      a.literal = out;
      return a;
    }
    if (c == '$') {
      size_t b = i_;
      int bracket = 0;
      char quote = 0;
      while (i_ < s_.size()) {
        char d = s_[i_];
        if (quote) {
          if (d == quote) quote = 0;
        } else if (d == '\'' || d == '"') {
          quote = d;
        } else if (d == '[' || d == '(') {
          ++bracket;
        } else if (d == ']' || (d == ')' && bracket > 0)) {
          --bracket;
        } else if (bracket == 0 && (d == ',' || d == ')' ||
                                    std::isspace(static_cast<unsigned char>(d)))) {
          break;
        }
        ++i_;
      }
      a.kind = IntrinsicArg::Kind::kPath;
      a.path = s_.substr(b, i_ - b);
      auto p = JsonPath::Parse(a.path);
      if (!p.ok()) return Fail(p.status().message());
      return a;
    }
    if (s_.compare(i_, 7, "States.") == 0) {
      a.kind = IntrinsicArg::Kind::kCall;
      VQI_ASSIGN_OR_RETURN(a.call, Call(depth + 1));
      return a;
    }
    size_t b = i_;
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != ')' &&
           !std::isspace(static_cast<unsigned char>(s_[i_])))
      ++i_;
    std::string tok = s_.substr(b, i_ - b);
    if (tok == "true") a.literal = true;
    else if (tok == "false") a.literal = false;
    else if (tok == "null") a.literal = nullptr;
    else {
      try {
        a.literal = Json::parse(tok);
        if (!a.literal.is_number()) return Fail("bad argument '" + tok + "'");
      } catch (...) {
        return Fail("bad argument '" + tok + "'");
      }
    }
    return a;
  }

  size_t i_ = 0;

 private:
  const std::string& s_;
};

}  // namespace

Result<std::shared_ptr<const IntrinsicCall>> ParseIntrinsic(const std::string& text) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::shared_ptr<const IntrinsicCall>> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(text);
    if (it != cache.end()) return it->second;
  }
  Parser p(text);
  VQI_ASSIGN_OR_RETURN(std::shared_ptr<IntrinsicCall> call, p.Call(0));
  p.Space();
  if (p.i_ != text.size()) return p.Fail("unexpected text after the call");
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() > 10000) cache.clear();
  cache[text] = call;
  return std::shared_ptr<const IntrinsicCall>(call);
}

}  // namespace vqi::workflow
