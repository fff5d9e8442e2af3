#include <gtest/gtest.h>

#include <string>

#include "vqi/jsonata/jsonata.h"

namespace vqi::jsonata {
namespace {

std::string CheckMessage(const std::string& expr) {
  Status st = Check(expr);
  if (st.ok()) return "ok";
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << expr;
  return st.message();
}

TEST(JsonataParser, AcceptsTheLanguageSubset) {
  const char* valid[] = {
      "a.b.c",
      "$states.input.items[0].name",
      "Account.Order[0].Product[Price > 30].SKU",
      "a[]",
      "**.Price",
      "*.Price",
      "1 + 2 * 3 - 4 / 5 % 6",
      "'single' & \"double\" & `back quoted`",
      "a = 1 and b != 2 or c in [1, 2]",
      "x > 1 ? 'big' : 'small'",
      "[1..5]",
      "{'a': 1, 'b': [1, 2, {'c': null}]}",
      "($x := 5; $y := $x * 2; $x + $y)",
      "function($a, $b){ $a + $b }(1, 2)",
      "λ($x){$x}",
      "function($x)<n:n>{ $x * 2 }",
      "$map([1, 2], function($v, $i){ $v * $i })",
      "$sum($) ~> $string()",
      "Account.Order^(>Price, Name)",
      "Account.Order{Name: Price}",
      "$add := $sum(?)",
      "/* comment */ a.b",
      "$contains('x', /^x\\$/i)",
      "a ?? b",
      "a ?: b",
      "-a.b",
      "$$.a",
      "$",
      "$states.input.value >= 20 and $states.input.value < 30",
      "true",
      "null",
      "[]",
  };
  for (const char* e : valid) EXPECT_EQ(CheckMessage(e), "ok") << e;
}

TEST(JsonataParser, ReportsSyntaxErrorsWithJsonataCodes) {
  EXPECT_EQ(CheckMessage("'abc"), "S0101: String literal must be terminated by a matching quote");
  EXPECT_EQ(CheckMessage("\"\\q\""), "S0103: Unsupported escape sequence: \\q");
  EXPECT_EQ(CheckMessage("\"\\u12\""),
            "S0104: The escape sequence \\u must be followed by 4 hex digits");
  EXPECT_EQ(CheckMessage("`abc"),
            "S0105: Quoted property name must be terminated with a backquote (`)");
  EXPECT_EQ(CheckMessage("a /* b"), "S0106: Comment has no closing tag");
  EXPECT_EQ(CheckMessage("a b"), "S0201: Syntax error: \"b\"");
  EXPECT_EQ(CheckMessage("(a]"), "S0202: Expected \")\", got \"]\"");
  EXPECT_EQ(CheckMessage("(a"), "S0203: Expected \")\" before end of expression");
  EXPECT_EQ(CheckMessage("a ! b"), "S0204: Unknown operator: \"!\"");
  EXPECT_EQ(CheckMessage("a +"), "S0207: Unexpected end of expression");
  EXPECT_EQ(CheckMessage(""), "S0207: Unexpected end of expression");
  EXPECT_EQ(CheckMessage("function(a){1}"),
            "S0208: Parameter 1 of function definition must be a variable name (start with $)");
  EXPECT_EQ(CheckMessage("/ 2"), "S0302: No terminating / in regular expression");
  EXPECT_EQ(CheckMessage("x = //"), "S0301: Empty regular expressions are not allowed");
  EXPECT_EQ(CheckMessage(")"), "S0211: The symbol \")\" cannot be used as a unary operator");
  EXPECT_EQ(CheckMessage("a := 1"),
            "S0212: The left side of := must be a variable name (start with $)");
  EXPECT_EQ(CheckMessage("a.1"),
            "S0213: The literal value 1 cannot be used as a step within a path expression");
  EXPECT_EQ(CheckMessage("a.true"),
            "S0213: The literal value true cannot be used as a step within a path expression");
  EXPECT_EQ(CheckMessage("a{'x': 1}{'y': 2}"),
            "S0210: Each step can only have one grouping expression");
  EXPECT_EQ(CheckMessage("a{'x': 1}[0]"),
            "S0209: A predicate cannot follow a grouping expression in a step");
}

TEST(JsonataParser, UnsupportedSyntaxIsRejectedClearly) {
  EXPECT_NE(CheckMessage("a@$x").find("not supported"), std::string::npos);
  EXPECT_NE(CheckMessage("a#$i").find("not supported"), std::string::npos);
  EXPECT_NE(CheckMessage("| a | {} |").find("not supported"), std::string::npos);
}

TEST(JsonataParser, DeepNestingIsAnErrorNotACrash) {
  std::string deep(5000, '(');
  deep += "1";
  deep += std::string(5000, ')');
  EXPECT_NE(CheckMessage(deep).find("too deep"), std::string::npos);
  std::string arrays(3000, '[');
  EXPECT_NE(CheckMessage(arrays), "ok");
  std::string minus(100000, '-');
  EXPECT_NE(CheckMessage(minus + "1"), "ok");
}

// Regression (fuzzer): libstdc++ overflowed a signed long parsing this repetition count.
TEST(JsonataParser, HugeRegexRepetitionCountIsRejected) {
  EXPECT_NE(CheckMessage("/a{5555555555555555555}/").find("S0303"), std::string::npos);
  EXPECT_NE(CheckMessage("/a\\5555555555555555555/").find("S0303"), std::string::npos);
  EXPECT_EQ(CheckMessage("/a{2,5}/"), "ok");
  // Regression (fuzzer timeout): nested quantifiers are a syntax error in JavaScript.
  EXPECT_EQ(CheckMessage("/x.**>/"),
            "S0303: Invalid regular expression: /x.**>/: Nothing to repeat");
  EXPECT_NE(CheckMessage("/a+*/").find("Nothing to repeat"), std::string::npos);
  EXPECT_NE(CheckMessage("/a{2}{3}/").find("Nothing to repeat"), std::string::npos);
  EXPECT_EQ(CheckMessage("/a*?b+?c??d{1,2}?/"), "ok");
  EXPECT_EQ(CheckMessage("/(?:ab)*[*+]\\*/"), "ok");
  EXPECT_EQ(CheckMessage("/12345678/"), "ok");
  EXPECT_NE(
      CheckMessage("/" + std::string(60, '(') + "a" + std::string(60, ')') + "/").find("S0303"),
      std::string::npos);
  EXPECT_NE(CheckMessage("/+a/").find("S0303: Invalid regular expression"), std::string::npos);
}

TEST(JsonataParser, ModeratelyNestedExpressionsParse) {
  std::string e(50, '(');
  e += "1";
  e += std::string(50, ')');
  EXPECT_EQ(CheckMessage(e), "ok");
}

}  // namespace
}  // namespace vqi::jsonata
