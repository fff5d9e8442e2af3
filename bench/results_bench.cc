// Results ingest into SQLite (libs/results): messages/s through ResultIngestor (parse, flood
// limit, store with counters and retention) at a batch size, and bytes per stored result.
//   results_bench [N=20000] [THINGS=20] [BATCH=500]
// Payloads are realistic vqi.inspect.result/1 documents with 2 detections and the AWS keys.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/results/ingest.h"

using namespace vqi;

namespace {

std::string Payload(const std::string& thing, int n) {
  char id[17];
  std::snprintf(id, sizeof id, "%016x", n);
  const std::string image = std::string(48, 'a') + id;
  Json det = Json::array();
  Json aws = Json::array();
  for (int d = 0; d < 2; ++d) {
    det.push_back({{"class", "scratch"},
                   {"class_id", 1},
                   {"confidence", 0.87654},
                   {"box", {12.5 + d, 40.25, 118.0, 170.125}}});
    aws.push_back(
        {{"Label", "scratch"}, {"Score", "0.87654"}, {"Boundaries", "[12.5 40.25 118 170.125]"}});
  }
  Json j{{"schema", "vqi.inspect.result/1"},
         {"id", thing + ":" + image},
         {"thing", thing},
         {"component", "vqi.inspect"},
         {"topic", "vqi/v1/results/" + thing + "/vqi.inspect"},
         {"model",
          {{"name", "metal-tags"},
           {"version", "1.4.0"},
           {"file", "model.onnx"},
           {"backend", "onednn"}}},
         {"image",
          {{"id", image},
           {"name", "img_" + std::to_string(n) + ".jpg"},
           {"width", 450},
           {"height", 300},
           {"bytes", 23817}}},
         {"timestamp", "2026-12-06T10:00:00.123Z"},
         {"verdict", n % 7 == 0 ? "fail" : "pass"},
         {"uncertain", n % 11 == 0},
         {"best_score", 0.87654},
         {"detections", det},
         {"timings_ms",
          {{"queue", 0.0},
           {"read", 0.04},
           {"decode", 1.3},
           {"pre", 0.25},
           {"model", 14.5},
           {"post", 0.37},
           {"total", 16.4}}},
         {"image_name", "img_" + std::to_string(n) + ".jpg"},
         {"inference-type", "object-detection"},
         {"inference-description", "Detections with score 0.25 or above"},
         {"inference-results", aws}};
  return j.dump();
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int things = argc > 2 ? std::atoi(argv[2]) : 20;
  const size_t batch = argc > 3 ? static_cast<size_t>(std::atoi(argv[3])) : 500;
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("results_bench_" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);
  std::vector<results::IngestMessage> msgs;
  size_t payload_bytes = 0;
  for (int i = 0; i < n; ++i) {
    const std::string thing = "cam-" + std::to_string(i % things);
    msgs.push_back({"vqi/v1/results/" + thing + "/vqi.inspect", Payload(thing, i)});
    payload_bytes += msgs.back().payload.size();
  }
  auto store = results::OpenSqliteResultStore(results::ResultsDbPath(dir));
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  results::IngestOptions o;
  o.rate_per_second = 100000;
  o.burst = 1000000;
  results::ResultIngestor in(store->get(), o);
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < msgs.size(); i += batch) {
    std::vector<results::IngestMessage> b(msgs.begin() + i,
                                          msgs.begin() + std::min(msgs.size(), i + batch));
    Status st = in.IngestBatch(b);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  store->reset();  // closes: the WAL is checkpointed into the file
  uint64_t bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/results"))
    bytes += e.file_size();
  std::printf(
      "results_bench: %d messages (%d things, batch %zu, payload mean %zu B): %.0f msgs/s; "
      "stored %llu; store %llu bytes = %.0f B per stored result\n",
      n, things, batch, payload_bytes / msgs.size(), n / s,
      static_cast<unsigned long long>(in.Stats().stored), static_cast<unsigned long long>(bytes),
      static_cast<double>(bytes) / static_cast<double>(in.Stats().stored));
  std::filesystem::remove_all(dir);
  return 0;
}
