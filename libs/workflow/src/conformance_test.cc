// Runs every case of conformance/asl/cases.jsonl (recorded from AWS Step Functions) on a
// clock that skips waits, and compares status/output/error/cause with volatile tokens as
// wildcards. Fails below 97% of JSONPath cases (and, with JSONata built in, 85% of JSONata).
//
// VQI_CONFORMANCE_FILTER=<substring> runs only matching ids; VQI_CONFORMANCE_VERBOSE=1 prints
// expected and actual for failures.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <map>
#include <regex>

#include "vqi/base/system.h"
#include "vqi/workflow/definition.h"
#include "vqi/workflow/engine.h"

namespace vqi::workflow {
namespace {

std::string RegexEscape(const std::string& s) {
  static const std::string special = R"(\^$.|?*+()[]{})";
  std::string out;
  for (char c : s) {
    if (special.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

bool StringMatches(const std::string& expected, const std::string& actual,
                   const std::vector<std::string>& tokens) {
  if (expected == actual) return true;
  // Split `expected` on every token occurrence; tokens become ".*".
  std::string pattern;
  size_t i = 0;
  bool any = false;
  while (i < expected.size()) {
    size_t best = std::string::npos, best_len = 0;
    for (const std::string& t : tokens) {
      size_t p = expected.find(t, i);
      if (p != std::string::npos && (p < best || (p == best && t.size() > best_len))) {
        best = p;
        best_len = t.size();
      }
    }
    if (best == std::string::npos) {
      pattern += RegexEscape(expected.substr(i));
      break;
    }
    pattern += RegexEscape(expected.substr(i, best - i)) + "[\\s\\S]*";
    i = best + best_len;
    any = true;
  }
  if (!any) return false;
  return std::regex_match(actual, std::regex(pattern));
}

bool Matches(const Json& expected, const Json& actual, const std::vector<std::string>& tokens,
             const std::string& key = "") {
  bool ts_token = std::find(tokens.begin(), tokens.end(), "timestamp") != tokens.end();
  if (ts_token && key.find("timestamp") != std::string::npos) return true;
  if (expected.is_string()) {
    if (actual.is_string())
      return StringMatches(expected.get<std::string>(), actual.get<std::string>(), tokens);
    if (!tokens.empty()) return StringMatches(expected.get<std::string>(), actual.dump(), tokens);
    return false;
  }
  if (expected.is_object()) {
    if (!actual.is_object() || actual.size() != expected.size()) return false;
    for (auto& [k, v] : expected.items()) {
      auto it = actual.find(k);
      if (it == actual.end() || !Matches(v, *it, tokens, k)) return false;
    }
    return true;
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.size() != expected.size()) return false;
    for (size_t i = 0; i < expected.size(); ++i)
      if (!Matches(expected[i], actual[i], tokens)) return false;
    return true;
  }
  return expected == actual;
}

struct Tally {
  int pass = 0, total = 0;
};

TEST(WorkflowConformance, AllCases) {
  std::string dir = SharedDir();
  std::string path = dir + "/conformance/asl/cases.jsonl";
  std::ifstream in(path);
  if (dir.empty() || !in) GTEST_SKIP() << "conformance cases not found at " << path;
  const char* filter = std::getenv("VQI_CONFORMANCE_FILTER");
  bool verbose = std::getenv("VQI_CONFORMANCE_VERBOSE") != nullptr;
  std::map<std::string, Tally> by_category;
  Tally jsonpath, jsonata;
  std::vector<std::string> failures;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto parsed = ParseJson(line, path);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    const Json& c = *parsed;
    std::string id = c["id"].get<std::string>();
    if (filter != nullptr && id.find(filter) == std::string::npos) continue;
    bool is_jsonata = c["definition"].dump().find("\"QueryLanguage\":\"JSONata\"") !=
                      std::string::npos;
    std::vector<std::string> tokens;
    if (c.contains("volatile_tokens"))
      for (const Json& t : c["volatile_tokens"]) tokens.push_back(t.get<std::string>());
    Json actual;
    auto machine = LoadDefinition(c["definition"]);
    if (!machine.ok()) {
      actual = {{"status", "INVALID"}, {"error", machine.status().message()}};
    } else {
      auto clock = NewSkippingClock(RealClock().NowMs());
      std::atomic<bool> cancel{false};
      ExecutionOptions opts;
      opts.clock = clock.get();
      opts.cancel = &cancel;
      opts.execution_name = "conformance";
      auto fut = std::async(std::launch::async, [&] {
        return RunExecution(*machine, c["input"], opts).ToJson();
      });
      if (fut.wait_for(std::chrono::seconds(20)) != std::future_status::ready) cancel = true;
      actual = fut.get();
    }
    const Json& expected = c["expected"];
    bool ok = actual["status"] == expected["status"];
    if (ok && expected["status"] == "SUCCEEDED") {
      ok = Matches(expected["output"], actual["output"], tokens);
    } else if (ok) {
      ok = Matches(expected.value("error", Json()), actual["error"], tokens) &&
           Matches(expected.value("cause", Json()), actual["cause"], tokens);
    }
    Tally& cat = by_category[c["category"].get<std::string>() + (is_jsonata ? "/jsonata" : "/jsonpath")];
    Tally& ql = is_jsonata ? jsonata : jsonpath;
    ++cat.total;
    ++ql.total;
    if (ok) {
      ++cat.pass;
      ++ql.pass;
    } else {
      failures.push_back(id);
      if (verbose)
        std::printf("FAIL %s\n  expected %s\n  actual   %s\n", id.c_str(), expected.dump().c_str(),
                    actual.dump().c_str());
    }
  }
  for (const auto& [cat, t] : by_category) std::printf("%-40s %4d / %4d\n", cat.c_str(), t.pass, t.total);
  std::printf("JSONPath: %d / %d\nJSONata:  %d / %d\n", jsonpath.pass, jsonpath.total,
              jsonata.pass, jsonata.total);
  for (const std::string& f : failures) std::printf("failing: %s\n", f.c_str());
  if (filter == nullptr) {
    EXPECT_GE(jsonpath.pass * 100, jsonpath.total * 97) << "JSONPath pass rate below 97%";
#ifdef VQI_HAVE_JSONATA
    EXPECT_GE(jsonata.pass * 100, jsonata.total * 85) << "JSONata pass rate below 85%";
#endif
  }
}

}  // namespace
}  // namespace vqi::workflow
