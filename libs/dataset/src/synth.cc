// Procedural metal tags. The recipe, in drawing order: light background with a fixture strip,
// a slightly rotated rounded plate with a brushed texture and blotches, a mounting hole, printed
// text, uneven lighting, scratches, lens blur, sensor noise.
#include "vqi/dataset/synth.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <string>

namespace vqi::dataset {
namespace {

constexpr double kPi = 3.14159265358979323846;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Portable draws from raw engine output.
double U01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
double Uni(std::mt19937_64& rng, double lo, double hi) { return lo + (hi - lo) * U01(rng); }
int IntIn(std::mt19937_64& rng, int lo, int hi) {  // inclusive
  return lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
}
bool Chance(std::mt19937_64& rng, double p) { return U01(rng) < p; }

cv::Mat GaussianField(std::mt19937_64& rng, cv::Size size) {
  cv::Mat m(size, CV_32F);
  cv::RNG cvrng(rng());
  cvrng.fill(m, cv::RNG::NORMAL, 0.0, 1.0);
  return m;
}

// The plate outline: a rounded rectangle rotated by `angle` around its center.
std::vector<cv::Point> PlatePolygon(cv::Rect2d r, double radius, double angle) {
  std::vector<cv::Point2d> pts;
  const std::array<cv::Point2d, 4> centers = {
      cv::Point2d(r.x + r.width - radius, r.y + radius), cv::Point2d(r.x + radius, r.y + radius),
      cv::Point2d(r.x + radius, r.y + r.height - radius),
      cv::Point2d(r.x + r.width - radius, r.y + r.height - radius)};
  for (int c = 0; c < 4; ++c) {
    for (int s = 0; s <= 6; ++s) {
      const double a = (c * 90.0 + s * 15.0) * kPi / 180.0;
      pts.emplace_back(centers[c].x + radius * std::cos(a), centers[c].y - radius * std::sin(a));
    }
  }
  const cv::Point2d mid(r.x + r.width / 2, r.y + r.height / 2);
  const double ca = std::cos(angle), sa = std::sin(angle);
  std::vector<cv::Point> out;
  for (const auto& p : pts) {
    const cv::Point2d d = p - mid;
    out.emplace_back(cvRound(mid.x + d.x * ca - d.y * sa), cvRound(mid.y + d.x * sa + d.y * ca));
  }
  return out;
}

std::string SerialText(std::mt19937_64& rng) {
  static const char* kPrefixes[] = {"SN ", "LOT ", "P/N ", "ID ", "QC-", "TYPE "};
  std::string s = kPrefixes[IntIn(rng, 0, 5)];
  const int digits = IntIn(rng, 4, 7);
  for (int i = 0; i < digits; ++i) {
    if (i == 3 && Chance(rng, 0.5)) s += '-';
    s += static_cast<char>('0' + IntIn(rng, 0, 9));
  }
  if (Chance(rng, 0.4)) s += static_cast<char>('A' + IntIn(rng, 0, 25));
  return s;
}

// One scratch's centre line, clamped into `region`.
std::vector<cv::Point> ScratchPath(std::mt19937_64& rng, cv::Point2d start, double length,
                                   double angle, const cv::Rect& region) {
  const cv::Point2d dir(std::cos(angle), std::sin(angle));
  const cv::Point2d normal(-dir.y, dir.x);
  const int shape = IntIn(rng, 0, 2);  // 0 straight-ish, 1 curve, 2 hooked curve
  const double bend = shape == 0 ? 0.0 : Uni(rng, -0.35, 0.35) * length;
  const double hook = shape == 2 ? Uni(rng, -0.25, 0.25) * length : 0.0;
  const int steps = std::max(2, static_cast<int>(length / 6));
  std::vector<cv::Point2d> raw;
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    // Quadratic bend plus an optional cubic hook, with a little hand tremor.
    const double off = bend * 4 * t * (1 - t) + hook * t * t * t + Uni(rng, -0.7, 0.7);
    raw.push_back(start + dir * (t * length) + normal * off);
  }
  // Shift the whole scratch into the region (shrinking it about its centre if it is larger),
  // so it keeps its shape instead of being flattened against the border.
  double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
  for (const auto& p : raw) {
    x0 = std::min(x0, p.x), y0 = std::min(y0, p.y), x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
  }
  const double rx0 = region.x, ry0 = region.y;
  const double rx1 = region.x + region.width - 1, ry1 = region.y + region.height - 1;
  const double shrink =
      std::min({1.0, (rx1 - rx0) / std::max(1e-9, x1 - x0), (ry1 - ry0) / std::max(1e-9, y1 - y0)});
  const cv::Point2d mid((x0 + x1) / 2, (y0 + y1) / 2);
  const double hx = (x1 - x0) * shrink / 2, hy = (y1 - y0) * shrink / 2;
  const cv::Point2d shift(std::clamp(mid.x, rx0 + hx, rx1 - hx) - mid.x,
                          std::clamp(mid.y, ry0 + hy, ry1 - hy) - mid.y);
  std::vector<cv::Point> pts;
  for (const auto& p : raw) {
    const cv::Point2d q = mid + (p - mid) * shrink + shift;
    pts.emplace_back(cvRound(std::clamp(q.x, rx0, rx1)), cvRound(std::clamp(q.y, ry0, ry1)));
  }
  return pts;
}

}  // namespace

std::vector<Box> DrawScratchesIn(cv::Mat& bgr, std::mt19937_64& rng, int count,
                                 const cv::Rect& region_in, double min_contrast) {
  std::vector<Box> boxes;
  const cv::Rect region = region_in & cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (count <= 0 || region.width < 4 || region.height < 4) return boxes;
  const double max_len = std::max(14.0, 0.6 * std::min(region.width, region.height));
  const bool clustered = count >= 2 && Chance(rng, 0.35);
  const cv::Point2d cluster(Uni(rng, region.x, region.x + region.width),
                            Uni(rng, region.y, region.y + region.height));
  const double cluster_angle = Uni(rng, 0, kPi);
  for (int i = 0; i < count; ++i) {
    // Skewed log-uniform length: short nicks to long gouges, mostly medium.
    const double length = 12.0 * std::pow(max_len / 12.0, std::pow(U01(rng), 0.6));
    double angle = Uni(rng, 0, kPi);
    cv::Point2d centre(Uni(rng, region.x, region.x + region.width),
                       Uni(rng, region.y, region.y + region.height));
    if (clustered) {
      angle = cluster_angle + Uni(rng, -0.5, 0.5);
      centre = cluster + cv::Point2d(Uni(rng, -30, 30), Uni(rng, -30, 30));
    }
    const cv::Point2d start = centre - cv::Point2d(std::cos(angle), std::sin(angle)) * (length / 2);
    const std::vector<cv::Point> path = ScratchPath(rng, start, length, angle, region);
    const int thickness = Chance(rng, 0.7) ? 1 : (Chance(rng, 0.8) ? 2 : 3);
    const double contrast = Uni(rng, min_contrast, 1.0);
    const bool dotted = Chance(rng, 0.35);
    // Work in the path's neighbourhood only.
    const int pad = thickness + 3;
    cv::Rect roi = cv::boundingRect(path);
    roi = cv::Rect(roi.x - pad, roi.y - pad, roi.width + 2 * pad, roi.height + 2 * pad) &
          cv::Rect(0, 0, bgr.cols, bgr.rows);
    cv::Mat layer = cv::Mat::zeros(roi.size(), CV_8U);
    for (size_t k = 0; k + 1 < path.size(); ++k) {
      if (dotted && Chance(rng, 0.3)) continue;
      const int v = static_cast<int>(255 * contrast * Uni(rng, 0.6, 1.0));
      cv::line(layer, path[k] - roi.tl(), path[k + 1] - roi.tl(), cv::Scalar(v), thickness,
               cv::LINE_AA);
    }
    // Bright: push each channel towards white by the layer's strength.
    for (int y = 0; y < layer.rows; ++y) {
      const uint8_t* l = layer.ptr<uint8_t>(y);
      cv::Vec3b* p = bgr.ptr<cv::Vec3b>(y + roi.y) + roi.x;
      for (int x = 0; x < layer.cols; ++x) {
        if (l[x] == 0) continue;
        const float a = l[x] / 255.0f;
        for (int c = 0; c < 3; ++c)
          p[x][c] = cv::saturate_cast<uint8_t>(p[x][c] + a * (250 - p[x][c]));
      }
    }
    cv::Rect drawn = cv::boundingRect(layer);
    if (drawn.empty()) continue;  // every segment dropped: nothing visible, no box
    drawn += roi.tl();
    // Margin for the later lens blur of SynthesizeTag (sigma <= 1.1).
    drawn = cv::Rect(drawn.x - 2, drawn.y - 2, drawn.width + 4, drawn.height + 4) &
            cv::Rect(0, 0, bgr.cols, bgr.rows);
    boxes.push_back(Box{0, static_cast<float>(drawn.x), static_cast<float>(drawn.y),
                        static_cast<float>(drawn.width), static_cast<float>(drawn.height)});
  }
  return boxes;
}

std::vector<Box> DrawScratches(cv::Mat& bgr, std::mt19937_64& rng, int count, double min_contrast) {
  const int mx = bgr.cols / 12, my = bgr.rows / 12;
  return DrawScratchesIn(bgr, rng, count, cv::Rect(mx, my, bgr.cols - 2 * mx, bgr.rows - 2 * my),
                         min_contrast);
}

SynthImage SynthesizeTag(const SynthOptions& o, uint64_t index) {
  std::mt19937_64 rng(SplitMix64(o.seed * 0x100000001B3ULL ^ SplitMix64(index)));
  const int w = o.width, h = o.height;
  const double scale = std::min(w / 450.0, h / 300.0);
  const cv::Size size(w, h);

  // Background: bright fixture with a grey clamp strip and a darker band.
  const float bg = static_cast<float>(Uni(rng, 175, 235));
  cv::Mat gray(size, CV_32F, cv::Scalar(bg));
  const int strip_x = IntIn(rng, w / 4, w / 2);
  cv::rectangle(gray, cv::Rect(strip_x, 0, IntIn(rng, w / 6, w / 3), h),
                cv::Scalar(bg - Uni(rng, 40, 90)), cv::FILLED);
  cv::rectangle(gray, cv::Rect(0, h - IntIn(rng, 4, 14), w, h), cv::Scalar(bg - Uni(rng, 60, 120)),
                cv::FILLED);

  // Plate: brushed texture (noise smeared along one direction) plus low-frequency blotches.
  const float level = static_cast<float>(Uni(rng, 40, 110));
  cv::Mat plate = GaussianField(rng, size);
  const int smear = IntIn(rng, 25, 81) | 1;
  const bool vertical = Chance(rng, 0.25);
  cv::blur(plate, plate, vertical ? cv::Size(1, smear) : cv::Size(smear, 1));
  plate *= Uni(rng, 25, 55);  // the smear shrinks amplitude by ~sqrt(smear)
  cv::Mat blotch = GaussianField(rng, cv::Size(std::max(2, w / 40), std::max(2, h / 40)));
  cv::resize(blotch, blotch, size, 0, 0, cv::INTER_CUBIC);
  plate += blotch * Uni(rng, 2, 8) + level;

  // Printed or engraved marking.
  const std::string text = SerialText(rng);
  const int font = Chance(rng, 0.5) ? cv::FONT_HERSHEY_SIMPLEX : cv::FONT_HERSHEY_DUPLEX;
  const double font_scale = Uni(rng, 0.45, 0.85) * scale;
  const cv::Point text_at(IntIn(rng, w / 6, w / 2), IntIn(rng, h / 4, h - h / 5));
  const double ink = Chance(rng, 0.6) ? -Uni(rng, 15, 35) : Uni(rng, 15, 40);
  cv::putText(plate, text, text_at, font, font_scale, cv::Scalar(level + ink), 1, cv::LINE_AA);

  // Plate mask: rounded, slightly rotated, with a mounting hole near one corner.
  const double px = Uni(rng, 8, 30) * scale, py = Uni(rng, 10, 35) * scale;
  const cv::Rect2d pr(px, py, w - px - Uni(rng, 8, 28) * scale, h - py - Uni(rng, 8, 30) * scale);
  const auto poly = PlatePolygon(pr, Uni(rng, 4, 14) * scale, Uni(rng, -0.03, 0.03));
  cv::Mat mask = cv::Mat::zeros(size, CV_8U);
  cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{poly}, cv::Scalar(255), cv::LINE_AA);
  const bool left = Chance(rng, 0.5), top = Chance(rng, 0.5);
  const double inset = Uni(rng, 14, 28) * scale;
  const cv::Point hole(cvRound(left ? pr.x + inset : pr.x + pr.width - inset),
                       cvRound(top ? pr.y + inset : pr.y + pr.height - inset));
  const int hole_r = std::max(3, cvRound(Uni(rng, 6, 11) * scale));
  cv::circle(plate, hole, hole_r + 2, cv::Scalar(level - 20), 2, cv::LINE_AA);
  cv::circle(mask, hole, hole_r, cv::Scalar(0), cv::FILLED, cv::LINE_AA);
  // A brighter bevel along the edge.
  cv::polylines(plate, std::vector<std::vector<cv::Point>>{poly}, true,
                cv::Scalar(level + Uni(rng, 10, 30)), 2, cv::LINE_AA);

  cv::Mat alpha;
  mask.convertTo(alpha, CV_32F, 1.0 / 255);
  gray = plate.mul(alpha) + gray.mul(1.0 - alpha);

  // Uneven lighting: a tilt plus a soft highlight.
  const double gx = Uni(rng, -0.35, 0.35), gy = Uni(rng, -0.25, 0.25), spot = Uni(rng, 0, 0.45);
  const double sx = Uni(rng, 0, w), sy = Uni(rng, 0, h), sr = Uni(rng, 0.2, 0.6) * w;
  // Smooth, so computed on a coarse grid and interpolated.
  const int gw = std::max(2, w / 8), gh = std::max(2, h / 8);
  cv::Mat gain(gh, gw, CV_32F);
  for (int gyi = 0; gyi < gh; ++gyi) {
    for (int gxi = 0; gxi < gw; ++gxi) {
      const double x = (gxi + 0.5) * w / gw, y = (gyi + 0.5) * h / gh;
      const double d2 = ((x - sx) * (x - sx) + (y - sy) * (y - sy)) / (2 * sr * sr);
      gain.at<float>(gyi, gxi) = static_cast<float>(1 + gx * (x - w / 2.0) / w +
                                                    gy * (y - h / 2.0) / h + spot * std::exp(-d2));
    }
  }
  cv::resize(gain, gain, size, 0, 0, cv::INTER_LINEAR);
  gray = gray.mul(gain);

  // Slightly tinted colour (the real camera is nearly monochrome).
  cv::Mat g8;
  gray.convertTo(g8, CV_8U);
  SynthImage out;
  std::vector<cv::Mat> ch = {g8.clone(), g8.clone(), g8};
  const double tint = Uni(rng, -4, 4);
  ch[0] += cv::Scalar(std::max(0.0, tint));
  ch[2] += cv::Scalar(std::max(0.0, -tint));
  cv::merge(ch, out.bgr);

  if (Chance(rng, o.defect_probability)) {
    const int n = IntIn(rng, 1, std::max(1, o.max_scratches));
    const cv::Rect inner(cvRound(pr.x + 6), cvRound(pr.y + 6), cvRound(pr.width - 12),
                         cvRound(pr.height - 12));
    out.boxes = DrawScratchesIn(out.bgr, rng, n, inner);
  }

  // Lens blur and sensor noise.
  const double sigma = Uni(rng, 0.4, 1.1);
  cv::GaussianBlur(out.bgr, out.bgr, cv::Size(0, 0), sigma);
  cv::Mat noise(size, CV_16SC3);
  cv::RNG cvrng(rng());
  cvrng.fill(noise, cv::RNG::NORMAL, 0.0, Uni(rng, 1.5, 5.0));
  cv::Mat noisy;
  out.bgr.convertTo(noisy, CV_16SC3);
  noisy += noise;
  noisy.convertTo(out.bgr, CV_8UC3);
  return out;
}

}  // namespace vqi::dataset
