#include "vqi/agent/state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "vqi/base/file.h"

namespace vqi::agent {
namespace fs = std::filesystem;

Json SetToJson(const ComponentSet& set) {
  Json j = Json::object();
  for (const auto& [name, c] : set)
    j[name] = {{"version", c.version}, {"configuration", c.configuration}, {"recipe", c.recipe}};
  return j;
}

Result<ComponentSet> SetFromJson(const Json& doc, std::string_view origin) {
  try {
    ComponentSet set;
    for (const auto& [name, c] : doc.items()) {
      InstalledComponent ic;
      ic.version = c.at("version").get<std::string>();
      ic.configuration = c.at("configuration");
      ic.recipe = c.at("recipe");
      set.emplace(name, std::move(ic));
    }
    return set;
  } catch (const Json::exception& e) {
    return DataLoss(std::string(origin) + ": damaged component set: " + e.what());
  }
}

Result<Layout> OpenLayout(const std::string& root) {
  if (root.empty()) return InvalidArgument("--root must name a folder");
  std::error_code ec;
  fs::path abs = fs::absolute(root, ec);
  if (ec) return InvalidArgument("--root " + root + ": " + ec.message());
  Layout l;
  l.root = abs.lexically_normal().string();
  while (l.root.size() > 1 && l.root.back() == '/') l.root.pop_back();
  for (const std::string& d : {l.state(), l.inbox(), l.results(), l.logs(), l.root + "/work",
                               l.root + "/packages/artifacts",
                               l.root + "/packages/artifacts-unarchived", l.root + "/cache"})
    VQI_RETURN_IF_ERROR(MakeDirs(d));
  return l;
}

Result<CurrentState> LoadCurrent(const Layout& l) {
  CurrentState s;
  if (!FileExists(l.current())) return s;
  VQI_ASSIGN_OR_RETURN(Json doc, ReadJsonFile(l.current()));
  try {
    s.deployment_id = doc.at("deploymentId").get<std::string>();
    s.sequence = doc.at("sequence").get<uint64_t>();
    VQI_ASSIGN_OR_RETURN(s.set, SetFromJson(doc.at("components"), l.current()));
  } catch (const Json::exception& e) {
    return DataLoss(l.current() + ": damaged: " + e.what());
  }
  return s;
}

Status SaveCurrent(const Layout& l, const CurrentState& s) {
  Json doc = {{"deploymentId", s.deployment_id},
              {"sequence", s.sequence},
              {"components", SetToJson(s.set)},
              {"at", NowRfc3339()}};
  return WriteFileAtomic(l.current(), doc.dump(1));
}

Status SavePrevious(const Layout& l, const ComponentSet& set) {
  return WriteFileAtomic(l.previous(), Json{{"components", SetToJson(set)}}.dump(1));
}

Result<std::optional<Inflight>> LoadInflight(const Layout& l) {
  if (!FileExists(l.inflight())) return std::optional<Inflight>();
  VQI_ASSIGN_OR_RETURN(Json doc, ReadJsonFile(l.inflight()));
  Inflight f;
  try {
    f.deployment = doc.at("deployment");
    f.phase = doc.at("phase").get<std::string>();
    f.attempts = doc.at("attempts").get<int>();
    f.reason = doc.value("reason", "");
    VQI_ASSIGN_OR_RETURN(f.target, SetFromJson(doc.at("target"), l.inflight()));
    VQI_ASSIGN_OR_RETURN(f.previous, SetFromJson(doc.at("previous"), l.inflight()));
  } catch (const Json::exception& e) {
    return DataLoss(l.inflight() + ": damaged: " + e.what());
  }
  return std::optional<Inflight>(std::move(f));
}

Status SaveInflight(const Layout& l, const Inflight& f) {
  Json doc = {{"deployment", f.deployment},    {"phase", f.phase},
              {"attempts", f.attempts},        {"reason", f.reason},
              {"target", SetToJson(f.target)}, {"previous", SetToJson(f.previous)}};
  return WriteFileAtomic(l.inflight(), doc.dump(1));
}

Status RemoveInflight(const Layout& l) {
  if (::unlink(l.inflight().c_str()) != 0 && errno != ENOENT)
    return Unavailable(l.inflight() + ": " + std::strerror(errno));
  int fd = ::open(l.state().c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  return Status::Ok();
}

Status SaveOutcome(const Layout& l, const Json& outcome) {
  const std::string id = outcome.at("deploymentId").get<std::string>();
  VQI_RETURN_IF_ERROR(WriteFileAtomic(l.results() + "/" + id + ".json", outcome.dump(1)));
  return WriteFileAtomic(l.last(), outcome.dump(1));
}

Status WriteFileReplace(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable(tmp + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Unavailable(tmp + ": " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Unavailable(path + ": " + std::strerror(errno));
  return Status::Ok();
}

std::string NowRfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace vqi::agent
