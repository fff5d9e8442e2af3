// String builtins: $string $substring $substringBefore $substringAfter $uppercase $lowercase
// $length $trim $pad $contains $split $join $replace $match $base64encode $base64decode
// $encodeUrlComponent $encodeUrl $decodeUrlComponent $decodeUrl.
#include <cmath>
#include <cstring>

#include "functions.h"

namespace vqi::jsonata {
namespace {

Result<Value> FnString(Evaluator&, std::vector<Value>& a, const Value&) {
  return StringOf(Arg(a, 0), Arg(a, 1).IsBool() && Arg(a, 1).boolean());
}

// JavaScript slice index on code points.
size_t SliceIndex(double idx, size_t len) {
  if (std::isnan(idx)) return 0;
  double t = std::trunc(idx);
  if (t < 0) t += static_cast<double>(len);
  if (t < 0) return 0;
  if (t > static_cast<double>(len)) return len;
  return static_cast<size_t>(t);
}

Result<Value> FnSubstring(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& s = Arg(a, 0);
  if (s.IsUndefined()) return Value();
  std::vector<size_t> off = CodePointOffsets(s.str());
  size_t len = off.size() - 1;
  double start = Arg(a, 1).number();
  if (static_cast<double>(len) + start < 0) start = 0;
  size_t b = SliceIndex(start, len), e = len;
  if (Arg(a, 2).IsDefined()) {
    double length = Arg(a, 2).number();
    if (length <= 0) return Value::String("");
    double end = start >= 0 ? start + length : static_cast<double>(len) + start + length;
    e = SliceIndex(end, len);
  }
  if (e <= b) return Value::String("");
  return Value::String(s.str().substr(off[b], off[e] - off[b]));
}

Result<Value> FnSubstringBefore(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& s = Arg(a, 0);
  if (s.IsUndefined()) return Value();
  if (Arg(a, 1).IsUndefined()) return s;
  size_t pos = s.str().find(Arg(a, 1).str());
  if (pos == std::string::npos) return s;
  return Value::String(s.str().substr(0, pos));
}

Result<Value> FnSubstringAfter(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& s = Arg(a, 0);
  if (s.IsUndefined()) return Value();
  if (Arg(a, 1).IsUndefined()) return s;
  size_t pos = s.str().find(Arg(a, 1).str());
  if (pos == std::string::npos) return s;
  return Value::String(s.str().substr(pos + Arg(a, 1).str().size()));
}

Result<Value> FnUppercase(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  std::string s = Arg(a, 0).str();
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return Value::String(std::move(s));
}

Result<Value> FnLowercase(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  std::string s = Arg(a, 0).str();
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return Value::String(std::move(s));
}

Result<Value> FnLength(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  return Value::Number(static_cast<double>(CodePointOffsets(Arg(a, 0).str()).size() - 1));
}

Result<Value> FnTrim(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  std::string out;
  bool space = false;
  for (char c : Arg(a, 0).str()) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  if (space) out.push_back(' ');
  if (!out.empty() && out.front() == ' ') out.erase(0, 1);
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return Value::String(std::move(out));
}

Result<Value> FnPad(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Arg(a, 0).str();
  double width = Arg(a, 1).number();
  std::string ch = Arg(a, 2).IsString() && !Arg(a, 2).str().empty() ? Arg(a, 2).str() : " ";
  double pad = std::fabs(std::trunc(width)) - static_cast<double>(CodePointOffsets(s).size() - 1);
  if (!(pad > 0)) return Arg(a, 0);
  if (pad > 1e7) return JsonataError("D3000", "Padding width is too large");
  std::string padding;
  std::vector<size_t> off = CodePointOffsets(ch);
  size_t n = static_cast<size_t>(pad);
  for (size_t i = 0; i < n; ++i) {
    size_t k = i % (off.size() - 1);
    padding += ch.substr(off[k], off[k + 1] - off[k]);
  }
  return Value::String(width > 0 ? s + padding : padding + s);
}

// All matches of a regex function value in `s`; D1004 on empty matches.
Result<std::vector<Regex::Match>> Matches(const Value& matcher, const std::string& s,
                                          std::string_view fname, double limit = -1) {
  const Function* f = matcher.function();
  if (!f || f->kind != Function::Kind::kRegex) {
    return JsonataError("T1010", "The matcher function argument passed to function " +
                                     Quote(fname) +
                                     " does not return the correct object structure");
  }
  std::vector<Regex::Match> out;
  size_t from = 0;
  while (from <= s.size() && (limit < 0 || static_cast<double>(out.size()) < limit)) {
    Regex::Match m;
    VQI_ASSIGN_OR_RETURN(bool found, f->regex->Search(s, from, &m));
    if (!found) break;
    if (m.end == m.start) {
      return JsonataError("D1004", "Regular expression matches zero length string");
    }
    from = m.end;
    out.push_back(std::move(m));
    if (from >= s.size()) break;
  }
  return out;
}

Result<Value> FnContains(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& s = Arg(a, 0);
  if (s.IsUndefined()) return Value();
  const Value& token = Arg(a, 1);
  if (token.IsString()) return Value::Bool(s.str().find(token.str()) != std::string::npos);
  const Function* f = token.function();
  if (!f || f->kind != Function::Kind::kRegex) {
    return JsonataError("T1010",
                        "The matcher function argument passed to function \"contains\" "
                        "does not return the correct object structure");
  }
  Regex::Match m;
  VQI_ASSIGN_OR_RETURN(bool found, f->regex->Search(s.str(), 0, &m));
  return Value::Bool(found);
}

Result<Value> FnSplit(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& s = Arg(a, 0);
  if (s.IsUndefined()) return Value();
  const Value& lim = Arg(a, 2);
  if (lim.IsDefined() && lim.number() < 0) {
    return JsonataError("D3020",
                        "Third argument of split function must evaluate to a positive "
                        "number");
  }
  double limit = lim.IsDefined() ? std::floor(lim.number()) : -1;
  std::vector<Value> out;
  const std::string& str = s.str();
  auto full = [&] { return limit >= 0 && static_cast<double>(out.size()) >= limit; };
  if (Arg(a, 1).IsString()) {
    const std::string& sep = Arg(a, 1).str();
    if (sep.empty()) {
      std::vector<size_t> off = CodePointOffsets(str);
      for (size_t i = 0; i + 1 < off.size() && !full(); ++i) {
        out.push_back(Value::String(str.substr(off[i], off[i + 1] - off[i])));
      }
    } else {
      size_t start = 0;
      while (!full()) {
        size_t pos = str.find(sep, start);
        if (pos == std::string::npos) {
          out.push_back(Value::String(str.substr(start)));
          break;
        }
        out.push_back(Value::String(str.substr(start, pos - start)));
        start = pos + sep.size();
      }
    }
  } else {
    VQI_ASSIGN_OR_RETURN(auto matches, Matches(Arg(a, 1), str, "split", limit));
    size_t start = 0;
    for (const auto& m : matches) {
      out.push_back(Value::String(str.substr(start, m.start - start)));
      start = m.end;
    }
    if (!full()) out.push_back(Value::String(str.substr(start)));
  }
  return MakeArray(std::move(out));
}

Result<Value> FnJoin(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  std::string sep = Arg(a, 1).IsString() ? Arg(a, 1).str() : "";
  std::string out;
  for (size_t i = 0; i < arr.size(); ++i) {
    if (i > 0) out += sep;
    out += arr.at(i).str();
  }
  return Value::String(std::move(out));
}

Value MatchObject(const Regex::Match& m) {
  auto obj = std::make_shared<Object>();
  obj->Set("match", Value::String(m.text));
  obj->Set("index", Value::Number(static_cast<double>(m.start)));
  std::vector<Value> groups;
  for (const auto& g : m.groups) groups.push_back(g ? Value::String(*g) : Value::String(""));
  obj->Set("groups", MakeArray(std::move(groups)));
  return Value::FromObject(std::move(obj));
}

std::string SubstituteGroups(const std::string& repl, const Regex::Match& m) {
  std::string out;
  size_t pos = 0;
  size_t ngroups = m.groups.size();
  while (pos < repl.size()) {
    size_t dollar = repl.find('$', pos);
    if (dollar == std::string::npos) break;
    out += repl.substr(pos, dollar - pos);
    pos = dollar + 1;
    if (pos >= repl.size()) {
      out += '$';
      break;
    }
    char c = repl[pos];
    if (c == '$') {
      out += '$';
      ++pos;
    } else if (c == '0') {
      out += m.text;
      ++pos;
    } else if (c >= '1' && c <= '9') {
      size_t max_digits = ngroups == 0 ? 1 : static_cast<size_t>(std::log10(ngroups)) + 1;
      size_t digits = 0;
      while (digits < max_digits && pos + digits < repl.size() && repl[pos + digits] >= '0' &&
             repl[pos + digits] <= '9') {
        ++digits;
      }
      size_t index = std::stoul(repl.substr(pos, digits));
      if (digits > 1 && index > ngroups) {
        --digits;
        index = std::stoul(repl.substr(pos, digits));
      }
      if (index >= 1 && index <= ngroups && m.groups[index - 1]) out += *m.groups[index - 1];
      pos += std::to_string(index).size();
    } else {
      out += '$';
    }
  }
  if (pos < repl.size()) out += repl.substr(pos);
  return out;
}

Result<Value> FnReplace(Evaluator& ev, std::vector<Value>& a, const Value& input) {
  const Value& s = Arg(a, 0);
  if (s.IsUndefined()) return Value();
  const Value& pattern = Arg(a, 1);
  const Value& repl = Arg(a, 2);
  if (pattern.IsString() && pattern.str().empty()) {
    return JsonataError("D3010", "Second argument of replace function cannot be an empty string");
  }
  if (Arg(a, 3).IsDefined() && Arg(a, 3).number() < 0) {
    return JsonataError("D3011",
                        "Fourth argument of replace function must evaluate to a positive "
                        "number");
  }
  double limit = Arg(a, 3).IsDefined() ? std::floor(Arg(a, 3).number()) : -1;
  const std::string& str = s.str();
  std::string out;
  size_t pos = 0;
  if (pattern.IsString()) {
    const std::string& p = pattern.str();
    std::string r = repl.IsString() ? repl.str() : "";
    double count = 0;
    for (;;) {
      if (limit >= 0 && count >= limit) break;
      size_t idx = str.find(p, pos);
      if (idx == std::string::npos) break;
      out += str.substr(pos, idx - pos);
      out += r;
      pos = idx + p.size();
      ++count;
    }
    out += str.substr(pos);
    return Value::String(std::move(out));
  }
  VQI_ASSIGN_OR_RETURN(auto matches, Matches(pattern, str, "replace", limit));
  for (const auto& m : matches) {
    out += str.substr(pos, m.start - pos);
    if (repl.IsString()) {
      out += SubstituteGroups(repl.str(), m);
    } else {
      VQI_ASSIGN_OR_RETURN(Value r, ev.Apply(repl, {MatchObject(m)}, input));
      if (!r.IsString()) {
        return JsonataError("D3012",
                            "Attempted to replace a matched string with a non-string "
                            "value");
      }
      out += r.str();
    }
    pos = m.end;
  }
  out += str.substr(pos);
  return Value::String(std::move(out));
}

Result<Value> FnMatch(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& s = Arg(a, 0);
  if (s.IsUndefined()) return Value();
  if (Arg(a, 2).IsDefined() && Arg(a, 2).number() < 0) {
    return JsonataError("D3040",
                        "Third argument of match function must evaluate to a positive "
                        "number");
  }
  double limit = Arg(a, 2).IsDefined() ? std::floor(Arg(a, 2).number()) : -1;
  VQI_ASSIGN_OR_RETURN(auto matches, Matches(Arg(a, 1), s.str(), "match", limit));
  std::vector<Value> out;
  for (const auto& m : matches) out.push_back(MatchObject(m));
  return MakeSequence(std::move(out));
}

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Result<Value> FnBase64Encode(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Arg(a, 0).str();
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(s[i]) << 16) |
                 (static_cast<unsigned char>(s[i + 1]) << 8) | static_cast<unsigned char>(s[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == s.size()) {
    uint32_t v = static_cast<unsigned char>(s[i]) << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == s.size()) {
    uint32_t v =
        (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return Value::String(std::move(out));
}

Result<Value> FnBase64Decode(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : Arg(a, 0).str()) {
    if (c == '=' || c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    const char* p = std::strchr(kB64, c);
    if (!p || c == '\0') {
      return JsonataError("D3200", "The string to be decoded is not correctly encoded.");
    }
    acc = (acc << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return Value::String(std::move(out));
}

Result<Value> Encode(const Value& v, const char* keep) {
  if (v.IsUndefined()) return Value();
  std::string out;
  for (unsigned char c : v.str()) {
    if (std::isalnum(c) || (c != 0 && std::strchr(keep, c))) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return Value::String(std::move(out));
}

Result<Value> Decode(const Value& v, std::string_view fname) {
  if (v.IsUndefined()) return Value();
  const std::string& s = v.str();
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      int hi = i + 2 < s.size() ? std::isxdigit(static_cast<unsigned char>(s[i + 1])) : 0;
      int lo = i + 2 < s.size() ? std::isxdigit(static_cast<unsigned char>(s[i + 2])) : 0;
      if (!hi || !lo) {
        return JsonataError("D3140",
                            "Malformed URL passed to $" + std::string(fname) + "(): " + Quote(s));
      }
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return Value::String(std::move(out));
}

Result<Value> FnEncodeUrlComponent(Evaluator&, std::vector<Value>& a, const Value&) {
  return Encode(Arg(a, 0), "-_.!~*'()");
}
Result<Value> FnEncodeUrl(Evaluator&, std::vector<Value>& a, const Value&) {
  return Encode(Arg(a, 0), "-_.!~*'();/?:@&=+$,#[]");
}
Result<Value> FnDecodeUrlComponent(Evaluator&, std::vector<Value>& a, const Value&) {
  return Decode(Arg(a, 0), "decodeUrlComponent");
}
Result<Value> FnDecodeUrl(Evaluator&, std::vector<Value>& a, const Value&) {
  return Decode(Arg(a, 0), "decodeUrl");
}

}  // namespace

std::vector<BuiltinDef> StringBuiltins() {
  return {
      {"string", "<x-b?:s>", FnString},
      {"substring", "<s-nn?:s>", FnSubstring},
      {"substringBefore", "<s-s:s>", FnSubstringBefore},
      {"substringAfter", "<s-s:s>", FnSubstringAfter},
      {"uppercase", "<s-:s>", FnUppercase},
      {"lowercase", "<s-:s>", FnLowercase},
      {"length", "<s-:n>", FnLength},
      {"trim", "<s-:s>", FnTrim},
      {"pad", "<s-ns?:s>", FnPad},
      {"contains", "<s-(sf):b>", FnContains},
      {"split", "<s-(sf)n?:a<s>>", FnSplit},
      {"join", "<a<s>s?:s>", FnJoin},
      {"replace", "<s-(sf)(sf)n?:s>", FnReplace},
      {"match", "<s-f<s:o>n?:a<o>>", FnMatch},
      {"base64encode", "<s-:s>", FnBase64Encode},
      {"base64decode", "<s-:s>", FnBase64Decode},
      {"encodeUrlComponent", "<s-:s>", FnEncodeUrlComponent},
      {"encodeUrl", "<s-:s>", FnEncodeUrl},
      {"decodeUrlComponent", "<s-:s>", FnDecodeUrlComponent},
      {"decodeUrl", "<s-:s>", FnDecodeUrl},
  };
}

}  // namespace vqi::jsonata
