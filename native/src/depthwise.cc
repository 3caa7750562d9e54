// Depthwise convolution for the DARTS separable and dilated convolutions (docs/speed.md#depthwise).
//
// libtorch 1.13's CPU build (oneDNN 2.6) has a fast depthwise forward for every kernel size, but
// its backward-weights kernel is fast only for 3×3 without dilation; 5×5 and dilated depthwise
// convolutions fall back to im2col + GEMM, about 10× the forward's time (engine-notes §B). This
// file keeps libtorch's forward and replaces the backward:
//
//   input gradient   gx = depthwise conv of gO with the kernel flipped in both spatial axes and
//                    padding (k−1)·d − p (stride 1): again a forward convolution, so fast;
//   weight gradient  gw[c,i,j] = Σ_{b,y,x} gO[b,c,y,x] · x[b,c, y + i·d − p, x + j·d − p]:
//                    a direct loop, parallel over channels, one dot product per output row.
//
// Both are built from autograd Functions whose own backward is expressed through the same two
// (gw's input gradient is the input-gradient convolution with gw's incoming gradient as kernel;
// its gO-gradient is the forward convolution with it), so gradients of any order exist and the
// Hessian-vector products of the α-Hessian keep working.
//
// Only stride 1 is taken (the reduction cells' stride-2 edges stay on libtorch's path).

#include "depthwise.h"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

namespace rdarts {

namespace {

std::atomic<bool> g_enabled{false};
std::atomic<int64_t> g_calls{0};

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// x86-64: one copy per instruction set, picked when the addon loads; elsewhere the compiler's default.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RDARTS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define RDARTS_CLONES
#endif

// One channel's weight gradient, accumulated into acc[kh*kw] (double). The row dot products
// are summed in scalar_t in 16 lanes (which the compiler vectorises), then added in double.
#define RDARTS_DW_CHANNEL(NAME, scalar_t)                                                                            \
  RDARTS_CLONES void NAME(                                           \
      const scalar_t* x, const scalar_t* g, double* acc, int64_t B, int64_t planeX, int64_t planeG, int64_t H,     \
      int64_t W, int64_t Ho, int64_t Wo, int64_t kh, int64_t kw, int64_t ph, int64_t pw, int64_t dh, int64_t dw) { \
    for (int64_t b = 0; b < B; b++) {                                                                              \
      const scalar_t* xb = x + b * planeX;                                                                         \
      const scalar_t* gb = g + b * planeG;                                                                         \
      for (int64_t oy = 0; oy < Ho; oy++) {                                                                        \
        const scalar_t* grow = gb + oy * Wo;                                                                       \
        for (int64_t i = 0; i < kh; i++) {                                                                         \
          const int64_t iy = oy + i * dh - ph;                                                                     \
          if (iy < 0 || iy >= H) continue;                                                                         \
          const scalar_t* xrow = xb + iy * W;                                                                      \
          for (int64_t j = 0; j < kw; j++) {                                                                       \
            const int64_t off = j * dw - pw;                                                                       \
            const int64_t lo = std::max<int64_t>(0, -off);                                                         \
            const int64_t hi = std::min<int64_t>(Wo, W - off);                                                     \
            if (hi <= lo) continue;                                                                                \
            const scalar_t* a = grow + lo;                                                                         \
            const scalar_t* c = xrow + lo + off;                                                                   \
            const int64_t n = hi - lo;                                                                             \
            scalar_t part[16] = {0};                                                                               \
            int64_t t = 0;                                                                                         \
            for (; t + 16 <= n; t += 16)                                                                           \
              for (int l = 0; l < 16; l++) part[l] += a[t + l] * c[t + l];                                         \
            scalar_t s = 0;                                                                                        \
            for (; t < n; t++) s += a[t] * c[t];                                                                   \
            for (int l = 0; l < 16; l++) s += part[l];                                                             \
            acc[i * kw + j] += static_cast<double>(s);                                                             \
          }                                                                                                        \
        }                                                                                                          \
      }                                                                                                            \
    }                                                                                                              \
  }

RDARTS_DW_CHANNEL(ChannelWeightGradF, float)
RDARTS_DW_CHANNEL(ChannelWeightGradD, double)
#undef RDARTS_DW_CHANNEL

void ChannelWeightGrad(const float* x, const float* g, double* acc, int64_t B, int64_t pX, int64_t pG, int64_t H, int64_t W,
                       int64_t Ho, int64_t Wo, int64_t kh, int64_t kw, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
  ChannelWeightGradF(x, g, acc, B, pX, pG, H, W, Ho, Wo, kh, kw, ph, pw, dh, dw);
}
void ChannelWeightGrad(const double* x, const double* g, double* acc, int64_t B, int64_t pX, int64_t pG, int64_t H, int64_t W,
                       int64_t Ho, int64_t Wo, int64_t kh, int64_t kw, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
  ChannelWeightGradD(x, g, acc, B, pX, pG, H, W, Ho, Wo, kh, kw, ph, pw, dh, dw);
}

// The weight-gradient kernel proper (no autograd).
at::Tensor WeightGradKernel(const at::Tensor& xIn, const at::Tensor& gIn, int64_t kh, int64_t kw, int64_t ph, int64_t pw, int64_t dh,
                            int64_t dw) {
  g_calls.fetch_add(1);
  const at::Tensor x = xIn.contiguous();
  const at::Tensor g = gIn.contiguous();
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t Ho = g.size(2), Wo = g.size(3);
  TORCH_CHECK(g.size(0) == B && g.size(1) == C, "depthwise weight gradient: grad_output ", g.sizes(), " does not match input ", x.sizes());
  at::Tensor out = at::empty({C, 1, kh, kw}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "depthwise_weight_grad", [&] {
    const scalar_t* xp = x.data_ptr<scalar_t>();
    const scalar_t* gp = g.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    at::parallel_for(0, C, 1, [&](int64_t c0, int64_t c1) {
      std::vector<double> acc(static_cast<size_t>(kh * kw));
      for (int64_t c = c0; c < c1; c++) {
        std::fill(acc.begin(), acc.end(), 0.0);
        ChannelWeightGrad(xp + c * H * W, gp + c * Ho * Wo, acc.data(), B, C * H * W, C * Ho * Wo, H, W, Ho, Wo, kh, kw, ph, pw, dh, dw);
        for (int64_t k = 0; k < kh * kw; k++) op[c * kh * kw + k] = static_cast<scalar_t>(acc[static_cast<size_t>(k)]);
      }
    });
  });
  return out;
}

struct Geometry {
  int64_t ph, pw, dh, dw;
};

Geometry GeometryOf(AutogradContext* ctx) {
  return {ctx->saved_data["ph"].toInt(), ctx->saved_data["pw"].toInt(), ctx->saved_data["dh"].toInt(), ctx->saved_data["dw"].toInt()};
}

void SaveGeometry(AutogradContext* ctx, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
  ctx->saved_data["ph"] = ph;
  ctx->saved_data["pw"] = pw;
  ctx->saved_data["dh"] = dh;
  ctx->saved_data["dw"] = dw;
}

at::Tensor Conv(const at::Tensor& x, const at::Tensor& w, int64_t ph, int64_t pw, int64_t dh, int64_t dw);
at::Tensor WeightGrad(const at::Tensor& x, const at::Tensor& g, int64_t kh, int64_t kw, int64_t ph, int64_t pw, int64_t dh, int64_t dw);

// The input gradient of a stride-1 depthwise conv with kernel w: a depthwise conv of g with w
// flipped, padding (k−1)·d − p.
at::Tensor InputGrad(const at::Tensor& g, const at::Tensor& w, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
  const int64_t kh = w.size(2), kw = w.size(3);
  return Conv(g, w.flip({2, 3}), (kh - 1) * dh - ph, (kw - 1) * dw - pw, dh, dw);
}

struct DwConvFn : public torch::autograd::Function<DwConvFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
    ctx->save_for_backward({x, w});
    SaveGeometry(ctx, ph, pw, dh, dw);
    return at::conv2d(x, w, {}, {1, 1}, {ph, pw}, {dh, dw}, x.size(1));
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& w = saved[1];
    const Geometry q = GeometryOf(ctx);
    const at::Tensor& g = grads[0];
    at::Tensor gx, gw;
    if (ctx->needs_input_grad(0)) gx = InputGrad(g, w, q.ph, q.pw, q.dh, q.dw);
    if (ctx->needs_input_grad(1)) gw = WeightGrad(x, g, w.size(2), w.size(3), q.ph, q.pw, q.dh, q.dw);
    return {gx, gw, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct DwWeightGradFn : public torch::autograd::Function<DwWeightGradFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& g, int64_t kh, int64_t kw, int64_t ph, int64_t pw,
                            int64_t dh, int64_t dw) {
    ctx->save_for_backward({x, g});
    SaveGeometry(ctx, ph, pw, dh, dw);
    return WeightGradKernel(x, g, kh, kw, ph, pw, dh, dw);
  }
  // gw is bilinear in (x, g): with an incoming gradient ggw (a kernel), ∂/∂g is the forward conv
  // of x with ggw, and ∂/∂x is the input gradient of that conv applied to g.
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& g = saved[1];
    const Geometry q = GeometryOf(ctx);
    const at::Tensor& ggw = grads[0];
    at::Tensor gx, gg;
    if (ctx->needs_input_grad(0)) gx = InputGrad(g, ggw, q.ph, q.pw, q.dh, q.dw);
    if (ctx->needs_input_grad(1)) gg = Conv(x, ggw, q.ph, q.pw, q.dh, q.dw);
    return {gx, gg, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor Conv(const at::Tensor& x, const at::Tensor& w, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
  return DwConvFn::apply(x, w, ph, pw, dh, dw);
}

at::Tensor WeightGrad(const at::Tensor& x, const at::Tensor& g, int64_t kh, int64_t kw, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
  return DwWeightGradFn::apply(x, g, kh, kw, ph, pw, dh, dw);
}

int64_t At(at::IntArrayRef a, size_t i) { return a.size() == 1 ? a[0] : a[i]; }

}  // namespace

bool DepthwiseNativeEnabled() { return g_enabled.load(); }
void SetDepthwiseNativeEnabled(bool on) { g_enabled.store(on); }
int64_t DepthwiseKernelCalls() { return g_calls.load(); }

bool DepthwiseEligible(const at::Tensor& x, const at::Tensor& w, bool hasBias, at::IntArrayRef stride, at::IntArrayRef padding,
                       at::IntArrayRef dilation, int64_t groups) {
  if (hasBias || x.dim() != 4 || w.dim() != 4 || !x.device().is_cpu() || !w.device().is_cpu()) return false;
  if (x.scalar_type() != w.scalar_type() || (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble)) return false;
  const int64_t C = x.size(1);
  if (groups != C || w.size(0) != C || w.size(1) != 1) return false;
  if (stride.empty() || padding.empty() || dilation.empty()) return false;
  for (size_t i = 0; i < 2; i++) {
    if (At(stride, i) != 1) return false;
    const int64_t k = w.size(2 + static_cast<int64_t>(i));
    const int64_t p = At(padding, i), d = At(dilation, i);
    if (p < 0 || d < 1 || (k - 1) * d - p < 0) return false;
  }
  return true;
}

at::Tensor DepthwiseConv2d(const at::Tensor& x, const at::Tensor& w, at::IntArrayRef padding, at::IntArrayRef dilation) {
  return Conv(x, w, At(padding, 0), At(padding, 1), At(dilation, 0), At(dilation, 1));
}

at::Tensor DepthwiseWeightGrad(const at::Tensor& x, const at::Tensor& gO, int64_t kh, int64_t kw, at::IntArrayRef padding,
                               at::IntArrayRef dilation) {
  return WeightGrad(x, gO, kh, kw, At(padding, 0), At(padding, 1), At(dilation, 0), At(dilation, 1));
}

}  // namespace rdarts
