#include "text_formats.h"

#include <cctype>
#include <cstdlib>

namespace vqi::dataset {

namespace {

// Length of the well-formed UTF-8 sequence starting at s[i], or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = at(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
  return n;
}

}  // namespace

std::vector<std::string_view> SplitLines(std::string_view t) {
  std::vector<std::string_view> out;
  if (t.substr(0, 3) == "\xEF\xBB\xBF") t.remove_prefix(3);
  size_t start = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '\n' && t[i] != '\r') continue;
    out.push_back(t.substr(start, i - start));
    if (t[i] == '\r' && i + 1 < t.size() && t[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < t.size()) out.push_back(t.substr(start));
  return out;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string EscapeNonUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      static const char kHex[] = "0123456789ABCDEF";
      const unsigned char c = static_cast<unsigned char>(s[i++]);
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::vector<CsvRecord> ParseCsv(std::string_view t) {
  std::vector<CsvRecord> out;
  size_t i = 0;
  if (t.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // UTF-8 byte-order mark
  int line = 1;
  while (i < t.size()) {
    CsvRecord rec;
    rec.line = line;
    std::string field;
    bool done = false;
    while (!done) {
      if (i < t.size() && t[i] == '"') {  // quoted field
        const int start_line = line;
        ++i;
        bool closed = false;
        while (i < t.size()) {
          if (t[i] == '"') {
            if (i + 1 < t.size() && t[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (t[i] == '\n' || (t[i] == '\r' && (i + 1 >= t.size() || t[i + 1] != '\n'))) ++line;
          field += t[i++];
        }
        if (!closed) {
          rec.fields.clear();
          rec.error =
              "unterminated quoted field (opened on line " + std::to_string(start_line) + ")";
          out.push_back(std::move(rec));
          return out;
        }
        if (i < t.size() && t[i] != ',' && t[i] != '\n' && t[i] != '\r')
          rec.error = "unexpected text after a closing quote";
      } else {
        while (i < t.size() && t[i] != ',' && t[i] != '\n' && t[i] != '\r') {
          if (t[i] == '"') rec.error = "stray quote inside an unquoted field";
          field += t[i++];
        }
      }
      rec.fields.push_back(std::move(field));
      field.clear();
      // Skip to the field or record separator (after an error, to the end of the line).
      while (i < t.size() && t[i] != ',' && t[i] != '\n' && t[i] != '\r') ++i;
      if (i < t.size() && t[i] == ',') {
        ++i;
      } else {
        if (i < t.size()) {  // "\r\n", "\n" or a lone "\r"
          if (t[i] == '\r' && i + 1 < t.size() && t[i + 1] == '\n') ++i;
          ++i, ++line;
        }
        done = true;
      }
    }
    if (!rec.error.empty()) rec.fields.clear();
    const bool blank = rec.error.empty() && rec.fields.size() == 1 && rec.fields[0].empty();
    if (!blank) out.push_back(std::move(rec));
  }
  return out;
}

namespace {

class LiteralParser {
 public:
  explicit LiteralParser(std::string_view t) : t_(t) {}

  Result<std::vector<std::map<std::string, double>>> List() {
    std::vector<std::map<std::string, double>> out;
    VQI_RETURN_IF_ERROR(Expect('['));
    if (Peek() == ']') {
      ++i_;
    } else {
      while (true) {
        VQI_ASSIGN_OR_RETURN(auto d, Dict());
        out.push_back(std::move(d));
        const char c = Peek();
        ++i_;
        if (c == ']') break;
        if (c != ',') return Fail("expected ',' or ']'", i_ - 1);
        if (Peek() == ']') {  // trailing comma, as Python allows
          ++i_;
          break;
        }
      }
    }
    if (Peek() != '\0') return Fail("unexpected text after the list", i_);
    return out;
  }

 private:
  char Peek() {
    while (i_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[i_]))) ++i_;
    return i_ < t_.size() ? t_[i_] : '\0';
  }
  Status Fail(const std::string& what, size_t at) {
    return InvalidArgument(what + " at offset " + std::to_string(at));
  }
  Status Expect(char c) {
    if (Peek() != c) return Fail(std::string("expected '") + c + "'", i_);
    ++i_;
    return Status::Ok();
  }
  Result<std::string> String() {
    const char q = Peek();
    if (q != '\'' && q != '"') return Fail("expected a quoted key", i_);
    const size_t start = ++i_;
    while (i_ < t_.size() && t_[i_] != q) {
      if (t_[i_] == '\\') return Fail("escapes in keys are not supported", i_);
      ++i_;
    }
    if (i_ >= t_.size()) return Fail("unterminated string", start - 1);
    return std::string(t_.substr(start, i_++ - start));
  }
  Result<double> Number() {
    Peek();
    const size_t start = i_;
    if (i_ < t_.size() && (t_[i_] == '-' || t_[i_] == '+')) ++i_;
    while (i_ < t_.size() &&
           (std::isdigit(static_cast<unsigned char>(t_[i_])) || t_[i_] == '.' || t_[i_] == 'e' ||
            t_[i_] == 'E' ||
            ((t_[i_] == '-' || t_[i_] == '+') && (t_[i_ - 1] == 'e' || t_[i_ - 1] == 'E'))))
      ++i_;
    const std::string s(t_.substr(start, i_ - start));
    char* end = nullptr;
    const double v = s.empty() ? 0 : std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) return Fail("expected a number", start);
    return v;
  }
  Result<std::map<std::string, double>> Dict() {
    std::map<std::string, double> d;
    VQI_RETURN_IF_ERROR(Expect('{'));
    if (Peek() == '}') {
      ++i_;
      return d;
    }
    while (true) {
      VQI_ASSIGN_OR_RETURN(std::string key, String());
      VQI_RETURN_IF_ERROR(Expect(':'));
      VQI_ASSIGN_OR_RETURN(double v, Number());
      if (!d.emplace(key, v).second) return Fail("duplicate key '" + key + "'", i_);
      const char c = Peek();
      ++i_;
      if (c == '}') return d;
      if (c != ',') return Fail("expected ',' or '}'", i_ - 1);
      if (Peek() == '}') {
        ++i_;
        return d;
      }
    }
  }

  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace

Result<std::vector<std::map<std::string, double>>> ParsePythonDictList(std::string_view text) {
  return LiteralParser(text).List();
}

}  // namespace vqi::dataset
