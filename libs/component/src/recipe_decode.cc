// Top level, configuration, dependencies, manifests and platforms of a recipe.
#include <algorithm>
#include <cctype>
#include <set>

#include "decoder.h"
#include "vqi/component/artifacts.h"
#include "vqi/component/limits.h"
#include "vqi/component/semver.h"

namespace vqi::component::internal {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

namespace {
std::string List(std::initializer_list<const char*> names) {
  std::string out;
  for (const char* n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}
}  // namespace

Status Decoder::Fail(std::string_view path, const std::string& message) const {
  return InvalidArgument(Where(origin_, lines_ ? LineOf(*lines_, path) : 0, path) + message);
}

Status Decoder::Fail(std::string_view path, const Status& st) const {
  return Status(st.code(), Where(origin_, lines_ ? LineOf(*lines_, path) : 0, path) + st.message());
}

Result<Decoder::Fields> Decoder::ReadFields(const Json& obj, std::string_view path,
                                            std::initializer_list<const char*> accepted) const {
  if (!obj.is_object()) return Fail(path, "must be an object (" + List(accepted) + ")");
  Fields out;
  for (const auto& [key, value] : obj.items()) {
    const std::string p = JoinKey(path, key);
    const std::string lower = Lower(key);
    auto it = std::find_if(accepted.begin(), accepted.end(),
                           [&](const char* a) { return Lower(a) == lower; });
    if (it == accepted.end())
      return Fail(p, "unknown key '" + key + "'; accepted: " + List(accepted));
    auto [at, inserted] = out.emplace(*it, Field{&value, p});
    if (!inserted)
      return Fail(p, "duplicate key: '" + key + "' and '" +
                         at->second.path.substr(path.empty() ? 0 : path.size() + 1) +
                         "' differ only in case (keys are read case-insensitively)");
  }
  return out;
}

Result<std::string> Decoder::String(const Field& f, bool required_nonempty) const {
  const Json& v = *f.value;
  std::string s;
  if (v.is_string())
    s = v.get<std::string>();
  else if (v.is_number_integer() || v.is_boolean())
    s = v.dump();                // as Jackson coerces
  else if (v.is_number_float())  // 1.10 would silently become "1.1"
    return Fail(f.path, "must be a string, not the number " + v.dump() +
                            " (quote it in YAML so its text is kept)");
  else
    return Fail(f.path, std::string("must be a string, not ") + v.type_name());
  if (required_nonempty && s.empty()) return Fail(f.path, "must not be empty");
  if (s.find('\0') != std::string::npos)  // "\u0000" in JSON, "\0" in YAML
    return Fail(f.path, "contains a NUL character");
  return s;
}

Result<bool> Decoder::Bool(const Field& f) const {
  const Json& v = *f.value;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    const std::string s = Lower(v.get<std::string>());
    if (s == "true") return true;
    if (s == "false") return false;
  }
  return Fail(f.path, "must be true or false, not " + v.dump());
}

Result<int64_t> Decoder::Int(const Field& f, int64_t lo, int64_t hi) const {
  const Json& v = *f.value;
  std::optional<int64_t> n;
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() <= static_cast<uint64_t>(hi)) n = v.get<int64_t>();
  } else if (v.is_number_integer()) {
    n = v.get<int64_t>();
  } else if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (!s.empty() && s.size() < 12 && std::all_of(s.begin(), s.end(), ::isdigit))
      n = std::stoll(s);
  }
  if (!n || *n < lo || *n > hi)
    return Fail(f.path, "must be an integer from " + std::to_string(lo) + " to " +
                            std::to_string(hi) + ", not " + v.dump());
  return *n;
}

Result<std::map<std::string, std::string>> Decoder::Env(const Field& f) const {
  if (!f.value->is_object()) return Fail(f.path, "must be an object of NAME: value");
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : f.value->items()) {
    Field e{&v, JoinKey(f.path, k)};
    if (k.empty() || k.find_first_of("=\0", 0, 2) != std::string::npos)
      return Fail(e.path, "an environment variable name must be non-empty without '='");
    VQI_ASSIGN_OR_RETURN(out[k], String(e));
  }
  return out;
}

Result<size_t> Decoder::Enum(const Field& f, std::initializer_list<const char*> accepted) const {
  if (f.value->is_string()) {
    const std::string s = Lower(f.value->get<std::string>());
    size_t i = 0;
    for (const char* a : accepted) {
      if (Lower(a) == s) return i;
      ++i;
    }
  }
  return Fail(f.path, "must be one of " + List(accepted) + ", not " + f.value->dump());
}

Result<Recipe> Decoder::Decode(const Json& doc) {
  VQI_ASSIGN_OR_RETURN(
      Fields top,
      ReadFields(doc, "",
                 {"RecipeFormatVersion", "ComponentName", "ComponentVersion", "ComponentType",
                  "ComponentDescription", "ComponentPublisher", "ComponentConfiguration",
                  "ComponentDependencies", "Manifests", "Lifecycle"}));
  for (const char* required : {"RecipeFormatVersion", "ComponentName", "ComponentVersion"})
    if (!top.count(required))
      return Fail("", std::string("missing required key '") + required + "'");
  Recipe r;
  VQI_ASSIGN_OR_RETURN(r.format_version, String(top["RecipeFormatVersion"]));
  if (r.format_version != kRecipeFormatVersion)
    return Fail(top["RecipeFormatVersion"].path, "must be '" + std::string(kRecipeFormatVersion) +
                                                     "', not '" + r.format_version + "'");
  VQI_ASSIGN_OR_RETURN(r.name, String(top["ComponentName"]));
  if (Status st = ValidateComponentName(r.name); !st.ok())
    return Fail(top["ComponentName"].path, st.message());
  VQI_ASSIGN_OR_RETURN(r.version, String(top["ComponentVersion"]));
  if (Status st = ValidateVersionField(r.version); !st.ok())
    return Fail(top["ComponentVersion"].path, st);
  if (top.count("ComponentType")) {
    static constexpr std::initializer_list<const char*> kTypes = {
        "aws.greengrass.generic", "aws.greengrass.lambda", "aws.greengrass.plugin",
        "aws.greengrass.nucleus"};
    VQI_ASSIGN_OR_RETURN(size_t t, Enum(top["ComponentType"], kTypes));
    r.type = *(kTypes.begin() + t);
  }
  if (top.count("ComponentDescription")) {
    VQI_ASSIGN_OR_RETURN(r.description, String(top["ComponentDescription"]));
  }
  if (top.count("ComponentPublisher")) {
    VQI_ASSIGN_OR_RETURN(r.publisher, String(top["ComponentPublisher"]));
  }
  if (top.count("ComponentConfiguration")) {
    const Field& c = top["ComponentConfiguration"];
    VQI_ASSIGN_OR_RETURN(Fields conf, ReadFields(*c.value, c.path, {"DefaultConfiguration"}));
    if (conf.count("DefaultConfiguration")) {
      const Field& d = conf["DefaultConfiguration"];
      if (!d.value->is_object()) return Fail(d.path, "must be an object");
      r.default_configuration = *d.value;
      if (auto ac = std::find_if(d.value->items().begin(), d.value->items().end(),
                                 [](const auto& kv) { return kv.key() == "accessControl"; });
          ac != d.value->items().end() && !ac.value().is_object())
        return Fail(JoinKey(d.path, "accessControl"),
                    "must be an object (IPC service -> policies)");
    }
  }
  if (top.count("ComponentDependencies"))
    VQI_RETURN_IF_ERROR(DecodeDependencies(top["ComponentDependencies"], &r));

  std::set<std::string> selections{"all"};
  if (top.count("Manifests")) {
    const Field& m = top["Manifests"];
    if (!m.value->is_array()) return Fail(m.path, "must be a list of manifests");
    if (m.value->size() > kMaxManifests)
      return ResourceExhausted(Where(origin_, LineOf(*lines_, m.path), m.path) + "has " +
                               std::to_string(m.value->size()) + " manifests, more than " +
                               std::to_string(kMaxManifests) + " (docs/limits.md)");
    for (size_t i = 0; i < m.value->size(); ++i) {
      Manifest man;
      VQI_RETURN_IF_ERROR(DecodeManifest((*m.value)[i], JoinIndex(m.path, i), &man));
      selections.insert(man.selections.begin(), man.selections.end());
      r.manifests.push_back(std::move(man));
    }
  }
  if (top.count("Lifecycle")) {
    Lifecycle l;
    VQI_RETURN_IF_ERROR(
        DecodeLifecycle(top["Lifecycle"], &selections, &l, &r.lifecycle_selections));
    r.lifecycle = std::move(l);
  }
  return r;
}

Status Decoder::DecodeDependencies(const Field& f, Recipe* r) const {
  if (!f.value->is_object())
    return Fail(f.path,
                "must be an object of component name -> {VersionRequirement, DependencyType}");
  if (f.value->size() > kMaxDependencies)
    return ResourceExhausted(Where(origin_, LineOf(*lines_, f.path), f.path) + "has " +
                             std::to_string(f.value->size()) + " dependencies, more than " +
                             std::to_string(kMaxDependencies) + " (docs/limits.md)");
  for (const auto& [name, spec] : f.value->items()) {
    const std::string p = JoinKey(f.path, name);
    if (Status st = ValidateComponentName(name); !st.ok()) return Fail(p, st.message());
    if (name == r->name) return Fail(p, "a component cannot depend on itself");
    VQI_ASSIGN_OR_RETURN(Fields d, ReadFields(spec, p, {"VersionRequirement", "DependencyType"}));
    if (!d.count("VersionRequirement")) return Fail(p, "missing required key 'VersionRequirement'");
    Dependency dep;
    VQI_ASSIGN_OR_RETURN(dep.version_requirement, String(d["VersionRequirement"], true));
    if (auto range = ParseRange(dep.version_requirement, "x"); !range.ok())
      return Fail(d["VersionRequirement"].path,
                  Status(range.status().code(), range.status().message().substr(3)));
    if (d.count("DependencyType")) {
      VQI_ASSIGN_OR_RETURN(size_t t, Enum(d["DependencyType"], {"HARD", "SOFT"}));
      dep.type = t == 0 ? DependencyType::kHard : DependencyType::kSoft;
    }
    r->dependencies[name] = std::move(dep);
  }
  return Status::Ok();
}

Status Decoder::DecodeManifest(const Json& m, const std::string& path, Manifest* out) const {
  VQI_ASSIGN_OR_RETURN(
      Fields f, ReadFields(m, path, {"Platform", "Name", "Lifecycle", "Artifacts", "Selections"}));
  if (f.count("Platform")) VQI_RETURN_IF_ERROR(DecodePlatform(f["Platform"], out));
  if (f.count("Name")) {
    VQI_ASSIGN_OR_RETURN(out->name, String(f["Name"]));
  }
  if (f.count("Selections")) {
    const Field& s = f["Selections"];
    if (!s.value->is_array()) return Fail(s.path, "must be a list of selection names");
    for (size_t i = 0; i < s.value->size(); ++i) {
      VQI_ASSIGN_OR_RETURN(std::string name,
                           String(Field{&(*s.value)[i], JoinIndex(s.path, i)}, true));
      out->selections.push_back(std::move(name));
    }
  }
  if (f.count("Lifecycle")) {
    Lifecycle l;
    VQI_RETURN_IF_ERROR(DecodeLifecycle(f["Lifecycle"], nullptr, &l, nullptr));
    out->lifecycle = std::move(l);
  }
  if (f.count("Artifacts")) {
    const Field& a = f["Artifacts"];
    if (!a.value->is_array()) return Fail(a.path, "must be a list of artifacts");
    if (a.value->size() > kMaxArtifactsPerManifest)
      return ResourceExhausted(Where(origin_, LineOf(*lines_, a.path), a.path) + "has " +
                               std::to_string(a.value->size()) + " artifacts, more than " +
                               std::to_string(kMaxArtifactsPerManifest) + " (docs/limits.md)");
    for (size_t i = 0; i < a.value->size(); ++i) {
      Artifact art;
      VQI_RETURN_IF_ERROR(DecodeArtifact((*a.value)[i], JoinIndex(a.path, i), &art));
      out->artifacts.push_back(std::move(art));
    }
    // Artifacts land side by side in one folder: two with one file name would overwrite.
    std::map<std::string, size_t> names;
    for (size_t i = 0; i < out->artifacts.size(); ++i) {
      const std::string name = ArtifactFileName(out->artifacts[i].uri).value();
      if (auto [it, inserted] = names.emplace(name, i); !inserted)
        return Fail(JoinKey(JoinIndex(a.path, i), "Uri"),
                    "file name '" + name + "' is also the file name of " +
                        JoinIndex(a.path, it->second) + "; artifacts of a manifest share a folder");
    }
  }
  return Status::Ok();
}

Status Decoder::DecodePlatform(const Field& f, Manifest* out) const {
  if (!f.value->is_object()) return Fail(f.path, "must be an object (os, architecture, ...)");
  std::map<std::string, std::string> seen;  // lower-case key -> key as written
  for (const auto& [key, value] : f.value->items()) {
    Field v{&value, JoinKey(f.path, key)};
    std::string k = Lower(key);
    if (auto [it, inserted] = seen.emplace(k, key); !inserted)
      return Fail(v.path,
                  "duplicate key: '" + key + "' and '" + it->second + "' differ only in case");
    // The attributes Greengrass defines are spelled in lower case; others are kept as written.
    if (k != "os" && k != "architecture" && k != "architecture.detail") k = key;
    VQI_ASSIGN_OR_RETURN(std::string s, String(v, true));
    out->platform[k] = std::move(s);
  }
  return Status::Ok();
}

}  // namespace vqi::component::internal
