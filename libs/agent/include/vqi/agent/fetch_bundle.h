// Fetch settings from an agent bundle (written by `vqi thing create`, COMMON19 layout):
//
//   <bundle>/agent.json        {"thing", "broker", "server": "https://host:port", "token", ...}
//   <bundle>/ca.pem            the vqi CA (verifies the server)          optional for http://
//   <bundle>/cert.pem, key.pem the device certificate (mutual TLS)       optional
//   <bundle>/trusted-keys/*.pub publishers' public keys
//
// Errors: InvalidArgument naming the file and field (a missing or malformed agent.json, a
// server URL that is not http(s)://, an empty token, a bad key file); NotFound when the bundle
// folder does not exist.
#pragma once

#include <string>

#include "vqi/agent/fetch.h"
#include "vqi/base/status.h"
#include "vqi/signing/keys.h"

namespace vqi::agent {

inline constexpr uint64_t kMaxAgentJsonBytes = 64 << 10;  // docs/limits.md (Agent downloads)

struct FetchSetup {
  std::string thing;
  FetchOptions options;  // root, http (server, token, TLS files); other fields default
  signing::TrustedKeys trusted;
};

Result<FetchSetup> FetchSetupFromBundle(const std::string& bundle_dir, const std::string& root);

}  // namespace vqi::agent
