// Numeric, aggregation and type builtins: $number $abs $floor $ceil $round $power $sqrt
// $random $sum $max $min $average $count $boolean $not $exists $type $formatNumber $formatBase.
#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>

#include "functions.h"

namespace vqi::jsonata {
namespace {

bool ParseJsNumber(const std::string& s, double* out) {
  // RE2: linear time and no recursion on long strings (std::regex recursed per character).
  static const RE2 kDecimal(R"(-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?)");
  static const RE2 kRadix(R"((0[xX][0-9A-Fa-f]+)|(0[oO][0-7]+)|(0[bB][0-1]+))");
  if (RE2::FullMatch(s, kDecimal)) {
    *out = std::strtod(s.c_str(), nullptr);
    return std::isfinite(*out);
  }
  if (s.size() > 2 && RE2::FullMatch(s, kRadix)) {
    int base = (s[1] == 'x' || s[1] == 'X') ? 16 : (s[1] == 'o' || s[1] == 'O') ? 8 : 2;
    *out = static_cast<double>(std::strtoull(s.c_str() + 2, nullptr, base));
    return true;
  }
  return false;
}

Result<Value> FnNumber(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& v = Arg(a, 0);
  switch (v.type()) {
    case Type::kUndefined:
      return Value();
    case Type::kNumber:
      return v;
    case Type::kBool:
      return Value::Number(v.boolean() ? 1 : 0);
    case Type::kString: {
      double d;
      if (ParseJsNumber(v.str(), &d)) return Value::Number(d);
      break;
    }
    default:
      break;
  }
  return JsonataError("D3030", "Unable to cast value to a number: " + ValueText(v));
}

template <double (*F)(double)>
Result<Value> Unary(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  return Value::Number(F(Arg(a, 0).number()));
}

double Abs(double x) { return std::fabs(x); }
double Floor(double x) { return std::floor(x); }
double Ceil(double x) { return std::ceil(x); }

Result<Value> FnRound(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  int precision = Arg(a, 1).IsDefined() ? static_cast<int>(Arg(a, 1).number()) : 0;
  return Value::Number(RoundHalfEven(Arg(a, 0).number(), precision));
}

Result<Value> FnPower(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  double r = std::pow(Arg(a, 0).number(), Arg(a, 1).number());
  if (!std::isfinite(r)) {
    return JsonataError("D3061",
                        "The power function has resulted in a value that cannot be "
                        "represented as a JSON number: base=" +
                            FormatJsNumber(Arg(a, 0).number()) +
                            ", exponent=" + FormatJsNumber(Arg(a, 1).number()));
  }
  return Value::Number(r);
}

Result<Value> FnSqrt(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  double x = Arg(a, 0).number();
  if (x < 0) {
    return JsonataError(
        "D3060", "The sqrt function cannot be applied to a negative number: " + FormatJsNumber(x));
  }
  return Value::Number(std::sqrt(x));
}

// AWS Step Functions: $random([seed]); the same seed gives the same number.
Result<Value> FnRandom(Evaluator&, std::vector<Value>& a, const Value&) {
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  if (Arg(a, 0).IsNumber()) {
    std::mt19937_64 seeded(static_cast<uint64_t>(static_cast<int64_t>(Arg(a, 0).number())));
    return Value::Number(dist(seeded));
  }
  thread_local std::mt19937_64 engine(std::random_device{}());
  return Value::Number(dist(engine));
}

Result<Value> FnSum(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  double total = 0;
  for (size_t i = 0; i < arr.size(); ++i) total += arr.at(i).number();
  return Value::Number(total);
}

Result<Value> FnMax(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined() || arr.size() == 0) return Value();
  double m = -INFINITY;
  for (size_t i = 0; i < arr.size(); ++i) m = std::max(m, arr.at(i).number());
  return Value::Number(m);
}

Result<Value> FnMin(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined() || arr.size() == 0) return Value();
  double m = INFINITY;
  for (size_t i = 0; i < arr.size(); ++i) m = std::min(m, arr.at(i).number());
  return Value::Number(m);
}

Result<Value> FnAverage(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined() || arr.size() == 0) return Value();
  double total = 0;
  for (size_t i = 0; i < arr.size(); ++i) total += arr.at(i).number();
  return Value::Number(total / static_cast<double>(arr.size()));
}

Result<Value> FnCount(Evaluator&, std::vector<Value>& a, const Value&) {
  return Value::Number(static_cast<double>(Arg(a, 0).size()));
}

Result<Value> FnBoolean(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  return Value::Bool(ToBoolean(Arg(a, 0)));
}

Result<Value> FnNot(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  return Value::Bool(!ToBoolean(Arg(a, 0)));
}

Result<Value> FnExists(Evaluator&, std::vector<Value>& a, const Value&) {
  return Value::Bool(Arg(a, 0).IsDefined());
}

Result<Value> FnType(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  return Value::String(TypeName(Arg(a, 0)));
}

Result<Value> FnFormatBase(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  double v = RoundHalfEven(Arg(a, 0).number(), 0);
  int radix = Arg(a, 1).IsDefined() ? static_cast<int>(Arg(a, 1).number()) : 10;
  if (radix < 2 || radix > 36) {
    return JsonataError("D3100",
                        "The radix of the formatBase function must be between 2 and 36.  "
                        "It was given " +
                            FormatJsNumber(Arg(a, 1).number()));
  }
  bool neg = v < 0;
  double x = std::fabs(v);
  std::string digits;
  if (x == 0) digits = "0";
  while (x >= 1 && digits.size() < 1100) {
    int d = static_cast<int>(std::fmod(x, radix));
    digits.insert(digits.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[d]);
    x = std::floor(x / radix);
  }
  return Value::String((neg ? "-" : "") + digits);
}

// XPath/XSLT format-number, decimal pictures only: prefix/suffix text, '#', '0', grouping ',',
// one '.', '%' and '‰', and a ';' negative sub-picture. Exponents and the options object are
// not supported.
Result<Value> FnFormatNumber(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  double value = Arg(a, 0).number();
  std::string picture = Arg(a, 1).str();
  std::string sub = picture;
  size_t semi = picture.find(';');
  if (semi != std::string::npos) {
    if (picture.find(';', semi + 1) != std::string::npos) {
      return JsonataError("D3080",
                          "The picture string must only contain a maximum of two "
                          "sub-pictures");
    }
    sub = value < 0 ? picture.substr(semi + 1) : picture.substr(0, semi);
  }
  auto active = [](char c) { return (c >= '0' && c <= '9') || c == '#' || c == '.' || c == ','; };
  size_t first = 0;
  while (first < sub.size() && !active(sub[first])) ++first;
  size_t last = sub.size();
  while (last > first && !active(sub[last - 1])) --last;
  std::string prefix = sub.substr(0, first), suffix = sub.substr(last);
  std::string mantissa = sub.substr(first, last - first);
  if (semi == std::string::npos && value < 0) prefix = "-" + prefix;
  if (value < 0) value = -value;
  if ((prefix + suffix).find('%') != std::string::npos) value *= 100;
  if ((prefix + suffix).find("\u2030") != std::string::npos) value *= 1000;
  size_t dot = mantissa.find('.');
  std::string ipic = mantissa.substr(0, dot);
  std::string fpic = dot == std::string::npos ? "" : mantissa.substr(dot + 1);
  int min_int = 0, min_frac = 0, max_frac = 0;
  for (char c : ipic) min_int += (c >= '0' && c <= '9') ? 1 : 0;
  for (char c : fpic) {
    if (c >= '0' && c <= '9') ++min_frac;
    if (c >= '0' && c <= '9') ++max_frac;
    if (c == '#') ++max_frac;
  }
  std::vector<size_t> groups;  // positions of ',' counted from the right of the integer part
  size_t digits_seen = 0;
  for (size_t i = ipic.size(); i-- > 0;) {
    if (ipic[i] == ',') {
      groups.push_back(digits_seen);
    } else {
      ++digits_seen;
    }
  }
  max_frac = std::min(max_frac, 100);
  min_frac = std::min(min_frac, max_frac);
  double rounded = RoundHalfEven(value, max_frac);
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%.*f", max_frac, rounded);
  std::string text = buf;
  size_t p = text.find('.');
  std::string ipart = text.substr(0, p);
  std::string fpart = p == std::string::npos ? "" : text.substr(p + 1);
  while (static_cast<int>(fpart.size()) > min_frac && !fpart.empty() && fpart.back() == '0') {
    fpart.pop_back();
  }
  if (ipart == "0" && min_int == 0 && !fpart.empty()) ipart.clear();
  while (static_cast<int>(ipart.size()) < min_int) ipart = "0" + ipart;
  if (!groups.empty()) {
    bool regular = true;
    for (size_t i = 0; i < groups.size(); ++i) {
      if (groups[i] != groups[0] * (i + 1)) regular = false;
    }
    std::string grouped;
    size_t count = 0;
    for (size_t i = ipart.size(); i-- > 0;) {
      bool sep = false;
      if (count > 0) {
        if (regular && groups[0] > 0) {
          sep = count % groups[0] == 0;
        } else {
          for (size_t g : groups) sep = sep || g == count;
        }
      }
      if (sep) grouped.insert(grouped.begin(), ',');
      grouped.insert(grouped.begin(), ipart[i]);
      ++count;
    }
    ipart = grouped;
  }
  std::string out = prefix + ipart;
  if (!fpart.empty()) out += "." + fpart;
  return Value::String(out + suffix);
}

}  // namespace

std::vector<BuiltinDef> NumericBuiltins() {
  return {
      {"number", "<(nsb)-:n>", FnNumber},
      {"abs", "<n-:n>", Unary<Abs>},
      {"floor", "<n-:n>", Unary<Floor>},
      {"ceil", "<n-:n>", Unary<Ceil>},
      {"round", "<n-n?:n>", FnRound},
      {"power", "<n-n:n>", FnPower},
      {"sqrt", "<n-:n>", FnSqrt},
      {"random", "<n?:n>", FnRandom},
      {"sum", "<a<n>:n>", FnSum},
      {"max", "<a<n>:n>", FnMax},
      {"min", "<a<n>:n>", FnMin},
      {"average", "<a<n>:n>", FnAverage},
      {"count", "<a:n>", FnCount},
      {"boolean", "<x-:b>", FnBoolean},
      {"not", "<x-:b>", FnNot},
      {"exists", "<x:b>", FnExists},
      {"type", "<x:s>", FnType},
      {"formatNumber", "<n-so?:s>", FnFormatNumber},
      {"formatBase", "<n-n?:s>", FnFormatBase},
  };
}

}  // namespace vqi::jsonata
