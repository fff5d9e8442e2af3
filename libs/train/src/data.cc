#include "data.h"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "vqi/base/file.h"
#include "vqi/dataset/synth.h"
#include "vqi/yolo/letterbox.h"

namespace vqi::train {

std::mt19937_64 MakeRng(uint64_t seed, uint64_t a, uint64_t b) {
  // splitmix64 over the three words, so nearby seeds give unrelated streams.
  auto mix = [](uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  return std::mt19937_64(mix(mix(mix(seed) ^ a) ^ b));
}

double Uniform(std::mt19937_64& rng, double lo, double hi) {
  double u = static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
  return lo + (hi - lo) * u;
}

Result<std::vector<LabeledImage>> LoadImages(const std::vector<dataset::Sample>& samples) {
  std::vector<LabeledImage> out;
  out.reserve(samples.size());
  for (const auto& s : samples) {
    VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(s.path));
    cv::Mat m;
    try {
      m = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1, bytes.data()),
                       cv::IMREAD_COLOR);
    } catch (const cv::Exception& e) {
      return InvalidArgument(s.path + ": cannot decode image: " + e.what());
    }
    if (m.empty()) return InvalidArgument(s.path + ": cannot decode image (" + s.name + ")");
    out.push_back({s.name.empty() ? s.path : s.name, m, s.boxes});
  }
  return out;
}

std::vector<LabeledImage> SynthesizeImages(int count, uint64_t first, uint64_t seed) {
  dataset::SynthOptions o;
  o.seed = seed;
  std::vector<LabeledImage> out;
  for (int i = 0; i < count; ++i) {
    auto s = dataset::SynthesizeTag(o, first + static_cast<uint64_t>(i));
    out.push_back({"synth-" + std::to_string(first + static_cast<uint64_t>(i)), s.bgr, s.boxes});
  }
  return out;
}

void AugmentTimes::Add(const AugmentTimes& o) {
  scratch += o.scratch, resize += o.resize, compose += o.compose, affine += o.affine;
  hsv += o.hsv, flip += o.flip, to_float += o.to_float;
}

Json AugmentTimes::ToJson() const {
  return Json{{"scratch", scratch}, {"resize", resize}, {"compose", compose},  {"affine", affine},
              {"hsv", hsv},         {"flip", flip},     {"to_float", to_float}};
}

namespace {

// CPU seconds of the calling thread since the last Next() (or construction): loader threads
// share the cores with libtorch's, so their wall time would count waiting for a core.
class Lap {
 public:
  double Next() {
    double now = Now();
    double s = now - t_;
    t_ = now;
    return s;
  }

 private:
  static double Now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
  double t_ = Now();
};

struct Work {
  cv::Mat img;
  std::vector<std::array<float, 5>> boxes;  // class, x1, y1, x2, y2
};

// The source image at the scale that fits w x h, with optional synthetic scratches.
Work LoadScaled(const LabeledImage& src, const ScaledImage* cached, const AugmentOptions& o, int w,
                int h, std::mt19937_64& rng, AugmentTimes& times) {
  Lap lap;
  Work k;
  cv::Mat img = src.bgr;
  std::vector<dataset::Box> boxes = src.boxes;
  const bool scratch = o.scratch > 0 && Uniform(rng, 0, 1) < o.scratch;
  if (!scratch && cached != nullptr) {  // the same pixels as below, computed once (read-only)
    k.img = cached->img;
    k.boxes = cached->boxes;
    times.resize += lap.Next();
    return k;
  }
  if (scratch) {
    img = src.bgr.clone();
    int n = 1 + static_cast<int>(rng() % static_cast<uint64_t>(std::max(1, o.max_scratches)));
    auto extra = dataset::DrawScratches(img, rng, n, o.scratch_min_contrast);
    boxes.insert(boxes.end(), extra.begin(), extra.end());
  }
  times.scratch += lap.Next();
  double r = std::min(static_cast<double>(w) / img.cols, static_cast<double>(h) / img.rows);
  if (std::abs(r - 1.0) > 1e-9) {
    cv::resize(img, k.img,
               cv::Size(static_cast<int>(std::lround(img.cols * r)),
                        static_cast<int>(std::lround(img.rows * r))),
               0, 0, r < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  } else {
    k.img = img.clone();
  }
  double rx = static_cast<double>(k.img.cols) / img.cols,
         ry = static_cast<double>(k.img.rows) / img.rows;
  for (const auto& b : boxes)
    k.boxes.push_back({static_cast<float>(b.class_id), static_cast<float>(b.x * rx),
                       static_cast<float>(b.y * ry), static_cast<float>((b.x + b.w) * rx),
                       static_cast<float>((b.y + b.h) * ry)});
  times.resize += lap.Next();
  return k;
}

const ScaledImage* CachedAt(const std::vector<ScaledImage>* scaled, int idx) {
  return scaled != nullptr ? &(*scaled)[static_cast<size_t>(idx)] : nullptr;
}

Work Mosaic(const std::vector<LabeledImage>& pool, const std::vector<ScaledImage>* scaled,
            int index, const AugmentOptions& o, int w, int h, std::mt19937_64& rng,
            AugmentTimes& times) {
  Work out;
  Lap lap;
  out.img = cv::Mat(2 * h, 2 * w, CV_8UC3, cv::Scalar(114, 114, 114));
  int xc = static_cast<int>(Uniform(rng, w / 2.0, 1.5 * w));
  int yc = static_cast<int>(Uniform(rng, h / 2.0, 1.5 * h));
  for (int i = 0; i < 4; ++i) {
    int idx = i == 0 ? index : static_cast<int>(rng() % pool.size());
    times.compose += lap.Next();
    Work t = LoadScaled(pool[static_cast<size_t>(idx)], CachedAt(scaled, idx), o, w, h, rng, times);
    lap.Next();
    int wi = t.img.cols, hi = t.img.rows;
    int x1a, y1a, x2a, y2a, x1b, y1b, x2b, y2b;
    if (i == 0) {
      x1a = std::max(xc - wi, 0), y1a = std::max(yc - hi, 0), x2a = xc, y2a = yc;
      x1b = wi - (x2a - x1a), y1b = hi - (y2a - y1a), x2b = wi, y2b = hi;
    } else if (i == 1) {
      x1a = xc, y1a = std::max(yc - hi, 0), x2a = std::min(xc + wi, 2 * w), y2a = yc;
      x1b = 0, y1b = hi - (y2a - y1a), x2b = std::min(wi, x2a - x1a), y2b = hi;
    } else if (i == 2) {
      x1a = std::max(xc - wi, 0), y1a = yc, x2a = xc, y2a = std::min(2 * h, yc + hi);
      x1b = wi - (x2a - x1a), y1b = 0, x2b = wi, y2b = std::min(y2a - y1a, hi);
    } else {
      x1a = xc, y1a = yc, x2a = std::min(xc + wi, 2 * w), y2a = std::min(2 * h, yc + hi);
      x1b = 0, y1b = 0, x2b = std::min(wi, x2a - x1a), y2b = std::min(y2a - y1a, hi);
    }
    if (x2a <= x1a || y2a <= y1a) continue;
    t.img(cv::Rect(x1b, y1b, x2b - x1b, y2b - y1b))
        .copyTo(out.img(cv::Rect(x1a, y1a, x2a - x1a, y2a - y1a)));
    float px = static_cast<float>(x1a - x1b), py = static_cast<float>(y1a - y1b);
    for (auto b : t.boxes) {
      b[1] = std::clamp(b[1] + px, static_cast<float>(x1a), static_cast<float>(x2a));
      b[3] = std::clamp(b[3] + px, static_cast<float>(x1a), static_cast<float>(x2a));
      b[2] = std::clamp(b[2] + py, static_cast<float>(y1a), static_cast<float>(y2a));
      b[4] = std::clamp(b[4] + py, static_cast<float>(y1a), static_cast<float>(y2a));
      out.boxes.push_back(b);
    }
  }
  times.compose += lap.Next();
  return out;
}

// Random scale about the source center and translation into the w x h output; boxes that
// keep too little of their area are dropped (Ultralytics box_candidates).
// 8-bit BGR HWC -> float RGB in [0, 1], interleaved (HWC).
void BgrToRgbHwc(const cv::Mat& bgr, float* out) {
  for (int y = 0; y < bgr.rows; ++y) {
    const uint8_t* p = bgr.ptr<uint8_t>(y);
    float* o = out + static_cast<size_t>(y) * bgr.cols * 3;
    for (int x = 0; x < bgr.cols; ++x, p += 3, o += 3) {
      o[0] = p[2] / 255.0f;  // as yolo::BgrToTensor
      o[1] = p[1] / 255.0f;
      o[2] = p[0] / 255.0f;
    }
  }
}

InputImage Affine(const Work& k, const AugmentOptions& o, int w, int h, std::mt19937_64& rng,
                  AugmentTimes& times, Layout layout) {
  Lap lap;
  double s = Uniform(rng, 1 - o.scale, 1 + o.scale);
  double tx = Uniform(rng, 0.5 - o.translate, 0.5 + o.translate) * w;
  double ty = Uniform(rng, 0.5 - o.translate, 0.5 + o.translate) * h;
  double cx = k.img.cols / 2.0, cy = k.img.rows / 2.0;
  cv::Mat m = (cv::Mat_<double>(2, 3) << s, 0, tx - s * cx, 0, s, ty - s * cy);
  cv::Mat dst;
  cv::warpAffine(k.img, dst, m, cv::Size(w, h), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                 cv::Scalar(114, 114, 114));
  InputImage out;
  for (const auto& b : k.boxes) {
    float x1 = static_cast<float>(b[1] * s + tx - s * cx),
          x2 = static_cast<float>(b[3] * s + tx - s * cx);
    float y1 = static_cast<float>(b[2] * s + ty - s * cy),
          y2 = static_cast<float>(b[4] * s + ty - s * cy);
    float w1 = x2 - x1, h1 = y2 - y1;
    x1 = std::clamp(x1, 0.0f, static_cast<float>(w));
    x2 = std::clamp(x2, 0.0f, static_cast<float>(w));
    y1 = std::clamp(y1, 0.0f, static_cast<float>(h));
    y2 = std::clamp(y2, 0.0f, static_cast<float>(h));
    float w2 = x2 - x1, h2 = y2 - y1;
    if (w2 > 2 && h2 > 2 && w2 * h2 / (w1 * h1 + 1e-16f) > 0.1f &&
        std::max(w2 / (h2 + 1e-16f), h2 / (w2 + 1e-16f)) < 100)
      out.boxes.push_back({b[0], x1, y1, x2, y2});
  }
  times.affine += lap.Next();
  // HSV jitter (Ultralytics augment_hsv: per-channel lookup tables).
  double r0 = Uniform(rng, -1, 1) * o.hsv_h + 1, r1 = Uniform(rng, -1, 1) * o.hsv_s + 1,
         r2 = Uniform(rng, -1, 1) * o.hsv_v + 1;
  if (o.hsv_h > 0 || o.hsv_s > 0 || o.hsv_v > 0) {
    cv::Mat hsv;
    cv::cvtColor(dst, hsv, cv::COLOR_BGR2HSV);
    cv::Mat lut(1, 256, CV_8UC3);
    for (int i = 0; i < 256; ++i) {
      auto clip = [](double v) { return static_cast<uint8_t>(std::clamp(v, 0.0, 255.0)); };
      lut.at<cv::Vec3b>(i) = {static_cast<uint8_t>(std::fmod(i * r0, 180.0)), clip(i * r1),
                              clip(i * r2)};
    }
    cv::LUT(hsv, lut, hsv);
    cv::cvtColor(hsv, dst, cv::COLOR_HSV2BGR);
  }
  times.hsv += lap.Next();
  if (Uniform(rng, 0, 1) < o.flipud) {
    cv::flip(dst, dst, 0);
    for (auto& b : out.boxes) {
      float y1 = h - b[4], y2 = h - b[2];
      b[2] = y1, b[4] = y2;
    }
  }
  if (Uniform(rng, 0, 1) < o.fliplr) {
    cv::flip(dst, dst, 1);
    for (auto& b : out.boxes) {
      float x1 = w - b[3], x2 = w - b[1];
      b[1] = x1, b[3] = x2;
    }
  }
  times.flip += lap.Next();
  out.pixels.resize(static_cast<size_t>(3) * dst.rows * dst.cols);
  if (layout == Layout::kHwc)
    BgrToRgbHwc(dst, out.pixels.data());
  else
    yolo::BgrToTensor(ViewOf(dst), out.pixels.data());
  times.to_float += lap.Next();
  return out;
}

}  // namespace

InputImage AugmentOne(const std::vector<LabeledImage>& pool, int index, bool mosaic,
                      const AugmentOptions& o, int w, int h, uint64_t seed, AugmentTimes* times,
                      Layout layout, const std::vector<ScaledImage>* scaled) {
  AugmentTimes local;
  AugmentTimes& tm = times ? *times : local;
  auto rng = MakeRng(seed, 0x5eed, static_cast<uint64_t>(index));
  Work k;
  if (mosaic && Uniform(rng, 0, 1) < o.mosaic) {
    k = Mosaic(pool, scaled, index, o, w, h, rng, tm);
  } else {
    Work t =
        LoadScaled(pool[static_cast<size_t>(index)], CachedAt(scaled, index), o, w, h, rng, tm);
    Lap lap;
    // Center the scaled image on a w x h canvas, then the random affine.
    k.img = cv::Mat(h, w, CV_8UC3, cv::Scalar(114, 114, 114));
    int ox = (w - t.img.cols) / 2, oy = (h - t.img.rows) / 2;
    t.img.copyTo(k.img(cv::Rect(ox, oy, t.img.cols, t.img.rows)));
    for (auto b : t.boxes) {
      b[1] += ox, b[3] += ox, b[2] += oy, b[4] += oy;
      k.boxes.push_back(b);
    }
    tm.compose += lap.Next();
  }
  return Affine(k, o, w, h, rng, tm, layout);
}

std::vector<ScaledImage> ScalePool(const std::vector<LabeledImage>& pool, int w, int h) {
  std::vector<ScaledImage> out;
  out.reserve(pool.size());
  AugmentOptions none;
  none.scratch = 0;
  AugmentTimes unused;
  std::mt19937_64 rng;  // not drawn from without scratches
  for (const auto& im : pool) {
    Work k = LoadScaled(im, nullptr, none, w, h, rng, unused);
    out.push_back({k.img, k.boxes});
  }
  return out;
}

std::vector<eval::GtBox> GroundTruth(const LabeledImage& im) {
  std::vector<eval::GtBox> gt;
  for (const auto& b : im.boxes) gt.push_back({b.x, b.y, b.x + b.w, b.y + b.h, b.class_id});
  return gt;
}

BatchLoader::BatchLoader(const std::vector<LabeledImage>* pool, std::vector<int> order, int batch,
                         bool mosaic, const AugmentOptions& o, int w, int h, uint64_t seed,
                         int prefetch, Layout layout, const std::vector<ScaledImage>* scaled)
    : pool_(pool),
      order_(std::move(order)),
      batch_(batch),
      w_(w),
      h_(h),
      mosaic_(mosaic),
      o_(o),
      seed_(seed),
      prefetch_(std::max(1, prefetch)),
      layout_(layout),
      scaled_(scaled),
      num_batches_(static_cast<int>((order_.size() + static_cast<size_t>(batch) - 1) /
                                    static_cast<size_t>(batch))) {
  while (launched_ < num_batches_ && static_cast<int>(pending_.size()) < prefetch_) Launch();
}

BatchLoader::~BatchLoader() {
  for (auto& f : pending_) f.wait();
}

void BatchLoader::Launch() {
  int b = launched_++;
  pending_.push_back(std::async(std::launch::async, [this, b] { return Build(b); }));
}

Batch BatchLoader::Next() {
  Batch b = pending_.front().get();
  pending_.pop_front();
  if (launched_ < num_batches_) Launch();
  return b;
}

Batch BatchLoader::Build(int b) const {
  Lap lap;
  Batch out;
  size_t begin = static_cast<size_t>(b) * static_cast<size_t>(batch_);
  size_t end = std::min(order_.size(), begin + static_cast<size_t>(batch_));
  for (size_t i = begin; i < end; ++i) {
    // Seeded by position in the epoch (seed_ already includes the epoch).
    InputImage im = AugmentOne(*pool_, order_[i], mosaic_, o_, w_, h_,
                               seed_ ^ (static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL),
                               &out.times, layout_, scaled_);
    out.images.insert(out.images.end(), im.pixels.begin(), im.pixels.end());
    for (const auto& bx : im.boxes) {
      out.targets.push_back(static_cast<float>(out.size));
      out.targets.insert(out.targets.end(), bx.begin(), bx.end());
    }
    ++out.size;
  }
  out.build_s = lap.Next();
  return out;
}

}  // namespace vqi::train
