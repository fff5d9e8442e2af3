// One fp32 convolution on oneDNN directly, every way it can run (issue 22, the Winograd
// question): direct with the SiLU / SiLU+add post-ops the YOLOv8 graphs fuse, direct without
// post-ops, Winograd (algorithm::convolution_winograd) without post-ops (oneDNN 2.6 refuses it
// with SiLU) followed by a separate in-place SiLU (and add), and convolution_auto. Every
// variant reads and writes nChw16c (the n640 layout; `nhwc` as 6th argument for channels-last).
// Candidates alternate round by round (a burst of host load hits all alike); prints the p50 and
// the minimum of each, and the implementation oneDNN chose.
//
//   conv_algo_bench IC OC H W [K] [LAYOUT] [THREADS] [ROUNDS]
//   conv_algo_bench [n640 [THREADS] [ROUNDS]]     every stride-1 3x3 shape of YOLOv8n at 640
//                                                 (the default: 2 threads, 30 rounds)
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

struct Variant {
  std::string name;
  std::string impl;
  std::function<void()> run;
  int math = 0;  // 0 conv, 1 conv+SiLU, 2 conv+SiLU+add: variants of one math are compared
  std::vector<double> ms;
  double err = -1;  // max |out - first variant of its math| / max |first variant's out|
};

memory Filled(const memory::desc& md, const dnnl::engine& eng, unsigned seed) {
  memory m(md, eng);
  float* p = static_cast<float*>(m.get_data_handle());
  size_t n = md.get_size() / sizeof(float);
  for (size_t k = 0; k < n; ++k) {
    seed = seed * 1664525u + 1013904223u;
    p[k] = static_cast<float>(seed >> 8) / 16777216.f - 0.5f;
  }
  return m;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Shape {
  int ic, oc, h, w, k;
  int count;  // how often n640 has it
  bool add;   // some of them carry a residual add
};

void Bench(const Shape& s, Tag tag, int rounds) {
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const int pad = s.k / 2;
  memory::desc src({1, s.ic, s.h, s.w}, memory::data_type::f32, tag);
  memory::desc dst({1, s.oc, s.h, s.w}, memory::data_type::f32, tag);
  memory::desc wany({s.oc, s.ic, s.k, s.k}, memory::data_type::f32, Tag::any);
  memory::desc bias({s.oc}, memory::data_type::f32, Tag::x);
  memory msrc = Filled(src, eng, 1), mdst = Filled(dst, eng, 2), madd = Filled(dst, eng, 3);
  memory mbias = Filled(bias, eng, 4);
  memory wplain = Filled({{s.oc, s.ic, s.k, s.k}, memory::data_type::f32, Tag::oihw}, eng, 5);
  std::vector<Variant> vs;
  auto conv = [&](const std::string& name, dnnl::algorithm alg, const dnnl::post_ops& po,
                  std::function<void()> after = nullptr, const char* after_impl = "",
                  bool all_impls = false) {
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, alg, src, wany, bias, dst,
                                      {1, 1}, {pad, pad}, {pad, pad});
    dnnl::primitive_attr attr;
    attr.set_post_ops(po);
    dnnl::convolution_forward::primitive_desc pd;
    try {
      pd = dnnl::convolution_forward::primitive_desc(d, attr, eng);
    } catch (const dnnl::error& e) {
      std::printf("  %-28s refused (%s)\n", name.c_str(), e.what());
      return;
    }
    for (int alt = 0;; ++alt) {  // every implementation oneDNN offers, its first choice first
      std::string impl = pd.impl_info_str();
      if (alt == 0 || impl.rfind("ref", 0) != 0) {
        memory mw(pd.weights_desc(), eng);  // the same weights, in the layout it wants
        dnnl::reorder(wplain, mw).execute(strm, wplain, mw);
        strm.wait();
        memory mscr(pd.scratchpad_desc(), eng);
        std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, msrc},
                                                {DNNL_ARG_WEIGHTS, mw},
                                                {DNNL_ARG_BIAS, mbias},
                                                {DNNL_ARG_DST, mdst},
                                                {DNNL_ARG_SCRATCHPAD, mscr}};
        if (po.len() > 1) args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1] = madd;
        auto prim = dnnl::convolution_forward(pd);
        vs.push_back({alt == 0 ? name : name + "#" + std::to_string(alt),
                      impl + after_impl,
                      [=, &strm]() mutable {
                        prim.execute(strm, args);
                        if (after) after();
                        strm.wait();
                      },
                      po.len() + (after ? (name.find("add") != std::string::npos ? 2 : 1) : 0),
                      {}});
      }
      if (!all_impls || !pd.next_impl()) break;
    }
  };
  dnnl::post_ops none, silu, silu_add;
  silu.append_eltwise(1.f, dnnl::algorithm::eltwise_swish, 1.f, 0.f);
  silu_add.append_eltwise(1.f, dnnl::algorithm::eltwise_swish, 1.f, 0.f);
  silu_add.append_binary(dnnl::algorithm::binary_add, dst);
  // The separate SiLU: in place on dst; SiLU + add: eltwise with a binary post-op.
  dnnl::eltwise_forward::primitive_desc epd(
      {dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_swish, dst, 1.f, 0.f}, eng);
  auto elt = dnnl::eltwise_forward(epd);
  std::function<void()> sep_silu = [=, &strm]() mutable {
    elt.execute(strm, {{DNNL_ARG_SRC, mdst}, {DNNL_ARG_DST, mdst}});
  };
  std::string elt_impl = " + " + std::string(epd.impl_info_str());
  std::function<void()> sep_silu_add;
  std::string elt_add_impl;
  try {
    dnnl::post_ops add;
    add.append_binary(dnnl::algorithm::binary_add, dst);
    dnnl::primitive_attr a;
    a.set_post_ops(add);
    dnnl::eltwise_forward::primitive_desc eapd(
        {dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_swish, dst, 1.f, 0.f}, a,
        eng);
    auto elta = dnnl::eltwise_forward(eapd);
    sep_silu_add = [=, &strm]() mutable {
      elta.execute(strm, {{DNNL_ARG_SRC, mdst},
                          {DNNL_ARG_DST, mdst},
                          {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, madd}});
    };
    elt_add_impl = " + " + std::string(eapd.impl_info_str()) + "+add";
  } catch (const dnnl::error& e) {
    std::printf("  eltwise swish + binary add post-op refused (%s)\n", e.what());
  }
  // SiLU then a separate in-place binary add (dst += addend).
  dnnl::binary::primitive_desc bpd({dnnl::algorithm::binary_add, dst, dst, dst}, eng);
  auto bin = dnnl::binary(bpd);
  std::function<void()> sep_silu_then_add = [=, &strm]() mutable {
    elt.execute(strm, {{DNNL_ARG_SRC, mdst}, {DNNL_ARG_DST, mdst}});
    bin.execute(strm, {{DNNL_ARG_SRC_0, mdst}, {DNNL_ARG_SRC_1, madd}, {DNNL_ARG_DST, mdst}});
  };
  std::string elt_then_add_impl = elt_impl + " + " + bpd.impl_info_str();
  conv("direct+silu", dnnl::algorithm::convolution_direct, silu);
  if (s.add) conv("direct+silu+add", dnnl::algorithm::convolution_direct, silu_add);
  conv("direct", dnnl::algorithm::convolution_direct, none);
  conv("direct,silu-sep", dnnl::algorithm::convolution_direct, none, sep_silu, elt_impl.c_str());
  conv("wino+silu", dnnl::algorithm::convolution_winograd, silu);
  conv("wino", dnnl::algorithm::convolution_winograd, none, nullptr, "", true);
  conv("direct(all)", dnnl::algorithm::convolution_direct, silu, nullptr, "", true);
  conv("wino,silu-sep", dnnl::algorithm::convolution_winograd, none, sep_silu, elt_impl.c_str(),
       true);
  if (s.add && sep_silu_add)
    conv("wino,silu+add-sep", dnnl::algorithm::convolution_winograd, none, sep_silu_add,
         elt_add_impl.c_str());
  if (s.add)
    conv("wino,silu,add-sep", dnnl::algorithm::convolution_winograd, none, sep_silu_then_add,
         elt_then_add_impl.c_str(), true);
  conv("auto+silu", dnnl::algorithm::convolution_auto, silu);
  conv("auto", dnnl::algorithm::convolution_auto, none);
  for (auto& v : vs) v.run();  // warm-up (jit, caches)
  // Accuracy: every variant against the first of its math (direct), same inputs and weights.
  const float* out = static_cast<const float*>(mdst.get_data_handle());
  const size_t n = dst.get_size() / sizeof(float);
  for (int math = 0; math < 3; ++math) {
    std::vector<float> ref;
    for (auto& v : vs) {
      if (v.math != math) continue;
      v.run();
      if (ref.empty()) {
        ref.assign(out, out + n);
        continue;
      }
      double num = 0, den = 0;
      for (size_t k = 0; k < n; ++k) {
        num = std::max(num, static_cast<double>(std::abs(out[k] - ref[k])));
        den = std::max(den, static_cast<double>(std::abs(ref[k])));
      }
      v.err = num / den;
    }
  }
  for (int r = 0; r < rounds; ++r)
    for (auto& v : vs) {
      auto t0 = std::chrono::steady_clock::now();
      v.run();
      v.ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
  const double gflop = 2e-9 * s.ic * s.oc * s.k * s.k * s.h * s.w;
  const double base = vs.empty() ? 1 : Median(vs[0].ms);
  std::printf("conv %d->%d %dx%d k%d (x%d in n640) %.3f GFLOP:\n", s.ic, s.oc, s.h, s.w, s.k,
              s.count, gflop);
  for (auto& v : vs)
    std::printf("  %-22s p50 %7.3f ms  min %7.3f ms  %6.1f GFLOP/s  %.2fx  err %.1e  %s\n",
                v.name.c_str(), Median(v.ms), *std::min_element(v.ms.begin(), v.ms.end()),
                gflop / Median(v.ms) * 1e3, Median(v.ms) / base, v.err, v.impl.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "n640") {
    int threads = argc > 2 ? std::atoi(argv[2]) : 2, rounds = argc > 3 ? std::atoi(argv[3]) : 30;
    omp_set_num_threads(threads);
    // Every stride-1 3x3 convolution of YOLOv8n at 640x640 (bottlenecks, head), with counts.
    const Shape shapes[] = {{16, 16, 160, 160, 3, 2, true}, {32, 32, 80, 80, 3, 6, true},
                            {64, 64, 80, 80, 3, 4, false},  {64, 64, 40, 40, 3, 10, true},
                            {128, 64, 40, 40, 3, 2, false}, {128, 128, 20, 20, 3, 4, true},
                            {256, 64, 20, 20, 3, 2, false}, {64, 64, 20, 20, 3, 2, false}};
    for (const Shape& s : shapes) Bench(s, Tag::nChw16c, rounds);
    return 0;
  }
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: conv_algo_bench IC OC H W [K] [nChw16c|nhwc] [THREADS] [ROUNDS]\n"
                 "       conv_algo_bench [n640 [THREADS] [ROUNDS]]\n");
    return 2;
  }
  Shape s{std::atoi(argv[1]),
          std::atoi(argv[2]),
          std::atoi(argv[3]),
          std::atoi(argv[4]),
          argc > 5 ? std::atoi(argv[5]) : 3,
          1,
          true};
  Tag tag = argc > 6 && std::string(argv[6]) == "nhwc" ? Tag::nhwc : Tag::nChw16c;
  omp_set_num_threads(argc > 7 ? std::atoi(argv[7]) : 2);
  Bench(s, tag, argc > 8 ? std::atoi(argv[8]) : 30);
  return 0;
}
