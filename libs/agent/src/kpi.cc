// KpiTracker (kpi.h).
#include "vqi/agent/kpi.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "vqi/base/json.h"
#include "vqi/base/log.h"

namespace vqi::agent {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> MetricsFiles(const std::string& work_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(work_dir, ec)) {
    const std::string f = e.path().string() + "/metrics.jsonl";
    if (fs::is_regular_file(f, ec)) out.push_back(f);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Bytes [from, from+max) of `path`; "" when unreadable.
std::string ReadRange(const std::string& path, int64_t from, int64_t max) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  out.resize(static_cast<size_t>(max));
  ssize_t n = ::pread(fd, out.data(), out.size(), from);
  ::close(fd);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

int64_t SizeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

double Mean(const std::vector<double>& v) {
  return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

}  // namespace

std::vector<double> MetricValues(const std::string& text, const std::string& metric) {
  std::vector<double> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    if (line.find(metric) == std::string_view::npos) continue;  // cheap filter
    auto j = ParseJson(line, "metrics", 4);
    if (!j.ok() || !j->is_object()) continue;
    auto m = j->find("metric");
    auto v = j->find("value");
    if (m == j->end() || v == j->end() || !m->is_string() || !v->is_number()) continue;
    if (m->get<std::string>() == metric) out.push_back(v->get<double>());
  }
  return out;
}

KpiTracker::KpiTracker(std::string work_dir, double max_wait_seconds)
    : work_dir_(std::move(work_dir)), max_wait_(max_wait_seconds) {}

void KpiTracker::Begin(const std::string& deployment_id, const fleet::KpiSpec& spec) {
  id_ = deployment_id;
  spec_ = spec;
  before_.clear();
  after_.clear();
  offsets_.clear();
  deadline_ = 0;
  for (const std::string& f : MetricsFiles(work_dir_)) {
    const int64_t size = SizeOf(f);
    const int64_t from = std::max<int64_t>(0, size - kMaxMetricsReadBytes);
    std::string text = ReadRange(f, from, size - from);
    if (from > 0) text.erase(0, text.find('\n') + 1);  // a cut first line
    const size_t end = text.rfind('\n');
    text.resize(end == std::string::npos ? 0 : end + 1);  // a line being written is "after"
    offsets_[f] = from + static_cast<int64_t>(text.size());
    for (double v : MetricValues(text, spec.metric)) before_.push_back(v);
  }
  const size_t w = static_cast<size_t>(spec.window);
  if (before_.size() > w) before_.erase(before_.begin(), before_.end() - static_cast<long>(w));
  VQI_LOG_INFO("kpi {}: {} value(s) of {} before deployment {}", spec.metric, before_.size(),
               spec.metric, deployment_id);
}

void KpiTracker::End(const std::string& deployment_id, bool succeeded, double now) {
  if (deployment_id != id_) return;
  if (!succeeded) {
    id_.clear();
    return;
  }
  deadline_ = now + max_wait_;
}

void KpiTracker::ReadNew(const std::string& path, std::vector<double>* out) {
  const int64_t size = SizeOf(path);
  int64_t& at = offsets_[path];  // a new file starts at 0
  if (size < at) at = 0;         // truncated or replaced
  if (size == at) return;
  std::string text = ReadRange(path, at, std::min<int64_t>(size - at, kMaxMetricsReadBytes));
  const size_t end = text.rfind('\n');
  if (end == std::string::npos) return;  // no whole line yet
  text.resize(end + 1);
  at += static_cast<int64_t>(text.size());
  for (double v : MetricValues(text, spec_.metric)) out->push_back(v);
}

std::optional<fleet::KpiReport> KpiTracker::Poll(double now, std::string* deployment_id) {
  if (id_.empty()) return std::nullopt;
  const size_t w = static_cast<size_t>(spec_.window);
  if (after_.size() < w)
    for (const std::string& f : MetricsFiles(work_dir_)) ReadNew(f, &after_);
  if (after_.size() > w) after_.resize(w);
  if (deadline_ == 0) return std::nullopt;  // still deploying: keep collecting
  if (after_.size() < w && now < deadline_) return std::nullopt;
  *deployment_id = id_;
  id_.clear();
  if (after_.empty() || before_.empty()) {
    // Without both sides there is nothing to compare (a mean of nothing is no "0").
    VQI_LOG_WARN("kpi {}: {} value(s) before and {} after deployment {}; nothing reported",
                 spec_.metric, before_.size(), after_.size(), *deployment_id);
    return std::nullopt;
  }
  fleet::KpiReport r;
  r.metric = spec_.metric;
  r.before = Mean(before_);
  r.after = Mean(after_);
  r.samples = static_cast<int64_t>(after_.size());
  return r;
}

}  // namespace vqi::agent
