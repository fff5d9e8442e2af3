// The agent bundle `vqi thing create` writes and `vqi-agent --bundle DIR` reads (COMMON19):
//   agent.json        {"thing", "broker": "host:port", "server": "https://host:port", "token"}
//   ca.pem cert.pem   the vqi CA and the device certificate (0644)
//   key.pem           the device key (0600)
//   trusted-keys/<name>.pub   publisher public keys (vqi key export)
// The bundle is built in a 0700 sibling folder and renamed into place: a crash leaves either no
// bundle or a whole one, and the key is never readable by others, even briefly.
#pragma once

#include <map>
#include <string>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::fleet {

struct AgentBundle {
  std::string thing;
  std::string broker;  // host:port
  std::string server;  // https://host:port (http:// accepted for loopback tests)
  std::string token;   // a libs/server token of scope device
  std::string ca_pem, cert_pem, key_pem;
  std::map<std::string, std::string> trusted_keys;  // name -> public key file text
};

// agent.json's content.
Json AgentJson(const AgentBundle& bundle);

// Writes the bundle to `dir` (its parent is created). InvalidArgument naming the field for a
// bad thing name, broker, server URL, empty token, text that is not PEM, or a bad key name;
// AlreadyExists when `dir` exists (a bundle holds a secret key: never overwritten).
Status WriteAgentBundle(const std::string& dir, const AgentBundle& bundle);

}  // namespace vqi::fleet
