#include "signature.h"

#include <cstring>

#include "lexer.h"

namespace vqi::jsonata {

char Symbol(const Value& v) {
  switch (v.type()) {
    case Type::kUndefined:
      return 'm';
    case Type::kFunction:
      return 'f';
    case Type::kString:
      return 's';
    case Type::kNumber:
      return 'n';
    case Type::kBool:
      return 'b';
    case Type::kNull:
      return 'l';
    case Type::kArray:
      return 'a';
    case Type::kObject:
      return 'o';
  }
  return 'm';
}

Signature::Signature(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '<') ++i;
  while (i < text.size() && text[i] != ':' && text[i] != '>') {
    char c = text[i];
    Param p;
    switch (c) {
      case 's':
      case 'n':
      case 'b':
      case 'l':
      case 'o':
        p.type = c;
        p.allowed = std::string(1, c) + "m";
        params_.push_back(p);
        break;
      case 'a':
        p.type = c;
        p.allowed = "asnblfom";
        params_.push_back(p);
        break;
      case 'f':
        p.type = c;
        p.allowed = "f";
        params_.push_back(p);
        break;
      case 'j':
        p.type = c;
        p.allowed = "asnblom";
        params_.push_back(p);
        break;
      case 'x':
        p.type = c;
        p.allowed = "asnblfom";
        params_.push_back(p);
        break;
      case '(': {
        size_t end = text.find(')', i);
        p.type = '(';
        p.allowed = std::string(text.substr(i + 1, end - i - 1)) + "m";
        params_.push_back(p);
        i = end;
        break;
      }
      case '<': {  // subtype of the previous a/f parameter
        int depth = 1;
        size_t j = i + 1;
        while (j < text.size() && depth > 0) {
          if (text[j] == '<') ++depth;
          if (text[j] == '>') --depth;
          ++j;
        }
        if (params_.back().type == 'a') params_.back().subtype = text[i + 1];
        i = j - 1;
        break;
      }
      case '?':
      case '+':
        params_.back().modifier = c;
        break;
      case '-':
        params_.back().context = true;
        params_.back().context_allowed = params_.back().allowed;
        params_.back().modifier = '?';
        break;
      default:
        break;
    }
    ++i;
  }
}

bool Signature::Match(const std::string& symbols, size_t pi, size_t si,
                      std::vector<std::string>* matched) const {
  if (pi == params_.size()) return si == symbols.size();
  const Param& p = params_[pi];
  auto ok = [&](size_t at) {
    return at < symbols.size() && p.allowed.find(symbols[at]) != std::string::npos;
  };
  std::vector<size_t> lengths;
  if (p.modifier == '+') {
    size_t n = 0;
    while (ok(si + n)) ++n;
    for (size_t len = n; len >= 1; --len) lengths.push_back(len);
  } else if (p.modifier == '?') {
    if (ok(si)) lengths.push_back(1);
    lengths.push_back(0);
  } else if (ok(si)) {
    lengths.push_back(1);
  }
  for (size_t len : lengths) {
    (*matched)[pi] = symbols.substr(si, len);
    if (Match(symbols, pi + 1, si + len, matched)) return true;
  }
  return false;
}

Result<std::vector<Value>> Signature::Validate(const std::vector<Value>& args, const Value& context,
                                               std::string_view name) const {
  std::string symbols;
  for (const Value& a : args) symbols.push_back(Symbol(a));
  std::vector<std::string> matched(params_.size());
  if (!Match(symbols, 0, 0, &matched)) {
    // Like jsonata-js: the first argument that no prefix of the parameters can match.
    size_t good = 0;
    for (size_t pi = 1; pi <= params_.size(); ++pi) {
      Signature prefix = *this;
      prefix.params_.resize(pi);
      std::vector<std::string> m(pi);
      bool found = false;
      for (size_t len = symbols.size() + 1; len-- > 0;) {
        if (prefix.Match(symbols.substr(0, len), 0, 0, &m)) {
          good = len;
          found = true;
          break;
        }
      }
      if (!found) break;
    }
    return JsonataError("T0410", "Argument " + std::to_string(good + 1) + " of function " +
                                     Quote(name) + " does not match function signature");
  }
  std::vector<Value> out;
  size_t ai = 0;
  for (size_t pi = 0; pi < params_.size(); ++pi) {
    const Param& p = params_[pi];
    const std::string& m = matched[pi];
    if (m.empty()) {
      if (p.context) {
        if (p.context_allowed.find(Symbol(context)) == std::string::npos) {
          return JsonataError("T0411", "Context value is not a compatible type with argument " +
                                           std::to_string(ai + 1) + " of function " + Quote(name));
        }
        out.push_back(context);
      } else {
        out.push_back(ai < args.size() ? args[ai] : Value());
        ++ai;
      }
      continue;
    }
    for (char single : m) {
      Value arg = args[ai];
      if (p.type == 'a' && single != 'm') {
        bool ok = true;
        if (p.subtype) {
          if (single != 'a') {
            ok = single == p.subtype;
          } else if (arg.size() > 0) {
            char item = Symbol(arg.at(0));
            ok = item == p.subtype;
            for (size_t k = 1; ok && k < arg.size(); ++k) ok = Symbol(arg.at(k)) == item;
          }
        }
        if (!ok) {
          static const char* kNames[] = {"arrays",  "booleans", "functions",
                                         "numbers", "objects",  "strings"};
          const char* kinds = "abfnos";
          const char* found = std::strchr(kinds, p.subtype);
          std::string type_name = found ? kNames[found - kinds] : "values";
          return JsonataError("T0412", "Argument " + std::to_string(ai + 1) + " of function " +
                                           Quote(name) + " must be an array of " +
                                           Quote(type_name));
        }
        if (single != 'a') arg = MakeArray({arg});
      }
      out.push_back(std::move(arg));
      ++ai;
    }
  }
  return out;
}

}  // namespace vqi::jsonata
