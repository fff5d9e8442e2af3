// Shared set-up for the dataset importer fuzz targets: one temporary folder with two small
// images and one store, made once per process. Each input is written as the labels file and
// imported with --strict (so a bad input writes nothing and the store stays small).
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <string>

#include "vqi/base/file.h"
#include "vqi/dataset/store.h"

namespace vqi::dataset::fuzz {

struct Env {
  std::string root, data;
  std::unique_ptr<Store> store;
};

// Writes `text` to `path` (no fsync: the fuzzer writes thousands of files a second).
inline bool WriteInput(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  return static_cast<bool>(out.flush());
}

// `images_sub`: where the two images go below the data folder ("images").
inline Env& GetEnv(const std::string& images_sub) {
  static Env* env = [&] {
    auto* e = new Env;
    char tmpl[] = "/tmp/vqi-dataset-fuzz-XXXXXX";
    e->root = ::mkdtemp(tmpl);
    e->data = e->root + "/data";
    for (int i = 0; i < 2; ++i) {
      cv::Mat img(30, 40, CV_8UC3, cv::Scalar(40 + 100 * i, 80, 120));
      std::vector<uchar> buf;
      cv::imencode(".jpg", img, buf);
      (void)WriteFileAtomic(e->data + "/" + images_sub + "/" + (i ? "b.jpg" : "a.jpg"),
                            std::string(buf.begin(), buf.end()));
    }
    e->store = std::move(Store::Open(e->root + "/home").value());
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(GetEnv("").root, ec);
    });
    return e;
  }();
  return *env;
}

}  // namespace vqi::dataset::fuzz
