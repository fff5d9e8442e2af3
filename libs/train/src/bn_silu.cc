#include "bn_silu.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "vqi/base/fast_exp.h"

namespace vqi::train {
namespace {

// Rows of the [M, C] activation matrix per reduction chunk. The chunks, not the threads, fix the
// order of every sum, so results do not depend on the number of threads.
constexpr int64_t kChunkRows = 128;

// One copy of each kernel per x86-64 level (AVX-512, AVX2 + FMA, baseline), chosen at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VQI_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VQI_CLONES
#endif

// Per-channel sum and sum of squares of x - shift over rows [r0, r1) (float within a chunk,
// double across chunks; the shift, one sample per channel, keeps E[v^2] - E[v]^2 from
// cancelling when a channel's mean is large against its spread).
VQI_CLONES void Moments(const float* x, int64_t r0, int64_t r1, int64_t c, const float* shift,
                        float* __restrict__ sum, float* __restrict__ sq) {
  for (int64_t j = 0; j < c; ++j) sum[j] = sq[j] = 0;
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * c;
    for (int64_t j = 0; j < c; ++j) {
      const float v = xr[j] - shift[j];
      sum[j] += v;
      sq[j] += v * v;
    }
  }
}

// y = z * sigmoid(z), z = x * a + b per channel, rows [r0, r1).
VQI_CLONES void AffineSilu(const float* x, int64_t r0, int64_t r1, int64_t c, const float* a,
                           const float* b, float* __restrict__ y) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * c;
    float* yr = y + r * c;
    for (int64_t j = 0; j < c; ++j) {
      const float z = xr[j] * a[j] + b[j];
      yr[j] = z / (1.0f + FastExp(-z));
    }
  }
}

// d = dy * silu'(z) written to d; per-channel sums of d and d * (x - mean), rows [r0, r1).
VQI_CLONES void SiluGrad(const float* x, const float* dy, int64_t r0, int64_t r1, int64_t c,
                         const float* a, const float* b, const float* mean, float* __restrict__ d,
                         float* __restrict__ sd, float* __restrict__ sdx) {
  for (int64_t j = 0; j < c; ++j) sd[j] = sdx[j] = 0;
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * c;
    const float* gr = dy + r * c;
    float* dr = d + r * c;
    for (int64_t j = 0; j < c; ++j) {
      const float z = xr[j] * a[j] + b[j];
      const float s = 1.0f / (1.0f + FastExp(-z));
      const float v = gr[j] * s * (1.0f + z * (1.0f - s));
      dr[j] = v;
      sd[j] += v;
      sdx[j] += v * (xr[j] - mean[j]);
    }
  }
}

// d = k1 * d + k2 * x + k3 per channel, rows [r0, r1).
VQI_CLONES void BnGrad(const float* x, int64_t r0, int64_t r1, int64_t c, const float* k1,
                       const float* k2, const float* k3, float* __restrict__ d) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * c;
    float* dr = d + r * c;
    for (int64_t j = 0; j < c; ++j) dr[j] = k1[j] * dr[j] + k2[j] * xr[j] + k3[j];
  }
}

// Runs fn(chunk, row0, row1) over the chunks of m rows, in parallel on libtorch's intra-op
// threads when the work is large enough.
template <typename Fn>
void ForChunks(int64_t m, int64_t c, Fn&& fn) {
  const int64_t chunks = (m + kChunkRows - 1) / kChunkRows;
  const int64_t grain = std::max<int64_t>(1, (1 << 16) / (kChunkRows * c));
  at::parallel_for(0, chunks, grain, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) fn(k, k * kChunkRows, std::min(m, (k + 1) * kChunkRows));
  });
}

// Sums per-chunk partial sums [chunks][c] in chunk order.
std::vector<double> SumChunks(const std::vector<float>& parts, int64_t chunks, int64_t c) {
  std::vector<double> s(static_cast<size_t>(c), 0.0);
  for (int64_t k = 0; k < chunks; ++k)
    for (int64_t j = 0; j < c; ++j)
      s[static_cast<size_t>(j)] += parts[static_cast<size_t>(k * c + j)];
  return s;
}

torch::Tensor Floats(const std::vector<float>& v) {
  return torch::from_blob(const_cast<float*>(v.data()), {static_cast<int64_t>(v.size())},
                          torch::kFloat)
      .clone();
}

// y = silu(x * a + b) into a new channels-last tensor.
torch::Tensor Apply(const torch::Tensor& x, const float* a, const float* b) {
  const int64_t c = x.size(1), m = x.numel() / std::max<int64_t>(1, c);
  auto y = torch::empty(x.sizes(), x.options().memory_format(torch::MemoryFormat::ChannelsLast));
  const float* xp = x.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  ForChunks(m, c, [&](int64_t, int64_t r0, int64_t r1) { AffineSilu(xp, r0, r1, c, a, b, yp); });
  return y;
}

struct BnSiluFn : torch::autograd::Function<BnSiluFn> {
  // Training mode: batch statistics. Saves x, gamma and the per-channel (a, b, mean, invstd).
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& gamma, const torch::Tensor& beta,
                               torch::Tensor running_mean, torch::Tensor running_var,
                               torch::Tensor batches, double momentum, double eps) {
    const int64_t c = x.size(1), m = x.numel() / c;
    const int64_t chunks = (m + kChunkRows - 1) / kChunkRows;
    std::vector<float> psum(static_cast<size_t>(chunks * c)), psq(psum.size());
    const float* xp = x.data_ptr<float>();
    const float* shift = xp;  // the first row
    ForChunks(m, c, [&](int64_t k, int64_t r0, int64_t r1) {
      Moments(xp, r0, r1, c, shift, psum.data() + k * c, psq.data() + k * c);
    });
    const auto sum = SumChunks(psum, chunks, c), sq = SumChunks(psq, chunks, c);
    auto g = gamma.contiguous(), bt = beta.contiguous();
    const float* gp = g.data_ptr<float>();
    const float* bp = bt.data_ptr<float>();
    std::vector<float> a(static_cast<size_t>(c)), b(a.size()), mean(a.size()), invstd(a.size());
    auto rm = running_mean.accessor<float, 1>();
    auto rv = running_var.accessor<float, 1>();
    for (int64_t j = 0; j < c; ++j) {
      const auto u = static_cast<size_t>(j);
      const double dm = sum[u] / static_cast<double>(m);  // mean of x - shift
      const double var = std::max(0.0, sq[u] / static_cast<double>(m) - dm * dm);
      const double mu = shift[j] + dm;
      const double is = 1.0 / std::sqrt(var + eps);
      mean[u] = static_cast<float>(mu);
      invstd[u] = static_cast<float>(is);
      a[u] = static_cast<float>(gp[j] * is);
      b[u] = static_cast<float>(bp[j] - mu * gp[j] * is);
      const double unbiased = m > 1 ? var * static_cast<double>(m) / (m - 1) : var;
      rm[j] = static_cast<float>((1 - momentum) * rm[j] + momentum * mu);
      rv[j] = static_cast<float>((1 - momentum) * rv[j] + momentum * unbiased);
    }
    batches.add_(1);
    ctx->save_for_backward({x, gamma});
    ctx->saved_data["a"] = Floats(a);
    ctx->saved_data["b"] = Floats(b);
    ctx->saved_data["mean"] = Floats(mean);
    ctx->saved_data["invstd"] = Floats(invstd);
    return Apply(x, a.data(), b.data());
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    auto g = saved[1].contiguous();
    auto dy = grad[0].contiguous(torch::MemoryFormat::ChannelsLast);
    const auto a = ctx->saved_data["a"].toTensor(), b = ctx->saved_data["b"].toTensor();
    const auto mean = ctx->saved_data["mean"].toTensor();
    const auto invstd = ctx->saved_data["invstd"].toTensor();
    const int64_t c = x.size(1), m = x.numel() / c;
    const int64_t chunks = (m + kChunkRows - 1) / kChunkRows;
    auto dx = torch::empty(x.sizes(), x.options().memory_format(torch::MemoryFormat::ChannelsLast));
    std::vector<float> psd(static_cast<size_t>(chunks * c)), psdx(psd.size());
    const float *xp = x.data_ptr<float>(), *gp = dy.data_ptr<float>();
    const float *ap = a.data_ptr<float>(), *bp = b.data_ptr<float>();
    const float* mp = mean.data_ptr<float>();
    float* dp = dx.data_ptr<float>();
    ForChunks(m, c, [&](int64_t k, int64_t r0, int64_t r1) {
      SiluGrad(xp, gp, r0, r1, c, ap, bp, mp, dp, psd.data() + k * c, psdx.data() + k * c);
    });
    const auto sd = SumChunks(psd, chunks, c), sdx = SumChunks(psdx, chunks, c);
    auto dgamma = torch::empty({c}, x.options()), dbeta = torch::empty({c}, x.options());
    float *dgp = dgamma.data_ptr<float>(), *dbp = dbeta.data_ptr<float>();
    std::vector<float> k1(static_cast<size_t>(c)), k2(k1.size()), k3(k1.size());
    const float *ip = invstd.data_ptr<float>(), *gam = g.data_ptr<float>();
    for (int64_t j = 0; j < c; ++j) {
      const auto u = static_cast<size_t>(j);
      const double is = ip[j], mu = mp[j], gm = gam[j];
      const double db = sd[u], dg = is * sdx[u];  // sum(d), sum(d * xhat)
      dbp[j] = static_cast<float>(db);
      dgp[j] = static_cast<float>(dg);
      const double kk2 = -gm * is * is * dg / static_cast<double>(m);
      k1[u] = static_cast<float>(gm * is);
      k2[u] = static_cast<float>(kk2);
      k3[u] = static_cast<float>(-gm * is * db / static_cast<double>(m) - kk2 * mu);
    }
    ForChunks(m, c, [&](int64_t, int64_t r0, int64_t r1) {
      BnGrad(xp, r0, r1, c, k1.data(), k2.data(), k3.data(), dp);
    });
    return {dx,
            dgamma,
            dbeta,
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

bool UseBnSilu(const torch::Tensor& x) {
  return x.dim() == 4 && x.scalar_type() == torch::kFloat && x.size(1) > 0 && x.numel() > 0 &&
         x.is_contiguous(torch::MemoryFormat::ChannelsLast);
}

torch::Tensor BnSilu(const torch::Tensor& x, torch::nn::BatchNorm2d& bn) {
  const auto& o = bn->options;
  if (!o.affine() || !o.track_running_stats() || !o.momentum())  // not what yolo.cc builds
    return torch::silu(bn(x));
  if (bn->is_training()) {
    return BnSiluFn::apply(x, bn->weight, bn->bias, bn->running_mean, bn->running_var,
                           bn->num_batches_tracked, *o.momentum(), o.eps());
  }
  // Evaluation: the running statistics. Gradients through it (never needed by training or
  // inference) take libtorch's operators.
  if (torch::GradMode::is_enabled() &&
      (x.requires_grad() || bn->weight.requires_grad() || bn->bias.requires_grad()))
    return torch::silu(bn(x));
  torch::NoGradGuard no_grad;
  auto a = (bn->weight / torch::sqrt(bn->running_var + o.eps())).contiguous();
  auto b = (bn->bias - bn->running_mean * a).contiguous();
  return Apply(x, a.data_ptr<float>(), b.data_ptr<float>());
}

}  // namespace vqi::train
