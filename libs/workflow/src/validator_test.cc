// Bad input: one test per validation rule; each error names the state and the field.
#include <gtest/gtest.h>

#include "vqi/workflow/definition.h"
#include "vqi/workflow/jsonpath.h"

namespace vqi::workflow {
namespace {

std::string ErrorOf(const std::string& text) {
  auto m = LoadDefinitionText(text, "def.json");
  EXPECT_FALSE(m.ok()) << "accepted: " << text;
  return m.ok() ? "" : m.status().message();
}

void ExpectError(const std::string& text, const std::string& needle) {
  std::string e = ErrorOf(text);
  EXPECT_NE(e.find(needle), std::string::npos) << "error was: " << e;
}

TEST(WorkflowValidator, AcceptsMinimalDefinition) {
  auto m = LoadDefinitionText(R"({"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}})", "d");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->start_at, "A");
}

TEST(WorkflowValidator, MalformedJson) {
  ExpectError(R"({"StartAt":"A","States":{)", "def.json: malformed JSON");
}

TEST(WorkflowValidator, UnknownStateType) {
  ExpectError(R"({"StartAt":"A","States":{"A":{"Type":"Bogus","End":true}}})",
              "States.A.Type: unknown state type \"Bogus\"");
}

TEST(WorkflowValidator, MissingNext) {
  ExpectError(R"({"StartAt":"A","States":{"A":{"Type":"Pass"}}})", "States.A.Next: required");
}

TEST(WorkflowValidator, NextAndEnd) {
  ExpectError(R"({"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A","End":true}}})",
              "States.A.End: a state cannot have both Next and End");
}

TEST(WorkflowValidator, NextTargetMissing) {
  ExpectError(R"({"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nope"}}})",
              "States.A.Next: state 'Nope' does not exist");
}

TEST(WorkflowValidator, StartAtMissingState) {
  ExpectError(R"({"StartAt":"X","States":{"A":{"Type":"Pass","End":true}}})",
              "StartAt: state 'X' does not exist");
}

TEST(WorkflowValidator, BadJsonPath) {
  ExpectError(R"({"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$.a[","End":true}}})",
              "States.A.InputPath: invalid JSONPath");
  ExpectError(R"({"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"nope"},"End":true}}})",
              "States.A.Parameters.x.$: invalid JSONPath");
}

TEST(WorkflowValidator, StatesAllNotLastInRetry) {
  ExpectError(R"({"StartAt":"A","States":{"A":{"Type":"Task","Resource":"vqi:test:echo","End":true,
      "Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}]}}})",
              "States.A.Retry[0].ErrorEquals: a retrier with States.ALL must be last");
  ExpectError(R"({"StartAt":"A","States":{"A":{"Type":"Task","Resource":"vqi:test:echo","End":true,
      "Retry":[{"ErrorEquals":["X"]},{"ErrorEquals":["States.ALL","Y"]}]}}})",
              "States.A.Retry[1].ErrorEquals: States.ALL must be the only error name");
}

TEST(WorkflowValidator, StatesAllNotLastInCatch) {
  ExpectError(R"({"StartAt":"A","States":{"A":{"Type":"Task","Resource":"vqi:test:echo","End":true,
      "Catch":[{"ErrorEquals":["States.ALL"],"Next":"A"},{"ErrorEquals":["X"],"Next":"A"}]}}})",
              "States.A.Catch[0].ErrorEquals: a catcher with States.ALL must be last");
}

TEST(WorkflowValidator, NextLeavesParallelBranch) {
  ExpectError(R"({"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
      {"StartAt":"B","States":{"B":{"Type":"Pass","Next":"Outside"}}}]},
      "Outside":{"Type":"Pass","End":true}}})",
              "States.P.Branches[0].States.B.Next: state 'Outside' does not exist in this scope");
}

TEST(WorkflowValidator, NextLeavesMapIteration) {
  ExpectError(R"({"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":
      {"StartAt":"B","States":{"B":{"Type":"Pass","Next":"M"}}}}}})",
              "States.M.ItemProcessor.States.B.Next: state 'M' does not exist in this scope");
}

TEST(WorkflowValidator, WaitNeedsExactlyOneDuration) {
  ExpectError(R"({"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}})",
              "States.W.Seconds: a Wait state needs exactly one");
  ExpectError(R"({"StartAt":"W","States":{"W":{"Type":"Wait","End":true}}})",
              "States.W.Seconds: a Wait state needs exactly one");
}

TEST(WorkflowValidator, MapProcessorExclusivity) {
  ExpectError(R"({"StartAt":"M","States":{"M":{"Type":"Map","End":true,
      "ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}},
      "Iterator":{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}}}})",
              "States.M.ItemProcessor: a Map state needs exactly one of ItemProcessor and Iterator");
  ExpectError(R"({"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemSelector":{},"Parameters":{},
      "ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}}}})",
              "States.M.ItemSelector: cannot be used together with Parameters");
}

TEST(WorkflowValidator, ChoiceRules) {
  ExpectError(R"({"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x",
      "NumericEquals":"one","Next":"C"}]}}})",
              "States.C.Choices[0].NumericEquals: must be a number");
  ExpectError(R"({"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x",
      "Frobnicate":1,"Next":"C"}]}}})",
              "States.C.Choices[0].Frobnicate: unknown choice operator");
  ExpectError(R"({"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[]}}})",
              "States.C.Choices: must be a non-empty array");
}

TEST(WorkflowValidator, UnknownField) {
  ExpectError(R"({"StartAt":"A","States":{"A":{"Type":"Pass","Resource":"x","End":true}}})",
              "States.A.Resource: field is not supported by Pass states");
}

TEST(WorkflowValidator, TaskNeedsResource) {
  ExpectError(R"({"StartAt":"A","States":{"A":{"Type":"Task","End":true}}})",
              "States.A.Resource: required field is missing");
}

TEST(WorkflowValidator, BadIntrinsic) {
  ExpectError(R"j({"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope(1)"},"End":true}}})j",
              "States.A.Parameters.x.$: invalid intrinsic function 'States.Nope(1)': unknown function");
}

// Regression (workflow_jsonpath_fuzz): an index past long long threw std::out_of_range.
TEST(WorkflowJsonPath, HugeIndexIsAnErrorNotACrash) {
  auto p = JsonPath::Parse("$1[99999999999999999999999999999999]");
  EXPECT_FALSE(p.ok());
  auto q = JsonPath::Parse("$.a[99999999999999999999999999999999]");
  EXPECT_FALSE(q.ok());
}

TEST(WorkflowJsonPath, QueriesAndErrors) {
  Json doc = Json::parse(R"({"a":{"b":[1,2,3]},"c":[{"k":1},{"k":2}]})");
  auto p = JsonPath::Parse("$.a.b[1]");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p->Query(doc).value(), Json(2));
  auto s = JsonPath::Parse("$.a.b[1:]");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s->Query(doc).value(), Json::parse("[2,3]"));
  auto f = JsonPath::Parse("$.c[?(@.k == 2)]");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(*f->Query(doc).value(), Json::parse(R"([{"k":2}])"));
  auto d = JsonPath::Parse("$..k");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d->Query(doc).value(), Json::parse("[1,2]"));
  EXPECT_FALSE(JsonPath::Parse("$.a[").ok());
  EXPECT_FALSE(JsonPath::Parse("a.b").ok());
  EXPECT_FALSE(JsonPath::Parse("$.a[1:2:0]").ok());
  EXPECT_FALSE(JsonPath::Parse("$.x").value().Query(doc).value().has_value());
}

// Repeated descents revisit every subtree once per `..`: a budget ends them with an error
// (workflow_jsonpath_fuzz found `$..*..*..*...` running for hours).
TEST(WorkflowJsonPath, RepeatedDescentsEndWithAnError) {
  Json doc = Json::array();
  Json* leaf = &doc;
  for (int i = 0; i < 100; ++i) {  // a chain 100 levels deep, as a hostile payload may be
    leaf->push_back(Json::array());
    leaf = &(*leaf)[0];
  }
  std::string path = "$";
  for (int i = 0; i < 12; ++i) path += "..*";
  auto p = JsonPath::Parse(path);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto r = p->Query(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("visits more than 1000000 nodes"), std::string::npos)
      << r.status().message();
  // One descent over the same document stays well inside the budget.
  auto one = JsonPath::Parse("$..*");
  ASSERT_TRUE(one.ok());
  auto all = one->Query(doc);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->value().size(), 100u);
}

}  // namespace
}  // namespace vqi::workflow
