#include "conv1x1.h"

#include <ATen/Parallel.h>
#include <oneapi/dnnl/dnnl.h>

#include "vqi/base/status.h"

namespace vqi::train {
namespace {

// The leading dimension when x [N, C, H, W] is a row-major matrix [N*H*W, C] with rows `ld`
// floats apart (channels-last, or a channel slice of it); 0 when it is not.
int64_t RowStride(const torch::Tensor& x) {
  if (x.dim() != 4 || x.stride(1) != 1) return 0;
  const int64_t ld = x.stride(3), w = x.size(3), h = x.size(2);
  if (ld < x.size(1) || x.stride(2) != w * ld || x.stride(0) != h * w * ld) return 0;
  return ld;
}

// C[M, N] = op(A) op(B) (row-major), VQI_CHECK on a oneDNN error (only bad arguments).
void Gemm(char ta, char tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float* c, int64_t ldc) {
  dnnl_status_t s = dnnl_sgemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
  VQI_CHECK_MSG(s == dnnl_success, "dnnl_sgemm failed");
}

// x as rows: the tensor itself when it is one, else a channels-last copy.
torch::Tensor AsRows(const torch::Tensor& x, int64_t* ld) {
  *ld = RowStride(x);
  if (*ld > 0) return x;
  auto c = x.contiguous(torch::MemoryFormat::ChannelsLast);
  *ld = c.size(1);
  return c;
}

struct Conv1x1Fn : torch::autograd::Function<Conv1x1Fn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& w) {
    ctx->save_for_backward({x, w});
    int64_t ldx;
    auto xr = AsRows(x, &ldx);
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3), co = w.size(0);
    auto wm = w.reshape({co, c}).contiguous();
    auto y =
        torch::empty({n, co, h, wd}, x.options().memory_format(torch::MemoryFormat::ChannelsLast));
    // Y[M, Co] = X[M, C] W[Co, C]^T
    Gemm('N', 'T', n * h * wd, co, c, xr.data_ptr<float>(), ldx, wm.data_ptr<float>(), c,
         y.data_ptr<float>(), co);
    return y;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w = saved[1];
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3), co = w.size(0);
    const int64_t m = n * h * wd;
    int64_t ldg, ldx;
    auto g = AsRows(grad[0], &ldg);
    auto xr = AsRows(x, &ldx);
    auto wm = w.reshape({co, c}).contiguous();
    torch::Tensor gx, gw;
    if (ctx->needs_input_grad(0)) {
      gx =
          torch::empty({n, c, h, wd}, x.options().memory_format(torch::MemoryFormat::ChannelsLast));
      // dX[M, C] = dY[M, Co] W[Co, C]
      Gemm('N', 'N', m, c, co, g.data_ptr<float>(), ldg, wm.data_ptr<float>(), c,
           gx.data_ptr<float>(), c);
    }
    if (ctx->needs_input_grad(1)) {
      gw = torch::empty({co, c}, w.options());
      // dW[Co, C] = dY[M, Co]^T X[M, C]
      Gemm('T', 'N', co, c, m, g.data_ptr<float>(), ldg, xr.data_ptr<float>(), ldx,
           gw.data_ptr<float>(), c);
      gw = gw.view({co, c, 1, 1});
    }
    return {gx, gw};
  }
};

}  // namespace

bool UseGemm1x1(const torch::Tensor& x, const torch::Tensor& w) {
  return w.dim() == 4 && w.size(2) == 1 && w.size(3) == 1 && w.size(1) == x.size(1) &&
         x.scalar_type() == torch::kFloat && w.scalar_type() == torch::kFloat && x.size(0) < 16 &&
         RowStride(x) > 0 && at::get_num_threads() == 1;
}

torch::Tensor Conv1x1(const torch::Tensor& x, const torch::Tensor& w) {
  return Conv1x1Fn::apply(x, w);
}

}  // namespace vqi::train
