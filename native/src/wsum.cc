// A mixed node's weighted sum in one pass (docs/speed.md#weighted-sum).
//
// A node of a DARTS search cell is Σ_j Σ_o w_jo · o(x_j): every candidate op of every incoming edge,
// scaled by its architecture weight. Written with libtorch's ops that is, per term, a mul (a new
// tensor) and an add (another), and in the backward a mul for the term's gradient, a mul and a sum
// for the weight's: about 35 passes over memory per term pair where one pass forward and one pass
// backward are enough:
//
//   forward   y = Σ_k w[i_k] · t_k                       one pass over the K terms, block by block;
//   backward  ∂t_k = w[i_k] · g,  ∂w[i_k] += ⟨g, t_k⟩    one pass over g and the terms, writing the
//                                                        K term gradients and per-block dot products.
//
// The dot products are summed in double per fixed block of elements and then in block order, so the
// result does not depend on the number of threads. Under create_graph (the α-Hessian's double
// backward) the backward is written with differentiable ops instead (mul, sum, index_add), so
// gradients of every order exist.

#include "wsum.h"

#include "phase.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <atomic>
#include <vector>

namespace rdarts {

namespace {

std::atomic<int64_t> g_calls{0};

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

constexpr int64_t kBlock = 4096;  // elements per block: the unit of work and of the dot products' partial sums

// y[0, n) = Σ_k w[k] · t[k][0, n)
#define RDARTS_WSUM_FORWARD(NAME, scalar_t)                                                                                    \
  RDARTS_CLONES void NAME(const scalar_t* const* t, const scalar_t* w, int64_t K, scalar_t* __restrict y, int64_t n) {        \
    const int64_t full = n / 16 * 16; /* 16-wide blocks, which the compiler vectorises at -O2 */                               \
    {                                                                                                                          \
      const scalar_t* __restrict a = t[0];                                                                                     \
      const scalar_t w0 = w[0];                                                                                                \
      for (int64_t i = 0; i < full; i += 16)                                                                                   \
        for (int l = 0; l < 16; l++) y[i + l] = w0 * a[i + l];                                                                 \
      for (int64_t i = full; i < n; i++) y[i] = w0 * a[i];                                                                     \
    }                                                                                                                          \
    for (int64_t k = 1; k < K; k++) {                                                                                          \
      const scalar_t* __restrict a = t[k];                                                                                     \
      const scalar_t wk = w[k];                                                                                                \
      for (int64_t i = 0; i < full; i += 16)                                                                                   \
        for (int l = 0; l < 16; l++) y[i + l] += wk * a[i + l];                                                                \
      for (int64_t i = full; i < n; i++) y[i] += wk * a[i];                                                                    \
    }                                                                                                                          \
  }
RDARTS_WSUM_FORWARD(BlockForwardF, float)
RDARTS_WSUM_FORWARD(BlockForwardD, double)
#undef RDARTS_WSUM_FORWARD

// gt[k][0, n) = w[k] · g (where gt[k] is not null); dot[k] = Σ g · t[k] over [0, n) (where t[k] is not null)
#define RDARTS_WSUM_BACKWARD(NAME, scalar_t)                                                                                   \
  RDARTS_CLONES void NAME(const scalar_t* __restrict g, const scalar_t* const* t, scalar_t* const* gt, const scalar_t* w,      \
                          int64_t K, double* dot, int64_t n) {                                                                 \
    const int64_t full = n / 16 * 16; /* 16-wide blocks, which the compiler vectorises at -O2 */                               \
    for (int64_t k = 0; k < K; k++) {                                                                                          \
      if (gt[k] != nullptr) {                                                                                                  \
        scalar_t* __restrict o = gt[k];                                                                                        \
        const scalar_t wk = w[k];                                                                                              \
        for (int64_t i = 0; i < full; i += 16)                                                                                 \
          for (int l = 0; l < 16; l++) o[i + l] = wk * g[i + l];                                                               \
        for (int64_t i = full; i < n; i++) o[i] = wk * g[i];                                                                   \
      }                                                                                                                        \
      if (t[k] != nullptr) {                                                                                                   \
        const scalar_t* __restrict a = t[k];                                                                                   \
        scalar_t s[16] = {};                                                                                                   \
        for (int64_t i = 0; i < full; i += 16)                                                                                 \
          for (int l = 0; l < 16; l++) s[l] += g[i + l] * a[i + l];                                                            \
        double acc = 0;                                                                                                        \
        for (int l = 0; l < 16; l++) acc += static_cast<double>(s[l]);                                                         \
        for (int64_t i = full; i < n; i++) acc += static_cast<double>(g[i] * a[i]);                                            \
        dot[k] = acc;                                                                                                          \
      }                                                                                                                        \
    }                                                                                                                          \
  }
RDARTS_WSUM_BACKWARD(BlockBackwardF, float)
RDARTS_WSUM_BACKWARD(BlockBackwardD, double)
#undef RDARTS_WSUM_BACKWARD

void BlockForward(const float* const* t, const float* w, int64_t K, float* y, int64_t n) { BlockForwardF(t, w, K, y, n); }
void BlockForward(const double* const* t, const double* w, int64_t K, double* y, int64_t n) { BlockForwardD(t, w, K, y, n); }
void BlockBackward(const float* g, const float* const* t, float* const* gt, const float* w, int64_t K, double* dot, int64_t n) {
  BlockBackwardF(g, t, gt, w, K, dot, n);
}
void BlockBackward(const double* g, const double* const* t, double* const* gt, const double* w, int64_t K, double* dot, int64_t n) {
  BlockBackwardD(g, t, gt, w, K, dot, n);
}

// the K weights w[index[k]], as scalar_t on the host
template <typename scalar_t>
std::vector<scalar_t> Gather(const at::Tensor& w, const std::vector<int64_t>& index) {
  const at::Tensor wc = w.contiguous();
  const scalar_t* wp = wc.data_ptr<scalar_t>();
  std::vector<scalar_t> out(index.size());
  for (size_t k = 0; k < index.size(); k++) out[k] = wp[index[k]];
  return out;
}

at::Tensor ForwardKernel(const std::vector<at::Tensor>& termsIn, const at::Tensor& w, const std::vector<int64_t>& index) {
  RECORD_FUNCTION("rdarts::weighted_sum", std::vector<c10::IValue>());
  g_calls.fetch_add(1);
  std::vector<at::Tensor> terms;
  terms.reserve(termsIn.size());
  for (const auto& t : termsIn) terms.push_back(t.contiguous());
  const int64_t K = static_cast<int64_t>(terms.size()), n = terms[0].numel();
  at::Tensor y = at::empty(terms[0].sizes(), terms[0].options());
  AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "weighted_sum", [&] {
    const std::vector<scalar_t> wk = Gather<scalar_t>(w, index);
    std::vector<const scalar_t*> tp(static_cast<size_t>(K));
    for (int64_t k = 0; k < K; k++) tp[static_cast<size_t>(k)] = terms[static_cast<size_t>(k)].data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
      std::vector<const scalar_t*> tb(static_cast<size_t>(K));
      for (int64_t b = b0; b < b1; b++) {
        const int64_t i0 = b * kBlock, len = std::min(kBlock, n - i0);
        for (int64_t k = 0; k < K; k++) tb[static_cast<size_t>(k)] = tp[static_cast<size_t>(k)] + i0;
        BlockForward(tb.data(), wk.data(), K, yp + i0, len);
      }
    });
  });
  return y;
}

// The first-order backward: the term gradients (where wanted) and w's gradient (where wanted).
void BackwardKernel(const at::Tensor& gIn, const std::vector<at::Tensor>& terms, const at::Tensor& w, const std::vector<int64_t>& index,
                    const std::vector<bool>& wantTerm, bool wantW, std::vector<at::Tensor>& gt, at::Tensor& gw) {
  RECORD_FUNCTION("rdarts::weighted_sum_backward", std::vector<c10::IValue>());
  const at::Tensor g = gIn.contiguous();
  const int64_t K = static_cast<int64_t>(terms.size()), n = g.numel();
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  gt.assign(static_cast<size_t>(K), at::Tensor());
  for (int64_t k = 0; k < K; k++)
    if (wantTerm[static_cast<size_t>(k)]) gt[static_cast<size_t>(k)] = at::empty(g.sizes(), g.options());
  std::vector<at::Tensor> tc(static_cast<size_t>(K));
  if (wantW)
    for (int64_t k = 0; k < K; k++) tc[static_cast<size_t>(k)] = terms[static_cast<size_t>(k)].contiguous();
  std::vector<double> dots(static_cast<size_t>(wantW ? blocks * K : 0), 0.0);
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "weighted_sum_backward", [&] {
    const std::vector<scalar_t> wk = Gather<scalar_t>(w, index);
    const scalar_t* gp = g.data_ptr<scalar_t>();
    std::vector<const scalar_t*> tp(static_cast<size_t>(K), nullptr);
    std::vector<scalar_t*> op(static_cast<size_t>(K), nullptr);
    for (int64_t k = 0; k < K; k++) {
      if (wantW) tp[static_cast<size_t>(k)] = tc[static_cast<size_t>(k)].data_ptr<scalar_t>();
      if (gt[static_cast<size_t>(k)].defined()) op[static_cast<size_t>(k)] = gt[static_cast<size_t>(k)].data_ptr<scalar_t>();
    }
    at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
      std::vector<const scalar_t*> tb(static_cast<size_t>(K));
      std::vector<scalar_t*> ob(static_cast<size_t>(K));
      for (int64_t b = b0; b < b1; b++) {
        const int64_t i0 = b * kBlock, len = std::min(kBlock, n - i0);
        for (int64_t k = 0; k < K; k++) {
          tb[static_cast<size_t>(k)] = tp[static_cast<size_t>(k)] ? tp[static_cast<size_t>(k)] + i0 : nullptr;
          ob[static_cast<size_t>(k)] = op[static_cast<size_t>(k)] ? op[static_cast<size_t>(k)] + i0 : nullptr;
        }
        // without wantW every tb[k] is null, so no dot product is written
        BlockBackward(gp + i0, tb.data(), ob.data(), wk.data(), K, wantW ? dots.data() + b * K : nullptr, len);
      }
    });
  });
  if (wantW) {
    std::vector<double> total(static_cast<size_t>(w.numel()), 0.0);
    for (int64_t b = 0; b < blocks; b++)
      for (int64_t k = 0; k < K; k++) total[static_cast<size_t>(index[static_cast<size_t>(k)])] += dots[static_cast<size_t>(b * K + k)];
    gw = at::empty({w.numel()}, w.options());  // w is 1-d
    AT_DISPATCH_FLOATING_TYPES(gw.scalar_type(), "weighted_sum_wgrad", [&] {
      scalar_t* p = gw.data_ptr<scalar_t>();
      for (int64_t i = 0; i < w.numel(); i++) p[i] = static_cast<scalar_t>(total[static_cast<size_t>(i)]);
    });
  }
}

struct WeightedSumFn : public torch::autograd::Function<WeightedSumFn> {
  static at::Tensor forward(AutogradContext* ctx, at::TensorList terms, const at::Tensor& w, const std::vector<int64_t>& index) {
    std::vector<at::Tensor> save(terms.begin(), terms.end());
    save.push_back(w);
    ctx->save_for_backward(save);
    ctx->saved_data["index"] = c10::IValue(index);
    return ForwardKernel(std::vector<at::Tensor>(terms.begin(), terms.end()), w, index);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor w = saved.back();
    saved.pop_back();
    const std::vector<int64_t> index = ctx->saved_data["index"].toIntVector();
    const size_t K = saved.size();
    const at::Tensor& g = grads[0];
    std::vector<bool> wantTerm(K);
    for (size_t k = 0; k < K; k++) wantTerm[k] = ctx->needs_input_grad(k);
    const bool wantW = ctx->needs_input_grad(K);
    tensor_list out(K + 2);
    if (at::GradMode::is_enabled()) {
      // create_graph: the same gradients from differentiable ops
      std::vector<at::Tensor> dots;
      for (size_t k = 0; k < K; k++) {
        if (wantTerm[k]) out[k] = g.mul(w.select(0, index[k]));
        if (wantW) dots.push_back(g.mul(saved[k]).sum());
      }
      if (wantW) {
        const at::Tensor idx = at::tensor(index, at::TensorOptions().dtype(at::kLong));
        out[K] = at::zeros_like(w).index_add(0, idx, at::stack(dots));
      }
      return out;
    }
    std::vector<at::Tensor> gt;
    at::Tensor gw;
    BackwardKernel(g, saved, w, index, wantTerm, wantW, gt, gw);
    for (size_t k = 0; k < K; k++) out[k] = gt[k];
    out[K] = gw;
    return out;
  }
};

}  // namespace

int64_t WeightedSumKernelCalls() { return g_calls.load(); }

bool WeightedSumEligible(const std::vector<at::Tensor>& terms, const at::Tensor& w) {
  if (!w.device().is_cpu()) return false;
  const at::ScalarType st = terms[0].scalar_type();
  if ((st != at::kFloat && st != at::kDouble) || w.scalar_type() != st) return false;
  for (const auto& t : terms)
    if (!t.defined() || !t.device().is_cpu() || t.scalar_type() != st || t.sizes() != terms[0].sizes() || t.layout() != at::kStrided) return false;
  return terms[0].numel() > 0;
}

at::Tensor WeightedSum(const std::vector<at::Tensor>& terms, const at::Tensor& w, const std::vector<int64_t>& index) {
  bool grad = false;
  if (at::GradMode::is_enabled()) {
    grad = w.requires_grad();
    for (const auto& t : terms) grad = grad || t.requires_grad();
  }
  if (!grad) return ForwardKernel(terms, w, index);
  return WeightedSumFn::apply(at::TensorList(terms), w, index);
}

at::Tensor WeightedSumComposed(const std::vector<at::Tensor>& terms, const at::Tensor& w, const std::vector<int64_t>& index) {
  at::Tensor sum;
  for (size_t k = 0; k < terms.size(); k++) {
    at::Tensor term = terms[k].mul(w.select(0, index[k]));
    sum = sum.defined() ? sum.add(term) : term;
  }
  return sum;
}

}  // namespace rdarts
