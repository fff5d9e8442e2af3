// The durable outbound spool (vqi/agent/spool.h, docs/design/ipc.md "Spool").
//
// On disk: <dir>/<seq as 16 hex digits>.msg, each = one header line (JSON: id, topic,
// component) + "\n" + the payload. Written as <name>.tmp, fsynced, renamed, folder fsynced:
// a file with the .msg name is always whole. Leftover .tmp files are removed at Open.
#include "vqi/agent/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "vqi/base/file.h"

namespace vqi::agent {
namespace {

Status Errno(const std::string& what) { return Unavailable(what + ": " + std::strerror(errno)); }

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open " + dir);
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("fsync " + dir);
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno("write " + path);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

std::string RandomHex8() {
  unsigned char b[8] = {};
  if (::getrandom(b, sizeof b, 0) != sizeof b) {
    const uint64_t t = static_cast<uint64_t>(::getpid()) ^ static_cast<uint64_t>(time(nullptr));
    std::memcpy(b, &t, sizeof b);
  }
  char out[17];
  for (int i = 0; i < 8; ++i) std::snprintf(out + 2 * i, 3, "%02x", b[i]);
  return std::string(out, 16);
}

}  // namespace

Json SpoolSummary(const std::string& dir) {
  uint64_t messages = 0, bytes = 0;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      struct stat st {};
      if (name.size() != 20 || name.compare(16, 4, ".msg") != 0 ||
          ::stat((dir + "/" + name).c_str(), &st) != 0)
        continue;
      ++messages;
      bytes += static_cast<uint64_t>(st.st_size);
    }
    ::closedir(d);
  }
  return Json{{"messages", messages}, {"bytes", bytes}};
}

std::string Spool::PathOf(uint64_t seq) const {
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.msg", static_cast<unsigned long long>(seq));
  return o_.dir + "/" + name;
}

Result<std::unique_ptr<Spool>> Spool::Open(const SpoolOptions& options) {
  if (options.dir.empty()) return InvalidArgument("spool: no folder given");
  if (options.max_messages == 0 || options.max_bytes == 0 || options.max_message_bytes == 0)
    return InvalidArgument("spool: max_messages, max_bytes and max_message_bytes must be > 0");
  VQI_RETURN_IF_ERROR(MakeDirs(options.dir));
  ::chmod(options.dir.c_str(), 0700);
  std::unique_ptr<Spool> s(new Spool(options));
  s->instance_ = RandomHex8();
  DIR* d = ::opendir(options.dir.c_str());
  if (!d) return Errno("spool: open " + options.dir);
  std::vector<std::string> tmp;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) {
      tmp.push_back(options.dir + "/" + name);
      continue;
    }
    if (name.size() != 20 || name.compare(16, 4, ".msg") != 0) continue;
    char* end = nullptr;
    const uint64_t seq = std::strtoull(name.substr(0, 16).c_str(), &end, 16);
    if (seq == 0) continue;
    struct stat st {};
    if (::stat((options.dir + "/" + name).c_str(), &st) != 0) continue;
    s->index_[seq] = static_cast<uint64_t>(st.st_size);
    s->stats_.bytes += static_cast<uint64_t>(st.st_size);
  }
  ::closedir(d);
  for (const auto& t : tmp) ::unlink(t.c_str());  // an Append that never returned OK
  s->stats_.messages = s->index_.size();
  if (!s->index_.empty()) s->next_seq_ = s->index_.rbegin()->first + 1;
  // Each message left over must read back (a damaged one is outside damage: say so).
  for (const auto& [seq, size] : s->index_) {
    auto m = s->Load(seq);
    if (!m.ok()) return m.status();
  }
  return s;
}

Result<std::string> Spool::Append(const std::string& topic, const std::string& component,
                                  Json body) {
  if (!body.is_object()) return InvalidArgument("spool: a message body must be a JSON object");
  std::unique_lock lock(mu_);
  const uint64_t seq = next_seq_;
  const std::string id = instance_ + "-" + std::to_string(seq);
  body["vqiMessageId"] = id;
  const std::string payload = body.dump();
  const std::string header = Json{{"id", id}, {"topic", topic}, {"component", component}}.dump();
  const uint64_t size = header.size() + 1 + payload.size();
  if (payload.size() > o_.max_message_bytes) {
    ++stats_.refused;
    return ResourceExhausted("spool: a message of " + std::to_string(payload.size()) +
                             " bytes is larger than the limit of " +
                             std::to_string(o_.max_message_bytes) + " bytes (docs/limits.md)");
  }
  if (index_.size() >= o_.max_messages || stats_.bytes + size > o_.max_bytes) {
    ++stats_.refused;
    return ResourceExhausted("spool full: " + std::to_string(index_.size()) + " messages, " +
                             std::to_string(stats_.bytes) + " bytes wait for the broker (limits " +
                             std::to_string(o_.max_messages) + " messages, " +
                             std::to_string(o_.max_bytes) +
                             " bytes); message refused, nothing dropped; retry later");
  }
  ++next_seq_;  // never reused, also when this write fails
  const std::string path = PathOf(seq), tmp = path + ".tmp";
  // The write runs under the lock: Appends are serialised, so files appear in seq order.
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("spool: create " + tmp);
  Status st = WriteAll(fd, header + "\n" + payload, tmp);
  if (st.ok() && o_.sync && ::fdatasync(fd) != 0) st = Errno("spool: fdatasync " + tmp);
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = Errno("spool: rename " + tmp);
  if (st.ok() && o_.sync) st = SyncDir(o_.dir);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    ::unlink(path.c_str());
    return st;
  }
  index_[seq] = size;
  stats_.bytes += size;
  stats_.messages = index_.size();
  ++stats_.appended;
  return id;
}

Result<SpoolMessage> Spool::Load(uint64_t seq) const {
  const std::string path = PathOf(seq);
  auto text = ReadFile(path, o_.max_message_bytes + 64 * 1024);
  if (!text.ok()) return DataLoss("spool: cannot read " + path + ": " + text.status().message());
  const size_t nl = text->find('\n');
  if (nl == std::string::npos) return DataLoss("spool: " + path + " has no header line");
  auto header = ParseJson(std::string_view(*text).substr(0, nl), path);
  if (!header.ok() || !header->is_object() || !(*header)["id"].is_string() ||
      !(*header)["topic"].is_string())
    return DataLoss("spool: " + path + " has a damaged header");
  SpoolMessage m;
  m.seq = seq;
  m.id = (*header)["id"].get<std::string>();
  m.topic = (*header)["topic"].get<std::string>();
  m.component = header->value("component", "");
  m.payload = text->substr(nl + 1);
  return m;
}

std::vector<SpoolMessage> Spool::After(uint64_t after_seq, size_t n) const {
  std::vector<uint64_t> seqs;
  {
    std::lock_guard lock(mu_);
    for (auto it = index_.upper_bound(after_seq); it != index_.end() && seqs.size() < n; ++it)
      seqs.push_back(it->first);
  }
  std::vector<SpoolMessage> out;
  for (uint64_t seq : seqs) {
    auto m = Load(seq);
    if (m.ok()) out.push_back(std::move(*m));  // removed meanwhile (acknowledged): skip
  }
  return out;
}

Status Spool::Remove(uint64_t seq) {
  std::lock_guard lock(mu_);
  auto it = index_.find(seq);
  if (it == index_.end()) return Status::Ok();
  if (::unlink(PathOf(seq).c_str()) != 0 && errno != ENOENT) return Errno("spool: remove");
  stats_.bytes -= it->second;
  index_.erase(it);
  stats_.messages = index_.size();
  ++stats_.removed;
  return Status::Ok();
}

SpoolStats Spool::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace vqi::agent
