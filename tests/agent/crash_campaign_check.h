// The crash campaign's whole-set check (agent_crash_campaign.cc): the durable state, the
// installed bytes and every process carrying the root's marker against one component set.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "crash_campaign_sets.h"
#include "vqi/agent/state.h"
#include "vqi/base/file.h"

namespace vqi::agent_test {

// ---------------------------------------------------------------- the whole-set check

inline std::map<std::string, std::string> ProcEnv(const std::string& pid_dir) {
  std::map<std::string, std::string> env;
  const std::string raw = Slurp(pid_dir + "/environ");
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t z = raw.find('\0', pos);
    if (z == std::string::npos) z = raw.size();
    const std::string kv = raw.substr(pos, z - pos);
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    pos = z + 1;
  }
  return env;
}

struct Proc {
  int pid;
  int ppid;
  std::map<std::string, std::string> env;
};

// Live (non-zombie) processes carrying VQI_AGENT_ROOT=<root>.
inline std::vector<Proc> MarkedProcesses(const std::string& root) {
  std::vector<Proc> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto env = ProcEnv(e.path().string());
    auto it = env.find("VQI_AGENT_ROOT");
    if (it == env.end() || it->second != root) continue;
    const std::string stat = Slurp(e.path().string() + "/stat");
    const size_t rp = stat.rfind(')');
    if (rp == std::string::npos || rp + 4 > stat.size()) continue;  // gone meanwhile
    if (stat[rp + 2] == 'Z' || stat[rp + 2] == 'X') continue;
    out.push_back({std::stoi(name), std::atoi(stat.c_str() + rp + 4), std::move(env)});
  }
  return out;
}

// Problems with "the device runs exactly set `s`" (empty: it does).
inline std::vector<std::string> WholeSetProblems(const agent::Layout& l, const SetDef& s,
                                                 pid_t agent_pid) {
  std::vector<std::string> p;
  auto cur = agent::LoadCurrent(l);
  if (!cur.ok()) return {"current.json: " + cur.status().message()};
  if (cur->set.size() != s.comps.size())
    p.push_back("current.json has " + std::to_string(cur->set.size()) + " components");
  for (const auto& [name, w] : s.comps) {
    auto it = cur->set.find(name);
    if (it == cur->set.end()) {
      p.push_back("current.json lacks " + name);
      continue;
    }
    if (it->second.version != w.version)
      p.push_back("current.json: " + name + " " + it->second.version);
    if (!w.greeting.empty() && it->second.configuration.value("greeting", "") != w.greeting)
      p.push_back("current.json: " + name + " greeting " + it->second.configuration.dump());
    // The installed bytes are the version's (a half-removed or half-copied folder is not).
    const std::string f =
        l.root + "/packages/artifacts/" + name + "/" + w.version + "/" + ArtifactFile(name);
    if (Slurp(f) != ArtifactText(name, w.version))
      p.push_back("installed artifact " + f + " differs");
  }
  if (FileExists(l.inflight())) p.push_back("inflight.json still exists");
  // status.json: every component of the set in its running state.
  auto st = ReadJsonFile(l.status());
  Json comps = st.ok() ? st->value("components", Json::object()) : Json::object();
  if (st.ok() && st->value("pid", 0) != agent_pid) p.push_back("status.json not from this agent");
  if (comps.size() != s.comps.size()) p.push_back("status.json: " + comps.dump());
  for (const auto& [name, w] : s.comps) {
    const Json c = comps.value(name, Json::object());
    const std::string want = w.runs ? "RUNNING" : "FINISHED";
    if (c.value("version", "") != w.version || c.value("state", "") != want)
      p.push_back("status.json: " + name + " " + c.dump());
  }
  // Processes: one per running component, this set's version, model path and configuration,
  // each a child of the running agent (an orphan of a killed agent has another parent).
  std::map<std::string, int> seen;
  for (const Proc& pr : MarkedProcesses(l.root)) {
    const std::string name =
        pr.env.count("VQI_COMPONENT_NAME") ? pr.env.at("VQI_COMPONENT_NAME") : "?";
    const std::string ver =
        pr.env.count("VQI_COMPONENT_VERSION") ? pr.env.at("VQI_COMPONENT_VERSION") : "?";
    const std::string who = "process " + std::to_string(pr.pid) + " (" + name + " " + ver + ")";
    seen[name]++;
    if (pr.ppid != agent_pid)
      p.push_back(who + ": parent " + std::to_string(pr.ppid) + ", not the agent " +
                  std::to_string(agent_pid));
    auto it = s.comps.find(name);
    if (it == s.comps.end() || !it->second.runs) {
      p.push_back(who + " is not of set " + s.name);
      continue;
    }
    if (ver != it->second.version) p.push_back(who + ": wrong version");
    if (name == "com.ex.Program") {
      const std::string model =
          l.root + "/packages/artifacts/com.ex.Model/" + s.comps.at("com.ex.Model").version;
      auto env = [&](const char* k) { return pr.env.count(k) ? pr.env.at(k) : ""; };
      if (env("VQI_T_MODEL") != model) p.push_back(who + ": model " + env("VQI_T_MODEL"));
      if (env("VQI_T_GREETING") != it->second.greeting)
        p.push_back(who + ": greeting " + env("VQI_T_GREETING"));
    }
  }
  for (const auto& [name, w] : s.comps)
    if (w.runs && seen[name] != 1)
      p.push_back(std::to_string(seen[name]) + " processes of " + name);
  return p;
}

}  // namespace vqi::agent_test
