// vqi's own certificates from the vqi CA (libs/pki), issued on first use and reused while valid:
// the server's MQTT client identity and the HTTPS certificate of `vqi server --tls-auto`.
// docs/design/fleet.md ("Controller").
//
// Thread-compatibility: one caller per home at a time (files are replaced atomically; the CA
// serialises its own index).
#pragma once

#include <string>

#include "vqi/base/status.h"
#include "vqi/pki/pki.h"

namespace vqi::fleet {

// The vqi CA of `home` (<home>/pki), created on first use as `vqi thing create` does.
Result<pki::Ca> OpenOrCreateCa(const std::string& home);

struct IdentityFiles {
  std::string ca_file;    // <home>/pki/ca.pem
  std::string cert_file;  // PEM certificate
  std::string key_file;   // PEM key (0600)
};

// A client certificate with CN `name` (e.g. topics::kServerIdentity) at
// <home>/pki/identities/<name>.pem and .key (+ <name>.serial, written last). Reused while the CA
// still accepts it (issued by it, not revoked) and it is valid for at least 30 more days; otherwise
// a new one is issued (365 days). InvalidArgument for a bad name; AlreadyExists when `name` is a
// server certificate's CN.
Result<IdentityFiles> EnsureClientIdentity(const std::string& home, const std::string& name);

// The HTTPS certificate (CertKind::kServer) of `vqi server --tls-auto` at
// <home>/server/tls/server.pem and server.key, with SANs 127.0.0.1, localhost and
// `bind_address` (an IP, or a DNS name; a wildcard address 0.0.0.0 / :: adds nothing). Reused
// while valid for 30 more days and issued for the same SANs (<home>/server/tls/issued.txt,
// written last, names serial and SANs).
Result<IdentityFiles> EnsureServerTls(const std::string& home, const std::string& bind_address);

}  // namespace vqi::fleet
