// Batch norm that keeps its output instead of its input for the backward (docs/speed.md#batch-norm).
//
// In the search supernet every batch norm is affine-free and its output is kept anyway: by the
// mixed edge's weighted sum (the α gradient needs each op's output) or by the ReLU after it.
// libtorch's batch norm keeps its *input* for the backward, so each op holds two activations
// where one is enough: with y = (x − μ)·s, s = 1/√(σ² + ε), per channel over N·H·W = n values,
//
//   ∂L/∂x = s · (g − mean(g) − y · mean(g·y))
//
// needs only y and s. This file computes the forward with libtorch's native_batch_norm (running
// statistics included) and keeps y and s, so x is freed as soon as nothing else holds it: one
// activation less per batch norm, a quarter of a DARTS edge's saved tensors.
//
// First-order backward: libtorch's fused native_batch_norm_backward, given y as its "input" with
// mean 0 and 1/σ 1 and s as its "weight", which is the formula above. Under create_graph (the
// α-Hessian's double backward) the formula is written with differentiable ops instead; s is a
// second output of the function (∂s/∂x = −s²·y/n), so that its dependence on x is differentiated
// too.

#include "norm.h"

#include <torch/csrc/autograd/custom_function.h>

#include <atomic>
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

struct BatchNormFn : public torch::autograd::Function<BatchNormFn> {
  static tensor_list forward(AutogradContext* ctx, const at::Tensor& x, const c10::optional<at::Tensor>& runningMean,
                             const c10::optional<at::Tensor>& runningVar, double momentum, double eps) {
    g_calls.fetch_add(1);
    auto r = at::native_batch_norm(x, c10::nullopt, c10::nullopt, runningMean, runningVar, true, momentum, eps);
    at::Tensor y = std::get<0>(r), invstd = std::get<2>(r);
    ctx->save_for_backward({y, invstd});
    ctx->saved_data["eps"] = eps;
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
        const int64_t C = y.size(1);
        auto r = at::native_batch_norm_backward(g, y, s, c10::nullopt, c10::nullopt, at::zeros({C}, s.options()), at::ones({C}, s.options()), true,
                                                ctx->saved_data["eps"].toDouble(), {true, false, false});
        gx = std::get<0>(r);
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
