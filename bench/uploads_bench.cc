// Uploads into the dataset's unlabelled pool (libs/results UploadIngestor) through the results
// ingest's dispatch, as the server's writer thread runs them:
//   1. uploads alone: uploads/s and MB/s in batches of BATCH;
//   2. a camera mix: RATIO results per upload (e.g. 20 img/s with one uncertain image a second),
//      in the writer's batches (500 messages, 4 MiB): results/s with uploads in the mix vs without,
//      and the longest single batch (how long a result can wait behind uploads).
//   uploads_bench [N=300] [BATCH=50] [RATIO=20]
// Images: 640x480 JPEGs (quality 90), distinct per upload; payloads as the agent's spool sends.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "vqi/base/hash.h"
#include "vqi/base/json.h"
#include "vqi/ipc_client/frame.h"
#include "vqi/results/ingest.h"
#include "vqi/results/upload_ingest.h"

using namespace vqi;
using Steady = std::chrono::steady_clock;

namespace {

std::string Jpeg(int seed) {
  cv::Mat img(480, 640, CV_8UC3);
  cv::RNG rng(static_cast<uint64_t>(seed) + 1);
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) {
      const int base = 90 + (x + y + seed) % 80;
      img.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(base + rng.uniform(0, 12)),
                                          static_cast<uchar>(base + rng.uniform(0, 12)),
                                          static_cast<uchar>(base + rng.uniform(0, 12)));
    }
  std::vector<uchar> out;
  cv::imencode(".jpg", img, out, {cv::IMWRITE_JPEG_QUALITY, 90});
  return std::string(out.begin(), out.end());
}

std::string Upload(const std::string& thing, const std::string& bytes, int n) {
  const std::string sha = Sha256Hex(bytes);
  return Json{{"kind", "upload"},
              {"thing", thing},
              {"component", "vqi.inspect"},
              {"name", "img_" + std::to_string(n) + ".jpg"},
              {"contentType", "image/jpeg"},
              {"size", bytes.size()},
              {"sha256", sha},
              {"metadata",
               {{"thing", thing},
                {"component", "vqi.inspect"},
                {"model", {{"name", "metal-tags"}, {"version", "1.4.0"}}},
                {"resultId", thing + ":" + sha},
                {"bestScore", 0.41},
                {"image", {{"id", sha}, {"name", "img_" + std::to_string(n) + ".jpg"}}}}},
              {"dataBase64", ipc::Base64Encode(bytes)},
              {"vqiMessageId", "5eed-" + std::to_string(n)}}
      .dump();
}

std::string ResultDoc(const std::string& thing, int n) {
  char id[17];
  std::snprintf(id, sizeof id, "%016x", n);
  return Json{{"schema", "vqi.inspect.result/1"},
              {"id", thing + ":" + std::string(48, 'b') + id},
              {"thing", thing},
              {"component", "vqi.inspect"},
              {"model", {{"name", "metal-tags"}, {"version", "1.4.0"}}},
              {"image", {{"name", "img_" + std::to_string(n) + ".jpg"}}},
              {"verdict", "pass"},
              {"best_score", 0.1},
              {"detections", Json::array()},
              {"timings_ms", {{"model", 14.5}, {"total", 16.4}}}}
      .dump();
}

struct Run {
  double seconds = 0, max_batch_ms = 0;
};

Run Ingest(results::ResultIngestor& in, const std::vector<results::IngestMessage>& msgs,
           size_t batch) {
  Run r;
  const auto t0 = Steady::now();
  for (size_t i = 0; i < msgs.size();) {
    // As MqttResultsIngest's writer: at most `batch` messages and 4 MiB of payload.
    std::vector<results::IngestMessage> b;
    size_t bytes = 0;
    while (i < msgs.size() && b.size() < batch &&
           (b.empty() || bytes + msgs[i].payload.size() <= (size_t{4} << 20))) {
      bytes += msgs[i].payload.size();
      b.push_back(msgs[i++]);
    }
    const auto b0 = Steady::now();
    Status st = in.IngestBatch(b);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      std::exit(1);
    }
    r.max_batch_ms = std::max(
        r.max_batch_ms, std::chrono::duration<double, std::milli>(Steady::now() - b0).count());
  }
  r.seconds = std::chrono::duration<double>(Steady::now() - t0).count();
  return r;
}

struct Setup {
  std::unique_ptr<results::ResultStore> store;
  std::shared_ptr<results::UploadIngestor> uploads;
  std::unique_ptr<results::ResultIngestor> in;
};

Setup Open(const std::string& dir) {
  Setup s;
  auto store = results::OpenSqliteResultStore(results::ResultsDbPath(dir));
  results::UploadIngestOptions uo;
  uo.home = dir;
  auto up = results::UploadIngestor::Open(uo);
  if (!store.ok() || !up.ok()) {
    std::fprintf(stderr, "open failed\n");
    std::exit(1);
  }
  s.store = std::move(*store);
  s.uploads = *up;
  results::IngestOptions o;
  o.rate_per_second = 100000;
  o.burst = 1000000;
  o.sub_handlers["upload"] = s.uploads;
  s.in = std::make_unique<results::ResultIngestor>(s.store.get(), o);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 300;
  const size_t batch = argc > 2 ? static_cast<size_t>(std::atoi(argv[2])) : 50;
  const int ratio = argc > 3 ? std::atoi(argv[3]) : 20;
  const std::string root =
      (std::filesystem::temp_directory_path() / ("uploads_bench_" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(root);

  std::vector<results::IngestMessage> uploads, mixed, results_only;
  size_t image_bytes = 0, payload_bytes = 0;
  for (int i = 0; i < n; ++i) {
    const std::string thing = "cam-" + std::to_string(i % 4);
    const std::string jpeg = Jpeg(i);
    image_bytes += jpeg.size();
    uploads.push_back({"vqi/v1/results/" + thing + "/vqi.inspect/upload", Upload(thing, jpeg, i)});
    payload_bytes += uploads.back().payload.size();
  }
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < ratio; ++k) {
      const std::string thing = "cam-" + std::to_string(i % 4);
      results::IngestMessage m{"vqi/v1/results/" + thing + "/vqi.inspect",
                               ResultDoc(thing, i * ratio + k)};
      mixed.push_back(m);
      results_only.push_back(m);
    }
    mixed.push_back(uploads[i]);
  }

  Setup a = Open(root + "/a");
  const Run alone = Ingest(*a.in, uploads, batch);
  std::printf(
      "uploads_bench: %d uploads of 640x480 JPEG (mean %zu B, message %zu B), batch %zu: %.0f "
      "uploads/s, %.1f MB/s of images; longest batch %.0f ms; added %llu images\n",
      n, image_bytes / n, payload_bytes / n, batch, n / alone.seconds,
      image_bytes / alone.seconds / 1e6, alone.max_batch_ms,
      static_cast<unsigned long long>(a.uploads->Stats().images_added));

  Setup b = Open(root + "/b");
  const Run base = Ingest(*b.in, results_only, 500);
  Setup c = Open(root + "/c");
  const Run mix = Ingest(*c.in, mixed, 500);
  std::printf(
      "uploads_bench: %zu results alone: %.0f results/s (longest batch %.0f ms); with one "
      "upload per %d results (%d uploads): %.0f results/s + %.0f uploads/s (longest batch %.0f "
      "ms); stored %llu results, %llu images\n",
      results_only.size(), results_only.size() / base.seconds, base.max_batch_ms, ratio, n,
      results_only.size() / mix.seconds, n / mix.seconds, mix.max_batch_ms,
      static_cast<unsigned long long>(c.in->Stats().stored),
      static_cast<unsigned long long>(c.uploads->Stats().images_added));
  std::filesystem::remove_all(root);
  return 0;
}
