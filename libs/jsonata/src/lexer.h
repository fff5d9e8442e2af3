// Tokenizer for JSONata expressions, following jsonata-js's rules (operators, names, `$`
// variables, quoted strings with JSON escapes, backquoted names, numbers, regex literals in
// prefix position, /* comments */).
#pragma once

#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi::jsonata {

enum class TokenType { kEnd, kOperator, kName, kVariable, kString, kNumber, kValue, kRegex };

struct Token {
  TokenType type = TokenType::kEnd;
  std::string value;  // operator text, name, variable name, string contents, regex pattern
  double number = 0;
  std::string flags;  // regex flags
  size_t position = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}
  // Reads the next token. `infix` is true right after an operand, where '/' divides; elsewhere
  // '/' starts a regular expression.
  Status Next(bool infix, Token* out);

 private:
  Status ReadString(char quote, Token* out);
  Status ReadRegex(Token* out);

  std::string_view src_;
  size_t pos_ = 0;
};

// Error helper: "<code>: <message>" as InvalidArgument.
Status JsonataError(const char* code, const std::string& message);
// JSON.stringify of a string (used to quote tokens in messages).
std::string Quote(std::string_view s);

}  // namespace vqi::jsonata
