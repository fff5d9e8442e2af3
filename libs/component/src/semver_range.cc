// npm-style ranges: parsing (desugaring ^, ~, x-ranges, hyphens into comparators), matching,
// printing. The desugaring table is in docs/design/versions.md.
#include <optional>

#include "semver_internal.h"
#include "vqi/component/semver.h"

namespace vqi::component {
namespace {

using internal::Quote;

// A version with possibly missing (wildcard) trailing numbers: "1", "1.2.x", "*".
struct Partial {
  std::optional<uint64_t> major, minor, patch;
  std::vector<std::string> prerelease;
};

bool IsWildcard(std::string_view s) { return s == "x" || s == "X" || s == "*"; }

// Returns "" on success, else what is wrong with `text`.
std::string ParsePartial(std::string_view text, Partial* out) {
  if (!text.empty() && text[0] == 'v') text.remove_prefix(1);
  if (text.empty()) return "no version";
  Partial p;
  std::string_view core = text;
  std::vector<std::string> build;
  if (size_t plus = core.find('+'); plus != std::string_view::npos) {
    std::string err = internal::ParseIdentifiers(core.substr(plus + 1), false, &build);
    if (!err.empty()) return err;
    core = core.substr(0, plus);
  }
  bool has_pre = false;
  if (size_t dash = core.find('-'); dash != std::string_view::npos) {
    std::string err = internal::ParseIdentifiers(core.substr(dash + 1), true, &p.prerelease);
    if (!err.empty()) return err;
    core = core.substr(0, dash);
    has_pre = true;
  }
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t dot = core.find('.', start);
    parts.push_back(core.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() > 3) return "more than three numbers (MAJOR.MINOR.PATCH)";
  const char* names[3] = {"MAJOR", "MINOR", "PATCH"};
  std::optional<uint64_t>* fields[3] = {&p.major, &p.minor, &p.patch};
  bool wildcard = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (IsWildcard(parts[i])) {
      wildcard = true;
      continue;
    }
    if (wildcard) return "a number after a wildcard (" + Quote(parts[i]) + ")";
    uint64_t n = 0;
    std::string err = internal::ParseNumber(parts[i], names[i], &n);
    if (!err.empty()) return err;
    *fields[i] = n;
  }
  if ((has_pre || !build.empty()) && !p.patch) {
    return "a pre-release or build suffix needs a full MAJOR.MINOR.PATCH version";
  }
  *out = std::move(p);
  return "";
}

Version V(uint64_t major, uint64_t minor, uint64_t patch, std::vector<std::string> pre = {}) {
  return Version{major, minor, patch, std::move(pre), {}};
}
// The lowest pre-release of major.minor.patch: an exclusive upper bound written "<X.Y.Z-0"
// excludes the pre-releases of X.Y.Z too.
Version Floor(uint64_t major, uint64_t minor, uint64_t patch) {
  return V(major, minor, patch, {"0"});
}
Version Full(const Partial& p) { return V(*p.major, *p.minor, *p.patch, p.prerelease); }
Version Zeros(const Partial& p) { return V(*p.major, p.minor.value_or(0), p.patch.value_or(0)); }
// The first version above every version the partial matches ("1.2" -> 1.3.0-0).
Version Above(const Partial& p) {
  return p.minor ? Floor(*p.major, *p.minor + 1, 0) : Floor(*p.major + 1, 0, 0);
}
Comparator C(Op op, Version v) { return Comparator{op, std::move(v)}; }
const Version kNothingBelow = Floor(0, 0, 0);  // "<0.0.0-0" matches no version

// Appends the comparators `op` + `p` stands for. `op` is one of "", "=", "<", "<=", ">",
// ">=", "~", "^".
void Desugar(std::string_view op, const Partial& p, std::vector<Comparator>* out) {
  const bool full = p.patch.has_value();
  if (!p.major) {  // "*", "x": any, or nothing for "<*" and ">*"
    if (op == "<" || op == ">") out->push_back(C(Op::kLt, kNothingBelow));
    return;
  }
  if (op.empty() || op == "=") {
    if (full) {
      out->push_back(C(Op::kEq, Full(p)));
    } else {
      out->push_back(C(Op::kGe, Zeros(p)));
      out->push_back(C(Op::kLt, Above(p)));
    }
  } else if (op == "~") {
    out->push_back(C(Op::kGe, full ? Full(p) : Zeros(p)));
    out->push_back(C(Op::kLt, p.minor ? Floor(*p.major, *p.minor + 1, 0) : Above(p)));
  } else if (op == "^") {
    out->push_back(C(Op::kGe, full ? Full(p) : Zeros(p)));
    Version upper;
    if (*p.major != 0 || !p.minor) {
      upper = Floor(*p.major + 1, 0, 0);
    } else if (*p.minor != 0 || !p.patch) {
      upper = Floor(0, *p.minor + 1, 0);
    } else {
      upper = Floor(0, 0, *p.patch + 1);
    }
    out->push_back(C(Op::kLt, upper));
  } else if (op == ">") {
    out->push_back(full ? C(Op::kGt, Full(p)) : C(Op::kGe, Above(p)));
    if (!full) out->back().version.prerelease.clear();
  } else if (op == ">=") {
    out->push_back(C(Op::kGe, full ? Full(p) : Zeros(p)));
  } else if (op == "<") {
    out->push_back(full ? C(Op::kLt, Full(p))
                        : C(Op::kLt, Floor(*p.major, p.minor.value_or(0), 0)));
  } else if (op == "<=") {
    out->push_back(full ? C(Op::kLe, Full(p)) : C(Op::kLt, Above(p)));
  }
}

bool IsOperator(std::string_view t) {
  return t == "<" || t == "<=" || t == ">" || t == ">=" || t == "=" || t == "~" || t == "~>" ||
         t == "^";
}

// Splits a leading operator off `token`.
std::string_view SplitOperator(std::string_view* token) {
  for (std::string_view op : {"<=", ">=", "~>", "<", ">", "=", "~", "^"}) {
    if (token->substr(0, op.size()) == op) {
      token->remove_prefix(op.size());
      return op == "~>" ? "~" : op;
    }
  }
  return "";
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool Holds(const Comparator& c, const Version& v) {
  int cmp = Compare(v, c.version);
  switch (c.op) {
    case Op::kEq:
      return cmp == 0;
    case Op::kLt:
      return cmp < 0;
    case Op::kLe:
      return cmp <= 0;
    case Op::kGt:
      return cmp > 0;
    case Op::kGe:
      return cmp >= 0;
  }
  return false;
}

const char* OpText(Op op) {
  switch (op) {
    case Op::kEq:
      return "=";
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
  }
  return "?";
}

}  // namespace

Result<Range> ParseRange(std::string_view text, std::string_view field) {
  const std::string where(field);
  if (text.size() > kMaxRangeLength) {
    return ResourceExhausted(where + ": version range " + Quote(text) + " has " +
                             std::to_string(text.size()) +
                             " characters, more than the maximum of " +
                             std::to_string(kMaxRangeLength) + " (docs/limits.md)");
  }
  Range range;
  range.text = std::string(Trim(text));
  if (range.text.empty()) {
    return InvalidArgument(where +
                           ": empty version range (write e.g. >=1.0.0 <2.0.0, ^1.2.0, "
                           "~1.2.0, 1.2.3, or * for any version)");
  }
  const std::string in = where + ": range " + Quote(range.text);
  auto bad = [&](std::string_view token, const std::string& why) {
    return InvalidArgument(in + ": " + Quote(token) + ": " + why);
  };
  std::string_view rest = range.text;
  while (true) {
    size_t bar = rest.find("||");
    std::string_view set_text = Trim(rest.substr(0, bar));
    if (set_text.empty()) return InvalidArgument(in + ": empty alternative around '||'");
    // Whitespace-separated tokens; a lone operator joins the version after it (">= 1.2.3").
    std::vector<std::string> tokens;
    for (size_t i = 0; i < set_text.size();) {
      if (set_text[i] == ' ' || set_text[i] == '\t') {
        ++i;
        continue;
      }
      size_t end = set_text.find_first_of(" \t", i);
      if (end == std::string_view::npos) end = set_text.size();
      std::string token(set_text.substr(i, end - i));
      if (!tokens.empty() && IsOperator(tokens.back())) {
        tokens.back() += token;
      } else {
        tokens.push_back(std::move(token));
      }
      i = end;
    }
    if (IsOperator(tokens.back())) return bad(tokens.back(), "an operator without a version");
    std::vector<Comparator> set;
    if (tokens.size() == 3 && tokens[1] == "-") {
      Partial lo, hi;
      for (int i : {0, 2}) {
        std::string_view t = tokens[i];
        if (!SplitOperator(&t).empty()) return bad(tokens[i], "no operator in a hyphen range");
      }
      if (std::string err = ParsePartial(tokens[0], &lo); !err.empty()) return bad(tokens[0], err);
      if (std::string err = ParsePartial(tokens[2], &hi); !err.empty()) return bad(tokens[2], err);
      if (lo.major) set.push_back(C(Op::kGe, lo.patch ? Full(lo) : Zeros(lo)));
      if (hi.major) set.push_back(hi.patch ? C(Op::kLe, Full(hi)) : C(Op::kLt, Above(hi)));
    } else {
      for (const std::string& token : tokens) {
        if (token == "-") {
          return bad(token, "'-' only joins two versions, with spaces: 1.2.3 - 2.3.4");
        }
        std::string_view t = token;
        std::string_view op = SplitOperator(&t);
        Partial p;
        if (std::string err = ParsePartial(t, &p); !err.empty()) return bad(token, err);
        Desugar(op, p, &set);
      }
    }
    range.sets.push_back(std::move(set));
    if (bar == std::string_view::npos) break;
    rest = rest.substr(bar + 2);
  }
  return range;
}

Range ExactRange(const Version& v) {
  Range r;
  r.text = v.ToString();
  r.sets.push_back({C(Op::kEq, v)});
  return r;
}

bool Satisfies(const Version& v, const Range& range) {
  for (const auto& set : range.sets) {
    bool all = true;
    bool prerelease_allowed = !v.IsPrerelease();
    for (const Comparator& c : set) {
      if (!Holds(c, v)) {
        all = false;
        break;
      }
      if (c.version.IsPrerelease() && c.version.major == v.major && c.version.minor == v.minor &&
          c.version.patch == v.patch) {
        prerelease_allowed = true;
      }
    }
    if (all && prerelease_allowed) return true;
  }
  return false;
}

std::string ToString(const Range& range) {
  std::string out;
  for (size_t i = 0; i < range.sets.size(); ++i) {
    if (i) out += " || ";
    if (range.sets[i].empty()) out += "*";
    for (size_t j = 0; j < range.sets[i].size(); ++j) {
      const Comparator& c = range.sets[i][j];
      out += (j ? " " : "") + std::string(OpText(c.op)) + c.version.ToString();
    }
  }
  return out;
}

}  // namespace vqi::component
