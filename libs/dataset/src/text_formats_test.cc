#include "text_formats.h"

#include <gtest/gtest.h>

namespace vqi::dataset {
namespace {

TEST(CsvTest, QuotesEscapesCrlfAndBlankLines) {
  auto recs = ParseCsv("a,b,c\r\n\"x,1\",\"say \"\"hi\"\"\",\n\n\"multi\nline\",2,3\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].fields, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(recs[1].fields, (std::vector<std::string>{"x,1", "say \"hi\"", ""}));
  EXPECT_EQ(recs[1].line, 2);
  EXPECT_EQ(recs[2].fields, (std::vector<std::string>{"multi\nline", "2", "3"}));
  EXPECT_EQ(recs[2].line, 4);
}

TEST(CsvTest, MalformedRecordsAreReportedAndParsingGoesOn) {
  auto recs = ParseCsv("a,b\nx\"y,1\n\"q\"z,2\nok,3\n\"open,4\nmore\n");
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[1].error, "stray quote inside an unquoted field");
  EXPECT_EQ(recs[1].line, 2);
  EXPECT_EQ(recs[2].error, "unexpected text after a closing quote");
  EXPECT_EQ(recs[3].fields, (std::vector<std::string>{"ok", "3"}));
  EXPECT_EQ(recs[4].line, 5);
  EXPECT_NE(recs[4].error.find("unterminated quoted field"), std::string::npos);
}

TEST(PythonLiteralTest, ParsesGroundTruthAnnotations) {
  auto r = ParsePythonDictList(
      "[{'class_id': 0, 'top': 123, 'left': 81, 'height': 97.5, 'width': -2e1}, {}]");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].at("top"), 123);
  EXPECT_EQ((*r)[0].at("height"), 97.5);
  EXPECT_EQ((*r)[0].at("width"), -20);
  EXPECT_TRUE((*r)[1].empty());
  EXPECT_TRUE(ParsePythonDictList(" [ ] ")->empty());
}

TEST(PythonLiteralTest, RejectsMalformedLiterals) {
  for (const char* bad :
       {"", "[", "[{'a': 1}", "[{'a' 1}]", "[{'a': x}]", "[{a: 1}]", "[{'a': 1, 'a': 2}]",
        "[{'a': 1}] extra", "{'a': 1}", "[{'a': None}]", "[{'a': '1'}]"}) {
    auto r = ParsePythonDictList(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("offset"), std::string::npos) << bad;
    }
  }
}

}  // namespace
}  // namespace vqi::dataset
