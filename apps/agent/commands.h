// vqi-agent's verbs: deploy (local mode), run (the daemon), status.
#pragma once

#include <string>

namespace vqi::agent_cli {

struct DeployArgs {
  std::string root, file, recipes, artifacts, thing = "local";
  double wait_seconds = 600;
  bool json = false;
};
int Deploy(const DeployArgs& a);

struct StatusArgs {
  std::string root;
  bool json = false;
};
int Status(const StatusArgs& a);

}  // namespace vqi::agent_cli
