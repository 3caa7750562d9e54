// 1×1 convolutions (docs/speed.md#pointwise).
//
// A DARTS search network is full of small 1×1 convolutions: two in every separable conv, one in
// every dilated conv, the cells' preprocessing. With 16–64 channels they are a few multiply-adds
// per byte, so their cost is memory traffic. oneDNN (libtorch 1.13's CPU path) reorders the NCHW
// input into its blocked layout and the result back, on every call, forward and backward: three
// passes over each tensor where one would do. Here, per image, y[co, p] = Σ_ci w[co, ci] · x[ci, p]
// is computed directly in NCHW:
//
//   forward and input gradient  one kernel (Mix): for 32 pixels at a time, the Ci input rows stay
//                in L1 while pairs of output rows are summed in registers, 32 lanes each;
//                the input gradient is the same kernel with wᵀ;
//   weight gradient  gw[co, ci] = Σ_{b,p} g[b, co, p] · x[b, ci, p]: for 2 × 4 (co, ci) pairs at a
//                time, one vector of lanes each over the pixels in registers, one double per
//                image, then summed over the images in order.
//
// Work is split over images and pixel blocks (forward) or images and output channels (weight
// gradient) in a fixed partition, so the result does not depend on the thread count. The
// autograd Functions' backward is written with the same two Functions (the input gradient is a
// pointwise conv with wᵀ; the weight gradient is bilinear in x and g, and its own derivatives are
// pointwise convs), so gradients of any order exist: the α-Hessian's double backward.

#include "pointwise.h"
#include "phase.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <atomic>
#include <vector>

namespace rdarts {

namespace {

// Wider convolutions stay on oneDNN: its blocked GEMM wins once the channels make them compute
// bound (docs/speed.md#pointwise has the measurements behind the limit).
constexpr int64_t kMaxPointwiseChannels = 128;

std::atomic<int64_t> g_calls{0};

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

constexpr int64_t kLanes = 32;  // pixels per block of the forward kernel

// GCC vector types of 32 bytes (8 floats, 4 doubles), loaded and stored unaligned: written out
// this way the accumulators stay in registers (a plain 32-lane array loop is vectorised with
// the accumulators in memory, a load and a store per multiply-add).
typedef float V8f __attribute__((vector_size(32)));
typedef float V8fu __attribute__((vector_size(32), aligned(4)));
typedef double V4d __attribute__((vector_size(32)));
typedef double V4du __attribute__((vector_size(32), aligned(8)));

// out[co][0, 32) = Σ_ci m[co·Ci + ci] · rows[ci][0, 32) for co in [0, Co): rows are Ci runs of 32
// values; out rows are written to out + co·ld. Pairs of output rows share each loaded input run.
#define RDARTS_PW_MIX(NAME, scalar_t, vec_t, uvec_t)                                                                           \
  RDARTS_CLONES void NAME(const scalar_t* const* rows, const scalar_t* __restrict m, int64_t Ci, int64_t Co, scalar_t* out,  \
                          int64_t ld) {                                                                                      \
    constexpr int V = sizeof(vec_t) / sizeof(scalar_t), NV = kLanes / V;                                                     \
    for (int64_t co = 0; co < Co; co += 2) {                                                                                 \
      const bool two = co + 1 < Co;                                                                                          \
      const scalar_t* __restrict m0 = m + co * Ci;                                                                           \
      const scalar_t* __restrict m1 = two ? m0 + Ci : m0;                                                                    \
      vec_t a0[NV], a1[NV];                                                                                                  \
      for (int j = 0; j < NV; j++) a0[j] = a1[j] = vec_t{};                                                                  \
      for (int64_t ci = 0; ci < Ci; ci++) {                                                                                  \
        const scalar_t* r = rows[ci];                                                                                        \
        const vec_t w0 = vec_t{} + m0[ci], w1 = vec_t{} + m1[ci];                                                            \
        _Pragma("GCC unroll 8") for (int j = 0; j < NV; j++) {                                                               \
          const vec_t v = *reinterpret_cast<const uvec_t*>(r + j * V);                                                       \
          a0[j] += w0 * v;                                                                                                   \
          a1[j] += w1 * v;                                                                                                   \
        }                                                                                                                    \
      }                                                                                                                      \
      scalar_t* o0 = out + co * ld;                                                                                          \
      _Pragma("GCC unroll 8") for (int j = 0; j < NV; j++) *reinterpret_cast<uvec_t*>(o0 + j * V) = a0[j];                   \
      if (two) {                                                                                                             \
        scalar_t* o1 = o0 + ld;                                                                                              \
        _Pragma("GCC unroll 8") for (int j = 0; j < NV; j++) *reinterpret_cast<uvec_t*>(o1 + j * V) = a1[j];                 \
      }                                                                                                                      \
    }                                                                                                                        \
  }
RDARTS_PW_MIX(MixF, float, V8f, V8fu)
RDARTS_PW_MIX(MixD, double, V4d, V4du)
#undef RDARTS_PW_MIX

void Mix(const float* const* rows, const float* m, int64_t Ci, int64_t Co, float* out, int64_t ld) { MixF(rows, m, Ci, Co, out, ld); }
void Mix(const double* const* rows, const double* m, int64_t Ci, int64_t Co, double* out, int64_t ld) { MixD(rows, m, Ci, Co, out, ld); }

// y[b, co, p] = Σ_ci m[co, ci] · x[b, ci, p] (no autograd): x [B, Ci, H, W], m [Co, Ci] contiguous.
at::Tensor MixKernel(const at::Tensor& xIn, const at::Tensor& m, const char* name) {
  RECORD_FUNCTION(name, std::vector<c10::IValue>());
  g_calls.fetch_add(1);
  const at::Tensor x = xIn.contiguous();
  const int64_t B = x.size(0), Ci = x.size(1), H = x.size(2), W = x.size(3), HW = H * W, Co = m.size(0);
  TORCH_CHECK(m.size(1) == Ci, "pointwise conv: ", Ci, " input channels against a ", m.sizes(), " kernel");
  at::Tensor y = at::empty({B, Co, H, W}, x.options());
  const int64_t blocks = (HW + kLanes - 1) / kLanes;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "pointwise_mix", [&] {
    const scalar_t* xp = x.data_ptr<scalar_t>();
    const scalar_t* mp = m.data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    at::parallel_for(0, B * blocks, 16, [&](int64_t t0, int64_t t1) {
      std::vector<const scalar_t*> rows(static_cast<size_t>(Ci));
      std::vector<scalar_t> tailIn, tailOut;  // the last block of a plane when HW is not a multiple of 32
      for (int64_t t = t0; t < t1; t++) {
        const int64_t b = t / blocks, p0 = (t % blocks) * kLanes, n = std::min(kLanes, HW - p0);
        const scalar_t* xb = xp + b * Ci * HW + p0;
        scalar_t* yb = yp + b * Co * HW + p0;
        if (n == kLanes) {
          for (int64_t ci = 0; ci < Ci; ci++) rows[static_cast<size_t>(ci)] = xb + ci * HW;
          Mix(rows.data(), mp, Ci, Co, yb, HW);
          continue;
        }
        tailIn.assign(static_cast<size_t>(Ci * kLanes), scalar_t(0));
        tailOut.resize(static_cast<size_t>(Co * kLanes));
        for (int64_t ci = 0; ci < Ci; ci++) {
          std::copy(xb + ci * HW, xb + ci * HW + n, tailIn.data() + ci * kLanes);
          rows[static_cast<size_t>(ci)] = tailIn.data() + ci * kLanes;
        }
        Mix(rows.data(), mp, Ci, Co, tailOut.data(), kLanes);
        for (int64_t co = 0; co < Co; co++) std::copy(tailOut.data() + co * kLanes, tailOut.data() + co * kLanes + n, yb + co * HW);
      }
    });
  });
  return y;
}

// acc[i·4 + k] = Σ_{m<images} Σ_{p<n} g_i[m·lg + p] · x_k[m·lx + p] for the 2 gradient rows g_i
// and 4 input rows x_k of `images` consecutive images (lg and lx apart): one 32-byte vector of lanes per
// (i, k) in registers over all their pixels, then the lanes and the tails summed in order in double.
#define RDARTS_PW_DOTS(NAME, scalar_t, vec_t, uvec_t)                                                                          \
  RDARTS_CLONES void NAME(const scalar_t* const* g, const scalar_t* const* x, int64_t images, int64_t lg, int64_t lx,         \
                          int64_t n, double* acc) {                                                                          \
    constexpr int V = sizeof(vec_t) / sizeof(scalar_t);                                                                      \
    vec_t s[8];                                                                                                              \
    for (int k = 0; k < 8; k++) s[k] = vec_t{};                                                                              \
    double tail[8] = {};                                                                                                     \
    const int64_t full = n / V * V;                                                                                          \
    for (int64_t m = 0; m < images; m++) {                                                                                   \
      const scalar_t* g0 = g[0] + m * lg;                                                                                    \
      const scalar_t* g1 = g[1] + m * lg;                                                                                    \
      const scalar_t* xm[4] = {x[0] + m * lx, x[1] + m * lx, x[2] + m * lx, x[3] + m * lx};                                  \
      for (int64_t p = 0; p < full; p += V) {                                                                                \
        const vec_t a = *reinterpret_cast<const uvec_t*>(g0 + p), b = *reinterpret_cast<const uvec_t*>(g1 + p);              \
        _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) {                                                                \
          const vec_t v = *reinterpret_cast<const uvec_t*>(xm[k] + p);                                                       \
          s[k] += a * v;                                                                                                     \
          s[4 + k] += b * v;                                                                                                 \
        }                                                                                                                    \
      }                                                                                                                      \
      for (int64_t p = full; p < n; p++)                                                                                     \
        for (int k = 0; k < 4; k++) {                                                                                        \
          tail[k] += static_cast<double>(g0[p] * xm[k][p]);                                                                  \
          tail[4 + k] += static_cast<double>(g1[p] * xm[k][p]);                                                              \
        }                                                                                                                    \
    }                                                                                                                        \
    for (int k = 0; k < 8; k++) {                                                                                            \
      double t = 0;                                                                                                          \
      for (int l = 0; l < V; l++) t += static_cast<double>(s[k][l]);                                                         \
      acc[k] = t + tail[k];                                                                                                  \
    }                                                                                                                        \
  }
RDARTS_PW_DOTS(DotsF, float, V8f, V8fu)
RDARTS_PW_DOTS(DotsD, double, V4d, V4du)
#undef RDARTS_PW_DOTS

void Dots(const float* const* g, const float* const* x, int64_t images, int64_t lg, int64_t lx, int64_t n, double* acc) {
  DotsF(g, x, images, lg, lx, n, acc);
}
void Dots(const double* const* g, const double* const* x, int64_t images, int64_t lg, int64_t lx, int64_t n, double* acc) {
  DotsD(g, x, images, lg, lx, n, acc);
}

// gw[co, ci, 0, 0] = Σ_{b,p} g[b, co, p] · x[b, ci, p] (no autograd). The images are taken in
// fixed groups of about 1024 pixels (one image of 32×32, four of 16×16, …), whose sums stay in the
// lanes; the groups' sums are added in order in double. The partition depends on the shape only.
at::Tensor WeightGradKernel(const at::Tensor& xIn, const at::Tensor& gIn) {
  RECORD_FUNCTION("rdarts::pointwise_weight_grad", std::vector<c10::IValue>());
  g_calls.fetch_add(1);
  const at::Tensor x = xIn.contiguous();
  const at::Tensor g = gIn.contiguous();
  const int64_t B = x.size(0), Ci = x.size(1), HW = x.size(2) * x.size(3), Co = g.size(1);
  TORCH_CHECK(g.size(0) == B && g.size(2) * g.size(3) == HW, "pointwise weight gradient: grad_output ", g.sizes(), " does not match input ",
              x.sizes());
  at::Tensor out = at::empty({Co, Ci, 1, 1}, x.options());
  const int64_t per = std::max<int64_t>(1, std::min<int64_t>(B, 1024 / HW)), groups = (B + per - 1) / per;
  // tasks: (group, pair of output channels); each writes its own 2·Ci doubles of part
  const int64_t pairs = (Co + 1) / 2;
  // part, then the Co·Ci totals: one tensor, so that it comes from the addon's caching allocator
  // (vectors this size would be mapped and unmapped by malloc on every call)
  const int64_t nPart = groups * pairs * 2 * Ci;
  at::Tensor scratch = at::zeros({nPart + Co * Ci}, x.options().dtype(at::kDouble));
  double* part = scratch.data_ptr<double>();
  double* sum = part + nPart;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "pointwise_weight_grad", [&] {
    const scalar_t* xp = x.data_ptr<scalar_t>();
    const scalar_t* gp = g.data_ptr<scalar_t>();
    at::parallel_for(0, groups * pairs, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; t++) {
        const int64_t grp = t / pairs, co = (t % pairs) * 2, b0 = grp * per, images = std::min(per, B - b0);
        // a missing second row (odd Co) repeats the first; its sums are not kept
        const scalar_t* gr[2] = {gp + (b0 * Co + co) * HW, gp + (b0 * Co + std::min(co + 1, Co - 1)) * HW};
        double* acc = part + t * 2 * Ci;
        for (int64_t ci = 0; ci < Ci; ci += 4) {
          const scalar_t* xr[4];
          for (int k = 0; k < 4; k++) xr[k] = xp + (b0 * Ci + std::min(ci + k, Ci - 1)) * HW;
          double s[8];
          Dots(gr, xr, images, Co * HW, Ci * HW, HW, s);
          for (int i = 0; i < 2; i++)
            for (int k = 0; k < 4 && ci + k < Ci; k++) acc[i * Ci + ci + k] = s[i * 4 + k];
        }
      }
    });
    // Σ over the groups in order, group by group (contiguous reads)
    for (int64_t grp = 0; grp < groups; grp++)
      for (int64_t co = 0; co < Co; co++) {
        const double* src = part + ((grp * pairs + co / 2) * 2 + co % 2) * Ci;
        double* dst = sum + co * Ci;
        for (int64_t ci = 0; ci < Ci; ci++) dst[ci] += src[ci];
      }
    scalar_t* op = out.data_ptr<scalar_t>();
    for (int64_t k = 0; k < Co * Ci; k++) op[k] = static_cast<scalar_t>(sum[k]);
  });
  return out;
}

at::Tensor Conv(const at::Tensor& x, const at::Tensor& w);
at::Tensor WeightGrad(const at::Tensor& x, const at::Tensor& g);

// w [Co, Ci, 1, 1] → wᵀ as a [Ci, Co, 1, 1] kernel (differentiable: it is libtorch's own ops)
at::Tensor Transposed(const at::Tensor& w) { return w.reshape({w.size(0), w.size(1)}).t().contiguous().reshape({w.size(1), w.size(0), 1, 1}); }

struct PwConvFn : public torch::autograd::Function<PwConvFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w) {
    ctx->save_for_backward({x, w});
    return MixKernel(x, w.reshape({w.size(0), w.size(1)}).contiguous(), "rdarts::pointwise_conv2d");
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &w = saved[1], &g = grads[0];
    at::Tensor gx, gw;
    if (ctx->needs_input_grad(0)) gx = Conv(g, Transposed(w));
    if (ctx->needs_input_grad(1)) gw = WeightGrad(x, g);
    return {gx, gw};
  }
};

// gw = WeightGrad(x, g) is bilinear: with an incoming gradient ggw (a kernel), ∂/∂x is the pointwise
// conv of g with ggwᵀ and ∂/∂g the pointwise conv of x with ggw.
struct PwWeightGradFn : public torch::autograd::Function<PwWeightGradFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& g) {
    ctx->save_for_backward({x, g});
    return WeightGradKernel(x, g);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &g = saved[1], &ggw = grads[0];
    at::Tensor gx, gg;
    if (ctx->needs_input_grad(0)) gx = Conv(g, Transposed(ggw));
    if (ctx->needs_input_grad(1)) gg = Conv(x, ggw);
    return {gx, gg};
  }
};

at::Tensor Conv(const at::Tensor& x, const at::Tensor& w) { return PwConvFn::apply(x, w); }
at::Tensor WeightGrad(const at::Tensor& x, const at::Tensor& g) { return PwWeightGradFn::apply(x, g); }

bool AllOnes(at::IntArrayRef a) {
  return std::all_of(a.begin(), a.end(), [](int64_t v) { return v == 1; });
}
bool AllZeros(at::IntArrayRef a) {
  return std::all_of(a.begin(), a.end(), [](int64_t v) { return v == 0; });
}

}  // namespace

int64_t PointwiseKernelCalls() { return g_calls.load(); }

bool PointwiseEligible(const at::Tensor& x, const at::Tensor& w, bool hasBias, at::IntArrayRef stride, at::IntArrayRef padding,
                       at::IntArrayRef dilation, int64_t groups) {
  if (hasBias || groups != 1 || x.dim() != 4 || w.dim() != 4 || !x.device().is_cpu() || !w.device().is_cpu()) return false;
  if (x.scalar_type() != w.scalar_type() || (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble)) return false;
  if (w.size(2) != 1 || w.size(3) != 1 || w.size(1) != x.size(1)) return false;
  if (stride.empty() || !AllOnes(stride) || !AllZeros(padding) || (!dilation.empty() && !AllOnes(dilation))) return false;
  if (x.size(0) < 1 || x.size(2) * x.size(3) < 1) return false;
  return x.size(1) <= kMaxPointwiseChannels && w.size(0) <= kMaxPointwiseChannels;
}

at::Tensor PointwiseConv2d(const at::Tensor& x, const at::Tensor& w) { return Conv(x, w); }

}  // namespace rdarts
