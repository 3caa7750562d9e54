// 1×1 convolutions with direct kernels (docs/speed.md#pointwise).
#pragma once
#include <torch/torch.h>

namespace rdarts {

// How many times a pointwise kernel ran (tests check that the path is taken).
int64_t PointwiseKernelCalls();

// True when conv2d(x, w, bias, stride, padding, dilation, groups) is a case this path handles:
// CPU float/double, no bias, a 1×1 kernel, stride 1, no padding, no dilation, one group, and at most
// kMaxPointwiseChannels channels in and out (wider convolutions stay on oneDNN).
bool PointwiseEligible(const at::Tensor& x, const at::Tensor& w, bool hasBias, at::IntArrayRef stride, at::IntArrayRef padding,
                       at::IntArrayRef dilation, int64_t groups);

// y = conv2d(x, w) for a 1×1 kernel, differentiable to any order in x and w.
at::Tensor PointwiseConv2d(const at::Tensor& x, const at::Tensor& w);

}  // namespace rdarts
