// Recipe variables: find `{…:…}` candidates, resolve each against the context.
#include "vqi/component/interpolate.h"

#include "vqi/component/limits.h"

namespace vqi::component {
namespace {

constexpr const char* kNamespaces = "artifacts, work, kernel, iot, configuration";

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// The body of a variable candidate starting at text[open] == '{', or npos.
size_t CandidateEnd(std::string_view text, size_t open) {
  if (open > 0 && text[open - 1] == '$') return std::string_view::npos;
  if (open + 1 >= text.size() || !IsNameChar(text[open + 1])) return std::string_view::npos;
  bool colon = false;
  for (size_t i = open + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '}') return colon ? i : std::string_view::npos;
    if (c == '{' || c == ' ' || c == '\t' || c == '\n' || c == '\r') return std::string_view::npos;
    colon |= c == ':';
  }
  return std::string_view::npos;
}

Status Bad(std::string_view var, std::string_view field, const std::string& why) {
  return InvalidArgument(std::string(field) + ": recipe variable '" + std::string(var) +
                         "': " + why);
}

Result<std::string> Configuration(const Json& config, std::string_view pointer,
                                  std::string_view var, std::string_view field) {
  try {
    const Json::json_pointer ptr{std::string(pointer)};
    if (!config.contains(ptr))
      return Bad(var, field, "the configuration has no value at '" + std::string(pointer) + "'");
    const Json& v = config.at(ptr);
    std::string out = v.is_string() ? v.get<std::string>() : v.dump();
    if (out.find('\0') != std::string::npos)
      return Bad(var, field, "the configuration value contains a NUL character");
    return out;
  } catch (const Json::exception& e) {
    return Bad(var, field,
               "'" + std::string(pointer) + "' is not a JSON pointer (like /a/b): " + e.what());
  }
}

// `ns:key` of `component` (self when `dependency` is empty).
Result<std::string> Resolve(std::string_view ns, std::string_view key, const ComponentContext& c,
                            bool cross, const InterpolationContext& ctx, std::string_view var,
                            std::string_view field) {
  if (ns == "artifacts") {
    if (key == "path") return c.artifacts_path;
    if (key == "decompressedPath") return c.decompressed_path;
    return Bad(var, field,
               "unknown key '" + std::string(key) +
                   "' of namespace artifacts; accepted: path, decompressedPath");
  }
  if (ns == "work") {
    if (key == "path") return c.work_path;
    return Bad(var, field,
               "unknown key '" + std::string(key) + "' of namespace work; accepted: path");
  }
  if (ns == "configuration") return Configuration(c.configuration, key, var, field);
  if (ns == "kernel" || ns == "iot") {
    if (cross)
      return Bad(var, field,
                 "namespace " + std::string(ns) + " is not per component; write {" +
                     std::string(ns) + ":" + std::string(key) + "}");
    if (ns == "kernel" && key == "rootPath") return ctx.kernel_root_path;
    if (ns == "iot" && key == "thingName") {
      if (ctx.thing_name.empty())
        return FailedPrecondition(std::string(field) + ": recipe variable '" + std::string(var) +
                                  "': no thing name is configured for this device");
      return ctx.thing_name;
    }
    return Bad(var, field,
               "unknown key '" + std::string(key) + "' of namespace " + std::string(ns) +
                   (ns == "kernel" ? "; accepted: rootPath" : "; accepted: thingName"));
  }
  return Bad(var, field, "unknown namespace '" + std::string(ns) + "'; accepted: " + kNamespaces);
}

bool IsNamespace(std::string_view s) {
  return s == "artifacts" || s == "work" || s == "kernel" || s == "iot" || s == "configuration";
}

}  // namespace

ComponentContext GreengrassLayout(std::string_view root, std::string_view name,
                                  std::string_view version) {
  std::string r(root);
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  const std::string nv = std::string(name) + "/" + std::string(version);
  ComponentContext c;
  c.artifacts_path = r + "/packages/artifacts/" + nv;
  c.decompressed_path = r + "/packages/artifacts-unarchived/" + nv;
  c.work_path = r + "/work/" + std::string(name);
  return c;
}

std::string UnarchivedDir(const ComponentContext& c, std::string_view file_name) {
  std::string base(file_name);
  if (base.size() > 4) {
    std::string ext = base.substr(base.size() - 4);
    for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (ext == ".zip") base.resize(base.size() - 4);
  }
  return c.decompressed_path + "/" + base;
}

Result<std::string> Interpolate(std::string_view text, const InterpolationContext& ctx,
                                std::string_view field) {
  std::string out;
  size_t done = 0;
  for (size_t open = text.find('{'); open != std::string_view::npos;
       open = text.find('{', open + 1)) {
    const size_t close = CandidateEnd(text, open);
    if (close == std::string_view::npos) continue;
    const std::string_view var = text.substr(open, close - open + 1);
    const std::string_view body = var.substr(1, var.size() - 2);
    const size_t c1 = body.find(':');
    const std::string_view first = body.substr(0, c1);
    const std::string_view rest = body.substr(c1 + 1);
    Result<std::string> value = std::string();
    if (IsNamespace(first)) {
      value = Resolve(first, rest, ctx.self, false, ctx, var, field);
    } else {
      const size_t c2 = rest.find(':');
      if (c2 == std::string_view::npos)
        return Bad(var, field,
                   "unknown namespace '" + std::string(first) + "'; accepted: " + kNamespaces +
                       " (or <component>:<namespace>:<key> for a direct dependency)");
      const std::string_view ns = rest.substr(0, c2);
      if (!IsNamespace(ns))
        return Bad(var, field,
                   "unknown namespace '" + std::string(ns) + "'; accepted: " + kNamespaces);
      const ComponentContext* c = nullptr;
      if (first == ctx.component_name) {
        c = &ctx.self;
      } else if (auto it = ctx.dependencies.find(std::string(first));
                 it != ctx.dependencies.end()) {
        c = &it->second;
      } else {
        return Bad(var, field,
                   "'" + std::string(first) + "' is not a direct dependency of " +
                       (ctx.component_name.empty() ? "this component" : ctx.component_name) +
                       " (Greengrass resolves other components' variables only for "
                       "direct dependencies)");
      }
      value = Resolve(ns, rest.substr(c2 + 1), *c, true, ctx, var, field);
    }
    if (!value.ok()) return value.status();
    out.append(text.substr(done, open - done));
    out += *value;
    done = close + 1;
    open = close;
    if (out.size() > kMaxInterpolatedBytes) break;
  }
  out.append(text.substr(done));
  if (out.size() > kMaxInterpolatedBytes)
    return ResourceExhausted(std::string(field) + ": the interpolated text exceeds " +
                             std::to_string(kMaxInterpolatedBytes) + " bytes (docs/limits.md)");
  return out;
}

Result<Lifecycle> InterpolateLifecycle(const Lifecycle& lifecycle, const InterpolationContext& ctx,
                                       std::string_view field) {
  const std::string f(field);
  Lifecycle out = lifecycle;
  for (auto& [name, value] : out.setenv) {
    VQI_ASSIGN_OR_RETURN(value, Interpolate(value, ctx, f + ".setEnv." + name));
  }
  for (auto& [step, s] : out.steps) {
    const std::string p = f + "." + step;
    VQI_ASSIGN_OR_RETURN(s.script, Interpolate(s.script, ctx, p + ".Script"));
    VQI_ASSIGN_OR_RETURN(s.skip_if, Interpolate(s.skip_if, ctx, p + ".Skipif"));
    for (auto& [name, value] : s.setenv) {
      VQI_ASSIGN_OR_RETURN(value, Interpolate(value, ctx, p + ".Setenv." + name));
    }
  }
  return out;
}

}  // namespace vqi::component
