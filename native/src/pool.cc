// Max pooling with a vectorised forward (docs/speed.md#max-pooling).
//
// libtorch 1.13's CPU max_pool2d_with_indices (NCHW) walks every window in scalar code, tracking a
// 64-bit index per output: in a DARTS search step it is about 8 % of PyTorch's own profile, more
// than the backward of all batch norms. DARTS' max_pool_3x3 (stride 1 in normal cells, 2 on the
// reduction cells' input edges, padding 1) is computed here instead, 16 outputs of a row at a
// time:
//
//   each input plane is first copied into sw "phase" planes padded with −∞ (phase r holds padded
//   columns r, r + sw, …), so that tap j of the outputs ox = 0, 1, … reads one contiguous run
//   (phase j mod sw, from ⌊j / sw⌋); rows outside the input are skipped, as libtorch does;
//   every tap updates the running maximum where its value is greater, or NaN (libtorch's rule:
//   the first maximum in row-major window order wins, a NaN always does); −∞ padding never wins,
//   so the index starts at the window's first position inside the input, as in libtorch.
//
// For the backward only the winner's position in its window is kept, one byte per output (libtorch
// keeps a 64-bit index and the input: 2 activations' worth of memory per pooling, in float32). The
// backward scatters the output gradient to those positions; the scatter's derivative is the
// matching gather and the gather's is the scatter, so gradients of any order exist (the α-Hessian's
// double backward) and are bitwise libtorch's (the same additions in the same order). With no
// gradient wanted no positions are kept at all.

#include "pool.h"
#include "phase.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <vector>

namespace rdarts {

namespace {

std::atomic<int64_t> g_calls{0};

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

struct PoolGeometry {
  int64_t H, W, Ho, Wo, kh, kw, sh, sw, ph, pw;
  int64_t Wv;  // Wo rounded up to 16
  int64_t Wq;  // a phase plane's row length
};

PoolGeometry GeometryOf(int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw) {
  const int64_t Ho = (H + 2 * ph - kh) / sh + 1, Wo = (W + 2 * pw - kw) / sw + 1;
  const int64_t Wv = (Wo + 15) / 16 * 16;
  return {H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, Wv, (kw - 1) / sw + Wv};
}

// One plane: y[Ho·Wo] and, when tap is not null, tap[Ho·Wo]: the winner's position in its window,
// i·kw + j (one byte). P: sw·H·Wq scratch; off: PhaseOffsets(kw, 1, sw, H, Wq), computed once per
// call. index_t is as wide as scalar_t so that the compare's mask selects the code lanes directly.
#define RDARTS_MAXPOOL_PLANE(NAME, scalar_t, index_t)                                                                                   \
  RDARTS_CLONES void NAME(const scalar_t* __restrict x, scalar_t* __restrict y, uint8_t* __restrict tap, scalar_t* __restrict P,    \
                          const int64_t* __restrict off, const PoolGeometry& q) {                                                  \
    const scalar_t ninf = -std::numeric_limits<scalar_t>::infinity();                                                                \
    const int64_t H = q.H, W = q.W, Wv = q.Wv, Wq = q.Wq, sw = q.sw;                                                                 \
    std::fill(P, P + sw * H * Wq, ninf);                                                                                             \
    FillPhases(x, P, H, W, H, 0, Wq, sw, q.pw);                                                                                      \
    for (int64_t oy = 0; oy < q.Ho; oy++) {                                                                                          \
      const int64_t top = oy * q.sh - q.ph, lo = std::max<int64_t>(top, 0), hi = std::min<int64_t>(top + q.kh, H);                   \
      for (int64_t v = 0; v < Wv; v += 16) {                                                                                         \
        /* 16 outputs' running maxima and winners, in registers over the window */                                                  \
        scalar_t m[16];                                                                                                              \
        index_t w[16];                                                                                                               \
        for (int l = 0; l < 16; l++) {                                                                                               \
          m[l] = ninf;                                                                                                               \
          /* the window's first position inside the input: libtorch's starting index */                                             \
          w[l] = static_cast<index_t>((lo - top) * q.kw + std::max<int64_t>(q.pw - (v + l) * sw, 0));                                \
        }                                                                                                                            \
        for (int64_t ih = lo; ih < hi; ih++)                                                                                         \
          for (int64_t j = 0; j < q.kw; j++) {                                                                                       \
            const scalar_t* __restrict row = P + ih * Wq + off[j] + v;                                                               \
            if (tap) {                                                                                                               \
              const index_t code = static_cast<index_t>((ih - top) * q.kw + j);                                                      \
              for (int l = 0; l < 16; l++) {                                                                                         \
                const scalar_t s = row[l];                                                                                           \
                const bool u = (s > m[l]) | (s != s);                                                                                \
                m[l] = u ? s : m[l];                                                                                                 \
                w[l] = u ? code : w[l];                                                                                              \
              }                                                                                                                      \
            } else {                                                                                                                 \
              for (int l = 0; l < 16; l++) {                                                                                         \
                const scalar_t s = row[l];                                                                                           \
                const bool u = (s > m[l]) | (s != s);                                                                                \
                m[l] = u ? s : m[l];                                                                                                 \
              }                                                                                                                      \
            }                                                                                                                        \
          }                                                                                                                          \
        const int64_t n = std::min<int64_t>(16, q.Wo - v);                                                                           \
        for (int64_t l = 0; l < n; l++) y[oy * q.Wo + v + l] = m[l];                                                                 \
        if (tap)                                                                                                                     \
          for (int64_t l = 0; l < n; l++) tap[oy * q.Wo + v + l] = static_cast<uint8_t>(w[l]);                                       \
      }                                                                                                                              \
    }                                                                                                                                \
  }

RDARTS_MAXPOOL_PLANE(MaxPoolPlaneF, float, int32_t)
RDARTS_MAXPOOL_PLANE(MaxPoolPlaneD, double, int64_t)
#undef RDARTS_MAXPOOL_PLANE

void MaxPoolPlane(const float* x, float* y, uint8_t* tap, float* P, const int64_t* off, const PoolGeometry& q) { MaxPoolPlaneF(x, y, tap, P, off, q); }
void MaxPoolPlane(const double* x, double* y, uint8_t* tap, double* P, const int64_t* off, const PoolGeometry& q) { MaxPoolPlaneD(x, y, tap, P, off, q); }

// values (and tap codes when withTaps) of max_pool2d over every plane, in parallel over planes
std::pair<at::Tensor, at::Tensor> Kernel(const at::Tensor& xIn, const PoolGeometry& q, bool withTaps) {
  RECORD_FUNCTION("rdarts::max_pool2d", std::vector<c10::IValue>());
  g_calls.fetch_add(1);
  const at::Tensor x = xIn.contiguous();
  const int64_t N = x.size(0), C = x.size(1);
  at::Tensor y = at::empty({N, C, q.Ho, q.Wo}, x.options());
  at::Tensor taps = withTaps ? at::empty({N, C, q.Ho, q.Wo}, x.options().dtype(at::kByte)) : at::Tensor();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "rdarts_max_pool2d", [&] {
    const scalar_t* xp = x.data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    uint8_t* tp = withTaps ? taps.data_ptr<uint8_t>() : nullptr;
    const std::vector<int64_t> off = PhaseOffsets(q.kw, 1, q.sw, q.H, q.Wq);
    // planes of 32×32 are small: a few per task
    at::parallel_for(0, N * C, 8, [&](int64_t p0, int64_t p1) {
      std::vector<scalar_t> P(static_cast<size_t>(q.sw * q.H * q.Wq));
      const int64_t plane = q.Ho * q.Wo;
      for (int64_t p = p0; p < p1; p++) MaxPoolPlane(xp + p * q.H * q.W, yp + p * plane, tp ? tp + p * plane : nullptr, P.data(), off.data(), q);
    });
  });
  return {y, taps};
}

// f(p, o, i) for every output o of plane p (in row-major order) and i, its winner's place in the
// input plane; planes in parallel. start(p), when given, runs before plane p's outputs. A tap code
// t = i·kw + j stands for the offset i·W + j from the window's corner: one table lookup per output
// instead of a division and a remainder.
template <typename S, typename F>
void ForEachWinner(const uint8_t* tp, const PoolGeometry& q, int64_t planes, const S& start, const F& f) {
  std::vector<int64_t> shift(static_cast<size_t>(q.kh * q.kw));
  for (int64_t t = 0; t < q.kh * q.kw; t++) shift[static_cast<size_t>(t)] = (t / q.kw) * q.W + t % q.kw;
  const int64_t* sh = shift.data();
  at::parallel_for(0, planes, 8, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; p++) {
      start(p);
      const uint8_t* tr = tp + p * q.Ho * q.Wo;
      for (int64_t oy = 0; oy < q.Ho; oy++) {
        const int64_t corner = (oy * q.sh - q.ph) * q.W - q.pw;
        const uint8_t* trow = tr + oy * q.Wo;
        for (int64_t ox = 0; ox < q.Wo; ox++) f(p, oy * q.Wo + ox, corner + ox * q.sw + sh[trow[ox]]);
      }
    }
  });
}

// The two linear maps of the backward, by tap code: scatter (gradient of the output → gradient of
// the input: each output's gradient added at its winner's position) and gather (its adjoint: each
// output picks the value at its winner's position). Each is the other's derivative, so the
// backward is differentiable to any order.
at::Tensor Scatter(const at::Tensor& gIn, const at::Tensor& taps, const PoolGeometry& q) {
  RECORD_FUNCTION("rdarts::max_pool2d_scatter", std::vector<c10::IValue>());
  const at::Tensor g = gIn.contiguous();
  const int64_t N = g.size(0), C = g.size(1), in = q.H * q.W, outs = q.Ho * q.Wo;
  // each plane is zeroed just before its scatter, while it is in cache (not one pass over all first)
  at::Tensor out = at::empty({N, C, q.H, q.W}, g.options());
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "rdarts_max_pool2d_scatter", [&] {
    const scalar_t* gp = g.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    ForEachWinner(
        taps.data_ptr<uint8_t>(), q, N * C, [&](int64_t p) { std::fill(op + p * in, op + (p + 1) * in, scalar_t(0)); },
        [&](int64_t p, int64_t o, int64_t i) { op[p * in + i] += gp[p * outs + o]; });
  });
  return out;
}

at::Tensor Gather(const at::Tensor& vIn, const at::Tensor& taps, const PoolGeometry& q) {
  RECORD_FUNCTION("rdarts::max_pool2d_gather", std::vector<c10::IValue>());
  const at::Tensor v = vIn.contiguous();
  const int64_t N = v.size(0), C = v.size(1), in = q.H * q.W, outs = q.Ho * q.Wo;
  at::Tensor out = at::empty({N, C, q.Ho, q.Wo}, v.options());
  AT_DISPATCH_FLOATING_TYPES(v.scalar_type(), "rdarts_max_pool2d_gather", [&] {
    const scalar_t* vp = v.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    ForEachWinner(
        taps.data_ptr<uint8_t>(), q, N * C, [](int64_t) {}, [&](int64_t p, int64_t o, int64_t i) { op[p * outs + o] = vp[p * in + i]; });
  });
  return out;
}

PoolGeometry LoadGeometry(AutogradContext* ctx) {
  const auto v = ctx->saved_data["q"].toIntVector();
  return GeometryOf(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
}

at::Tensor ScatterOp(const at::Tensor& g, const at::Tensor& taps, const PoolGeometry& q);
at::Tensor GatherOp(const at::Tensor& v, const at::Tensor& taps, const PoolGeometry& q);

struct ScatterFn : public torch::autograd::Function<ScatterFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& g, const at::Tensor& taps, std::vector<int64_t> geometry) {
    ctx->save_for_backward({taps});
    ctx->saved_data["q"] = geometry;
    return Scatter(g, taps, LoadGeometry(ctx));
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    return {GatherOp(grads[0], ctx->get_saved_variables()[0], LoadGeometry(ctx)), at::Tensor(), at::Tensor()};
  }
};

struct GatherFn : public torch::autograd::Function<GatherFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& v, const at::Tensor& taps, std::vector<int64_t> geometry) {
    ctx->save_for_backward({taps});
    ctx->saved_data["q"] = geometry;
    return Gather(v, taps, LoadGeometry(ctx));
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    return {ScatterOp(grads[0], ctx->get_saved_variables()[0], LoadGeometry(ctx)), at::Tensor(), at::Tensor()};
  }
};

std::vector<int64_t> GeometryVector(const PoolGeometry& q) { return {q.H, q.W, q.kh, q.kw, q.sh, q.sw, q.ph, q.pw}; }
at::Tensor ScatterOp(const at::Tensor& g, const at::Tensor& taps, const PoolGeometry& q) { return ScatterFn::apply(g, taps, GeometryVector(q)); }
at::Tensor GatherOp(const at::Tensor& v, const at::Tensor& taps, const PoolGeometry& q) { return GatherFn::apply(v, taps, GeometryVector(q)); }

struct MaxPoolFn : public torch::autograd::Function<MaxPoolFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, std::vector<int64_t> geometry) {
    ctx->saved_data["q"] = geometry;
    auto [y, taps] = Kernel(x, LoadGeometry(ctx), true);
    ctx->save_for_backward({taps});
    return y;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    return {ScatterOp(grads[0], ctx->get_saved_variables()[0], LoadGeometry(ctx)), at::Tensor()};
  }
};

int64_t At(at::IntArrayRef a, size_t i) { return a.size() == 1 ? a[0] : a[i]; }

}  // namespace

int64_t MaxPoolKernelCalls() { return g_calls.load(); }

bool MaxPoolEligible(const at::Tensor& x, at::IntArrayRef kernel, at::IntArrayRef stride, at::IntArrayRef padding,
                     at::IntArrayRef dilation, bool ceilMode) {
  if (ceilMode || x.dim() != 4 || !x.device().is_cpu() || (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble)) return false;
  if (kernel.empty() || stride.empty() || padding.empty()) return false;
  if (x.size(2) * x.size(3) >= (int64_t{1} << 31)) return false;
  for (size_t i = 0; i < 2; i++) {
    const int64_t k = At(kernel, i), s = At(stride, i), p = At(padding, i), n = x.size(2 + static_cast<int64_t>(i));
    const int64_t d = dilation.empty() ? 1 : At(dilation, i);
    if (d != 1 || k < 1 || s < 1 || p < 0 || 2 * p > k || n + 2 * p < k) return false;
  }
  return At(kernel, 0) * At(kernel, 1) <= 256;  // a window position fits in a byte
}

at::Tensor MaxPool2d(const at::Tensor& x, at::IntArrayRef kernel, at::IntArrayRef stride, at::IntArrayRef padding) {
  const PoolGeometry q = GeometryOf(x.size(2), x.size(3), At(kernel, 0), At(kernel, 1), At(stride, 0), At(stride, 1), At(padding, 0), At(padding, 1));
  if (at::GradMode::is_enabled() && x.requires_grad()) return MaxPoolFn::apply(x, GeometryVector(q));
  return Kernel(x, q, false).first;
}

}  // namespace rdarts
