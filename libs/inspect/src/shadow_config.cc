// The `Shadow` configuration key (docs/design/shadow.md, docs/design/inspect.md).
#include <cctype>

#include "vqi/inspect/config.h"
#include "vqi/transport/topics.h"

namespace vqi::inspect {
namespace {

bool SafeVersion(const std::string& v) {
  if (v.empty() || v.size() > 64 || v == "." || v == "..") return false;
  for (char c : v)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+' &&
        c != '_')
      return false;
  return true;
}

}  // namespace

Status ParseShadowConfig(const Json& j, const std::string& where, const std::string& agent_root,
                         const std::string& live_model_file, ShadowConfig* out,
                         std::vector<std::string>* unknown) {
  auto error = [&](const std::string& key, const std::string& what) {
    return InvalidArgument(where + ": Shadow" + (key.empty() ? "" : "." + key) + ": " + what);
  };
  if (!j.is_object()) return error("", "must be an object, got " + j.dump());
  ShadowConfig c;
  c.model_file = live_model_file;
  auto str = [&](const char* key, std::string& v) -> Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return Status::Ok();
    if (!it->is_string()) return error(key, "must be a string, got " + it->dump());
    v = it->get<std::string>();
    if (v.size() > 4096) return error(key, "longer than 4096 bytes");
    return Status::Ok();
  };
  VQI_RETURN_IF_ERROR(str("ModelDirectory", c.model_directory));
  VQI_RETURN_IF_ERROR(str("ModelComponent", c.model_component));
  VQI_RETURN_IF_ERROR(str("ModelVersion", c.model_version));
  VQI_RETURN_IF_ERROR(str("ModelFile", c.model_file));
  VQI_RETURN_IF_ERROR(str("ModelName", c.model_name));
  if (c.model_file.empty() || c.model_file.find('/') != std::string::npos || c.model_file == "." ||
      c.model_file == "..")
    return error("ModelFile", "'" + c.model_file + "' must be a file name, not a path");
  for (const auto& [key, field] :
       {std::pair<const char*, int*>{"ReportEvery", &c.report_every}, {"Every", &c.every}}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_number_integer() || it->get<int64_t>() < 1 ||
        it->get<int64_t>() > kMaxShadowReportEvery)
      return error(key, it->dump() + " is not an integer in [1, " +
                            std::to_string(kMaxShadowReportEvery) + "]");
    *field = static_cast<int>(it->get<int64_t>());
  }
  if (c.model_directory.empty() && c.model_component.empty() && c.model_version.empty()) {
    // Options without a candidate (e.g. a deployment's ReportEvery left after a promotion):
    // no shadow. Live inspection must never stop over a shadow setting.
    *out = ShadowConfig{};
    return Status::Ok();
  }
  if (c.model_directory.empty()) {
    if (c.model_component.empty() || c.model_version.empty())
      return error("",
                   "needs ModelDirectory, or ModelComponent and ModelVersion (the candidate "
                   "component version the agent fetched)");
    if (!transport::topics::ValidComponentName(c.model_component))
      return error("ModelComponent", "'" + c.model_component + "' is not a component name");
    if (!SafeVersion(c.model_version))
      return error("ModelVersion", "'" + c.model_version + "' is not a component version");
    if (agent_root.empty())
      return error("ModelComponent",
                   "the candidate's folder is the agent's (packages/artifacts/<component>/"
                   "<version>) but VQI_AGENT_ROOT is not set; outside vqi-agent give "
                   "Shadow.ModelDirectory");
    c.model_directory =
        agent_root + "/packages/artifacts/" + c.model_component + "/" + c.model_version;
  }
  if (c.model_name.empty()) {
    c.model_name = c.model_component;
    if (c.model_name.empty()) {
      std::string d = c.model_directory;
      while (d.size() > 1 && d.back() == '/') d.pop_back();
      c.model_name = d.substr(d.rfind('/') == std::string::npos ? 0 : d.rfind('/') + 1);
    }
  }
  if (unknown)
    for (const auto& [k, v] : j.items())
      if (k != "ModelDirectory" && k != "ModelComponent" && k != "ModelVersion" &&
          k != "ModelFile" && k != "ModelName" && k != "ReportEvery" && k != "Every")
        unknown->push_back("Shadow." + k);
  *out = std::move(c);
  return Status::Ok();
}

}  // namespace vqi::inspect
