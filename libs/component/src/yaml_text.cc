// YAML recipe text → Json through yaml-cpp. Scalars follow the YAML 1.2 core schema (plain
// `42`, `-1.5`, `true`, `null`, `~` are typed; quoted scalars are strings); `<<` merge keys are
// applied as Greengrass's SnakeYAML does. Aliases are expanded under node and byte budgets
// (vqi/component/limits.h) so a small text cannot expand into gigabytes.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

#include "recipe_text.h"
#include "vqi/component/limits.h"

namespace vqi::component::internal {
namespace {

bool IsAll(std::string_view s, std::string_view chars) {
  return !s.empty() && s.find_first_not_of(chars) == std::string_view::npos;
}

// A plain (unquoted, untagged) scalar, resolved by the YAML 1.2 core schema.
Json ResolvePlain(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  std::string_view v = s;
  const bool neg = v[0] == '-';
  if (v[0] == '-' || v[0] == '+') v.remove_prefix(1);
  if (IsAll(v, "0123456789")) {
    uint64_t u = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), u);
    if (ec == std::errc() && p == v.data() + v.size()) {
      if (!neg) return u;
      if (u <= uint64_t{1} << 63) return static_cast<int64_t>(0 - u);
    }
  }
  if (!neg && v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'o')) {
    const int base = v[1] == 'x' ? 16 : 8;
    uint64_t u = 0;
    auto [p, ec] = std::from_chars(v.data() + 2, v.data() + v.size(), u, base);
    if (ec == std::errc() && p == v.data() + v.size()) return u;
  }
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  if (IsAll(v, "0123456789.eE+-") && v.find_first_of("0123456789") != std::string_view::npos &&
      v[0] != 'e' && v[0] != 'E') {
    double d = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (ec == std::errc() && p == v.data() + v.size() && std::isfinite(d)) return neg ? -d : d;
  }
  return s;  // .inf/.nan and everything else stay text (JSON has no infinity)
}

class Converter {
 public:
  Converter(std::string_view origin, LineMap* lines) : origin_(origin), lines_(lines) {}

  Status Convert(const YAML::Node& node, const std::string& path, int depth, Json* out) {
    if (++nodes_ > kMaxRecipeNodes)
      return ResourceExhausted(Where(origin_, Line(node), path) + "the YAML expands to more than " +
                               std::to_string(kMaxRecipeNodes) +
                               " nodes (aliases count each time they are used; docs/limits.md)");
    if (depth > kMaxRecipeDepth)
      return ResourceExhausted(Where(origin_, Line(node), path) + "nested deeper than " +
                               std::to_string(kMaxRecipeDepth) + " levels (docs/limits.md)");
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        *out = nullptr;
        return Status::Ok();
      case YAML::NodeType::Scalar:
        return Scalar(node, path, out);
      case YAML::NodeType::Sequence: {
        *out = Json::array();
        size_t i = 0;
        for (const YAML::Node& item : node) {
          const std::string p = JoinIndex(path, i++);
          Note(p, item);
          Json v;
          VQI_RETURN_IF_ERROR(Convert(item, p, depth + 1, &v));
          out->push_back(std::move(v));
        }
        return Status::Ok();
      }
      case YAML::NodeType::Map:
        return Map(node, path, depth, out);
    }
    return Status::Ok();
  }

 private:
  static int Line(const YAML::Node& n) {
    const YAML::Mark m = n.Mark();
    return m.is_null() ? 0 : m.line + 1;
  }
  void Note(const std::string& path, const YAML::Node& n) {
    if (const int line = Line(n); line > 0) lines_->emplace(path, line);
  }

  Status Scalar(const YAML::Node& node, const std::string& path, Json* out) {
    const std::string& s = node.Scalar();
    bytes_ += s.size();
    if (bytes_ > kMaxRecipeExpandedBytes)
      return ResourceExhausted(Where(origin_, Line(node), path) + "the YAML expands to more than " +
                               std::to_string(kMaxRecipeExpandedBytes) +
                               " bytes of text (aliases count each time; docs/limits.md)");
    const std::string& tag = node.Tag();
    if (tag == "?")
      *out = ResolvePlain(s);
    else if (tag == "!" || tag == "tag:yaml.org,2002:str")
      *out = s;
    else
      return InvalidArgument(Where(origin_, Line(node), path) + "unsupported YAML tag '" + tag +
                             "' (recipes use plain or quoted scalars)");
    return Status::Ok();
  }

  Status Map(const YAML::Node& node, const std::string& path, int depth, Json* out) {
    *out = Json::object();
    std::vector<const YAML::Node*> merges;
    std::vector<std::pair<YAML::Node, YAML::Node>> entries;
    for (auto it = node.begin(); it != node.end(); ++it)
      entries.emplace_back(it->first, it->second);
    for (const auto& [key, value] : entries) {
      if (!key.IsScalar())
        return InvalidArgument(Where(origin_, Line(key), path) +
                               "a mapping key must be a plain string, not a list or a mapping");
      const std::string& k = key.Scalar();
      if (k == "<<" && key.Tag() == "?") {
        merges.push_back(&value);
        continue;
      }
      const std::string p = JoinKey(path, k);
      if (out->contains(k))
        return InvalidArgument(Where(origin_, Line(key), p) + "duplicate key '" + k + "'");
      Note(p, key);
      Json v;
      VQI_RETURN_IF_ERROR(Convert(value, p, depth + 1, &v));
      (*out)[k] = std::move(v);
    }
    // `<<: *base` or `<<: [*a, *b]`: keys not given explicitly come from the merged maps,
    // earlier maps first.
    for (const YAML::Node* m : merges) {
      std::vector<YAML::Node> sources;
      if (m->IsMap())
        sources.push_back(*m);
      else if (m->IsSequence())
        for (const YAML::Node& s : *m) sources.push_back(s);
      for (const YAML::Node& src : sources) {
        if (!src.IsMap())
          return InvalidArgument(Where(origin_, Line(*m), JoinKey(path, "<<")) +
                                 "a merge key '<<' takes a mapping or a list of mappings");
        // One level deeper, as every recursion here: a mapping that merges itself (`&p {<<:
        // *p}`) then ends at the depth limit instead of overflowing the stack (recipe_fuzz).
        Json merged;
        VQI_RETURN_IF_ERROR(Convert(src, path, depth + 1, &merged));
        for (auto& [k, v] : merged.items())
          if (!out->contains(k)) (*out)[k] = v;
      }
    }
    return Status::Ok();
  }

  std::string_view origin_;
  LineMap* lines_;
  size_t nodes_ = 0;
  size_t bytes_ = 0;
};

// Counts documents without building them (yaml-cpp 0.7's LoadAll loops forever on some
// inputs whose first document parses: found by recipe_fuzz).
class DocumentCounter : public YAML::EventHandler {
 public:
  int documents = 0;
  int line = 0;  // where the second document starts
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents == 2) line = mark.is_null() ? 0 : mark.line + 1;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

Status Malformed(std::string_view origin, const YAML::Exception& e) {
  return InvalidArgument(Where(origin, e.mark.is_null() ? 0 : e.mark.line + 1, "") +
                         "malformed YAML: " + e.msg);
}

}  // namespace

Result<Document> LoadYaml(std::string_view text, std::string_view origin) {
  const std::string owned(text);
  YAML::Node root;
  try {
    std::istringstream in(owned);
    YAML::Parser parser(in);
    DocumentCounter counter;
    int handled = 0;
    while (handled < 2 && parser.HandleNextDocument(counter)) ++handled;
    if (handled == 0) return InvalidArgument(Where(origin, 0, "") + "the recipe is empty");
    if (handled > 1 || counter.documents > 1)
      return InvalidArgument(Where(origin, counter.line, "") +
                             "a second YAML document starts here; a recipe is exactly one");
    root = YAML::Load(owned);
  } catch (const YAML::Exception& e) {
    return Malformed(origin, e);
  } catch (const std::exception& e) {
    return InvalidArgument(Where(origin, 0, "") + "malformed YAML: " + e.what());
  }
  Document doc;
  try {
    Converter c(origin, &doc.lines);
    VQI_RETURN_IF_ERROR(c.Convert(root, "", 0, &doc.value));
  } catch (const YAML::Exception& e) {
    return Malformed(origin, e);
  }
  return doc;
}

}  // namespace vqi::component::internal
