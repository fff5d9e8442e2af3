// Issue 20, acceptance 8: the inspection pipeline measured from outside, with real processes
// (bench/inspect_pipeline.sh starts the broker, the server and the agent and runs this). Modes:
//
//   feed     writes images into the camera folder at each rate (write a hidden temporary file,
//            rename it in: the moment of the rename is "file written"), subscribes to the
//            results on the broker and matches each result to its file by `image_name`;
//            prints one JSON line per rate: latency (file written → result received) p50/p95,
//            the results' own timings_ms (model, total, queue) and the share of the latency
//            and of the inspection total that is not the model; with --pids also the peak and
//            last PSS/RSS of those processes while the rate ran.
//   publish  run as a component under the agent: PublishToIoTCore of one payload N times
//            (the agent's spool fsyncs each), once --start-file exists; prints the rate.
//   count    a subscriber that waits for N messages and prints their rate (first arrival →
//            last, and from --since-file's mtime → last) and bytes.
//
// The subscriber uses the server's MQTT identity (the broker's ACL lets only it read results)
// with its own client id. Every time is taken in this process (steady clock), except `count`'s
// --since-file (wall clock, the same machine).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/ipc_client/client.h"
#include "vqi/transport/mqtt_client.h"
#include "vqi/transport/topics.h"

namespace fs = std::filesystem;
using namespace vqi;
using Steady = std::chrono::steady_clock;

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "inspect_pipeline_bench: %s\n", what.c_str());
  std::exit(1);
}

double Ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double WallMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2026-12-06T10:00:00.123Z" → ms since the epoch (UTC); 0 when it does not parse.
double ParseTimestampMs(const std::string& t) {
  struct tm tm {};
  const char* rest = ::strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return 0;
  double ms = static_cast<double>(::timegm(&tm)) * 1000;
  if (*rest == '.') ms += std::atof(rest) * 1000;  // ".123Z": a fraction of a second
  return ms;
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

double Sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

// --key value flags.
struct Flags {
  std::map<std::string, std::string> kv;
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  }
  std::string Need(const std::string& k) const {
    auto it = kv.find(k);
    if (it == kv.end()) Die("missing --" + k);
    return it->second;
  }
};

Flags ParseFlags(int argc, char** argv, int from) {
  Flags f;
  for (int i = from; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) Die("bad argument " + a);
    f.kv[a.substr(2)] = argv[++i];
  }
  return f;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::unique_ptr<transport::MqttClient> Subscriber(const Flags& f, const std::string& client_id,
                                                  bool clean,
                                                  transport::MqttClient::MessageHandler h) {
  const std::string addr = f.Need("mqtt");
  const size_t colon = addr.rfind(':');
  if (colon == std::string::npos) Die("--mqtt HOST:PORT");
  transport::MqttOptions o;
  o.host = addr.substr(0, colon);
  o.port = std::atoi(addr.c_str() + colon + 1);
  o.client_id = client_id;
  o.clean_session = clean;
  o.ca_file = f.Need("ca");
  o.cert_file = f.Need("cert");
  o.key_file = f.Need("key");
  o.max_payload_bytes = 4u << 20;
  o.reconnect_min_ms = 100;
  o.reconnect_max_ms = 500;
  auto c = transport::MqttClient::Create(o);
  if (!c.ok()) Die("MqttClient: " + c.status().ToString());
  (*c)->OnMessage(std::move(h));
  if (Status s = (*c)->Connect(); !s.ok()) Die("Connect: " + s.ToString());
  if (Status s = (*c)->WaitConnected(10000); !s.ok()) Die("WaitConnected: " + s.ToString());
  if (Status s = (*c)->Subscribe(f.Get("filter", transport::topics::AllResults()), 1); !s.ok())
    Die("Subscribe: " + s.ToString());
  return std::move(*c);
}

// ---- feed

struct Source {
  std::string name, bytes;
  bool jpeg = false;
};

std::vector<Source> LoadImages(const std::string& dir, size_t max) {
  std::vector<std::string> paths;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  if (paths.size() > max) paths.resize(max);
  std::vector<Source> out;
  for (const auto& p : paths) {
    auto b = ReadFile(p);
    if (!b.ok()) Die(b.status().ToString());
    Source s{fs::path(p).filename().string(), *b, false};
    s.jpeg = b->size() > 4 && static_cast<unsigned char>((*b)[0]) == 0xFF &&
             static_cast<unsigned char>((*b)[1]) == 0xD8;
    out.push_back(std::move(s));
  }
  if (out.empty()) Die("no .jpg/.png images under " + dir);
  return out;
}

// The bytes of image `i`: a JPEG gets a comment segment (FF FE) after its start marker naming
// `tag`, so every file written has its own content and image id (the decoder skips comments).
std::string UniqueBytes(const Source& s, const std::string& tag) {
  if (!s.jpeg) return s.bytes;
  const std::string text = "vqi bench " + tag;
  const size_t len = text.size() + 2;
  std::string seg = {static_cast<char>(0xFF), static_cast<char>(0xFE), static_cast<char>(len >> 8),
                     static_cast<char>(len & 0xFF)};
  return s.bytes.substr(0, 2) + seg + text + s.bytes.substr(2);
}

void WriteInto(const std::string& dir, const std::string& name, const std::string& bytes) {
  const std::string tmp = dir + "/." + name + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Die("open " + tmp + ": " + std::strerror(errno));
  if (::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
    Die("write " + tmp);
  ::close(fd);
  if (::rename(tmp.c_str(), (dir + "/" + name).c_str()) != 0) Die("rename " + tmp);
}

struct Arrival {
  Steady::time_point at;
  double built_to_arrival = -1;  // wall clock: the result's timestamp (ms) → received
  double model = -1, total = -1, queue = -1, decode = -1;
  bool error = false;
  size_t bytes = 0;
};

long Kb(int pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  const std::string want = std::string(field) + ":";
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(want, 0) == 0) return std::atol(line.c_str() + want.size());
  return -1;
}

// CPU time of every thread of `pid`, ms (/proc/<pid>/task/*/schedstat: run time in ns).
double CpuMs(int pid) {
  double ns = 0;
  std::error_code ec;
  for (const auto& t : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(t.path() / "schedstat");
    double run = 0;
    if (in >> run) ns += run;
  }
  return ns / 1e6;
}

struct MemPeak {
  std::string name;
  int pid = 0;
  long peak_pss = 0, peak_rss = 0;
  double cpu0 = 0;
};

int Feed(const Flags& f) {
  const std::string cam = f.Need("cam");
  const auto rates = Split(f.Get("rates", "1,5,20"), ',');
  const auto counts = Split(f.Get("counts", "20,50,200"), ',');
  if (rates.size() != counts.size()) Die("--rates and --counts need the same length");
  const auto images = LoadImages(f.Need("images"), 100000);
  const int warmup = std::atoi(f.Get("warmup", "5").c_str());
  const double timeout_s = std::atof(f.Get("timeout", "120").c_str());
  const std::string prefix = f.Get("prefix", "b");
  std::vector<MemPeak> mems;
  for (const auto& kv : Split(f.Get("pids", ""), ',')) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) Die("--pids name=pid,...");
    mems.push_back({kv.substr(0, eq), std::atoi(kv.c_str() + eq + 1)});
  }

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Arrival> got;
  std::string sample;
  auto handler = [&](const transport::MqttMessage& m) {
    const auto now = Steady::now();
    const double wall = WallMs();
    auto j = ParseJson(m.payload, m.topic);
    if (!j.ok() || !j->is_object()) return Status::Ok();
    Arrival a;
    a.at = now;
    a.bytes = m.payload.size();
    a.error = j->value("verdict", "") == "error";
    if (j->contains("timings_ms") && (*j)["timings_ms"].is_object()) {
      const Json& t = (*j)["timings_ms"];
      a.model = t.value("model", -1.0);
      a.total = t.value("total", -1.0);
      a.queue = t.value("queue", -1.0);
      a.decode = t.value("decode", -1.0);
    }
    if (auto t = ParseTimestampMs(j->value("timestamp", "")); t > 0) a.built_to_arrival = wall - t;
    const std::string name = j->value("image_name", "");
    std::lock_guard lock(mu);
    if (sample.empty() && !a.error) sample = m.payload;
    got.emplace(name, a);
    cv.notify_all();
    return Status::Ok();
  };
  auto sub = Subscriber(f, "bench-feed-" + std::to_string(::getpid()), true, handler);

  size_t next_image = 0;
  auto run_rate = [&](const std::string& label, double rate, int n, bool report) {
    std::vector<std::pair<std::string, Steady::time_point>> written;
    std::atomic<bool> sampling{true};
    for (auto& m : mems) {
      m.peak_pss = m.peak_rss = 0;
      m.cpu0 = CpuMs(m.pid);
    }
    std::thread sampler([&] {
      while (sampling) {
        for (auto& m : mems) {
          m.peak_pss = std::max(m.peak_pss, Kb(m.pid, "Pss"));
          m.peak_rss = std::max(m.peak_rss, Kb(m.pid, "Rss"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    const auto t0 = Steady::now();
    for (int i = 0; i < n; ++i) {
      std::this_thread::sleep_until(t0 + std::chrono::duration_cast<Steady::duration>(
                                             std::chrono::duration<double>(i / rate)));
      const Source& s = images[next_image++ % images.size()];
      const std::string name = prefix + "-" + label + "-" + std::to_string(i) + "-" + s.name;
      const std::string bytes = UniqueBytes(s, name);
      WriteInto(cam, name, bytes);
      written.emplace_back(name, Steady::now());
    }
    const double feed_s = Ms(Steady::now() - t0) / 1000;
    {
      std::unique_lock lock(mu);
      cv.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] {
        for (const auto& w : written)
          if (!got.count(w.first)) return false;
        return true;
      });
    }
    sampling = false;
    sampler.join();
    if (!report) return;
    std::vector<double> lat, model, total, queue, decode, beyond_lat, outside, after_built;
    size_t received = 0, errors = 0, bytes = 0;
    {
      std::lock_guard lock(mu);
      for (const auto& [name, at] : written) {
        auto it = got.find(name);
        if (it == got.end()) continue;
        ++received;
        const Arrival& a = it->second;
        bytes += a.bytes;
        if (a.error) {
          ++errors;
          continue;
        }
        const double l = Ms(a.at - at);
        lat.push_back(l);
        model.push_back(a.model);
        total.push_back(a.total);
        queue.push_back(a.queue);
        decode.push_back(a.decode);
        beyond_lat.push_back(l - a.model);
        outside.push_back(l - a.total - std::max(0.0, a.queue));
        if (a.built_to_arrival >= 0) after_built.push_back(a.built_to_arrival);
      }
    }
    std::vector<double> beyond_total;
    for (size_t i = 0; i < total.size(); ++i) beyond_total.push_back(total[i] - model[i]);
    Json out = {
        {"op", "pipeline"},
        {"rate", rate},
        {"fed_per_s", n > 1 ? (n - 1) / std::max(feed_s, 1e-9) : rate},
        {"n", n},
        {"received", received},
        {"errors", errors},
        {"latency_ms", {{"p50", Pct(lat, .5)}, {"p95", Pct(lat, .95)}, {"max", Pct(lat, 1)}}},
        {"model_ms_p50", Pct(model, .5)},
        {"model_ms_mean", model.empty() ? 0 : Sum(model) / model.size()},
        {"total_ms_p50", Pct(total, .5)},
        {"decode_ms_p50", Pct(decode, .5)},
        {"queue_ms", {{"p50", Pct(queue, .5)}, {"p95", Pct(queue, .95)}}},
        {"outside_inspection_ms", {{"p50", Pct(outside, .5)}, {"p95", Pct(outside, .95)}}},
        {"built_to_broker_ms", {{"p50", Pct(after_built, .5)}, {"p95", Pct(after_built, .95)}}},
        {"beyond_model_ms", {{"p50", Pct(beyond_lat, .5)}, {"p95", Pct(beyond_lat, .95)}}},
        {"beyond_model_pct_of_latency", lat.empty() ? 0 : 100 * Sum(beyond_lat) / Sum(lat)},
        {"beyond_model_pct_of_total", total.empty() ? 0 : 100 * Sum(beyond_total) / Sum(total)},
        {"result_bytes_mean", received ? bytes / received : 0}};
    // CPU per image from the first file written until the last result arrived (includes
    // whatever else these processes did meanwhile: heartbeats, the engine's polls).
    for (const auto& m : mems) {
      out["memory_kb"][m.name] = {{"pss", Kb(m.pid, "Pss")},
                                  {"rss", Kb(m.pid, "Rss")},
                                  {"peak_pss", m.peak_pss},
                                  {"peak_rss", m.peak_rss}};
      out["cpu_ms_per_image"][m.name] = (CpuMs(m.pid) - m.cpu0) / n;
    }
    std::printf("%s\n", out.dump().c_str());
    std::fflush(stdout);
  };
  if (warmup > 0) run_rate("warm", 2, warmup, false);
  for (size_t k = 0; k < rates.size(); ++k)
    run_rate(rates[k], std::atof(rates[k].c_str()), std::atoi(counts[k].c_str()), true);
  if (const std::string p = f.Get("sample-out"); !p.empty()) {
    std::lock_guard lock(mu);
    if (!sample.empty() && !WriteFileAtomic(p, sample).ok()) Die("write " + p);
  }
  (void)sub->Disconnect(1000);
  return 0;
}

// ---- publish (a component under the agent)

int Publish(const Flags& f) {
  const int n = std::atoi(f.Get("n", "10000").c_str());
  auto text = ReadFile(f.Need("payload"));
  if (!text.ok()) Die(text.status().ToString());
  auto payload = ParseJson(*text, f.Need("payload"));
  if (!payload.ok()) Die(payload.status().ToString());
  payload->erase("vqiMessageId");
  auto c = ipc::IpcClient::ConnectFromEnv();
  if (!c.ok()) Die("IPC: " + c.status().ToString());
  const char* thing = std::getenv("AWS_IOT_THING_NAME");
  const std::string topic = transport::topics::ResultsTopic(thing ? thing : "", (*c)->component());
  const std::string start = f.Get("start-file");
  while (!start.empty() && !fs::exists(start))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::vector<double> ms;
  const double w0 = WallMs();
  const auto t0 = Steady::now();
  for (int i = 0; i < n; ++i) {
    const auto a = Steady::now();
    auto id = (*c)->PublishToIoTCore(topic, *payload);
    if (!id.ok()) Die("PublishToIoTCore " + std::to_string(i) + ": " + id.status().ToString());
    ms.push_back(Ms(Steady::now() - a));
  }
  const double s = Ms(Steady::now() - t0) / 1000;
  const Json out = {{"op", "ipc_publish_into_spool"},
                    {"n", n},
                    {"per_s", n / s},
                    {"p50_ms", Pct(ms, .5)},
                    {"p95_ms", Pct(ms, .95)},
                    {"start_wall_ms", w0},
                    {"payload_bytes", payload->dump().size()}};
  std::printf("%s\n", out.dump().c_str());
  std::fflush(stdout);
  if (const std::string p = f.Get("out"); !p.empty()) (void)WriteFileAtomic(p, out.dump() + "\n");
  return 0;
}

// ---- count

int Count(const Flags& f) {
  const size_t n = std::strtoul(f.Get("n", "10000").c_str(), nullptr, 10);
  std::mutex mu;
  std::condition_variable cv;
  size_t received = 0;
  uint64_t bytes = 0;
  double first = 0, last = 0;
  auto sub = Subscriber(f, f.Get("client-id", "bench-count"), f.Get("persistent", "0") == "0",
                        [&](const transport::MqttMessage& m) {
                          const double now = WallMs();
                          std::lock_guard lock(mu);
                          if (received == 0) first = now;
                          last = now;
                          ++received;
                          bytes += m.payload.size();
                          cv.notify_all();
                          return Status::Ok();
                        });
  if (const std::string r = f.Get("ready"); !r.empty()) (void)WriteFileAtomic(r, "ready\n");
  std::unique_lock lock(mu);
  cv.wait_for(lock, std::chrono::duration<double>(std::atof(f.Get("timeout", "300").c_str())),
              [&] { return received >= n; });
  Json out = {{"op", "count"},
              {"n", n},
              {"received", received},
              {"payload_bytes", bytes},
              {"first_to_last_s", (last - first) / 1000},
              {"per_s_first_to_last", last > first ? (received - 1) / ((last - first) / 1000) : 0}};
  if (const std::string p = f.Get("since-file"); !p.empty()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      const double since = st.st_mtim.tv_sec * 1000.0 + st.st_mtim.tv_nsec / 1e6;
      out["since_to_last_s"] = (last - since) / 1000;
      out["per_s_since"] = last > since ? received / ((last - since) / 1000) : 0;
    }
  }
  lock.unlock();
  std::printf("%s\n", out.dump().c_str());
  std::fflush(stdout);
  (void)sub->Disconnect(1000);
  return received >= n ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: inspect_pipeline_bench feed|publish|count --flag value ... "
                 "(bench/inspect_pipeline.sh runs it; nothing to do alone)\n");
    return 0;  // bench/run.sh runs every *_bench without arguments
  }
  const std::string mode = argv[1];
  const Flags f = ParseFlags(argc, argv, 2);
  if (mode == "feed") return Feed(f);
  if (mode == "publish") return Publish(f);
  if (mode == "count") return Count(f);
  Die("unknown mode " + mode);
}
