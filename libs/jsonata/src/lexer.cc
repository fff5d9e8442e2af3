#include "lexer.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace vqi::jsonata {

Status JsonataError(const char* code, const std::string& message) {
  return InvalidArgument(std::string(code) + ": " + message);
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

namespace {

bool IsOperatorChar(char c) { return c != '\0' && std::strchr(".[]{}(),@#;:?+-*/%|=<>^&!~", c); }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Status Lexer::ReadString(char quote, Token* out) {
  std::string s;
  ++pos_;
  while (pos_ < src_.size()) {
    char c = src_[pos_];
    if (c == '\\') {
      ++pos_;
      if (pos_ >= src_.size()) break;
      char e = src_[pos_];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          s.push_back(e);
          break;
        case 'b':
          s.push_back('\b');
          break;
        case 'f':
          s.push_back('\f');
          break;
        case 'n':
          s.push_back('\n');
          break;
        case 'r':
          s.push_back('\r');
          break;
        case 't':
          s.push_back('\t');
          break;
        case 'u': {
          auto read4 = [&](size_t at, uint32_t* v) {
            if (at + 4 > src_.size()) return false;
            *v = 0;
            for (size_t i = 0; i < 4; ++i) {
              int h = HexValue(src_[at + i]);
              if (h < 0) return false;
              *v = *v * 16 + static_cast<uint32_t>(h);
            }
            return true;
          };
          uint32_t cp;
          if (!read4(pos_ + 1, &cp)) {
            return JsonataError("S0104",
                                "The escape sequence \\u must be followed by 4 hex digits");
          }
          pos_ += 4;
          uint32_t low;
          if (cp >= 0xD800 && cp < 0xDC00 && pos_ + 2 < src_.size() && src_[pos_ + 1] == '\\' &&
              src_[pos_ + 2] == 'u' && read4(pos_ + 3, &low) && low >= 0xDC00 && low < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            pos_ += 6;
          }
          AppendUtf8(cp, &s);
          break;
        }
        default:
          return JsonataError("S0103", "Unsupported escape sequence: \\" + std::string(1, e));
      }
      ++pos_;
    } else if (c == quote) {
      ++pos_;
      out->type = TokenType::kString;
      out->value = std::move(s);
      return Status::Ok();
    } else {
      s.push_back(c);
      ++pos_;
    }
  }
  return JsonataError("S0101", "String literal must be terminated by a matching quote");
}

Status Lexer::ReadRegex(Token* out) {
  size_t start = ++pos_;
  int depth = 0;
  while (pos_ < src_.size()) {
    char c = src_[pos_];
    if (c == '/' && depth == 0) {
      size_t backslashes = 0;
      while (pos_ - backslashes > start && src_[pos_ - backslashes - 1] == '\\') ++backslashes;
      if (backslashes % 2 == 0) {
        std::string pattern(src_.substr(start, pos_ - start));
        if (pattern.empty())
          return JsonataError("S0301", "Empty regular expressions are not allowed");
        ++pos_;
        size_t fstart = pos_;
        while (pos_ < src_.size() && (src_[pos_] == 'i' || src_[pos_] == 'm')) ++pos_;
        out->type = TokenType::kRegex;
        out->value = std::move(pattern);
        out->flags = std::string(src_.substr(fstart, pos_ - fstart));
        return Status::Ok();
      }
    }
    bool escaped = pos_ > 0 && src_[pos_ - 1] == '\\';
    if ((c == '(' || c == '[' || c == '{') && !escaped) ++depth;
    if ((c == ')' || c == ']' || c == '}') && !escaped) --depth;
    ++pos_;
  }
  return JsonataError("S0302", "No terminating / in regular expression");
}

Status Lexer::Next(bool infix, Token* out) {
  *out = Token();
  for (;;) {
    while (pos_ < src_.size() && IsSpace(src_[pos_])) ++pos_;
    if (pos_ + 1 < src_.size() && src_[pos_] == '/' && src_[pos_ + 1] == '*') {
      size_t end = src_.find("*/", pos_ + 2);
      if (end == std::string_view::npos) return JsonataError("S0106", "Comment has no closing tag");
      pos_ = end + 2;
      continue;
    }
    break;
  }
  out->position = pos_;
  if (pos_ >= src_.size()) {
    out->type = TokenType::kEnd;
    return Status::Ok();
  }
  char c = src_[pos_];
  char n = pos_ + 1 < src_.size() ? src_[pos_ + 1] : '\0';
  if (!infix && c == '/') return ReadRegex(out);
  static const char* kDouble[] = {"..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??"};
  for (const char* op : kDouble) {
    if (c == op[0] && n == op[1]) {
      out->type = TokenType::kOperator;
      out->value = op;
      pos_ += 2;
      return Status::Ok();
    }
  }
  if (IsOperatorChar(c)) {
    out->type = TokenType::kOperator;
    out->value = std::string(1, c);
    ++pos_;
    return Status::Ok();
  }
  if (c == '"' || c == '\'') return ReadString(c, out);
  if (IsDigit(c)) {
    size_t p = pos_;
    if (src_[p] == '0') {
      ++p;
    } else {
      while (p < src_.size() && IsDigit(src_[p])) ++p;
    }
    if (p + 1 < src_.size() && src_[p] == '.' && IsDigit(src_[p + 1])) {
      ++p;
      while (p < src_.size() && IsDigit(src_[p])) ++p;
    }
    if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t q = p + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && IsDigit(src_[q])) {
        while (q < src_.size() && IsDigit(src_[q])) ++q;
        p = q;
      }
    }
    std::string text(src_.substr(pos_, p - pos_));
    double d = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(d)) return JsonataError("S0102", "Number out of range: " + Quote(text));
    out->type = TokenType::kNumber;
    out->number = d;
    out->value = text;
    pos_ = p;
    return Status::Ok();
  }
  if (c == '`') {
    size_t end = src_.find('`', pos_ + 1);
    if (end == std::string_view::npos) {
      return JsonataError("S0105", "Quoted property name must be terminated with a backquote (`)");
    }
    out->type = TokenType::kName;
    out->value = std::string(src_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return Status::Ok();
  }
  size_t i = pos_;
  while (i < src_.size() && !IsSpace(src_[i]) && !IsOperatorChar(src_[i])) ++i;
  std::string word(src_.substr(pos_, i - pos_));
  pos_ = i;
  if (c == '$') {
    out->type = TokenType::kVariable;
    out->value = word.substr(1);
    return Status::Ok();
  }
  if (word == "and" || word == "or" || word == "in") {
    out->type = TokenType::kOperator;
  } else if (word == "true" || word == "false" || word == "null") {
    out->type = TokenType::kValue;
  } else {
    out->type = TokenType::kName;
  }
  out->value = std::move(word);
  return Status::Ok();
}

}  // namespace vqi::jsonata
