#include "regex.h"

#include <re2/re2.h>

#include <algorithm>

#include "lexer.h"

namespace vqi::jsonata {
namespace {

// {n}, {n,}, {n,m} starting at `i`; sets *end to the closing brace.
bool BraceQuantifier(const std::string& p, size_t i, size_t* end) {
  size_t j = i + 1;
  size_t digits = 0;
  while (j < p.size() && p[j] >= '0' && p[j] <= '9') ++j, ++digits;
  if (digits == 0) return false;
  if (j < p.size() && p[j] == ',') {
    ++j;
    while (j < p.size() && p[j] >= '0' && p[j] <= '9') ++j;
  }
  if (j >= p.size() || p[j] != '}') return false;
  *end = j;
  return true;
}

// JavaScript rejects a quantifier applied to a quantifier ("Nothing to repeat", e.g. /.**/);
// libstdc++ accepts it as a nested repetition that backtracks exponentially.
bool HasRepeatedQuantifier(const std::string& p) {
  bool quantified = false, lazy = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\') {
      ++i;
      quantified = false;
      continue;
    }
    if (c == '[') {
      ++i;
      while (i < p.size() && p[i] != ']') i += p[i] == '\\' ? 2 : 1;
      quantified = false;
      continue;
    }
    size_t end = i;
    bool quantifier = c == '*' || c == '+' || c == '?' || (c == '{' && BraceQuantifier(p, i, &end));
    if (!quantifier) {
      quantified = false;
      continue;
    }
    if (quantified) {
      if (c == '?' && !lazy) {
        lazy = true;
        continue;
      }
      return true;
    }
    // '?' right after '(' opens a group modifier such as (?: — not a quantifier.
    quantified = !(c == '?' && i > 0 && p[i - 1] == '(');
    lazy = false;
    i = end;
  }
  return false;
}

// JavaScript spellings RE2 writes differently: \uXXXX -> \x{XXXX}, \/ -> /.
// Look-around and back-references have no RE2 form: a clear S0303 names them.
Result<std::string> Translate(const std::string& p) {
  std::string out;
  out.reserve(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char n = p[i + 1];
      if (n == 'u' && i + 6 <= p.size()) {
        std::string hex = p.substr(i + 2, 4);
        if (hex.size() == 4 &&
            hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
          out += "\\x{" + hex + "}";
          i += 5;
          continue;
        }
      }
      if (n >= '1' && n <= '9') {
        return JsonataError("S0303", "Invalid regular expression: /" + p +
                                         "/: back-references are not supported (vqi matches "
                                         "with RE2, docs/design/jsonata.md)");
      }
      if (n == '/') {
        out += '/';
        ++i;
        continue;
      }
      out += c;
      out += n;
      ++i;
      continue;
    }
    if (c == '(' && i + 2 < p.size() && p[i + 1] == '?' &&
        (p[i + 2] == '=' || p[i + 2] == '!' ||
         (p[i + 2] == '<' && i + 3 < p.size() && (p[i + 3] == '=' || p[i + 3] == '!')))) {
      return JsonataError("S0303", "Invalid regular expression: /" + p +
                                       "/: look-around assertions are not supported (vqi "
                                       "matches with RE2, docs/design/jsonata.md)");
    }
    out += c;
  }
  return out;
}

}  // namespace

Regex::~Regex() = default;

Result<std::shared_ptr<const Regex>> Regex::Compile(const std::string& pattern,
                                                    const std::string& flags) {
  if (pattern.size() > kMaxPatternBytes) {
    return JsonataError("S0303", "Invalid regular expression: pattern longer than " +
                                     std::to_string(kMaxPatternBytes) +
                                     " characters (limit: docs/limits.md)");
  }
  // JavaScript's own syntax errors that RE2 would accept (or read differently): group
  // nesting beyond 50, numbers in bounds/back-references beyond 6 digits, a quantifier on a
  // quantifier ("Nothing to repeat"). They also keep compile cost small.
  int depth = 0, max_depth = 0;
  for (char c : pattern) {
    if (c == '(') max_depth = std::max(max_depth, ++depth);
    if (c == ')') --depth;
  }
  if (pattern.size() > 10000 || max_depth > 50) {
    return JsonataError("S0303",
                        "Invalid regular expression: pattern too long or too deeply "
                        "nested (limits: 10000 characters, 50 nested groups)");
  }
  size_t run = 0;
  bool counted = false;
  bool in_braces = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '{') in_braces = true;
    if (c == '}') in_braces = false;
    if (c < '0' || c > '9') {
      run = 0;
      continue;
    }
    // Repetition bounds {n,m} and back-references \n are parsed as numbers.
    if (run++ == 0) counted = in_braces || (i > 0 && pattern[i - 1] == '\\');
    if (counted && run > 6) {
      return JsonataError("S0303",
                          "Invalid regular expression: /" + pattern + "/: number too large");
    }
  }
  if (HasRepeatedQuantifier(pattern)) {
    return JsonataError("S0303",
                        "Invalid regular expression: /" + pattern + "/: Nothing to repeat");
  }
  VQI_ASSIGN_OR_RETURN(std::string translated, Translate(pattern));
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kMaxProgramBytes);
  bool multiline = false;
  for (char f : flags) {
    if (f == 'i') options.set_case_sensitive(false);
    if (f == 'm') multiline = true;
  }
  // RE2's ^ and $ match at line ends only under (?m); `.` never matches \n, as in JavaScript.
  if (multiline) translated = "(?m)" + translated;
  auto r = std::make_shared<Regex>();
  r->pattern_ = pattern;
  r->re_ = std::make_unique<RE2>(translated, options);
  if (!r->re_->ok()) {
    return JsonataError("S0303",
                        "Invalid regular expression: /" + pattern + "/: " + r->re_->error());
  }
  return std::shared_ptr<const Regex>(std::move(r));
}

Result<bool> Regex::Search(const std::string& s, size_t from, Match* m) const {
  if (from > s.size()) return false;
  int groups = re_->NumberOfCapturingGroups();
  std::vector<re2::StringPiece> sub(static_cast<size_t>(groups) + 1);
  if (!re_->Match(s, from, s.size(), RE2::UNANCHORED, sub.data(), groups + 1)) return false;
  m->start = static_cast<size_t>(sub[0].data() - s.data());
  m->end = m->start + sub[0].size();
  m->text = std::string(sub[0]);
  m->groups.clear();
  for (int i = 1; i <= groups; ++i) {
    if (sub[i].data() != nullptr) {
      m->groups.emplace_back(std::string(sub[i]));
    } else {
      m->groups.emplace_back(std::nullopt);
    }
  }
  return true;
}

}  // namespace vqi::jsonata
