#include "vqi/inspect/sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vqi/base/file.h"

namespace vqi::inspect {

Result<std::unique_ptr<JsonLinesSink>> JsonLinesSink::Open(const std::string& path) {
  if (path == "-") return std::unique_ptr<JsonLinesSink>(new JsonLinesSink(path, -1));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable(path + ": cannot open for appending: " + std::strerror(errno));
  return std::unique_ptr<JsonLinesSink>(new JsonLinesSink(path, fd));
}

JsonLinesSink::~JsonLinesSink() {
  if (fd_ >= 0) ::close(fd_);
}

Status JsonLinesSink::Publish(const std::string&, const std::string&, const OrderedJson& result) {
  const std::string line = result.dump() + "\n";
  if (fd_ < 0) {
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() || std::fflush(stdout) != 0)
      return Unavailable("stdout: write failed");
    return Status::Ok();
  }
  // O_APPEND: one write() per line keeps lines whole for readers of the growing file.
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unavailable(path_ + ": write: " + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return Unavailable(path_ + ": fdatasync: " + std::strerror(errno));
  return Status::Ok();
}

Status FolderUploader::Upload(const std::string& image_path, const OrderedJson& result) {
  VQI_RETURN_IF_ERROR(MakeDirs(dir_));
  const std::string id = result["image"]["id"].get<std::string>();
  if (id.empty()) return Status::Ok();  // unreadable bytes: nothing to upload
  std::string ext;
  const std::string name = result["image"]["name"].get<std::string>();
  if (auto dot = name.rfind('.'); dot != std::string::npos && name.size() - dot <= 6)
    ext = name.substr(dot);
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(image_path));
  VQI_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/" + id + ext, bytes));
  return WriteFileAtomic(dir_ + "/" + id + ".json", result.dump(2) + "\n");
}

Status MultiSink::Publish(const std::string& topic, const std::string& id,
                          const OrderedJson& result) {
  for (auto& s : sinks_) VQI_RETURN_IF_ERROR(s->Publish(topic, id, result));
  return Status::Ok();
}

Status MultiSink::Upload(const std::string& image_path, const OrderedJson& result) {
  for (auto& s : sinks_) VQI_RETURN_IF_ERROR(s->Upload(image_path, result));
  return Status::Ok();
}

}  // namespace vqi::inspect
