#include "vqi/transport/topics.h"

#include <cstdio>
#include <vector>

namespace vqi::transport::topics {
namespace {

bool NameChars(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  auto alnum = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  if (!alnum(s[0])) return false;
  for (char c : s) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

std::string Escaped(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 160)) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > 160) out += "...";
  return out;
}

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

}  // namespace

bool ValidThingName(std::string_view name) { return NameChars(name, kMaxThingNameBytes); }

bool ValidComponentName(std::string_view name) { return NameChars(name, 256); }

Status CheckThingName(std::string_view name, std::string_view what) {
  if (ValidThingName(name)) return Status::Ok();
  return InvalidArgument(std::string(what) + " \"" + Escaped(name) +
                         "\" is not valid: expected 1-128 characters [A-Za-z0-9._-] starting "
                         "with a letter or digit (no '/', '+', '#', spaces)");
}

Status CheckDeviceName(std::string_view name) {
  VQI_RETURN_IF_ERROR(CheckThingName(name));
  if (name.substr(0, kReservedPrefix.size()) == kReservedPrefix)
    return PermissionDenied("thing name \"" + std::string(name) +
                            "\" is reserved: names starting with \"" +
                            std::string(kReservedPrefix) + "\" belong to vqi's own identities");
  return Status::Ok();
}

static std::string Thing(std::string_view thing, std::string_view leaf) {
  VQI_CHECK_MSG(ValidThingName(thing), "invalid thing name in a topic");
  return std::string(kPrefix) + "things/" + std::string(thing) + "/" + std::string(leaf);
}

std::string DesiredTopic(std::string_view thing) { return Thing(thing, "desired"); }
std::string StatusTopic(std::string_view thing) { return Thing(thing, "status"); }
std::string HealthTopic(std::string_view thing) { return Thing(thing, "health"); }
std::string ThingAll(std::string_view thing) { return Thing(thing, "#"); }
std::string AllStatus() { return std::string(kPrefix) + "things/+/status"; }
std::string AllHealth() { return std::string(kPrefix) + "things/+/health"; }
std::string AllResults() { return std::string(kPrefix) + "results/#"; }

std::string ResultsTopic(std::string_view thing, std::string_view component) {
  VQI_CHECK_MSG(ValidThingName(thing), "invalid thing name in a topic");
  VQI_CHECK_MSG(ValidComponentName(component), "invalid component name in a topic");
  return std::string(kPrefix) + "results/" + std::string(thing) + "/" + std::string(component);
}

static std::string ResultsSub(std::string_view thing, std::string_view component,
                              std::string_view sub) {
  return ResultsTopic(thing, component) + "/" + std::string(sub);
}

std::string UploadTopic(std::string_view thing, std::string_view component) {
  return ResultsSub(thing, component, kUploadSub);
}
std::string ShadowTopic(std::string_view thing, std::string_view component) {
  return ResultsSub(thing, component, kShadowSub);
}
std::string DriftTopic(std::string_view thing, std::string_view component) {
  return ResultsSub(thing, component, kDriftSub);
}

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kDesired:
      return "desired";
    case Kind::kStatus:
      return "status";
    case Kind::kHealth:
      return "health";
    case Kind::kResults:
      return "results";
  }
  return "?";
}

Result<Parsed> Parse(std::string_view topic) {
  auto bad = [&](const char* why) {
    return InvalidArgument("topic \"" + Escaped(topic) + "\" is not a vqi topic: " + why);
  };
  if (topic.substr(0, kPrefix.size()) != kPrefix) return bad("it does not start with vqi/v1/");
  auto parts = Split(topic.substr(kPrefix.size()));
  if (parts.size() == 3 && parts[0] == "things") {
    if (!ValidThingName(parts[1])) return bad("invalid thing name");
    Parsed p{Kind::kDesired, std::string(parts[1]), "", ""};
    if (parts[2] == "desired")
      p.kind = Kind::kDesired;
    else if (parts[2] == "status")
      p.kind = Kind::kStatus;
    else if (parts[2] == "health")
      p.kind = Kind::kHealth;
    else
      return bad("expected .../desired, .../status or .../health");
    return p;
  }
  if ((parts.size() == 3 || parts.size() == 4) && parts[0] == "results") {
    if (!ValidThingName(parts[1])) return bad("invalid thing name");
    if (!ValidComponentName(parts[2])) return bad("invalid component name");
    std::string sub;
    if (parts.size() == 4) {
      if (parts[3] != kUploadSub && parts[3] != kShadowSub && parts[3] != kDriftSub)
        return bad("expected vqi/v1/results/<thing>/<component>[/upload|/shadow|/drift]");
      sub = std::string(parts[3]);
    }
    return Parsed{Kind::kResults, std::string(parts[1]), std::string(parts[2]), std::move(sub)};
  }
  return bad(
      "expected vqi/v1/things/<thing>/<desired|status|health> or "
      "vqi/v1/results/<thing>/<component>[/upload|/shadow|/drift]");
}

}  // namespace vqi::transport::topics
