// The implementation of each convolution, chosen by measurement at compile time.
//
// oneDNN picks the first implementation in its list that accepts a descriptor; that is not
// always the fastest for a shape (3x3 stride-1 convolutions may run faster as Winograd, a
// wide 1x1 on few pixels as gemm). With CompileOptions::tune, every implementation oneDNN
// offers for the convolution (`next_impl`, reference kernels excluded) and, for fp32 3x3
// stride-1 ungrouped convolutions, the Winograd algorithm are timed on scratch buffers
// (the fastest of kRuns interleaved runs after one warm-up, with the step's thread count);
// another kernel replaces oneDNN's first choice only when it is kMargin faster. The choice is
// cached per process, keyed by the operation descriptor (shapes, layouts, strides, pads), the
// post-ops and the thread count: a model opened again, or the same shape in another model, is not
// timed again, and all instances of one process run the same kernels (bitwise identical results).
// Not a file: a persisted choice would have to be invalidated on every change of oneDNN, CPU or
// load, and tuning the n@640 model costs well under a second at load.
#include <omp.h>

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>

#include "compiled_program.h"

namespace vqi::infer::onednn {

using dnnl::memory;
using ConvPd = dnnl::convolution_forward::primitive_desc;

namespace {

constexpr int kRuns = 5;
constexpr double kMargin = 0.9;  // another kernel must be 10 % faster than oneDNN's choice

std::mutex& CacheMutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, std::string>& Cache() {
  static std::map<std::string, std::string> c;  // key -> "algorithm/impl name"
  return c;
}

std::string Name(const ConvPd& pd, bool wino) {
  return std::string(wino ? "wino/" : "direct/") + pd.impl_info_str();
}

}  // namespace

// Times the candidates in interleaved rounds (one run of each per round, after one warm-up
// run each), so that a burst of load from other processes hits all of them alike; returns
// the fastest run of each.
std::vector<double> Model::TimeConvs(const LOp& op, const std::vector<ConvPd>& pds,
                                     const std::vector<memory::desc>& binary) {
  // Buffers: the op's own source and destination in the arena when they live there (nothing
  // is live in the arena while the program is built), else zeroed scratch buffers shared by
  // all candidates (no extra peak memory beyond one set).
  std::vector<memory> pool;
  auto buffer = [&](const memory::desc& md, int t) {
    if (t >= 0 && md == MdOf(p_, t)) {
      const int r = p_.tp[t].root;
      if (r != p_.g.input && r != p_.output && !p_.g.tensors[t].is_const)
        return memory(md, eng_, Ptr(t));
    }
    for (const memory& m : pool)
      if (m.get_desc() == md) return m;
    memory m(md, eng_);
    std::memset(m.get_data_handle(), 0, md.get_size());
    pool.push_back(m);
    return m;
  };
  std::vector<dnnl::convolution_forward> prims;
  std::vector<std::unordered_map<int, memory>> args(pds.size());
  for (size_t c = 0; c < pds.size(); ++c) {
    const ConvPd& pd = pds[c];
    prims.emplace_back(pd);
    args[c][DNNL_ARG_SRC] = buffer(pd.src_desc(), op.in[0]);
    args[c][DNNL_ARG_WEIGHTS] = buffer(pd.weights_desc(), -1);
    args[c][DNNL_ARG_DST] = buffer(pd.dst_desc(), op.out[0]);
    if (pd.bias_desc().get_size() > 0) args[c][DNNL_ARG_BIAS] = buffer(pd.bias_desc(), -1);
    if (pd.scratchpad_desc().get_size() > 0)
      args[c][DNNL_ARG_SCRATCHPAD] = buffer(pd.scratchpad_desc(), -1);
    for (size_t k = 0; k < binary.size(); ++k) {
      if (binary[k].get_size() == 0) continue;
      args[c][DNNL_ARG_ATTR_MULTIPLE_POST_OP(static_cast<int>(k)) | DNNL_ARG_SRC_1] =
          buffer(binary[k], -1);
    }
    prims[c].execute(stream_, args[c]);
    stream_.wait();
  }
  std::vector<double> best(pds.size(), 1e30);
  for (int r = 0; r < kRuns; ++r) {
    for (size_t c = 0; c < pds.size(); ++c) {
      auto t0 = std::chrono::steady_clock::now();
      prims[c].execute(stream_, args[c]);
      stream_.wait();
      best[c] = std::min(
          best[c],
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  return best;
}

ConvPd Model::TuneConv(const LOp& op, ConvPd first, const dnnl::convolution_forward::desc& d,
                       const dnnl::primitive_attr& attr, const std::vector<memory::desc>& binary) {
  if (!opt_.tune) return first;
  const Node& n = *NodeOf(op);
  std::vector<std::pair<ConvPd, bool>> cands;  // (pd, winograd)
  auto add_all = [&](ConvPd pd, bool wino) {
    for (;;) {
      std::string impl = pd.impl_info_str();
      // Reference and SSE4.1 kernels never win on this hardware class (measured: 2-10x slower).
      if (impl.rfind("ref", 0) != 0 && impl.find("sse41") == std::string::npos)
        cands.push_back({pd, wino});
      if (!pd.next_impl()) break;
    }
  };
  add_all(first, false);
  const Shape& w = p_.g.tensors[n.in[1]].shape;
  const dnnl_convolution_desc_t& cd = d.data;
  if (!op.int8 && n.Int("group", 1) == 1 && w.size() == 4 && w[2] == 3 && w[3] == 3 &&
      cd.strides[0] == 1 && cd.strides[1] == 1 && cd.dilates[0] == 0 && cd.dilates[1] == 0) {
    try {
      dnnl::convolution_forward::desc wd = d;
      wd.data.alg_kind = dnnl_convolution_winograd;
      add_all(ConvPd(wd, attr, eng_), true);
    } catch (const dnnl::error&) {
      // Not offered for this shape, ISA or post-ops (oneDNN 2.6 on AVX-512: none of the
      // YOLOv8 convolutions, which carry SiLU or residual-add post-ops).
    }
  }
  if (cands.size() <= 1) return first;
  // The key: the operation descriptor's bytes (shapes, layouts, strides, pads, algorithm),
  // the post-op kinds and the thread count.
  std::string key(reinterpret_cast<const char*>(&cd), sizeof cd);
  for (const PostOp& pp : n.post) key += "|" + std::to_string(static_cast<int>(pp.kind)) + pp.act;
  key += "|t" + std::to_string(omp_get_max_threads()) + (op.int8 ? "|s8" : "|f32");
  {
    std::lock_guard<std::mutex> lock(CacheMutex());
    auto it = Cache().find(key);
    if (it != Cache().end())
      for (const auto& [pd, wino] : cands)
        if (Name(pd, wino) == it->second) return pd;
  }
  std::vector<ConvPd> pds;
  for (const auto& c : cands) pds.push_back(c.first);
  std::vector<double> ms = TimeConvs(op, pds, binary);
  // oneDNN's first choice stays unless another is clearly faster (timing noise on a shared
  // host must not swap kernels back and forth).
  size_t best = 0;
  for (size_t k = 1; k < cands.size(); ++k)
    if (ms[k] < kMargin * ms[best] && ms[k] < ms[0] * kMargin) best = k;
  std::string log;
  for (size_t k = 0; k < cands.size() && opt_.profile; ++k) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "=%.3fms%s ", ms[k], k == best ? "*" : "");
    log += Name(cands[k].first, cands[k].second) + buf;
  }
  if (opt_.profile) tune_log_ += " [" + Label(op, "tune") + ": " + log + "]";
  std::lock_guard<std::mutex> lock(CacheMutex());
  Cache()[key] = Name(cands[best].first, cands[best].second);
  return cands[best].first;
}

}  // namespace vqi::infer::onednn
