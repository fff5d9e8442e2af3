#include "router.h"

namespace vqi::server {

const std::string& Call::Param(const std::string& name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

Result<Json> Call::JsonBody() const {
  if (req.body.empty()) return InvalidArgument("request body: expected a JSON object, got nothing");
  return ParseJson(req.body, "request body");
}

void Call::Reply(int status, const Json& body) const {
  res.status = status;
  res.set_content(body.dump(2) + "\n", "application/json");
}

std::string Router::PatternRegex(const std::string& pattern) {
  std::string re;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '{') {
      const size_t end = pattern.find('}', i);
      re += "([^/]+)";
      i = end;
    } else if (std::string_view(".+*?^$()[]|\\").find(c) != std::string_view::npos) {
      re += '\\';
      re += c;
    } else {
      re += c;
    }
  }
  return re;
}

std::vector<std::string> Router::PatternParams(const std::string& pattern) {
  std::vector<std::string> names;
  for (size_t i = pattern.find('{'); i != std::string::npos; i = pattern.find('{', i + 1)) {
    const size_t end = pattern.find('}', i);
    names.push_back(pattern.substr(i + 1, end - i - 1));
  }
  return names;
}

void Router::Add(Route route) {
  regexes_.emplace_back(PatternRegex(route.pattern));
  routes_.push_back(std::move(route));
}

Router::Match Router::Find(const std::string& method, const std::string& path) const {
  const std::string m = method == "HEAD" ? "GET" : method;
  Match match;
  for (size_t i = 0; i < routes_.size(); ++i) {
    std::smatch sm;
    if (!std::regex_match(path, sm, regexes_[i])) continue;
    match.path_known = true;
    if (routes_[i].method != m) continue;
    match.route = &routes_[i];
    const auto names = PatternParams(routes_[i].pattern);
    for (size_t k = 0; k < names.size() && k + 1 < sm.size(); ++k)
      match.params[names[k]] = sm[k + 1].str();
    return match;
  }
  return match;
}

}  // namespace vqi::server
