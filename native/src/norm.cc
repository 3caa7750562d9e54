// Batch norm that keeps its output instead of its input for the backward (docs/speed.md#batch-norm).
//
// In the search supernet every batch norm is affine-free and its output is kept anyway: by the
// mixed edge's weighted sum (the α gradient needs each op's output) or by the ReLU after it.
// libtorch's batch norm keeps its *input* for the backward, so each op holds two activations
// where one is enough: with y = (x − μ)·s, s = 1/√(σ² + ε), per channel over N·H·W = n values,
//
//   ∂L/∂x = s · (g − mean(g) − y · mean(g·y))
//
// needs only y and s. This file computes the forward itself (running statistics included) and
// keeps y and s, so x is freed as soon as nothing else holds it: one activation less per batch
// norm, a quarter of a DARTS edge's saved tensors.
//
// The forward is a direct kernel: libtorch 1.13's training-mode native_batch_norm on CPU takes
// 10–15× a copy of its input (B32 C16 16×16: 0.21 against 0.015 ms), most of it collecting the
// statistics. Here, per channel (in parallel over channels): the mean, then the variance as the
// mean of squared deviations (two passes, as libtorch does), both summed in double over eight
// running sums, then y = x·s − μ·s in the input's type.
//
// First-order backward: a direct kernel of the formula above (per channel Σg and Σg·y in double,
// then one pass). Under create_graph (the
// α-Hessian's double backward) the formula is written with differentiable ops instead; s is a
// second output of the function (∂s/∂x = −s²·y/n), so that its dependence on x is differentiated
// too.

#include "norm.h"
#include "phase.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <atomic>
#include <cmath>
#include <type_traits>
#include <vector>

namespace rdarts {

namespace {

std::atomic<int64_t> g_calls{0};

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// the reduction axes (all but the channel axis) and a shape that broadcasts a [C] vector over x
std::vector<int64_t> ReduceDims(int64_t dim) {
  std::vector<int64_t> d{0};
  for (int64_t i = 2; i < dim; i++) d.push_back(i);
  return d;
}
std::vector<int64_t> ChannelShape(const at::Tensor& x) {
  std::vector<int64_t> s(static_cast<size_t>(x.dim()), 1);
  s[1] = x.size(1);
  return s;
}

// The eight running sums of a channel, added pairwise in a fixed order.
inline double Sum8(const double* a) { return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])); }

// One channel's statistics over its N planes of `plane` values (stride `stride` between planes):
// Σx and then Σ(x − μ)², each in double over eight running sums.
#define RDARTS_BN_STATS(NAME, scalar_t)                                                                                       \
  RDARTS_CLONES void NAME(const scalar_t* __restrict x, int64_t N, int64_t plane, int64_t stride, double* mean, double* var) {  \
    double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                                                    \
    const int64_t body = plane / 8 * 8;                                                                                       \
    for (int64_t b = 0; b < N; b++) {                                                                                         \
      const scalar_t* p = x + b * stride;                                                                                     \
      for (int64_t i = 0; i < body; i += 8)                                                                                   \
        for (int l = 0; l < 8; l++) a[l] += static_cast<double>(p[i + l]);                                                    \
      for (int64_t i = body; i < plane; i++) a[i - body] += static_cast<double>(p[i]);                                        \
    }                                                                                                                         \
    const double n = static_cast<double>(N * plane);                                                                          \
    const double mu = Sum8(a) / n;                                                                                            \
    double q[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                                                    \
    for (int64_t b = 0; b < N; b++) {                                                                                         \
      const scalar_t* p = x + b * stride;                                                                                     \
      for (int64_t i = 0; i < body; i += 8)                                                                                   \
        for (int l = 0; l < 8; l++) {                                                                                         \
          const double d = static_cast<double>(p[i + l]) - mu;                                                                \
          q[l] += d * d;                                                                                                      \
        }                                                                                                                     \
      for (int64_t i = body; i < plane; i++) {                                                                                \
        const double d = static_cast<double>(p[i]) - mu;                                                                      \
        q[i - body] += d * d;                                                                                                 \
      }                                                                                                                       \
    }                                                                                                                         \
    *mean = mu;                                                                                                               \
    *var = Sum8(q) / n;                                                                                                       \
  }

RDARTS_BN_STATS(ChannelStatsF, float)
RDARTS_BN_STATS(ChannelStatsD, double)
#undef RDARTS_BN_STATS

void ChannelStats(const float* x, int64_t N, int64_t plane, int64_t stride, double* mean, double* var) {
  ChannelStatsF(x, N, plane, stride, mean, var);
}
void ChannelStats(const double* x, int64_t N, int64_t plane, int64_t stride, double* mean, double* var) {
  ChannelStatsD(x, N, plane, stride, mean, var);
}

#define RDARTS_BN_APPLY(NAME, scalar_t)                                                                                       \
  RDARTS_CLONES void NAME(const scalar_t* __restrict x, scalar_t* __restrict y, int64_t N, int64_t plane, int64_t stride,     \
                          scalar_t scale, scalar_t shift) {                                                                   \
    for (int64_t b = 0; b < N; b++) {                                                                                         \
      const scalar_t* p = x + b * stride;                                                                                     \
      scalar_t* o = y + b * stride;                                                                                           \
      const int64_t body = plane / 16 * 16; /* 16-wide blocks, which the compiler vectorises at -O2 */                          \
      for (int64_t i = 0; i < body; i += 16)                                                                                  \
        for (int l = 0; l < 16; l++) o[i + l] = p[i + l] * scale + shift;                                                     \
      for (int64_t i = body; i < plane; i++) o[i] = p[i] * scale + shift;                                                     \
    }                                                                                                                         \
  }

RDARTS_BN_APPLY(ChannelApplyF, float)
RDARTS_BN_APPLY(ChannelApplyD, double)
#undef RDARTS_BN_APPLY

void ChannelApply(const float* x, float* y, int64_t N, int64_t plane, int64_t stride, float scale, float shift) {
  ChannelApplyF(x, y, N, plane, stride, scale, shift);
}
void ChannelApply(const double* x, double* y, int64_t N, int64_t plane, int64_t stride, double scale, double shift) {
  ChannelApplyD(x, y, N, plane, stride, scale, shift);
}

// One channel's backward sums over its N planes: Σg and Σg·y, in double over eight running sums.
#define RDARTS_BN_GRAD_SUMS(NAME, scalar_t)                                                                                   \
  RDARTS_CLONES void NAME(const scalar_t* __restrict g, const scalar_t* __restrict y, int64_t N, int64_t plane, int64_t stride, \
                          double* sumG, double* sumGY) {                                                                      \
    double a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, q[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                  \
    const int64_t body = plane / 8 * 8;                                                                                       \
    for (int64_t b = 0; b < N; b++) {                                                                                         \
      const scalar_t* gp = g + b * stride;                                                                                    \
      const scalar_t* yp = y + b * stride;                                                                                    \
      for (int64_t i = 0; i < body; i += 8)                                                                                   \
        for (int l = 0; l < 8; l++) {                                                                                         \
          const double gv = static_cast<double>(gp[i + l]);                                                                   \
          a[l] += gv;                                                                                                         \
          q[l] += gv * static_cast<double>(yp[i + l]);                                                                        \
        }                                                                                                                     \
      for (int64_t i = body; i < plane; i++) {                                                                                \
        const double gv = static_cast<double>(gp[i]);                                                                         \
        a[i - body] += gv;                                                                                                    \
        q[i - body] += gv * static_cast<double>(yp[i]);                                                                       \
      }                                                                                                                       \
    }                                                                                                                         \
    *sumG = Sum8(a);                                                                                                          \
    *sumGY = Sum8(q);                                                                                                         \
  }

RDARTS_BN_GRAD_SUMS(ChannelGradSumsF, float)
RDARTS_BN_GRAD_SUMS(ChannelGradSumsD, double)
#undef RDARTS_BN_GRAD_SUMS

void ChannelGradSums(const float* g, const float* y, int64_t N, int64_t plane, int64_t stride, double* sg, double* sgy) {
  ChannelGradSumsF(g, y, N, plane, stride, sg, sgy);
}
void ChannelGradSums(const double* g, const double* y, int64_t N, int64_t plane, int64_t stride, double* sg, double* sgy) {
  ChannelGradSumsD(g, y, N, plane, stride, sg, sgy);
}

// gx = s·g − s·mean(g) − (s·mean(g·y))·y
#define RDARTS_BN_GRAD_APPLY(NAME, scalar_t)                                                                                  \
  RDARTS_CLONES void NAME(const scalar_t* __restrict g, const scalar_t* __restrict y, scalar_t* __restrict gx, int64_t N,      \
                          int64_t plane, int64_t stride, scalar_t s, scalar_t shift, scalar_t k) {                            \
    const int64_t body = plane / 16 * 16;                                                                                     \
    for (int64_t b = 0; b < N; b++) {                                                                                         \
      const scalar_t* gp = g + b * stride;                                                                                    \
      const scalar_t* yp = y + b * stride;                                                                                    \
      scalar_t* o = gx + b * stride;                                                                                          \
      for (int64_t i = 0; i < body; i += 16)                                                                                  \
        for (int l = 0; l < 16; l++) o[i + l] = gp[i + l] * s - shift - k * yp[i + l];                                        \
      for (int64_t i = body; i < plane; i++) o[i] = gp[i] * s - shift - k * yp[i];                                            \
    }                                                                                                                         \
  }

RDARTS_BN_GRAD_APPLY(ChannelGradApplyF, float)
RDARTS_BN_GRAD_APPLY(ChannelGradApplyD, double)
#undef RDARTS_BN_GRAD_APPLY

void ChannelGradApply(const float* g, const float* y, float* gx, int64_t N, int64_t plane, int64_t stride, float s, float shift, float k) {
  ChannelGradApplyF(g, y, gx, N, plane, stride, s, shift, k);
}
void ChannelGradApply(const double* g, const double* y, double* gx, int64_t N, int64_t plane, int64_t stride, double s, double shift,
                      double k) {
  ChannelGradApplyD(g, y, gx, N, plane, stride, s, shift, k);
}

// The first-order backward proper (no autograd): ∂L/∂x = s · (g − mean(g) − y · mean(g·y)).
at::Tensor BackwardKernel(const at::Tensor& gIn, const at::Tensor& yIn, const at::Tensor& sIn) {
  RECORD_FUNCTION("rdarts::batch_norm_backward", std::vector<c10::IValue>());
  const at::Tensor g = gIn.contiguous();
  const at::Tensor y = yIn.contiguous();
  const at::Tensor s = sIn.contiguous();
  const int64_t N = y.size(0), C = y.size(1), plane = y.numel() / (N * C);
  at::Tensor gx = at::empty_like(y, at::MemoryFormat::Contiguous);
  const double n = static_cast<double>(N * plane);
  AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "batch_norm_backward", [&] {
    const scalar_t* gp = g.data_ptr<scalar_t>();
    const scalar_t* yp = y.data_ptr<scalar_t>();
    const scalar_t* sp = s.data_ptr<scalar_t>();
    scalar_t* op = gx.data_ptr<scalar_t>();
    at::parallel_for(0, C, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; c++) {
        double sg = 0, sgy = 0;
        ChannelGradSums(gp + c * plane, yp + c * plane, N, plane, C * plane, &sg, &sgy);
        const double sc = static_cast<double>(sp[c]);
        ChannelGradApply(gp + c * plane, yp + c * plane, op + c * plane, N, plane, C * plane, sp[c], static_cast<scalar_t>(sc * sg / n),
                         static_cast<scalar_t>(sc * sgy / n));
      }
    });
  });
  return gx;
}

// Training-mode batch norm without affine parameters: y and 1/σ (per channel, x's type); the
// running statistics, when given, updated in place as libtorch does (momentum · batch value +
// (1 − momentum) · running value, the variance unbiased).
std::pair<at::Tensor, at::Tensor> ForwardKernel(const at::Tensor& xIn, const c10::optional<at::Tensor>& runningMean,
                                                const c10::optional<at::Tensor>& runningVar, double momentum, double eps) {
  RECORD_FUNCTION("rdarts::batch_norm", std::vector<c10::IValue>());
  const at::Tensor x = xIn.contiguous();
  const int64_t N = x.size(0), C = x.size(1), plane = x.numel() / (N * C);
  at::Tensor y = at::empty_like(x, at::MemoryFormat::Contiguous);
  std::vector<double> mean(static_cast<size_t>(C)), var(static_cast<size_t>(C));
  at::Tensor invstd = at::empty({C}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "batch_norm_forward", [&] {
    const scalar_t* xp = x.data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    scalar_t* sp = invstd.data_ptr<scalar_t>();
    at::parallel_for(0, C, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; c++) {
        double mu = 0, v = 0;
        ChannelStats(xp + c * plane, N, plane, C * plane, &mu, &v);
        const double s = 1.0 / std::sqrt(v + eps);
        mean[static_cast<size_t>(c)] = mu;
        var[static_cast<size_t>(c)] = v;
        sp[c] = static_cast<scalar_t>(s);
        ChannelApply(xp + c * plane, yp + c * plane, N, plane, C * plane, static_cast<scalar_t>(s), static_cast<scalar_t>(-mu * s));
      }
    });
  });
  const double n = static_cast<double>(N * plane);
  // momentum · batch value + (1 − momentum) · running value, in double as libtorch computes it;
  // in place for the usual contiguous float/double buffers, else through a double copy
  const auto update = [&](const c10::optional<at::Tensor>& running, const std::vector<double>& batch, double scale) {
    if (!running.has_value() || !running->defined()) return;
    at::Tensor r = *running;
    const auto rule = [&](auto* p) {
      for (int64_t c = 0; c < C; c++) {
        const double next = momentum * batch[static_cast<size_t>(c)] * scale + (1 - momentum) * static_cast<double>(p[c]);
        p[c] = static_cast<std::remove_pointer_t<decltype(p)>>(next);
      }
    };
    if (r.is_contiguous() && r.numel() == C && (r.scalar_type() == at::kFloat || r.scalar_type() == at::kDouble)) {
      if (r.scalar_type() == at::kFloat) rule(r.data_ptr<float>());
      else rule(r.data_ptr<double>());
      r.unsafeGetTensorImpl()->bump_version();  // an in-place write, as libtorch's own update counts it
      return;
    }
    at::NoGradGuard noGrad;
    at::Tensor d = r.to(at::kDouble, /*non_blocking=*/false, /*copy=*/true).contiguous();
    rule(d.data_ptr<double>());
    r.copy_(d);
  };
  update(runningMean, mean, 1.0);
  update(runningVar, var, n > 1 ? n / (n - 1) : 1.0);
  return {y, invstd};
}

struct BatchNormFn : public torch::autograd::Function<BatchNormFn> {
  static tensor_list forward(AutogradContext* ctx, const at::Tensor& x, const c10::optional<at::Tensor>& runningMean,
                             const c10::optional<at::Tensor>& runningVar, double momentum, double eps) {
    g_calls.fetch_add(1);
    auto [y, invstd] = ForwardKernel(x, runningMean, runningVar, momentum, eps);
    ctx->save_for_backward({y, invstd});
    ctx->set_materialize_grads(false);  // 1/σ is rarely used: no zero gradient for it
    return {y, invstd};
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& y = saved[0];
    const at::Tensor& s = saved[1];
    const at::Tensor& g = grads[0];
    const at::Tensor& gs = grads[1];
    const int64_t n = y.numel() / y.size(1);
    const auto dims = ReduceDims(y.dim());
    const auto cs = ChannelShape(y);
    at::Tensor gx;
    if (g.defined()) {
      if (at::GradMode::is_enabled()) {
        // written so that only tensors alive anyway (g, y) and per-channel ones are kept for the
        // next derivative: g·s − mean(g)·s − y·(mean(g·y)·s)
        const at::Tensor sb = s.view(cs);
        gx = g * sb - g.mean(dims, true) * sb - y * ((g * y).mean(dims, true) * sb);
      } else {
        gx = BackwardKernel(g, y, s);
      }
    }
    if (gs.defined()) {
      // ∂s/∂x = −s²·y/n per channel
      const at::Tensor t = y * (gs * s * s).div(-static_cast<double>(n)).view(cs);
      gx = gx.defined() ? gx + t : t;
    }
    return {gx, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

int64_t BatchNormKernelCalls() { return g_calls.load(); }

bool BatchNormEligible(const at::Tensor& x, bool hasWeight, bool hasBias, bool training) {
  if (!training || hasWeight || hasBias || x.dim() < 2 || !x.device().is_cpu()) return false;
  if (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble) return false;
  return at::GradMode::is_enabled() && x.requires_grad() && x.numel() > x.size(1);
}

at::Tensor BatchNormTrain(const at::Tensor& x, const at::Tensor& runningMean, const at::Tensor& runningVar, double momentum, double eps) {
  const auto opt = [](const at::Tensor& t) { return t.defined() ? c10::optional<at::Tensor>(t) : c10::nullopt; };
  return BatchNormFn::apply(x, opt(runningMean), opt(runningVar), momentum, eps)[0];
}

}  // namespace rdarts
