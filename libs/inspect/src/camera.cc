#include "vqi/inspect/camera.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "vqi/base/file.h"

namespace vqi::inspect {
namespace {

namespace fs = std::filesystem;

Status WriteThenRename(const std::string& dir, const std::string& name, const std::string& data) {
  const std::string tmp = dir + "/." + name + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable(tmp + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Unavailable(tmp + ": write: " + std::strerror(e));
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), (dir + "/" + name).c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Unavailable(dir + "/" + name + ": rename: " + std::strerror(e));
  }
  return Status::Ok();
}

}  // namespace

Result<CameraReport> SimulateCamera(const CameraOptions& o, Clock& clock,
                                    const std::function<void(const std::string&)>& on_file,
                                    const std::atomic<bool>* cancel) {
  if (!(o.fps > 0 && o.fps <= 1000))
    return InvalidArgument("--fps " + std::to_string(o.fps) + ": must be in (0, 1000]");
  if (o.count < 0) return InvalidArgument("--count must be >= 0");
  std::error_code ec;
  if (!fs::is_directory(o.from, ec)) return InvalidArgument("--from " + o.from + ": not a folder");
  VQI_RETURN_IF_ERROR(MakeDirs(o.to));
  if (fs::equivalent(o.from, o.to, ec))
    return InvalidArgument("--from and --to are the same folder (" + o.to + ")");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(o.from, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || !e.is_regular_file(ec)) continue;
    names.push_back(name);
  }
  if (ec) return Unavailable("--from " + o.from + ": " + ec.message());
  if (names.empty()) return InvalidArgument("--from " + o.from + ": no files to send");
  std::sort(names.begin(), names.end());
  const int64_t total = o.count > 0 ? o.count : static_cast<int64_t>(names.size());
  CameraReport r;
  const int64_t start = clock.NowMs();
  for (int64_t i = 0; i < total; ++i) {
    const int64_t due = start + static_cast<int64_t>(static_cast<double>(i) * 1000.0 / o.fps);
    if (!clock.SleepUntil(due, cancel)) break;
    const std::string& src = names[static_cast<size_t>(i) % names.size()];
    const int64_t round = i / static_cast<int64_t>(names.size());
    const std::string dest = round == 0 ? src : "r" + std::to_string(round) + "-" + src;
    VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(o.from + "/" + src));
    VQI_RETURN_IF_ERROR(WriteThenRename(o.to, dest, bytes));
    ++r.files;
    r.bytes += static_cast<int64_t>(bytes.size());
    if (on_file) on_file(dest);
  }
  r.seconds = static_cast<double>(clock.NowMs() - start) / 1000.0;
  return r;
}

}  // namespace vqi::inspect
