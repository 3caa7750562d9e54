// Batch norm that keeps its output instead of its input for the backward (docs/speed.md#batch-norm).
#pragma once
#include <torch/torch.h>

namespace rdarts {

// True when batch_norm(x, weight, bias, …, training) is a case this path handles: training mode,
// no affine parameters (the search supernet's batch norms), a CPU float/double input with a
// channel axis, and a gradient wanted for x.
bool BatchNormEligible(const at::Tensor& x, bool hasWeight, bool hasBias, bool training);

// y = batch_norm(x) in training mode (running statistics, when defined, updated as libtorch does).
// The backward needs only y and 1/σ, which it keeps; x is not kept. Differentiable to any order.
at::Tensor BatchNormTrain(const at::Tensor& x, const at::Tensor& runningMean, const at::Tensor& runningVar, double momentum, double eps);

int64_t BatchNormKernelCalls();

}  // namespace rdarts
