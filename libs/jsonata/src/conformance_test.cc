// Checks against the AWS-recorded conformance cases (../shared/conformance/asl/cases.jsonl):
// every {% %} expression they contain parses, and the single-state Pass machines whose Output is
// a JSONata template produce AWS's recorded output or error.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

#include "vqi/base/json.h"
#include "vqi/base/system.h"
#include "vqi/jsonata/jsonata.h"

namespace vqi::jsonata {
namespace {

std::vector<Json> LoadCases() {
  std::vector<Json> cases;
  std::ifstream in(SharedDir() + "/conformance/asl/cases.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) cases.push_back(Json::parse(line));
  }
  return cases;
}

bool IsExpression(const Json& j) {
  if (!j.is_string()) return false;
  const std::string& s = j.get_ref<const std::string&>();
  return s.size() >= 4 && s.rfind("{%", 0) == 0 && s.compare(s.size() - 2, 2, "%}") == 0;
}

std::string Inner(const std::string& s) { return s.substr(2, s.size() - 4); }

void CollectExpressions(const Json& j, std::set<std::string>* out) {
  if (IsExpression(j)) out->insert(Inner(j.get<std::string>()));
  if (j.is_object() || j.is_array()) {
    for (const auto& v : j) CollectExpressions(v, out);
  }
}

// Evaluates a JSONata template the way the engine evaluates Output: strings "{% e %}" are
// expressions, everything else is literal.
Result<Json> EvalTemplate(const Json& t, const std::map<std::string, Json>& bindings) {
  if (IsExpression(t)) {
    VQI_ASSIGN_OR_RETURN(std::optional<Json> v,
                         Evaluate(Inner(t.get<std::string>()), nullptr, bindings));
    if (!v) return InvalidArgument("returned nothing (undefined)");
    return *v;
  }
  if (t.is_object()) {
    Json out = Json::object();
    for (auto it = t.begin(); it != t.end(); ++it) {
      VQI_ASSIGN_OR_RETURN(out[it.key()], EvalTemplate(it.value(), bindings));
    }
    return out;
  }
  if (t.is_array()) {
    Json out = Json::array();
    for (const auto& v : t) {
      VQI_ASSIGN_OR_RETURN(Json x, EvalTemplate(v, bindings));
      out.push_back(std::move(x));
    }
    return out;
  }
  return t;
}

TEST(JsonataConformance, EveryExpressionInTheCasesParses) {
  std::vector<Json> cases = LoadCases();
  if (cases.empty()) GTEST_SKIP() << "conformance cases not found under " << SharedDir();
  std::set<std::string> exprs;
  for (const Json& c : cases) CollectExpressions(c["definition"], &exprs);
  EXPECT_GE(exprs.size(), 30u);
  for (const std::string& e : exprs) {
    Status st = Check(e);
    EXPECT_TRUE(st.ok()) << e << ": " << st.message();
  }
}

TEST(JsonataConformance, SingleStatePassOutputsMatchAws) {
  std::vector<Json> cases = LoadCases();
  if (cases.empty()) GTEST_SKIP() << "conformance cases not found under " << SharedDir();
  int checked = 0;
  for (const Json& c : cases) {
    const Json& states = c["definition"]["States"];
    if (states.size() != 1) continue;
    const Json& state = states.begin().value();
    bool jsonata = c["definition"].value("QueryLanguage", "") == "JSONata" ||
                   state.value("QueryLanguage", "") == "JSONata";
    if (!jsonata || state["Type"] != "Pass" || !state.contains("Output")) continue;
    std::map<std::string, Json> bindings = {
        {"states", {{"input", c["input"]}, {"context", Json::object()}}}};
    auto r = EvalTemplate(state["Output"], bindings);
    const Json& expected = c["expected"];
    if (expected["status"] == "SUCCEEDED") {
      ASSERT_TRUE(r.ok()) << c["id"] << ": " << r.status().message();
      EXPECT_EQ(*r, expected["output"]) << c["id"];
    } else {
      ASSERT_FALSE(r.ok()) << c["id"];
      std::string cause = expected["cause"].get<std::string>();
      std::string marker = "threw an error during evaluation. ";
      size_t at = cause.find(marker);
      ASSERT_NE(at, std::string::npos) << cause;
      EXPECT_EQ(r.status().message(), cause.substr(at + marker.size())) << c["id"];
    }
    ++checked;
  }
  EXPECT_GE(checked, 30);
}

}  // namespace
}  // namespace vqi::jsonata
