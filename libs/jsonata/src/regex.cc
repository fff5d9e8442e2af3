#include "regex.h"

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

}  // namespace

Result<std::shared_ptr<const Regex>> Regex::Compile(const std::string& pattern,
                                                    const std::string& flags) {
  // libstdc++ parses repetition bounds into a signed long without overflow checks; huge bounds
  // are also useless, so reject them up front.
  // std::regex compiles recursively: bound the pattern's size and group nesting.
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
  auto r = std::make_shared<Regex>();
  r->pattern_ = pattern;
  auto options = std::regex::ECMAScript;
  for (char f : flags) {
    if (f == 'i') options |= std::regex::icase;
    if (f == 'm') options |= std::regex::multiline;
  }
  try {
    r->re_ = std::regex(pattern, options);
  } catch (const std::regex_error& e) {
    return JsonataError("S0303", "Invalid regular expression: /" + pattern + "/: " + e.what());
  }
  return std::shared_ptr<const Regex>(std::move(r));
}

Result<bool> Regex::Search(const std::string& s, size_t from, Match* m) const {
  if (from > s.size()) return false;
  if (s.size() - from > kMaxSubjectBytes) {
    return JsonataError("D1005", "Regular expressions can only be applied to strings of up to " +
                                     std::to_string(kMaxSubjectBytes) + " bytes; got " +
                                     std::to_string(s.size() - from));
  }
  std::smatch sm;
  try {
    auto flags =
        from > 0 ? std::regex_constants::match_prev_avail : std::regex_constants::match_default;
    if (!std::regex_search(s.begin() + static_cast<std::ptrdiff_t>(from), s.end(), sm, re_,
                           flags)) {
      return false;
    }
  } catch (const std::regex_error& e) {
    return JsonataError("D1005", std::string("Regular expression evaluation failed: ") + e.what());
  }
  m->start = from + static_cast<size_t>(sm.position(0));
  m->end = m->start + static_cast<size_t>(sm.length(0));
  m->text = sm.str(0);
  m->groups.clear();
  for (size_t i = 1; i < sm.size(); ++i) {
    if (sm[i].matched) {
      m->groups.emplace_back(sm.str(i));
    } else {
      m->groups.emplace_back(std::nullopt);
    }
  }
  return true;
}

}  // namespace vqi::jsonata
