// Lifecycle objects: `setEnv` and the steps, each a script string or an object.
#include <algorithm>

#include "decoder.h"
#include "vqi/component/limits.h"

namespace vqi::component::internal {
namespace {

bool IsStep(const std::string& lower) {
  return std::any_of(std::begin(kLifecycleSteps), std::end(kLifecycleSteps),
                     [&](const char* s) { return lower == s; });
}

}  // namespace

Status Decoder::DecodeLifecycle(const Field& f, const std::set<std::string>* selections,
                                Lifecycle* out, std::map<std::string, Lifecycle>* sections) const {
  if (!f.value->is_object())
    return Fail(f.path,
                "must be an object (setEnv, bootstrap, install, startup, run, shutdown, recover)");
  std::map<std::string, std::string> seen;  // canonical key -> path as written
  for (const auto& [key, value] : f.value->items()) {
    Field v{&value, JoinKey(f.path, key)};
    const std::string lower = Lower(key);
    const bool is_step = IsStep(lower);
    if (!is_step && lower != "setenv") {
      if (selections && selections->count(key)) {
        Lifecycle section;
        VQI_RETURN_IF_ERROR(DecodeLifecycle(v, nullptr, &section, nullptr));
        (*sections)[key] = std::move(section);
        continue;
      }
      return Fail(v.path,
                  "unknown lifecycle key '" + key +
                      "'; accepted: setEnv, bootstrap, install, startup, run, shutdown, "
                      "recover" +
                      (selections ? " or a selection named in a manifest's Selections" : ""));
    }
    const std::string canonical = lower == "setenv" ? "setEnv" : lower;
    if (auto [it, inserted] = seen.emplace(canonical, v.path); !inserted)
      return Fail(v.path, "duplicate key: '" + key + "' and '" +
                              it->second.substr(it->second.find_last_of('.') + 1) +
                              "' differ only in case (keys are read case-insensitively)");
    if (canonical == "setEnv") {
      VQI_ASSIGN_OR_RETURN(out->setenv, Env(v));
    } else {
      VQI_RETURN_IF_ERROR(DecodeStep(v, canonical, &out->steps[canonical]));
    }
  }
  if (out->steps.count("startup") && out->steps.count("run"))
    return Fail(f.path,
                "'startup' and 'run' exclude each other (a component is either a "
                "background process started once or a long-running process)");
  return Status::Ok();
}

Status Decoder::DecodeStep(const Field& f, const std::string& step, LifecycleStep* out) const {
  if (!f.value->is_object()) {
    VQI_ASSIGN_OR_RETURN(out->script, String(f));
    return Status::Ok();
  }
  Result<Fields> read =
      step == "bootstrap"
          ? ReadFields(*f.value, f.path,
                       {"Script", "Timeout", "RequiresPrivilege", "Skipif", "Setenv",
                        "BootstrapOnRollback"})
          : ReadFields(*f.value, f.path,
                       {"Script", "Timeout", "RequiresPrivilege", "Skipif", "Setenv"});
  if (!read.ok()) return read.status();
  Fields& s = *read;
  if (!s.count("Script")) return Fail(f.path, "missing required key 'Script'");
  VQI_ASSIGN_OR_RETURN(out->script, String(s["Script"]));
  if (s.count("Timeout")) {
    VQI_ASSIGN_OR_RETURN(out->timeout_seconds, Int(s["Timeout"], 1, kMaxStepTimeoutSeconds));
  }
  if (s.count("RequiresPrivilege")) {
    VQI_ASSIGN_OR_RETURN(out->requires_privilege, Bool(s["RequiresPrivilege"]));
  }
  if (s.count("Setenv")) {
    VQI_ASSIGN_OR_RETURN(out->setenv, Env(s["Setenv"]));
  }
  if (s.count("BootstrapOnRollback")) {
    VQI_ASSIGN_OR_RETURN(bool b, Bool(s["BootstrapOnRollback"]));
    out->bootstrap_on_rollback = b;
  }
  if (s.count("Skipif")) {
    VQI_ASSIGN_OR_RETURN(std::string skip, String(s["Skipif"]));
    const size_t sp = skip.find_first_of(" \t");
    const std::string word = Lower(skip.substr(0, sp));
    const size_t arg =
        sp == std::string::npos ? std::string::npos : skip.find_first_not_of(" \t", sp);
    if ((word != "onpath" && word != "exists") || arg == std::string::npos)
      return Fail(s["Skipif"].path,
                  "must be 'onpath <executable>' or 'exists <file>', not '" + skip + "'");
    out->skip_if = word + " " + skip.substr(arg);
  }
  return Status::Ok();
}

}  // namespace vqi::component::internal
