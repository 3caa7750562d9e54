// Max pooling with a vectorised forward (docs/speed.md#max-pooling).
#pragma once
#include <torch/torch.h>

namespace rdarts {

// True when max_pool2d(x, kernel, stride, padding, dilation, ceilMode) is a case this path handles:
// a 4-d CPU float/double input, dilation 1, floor mode, padding at most half the kernel (libtorch's
// own rule), at most 256 window positions, and a non-empty output.
bool MaxPoolEligible(const at::Tensor& x, at::IntArrayRef kernel, at::IntArrayRef stride, at::IntArrayRef padding,
                     at::IntArrayRef dilation, bool ceilMode);

// y = max_pool2d(x): values and, when a gradient will be asked for, each output's winner (the first
// maximum in row-major window order, a NaN winning: libtorch's rule) as one byte. The backward
// scatters to the winners; it is differentiable to any order (scatter and gather).
at::Tensor MaxPool2d(const at::Tensor& x, at::IntArrayRef kernel, at::IntArrayRef stride, at::IntArrayRef padding);

// How many times the kernel ran (tests check that the path is taken).
int64_t MaxPoolKernelCalls();

}  // namespace rdarts
