// Depthwise convolution with a direct weight-gradient kernel (docs/speed.md#depthwise).
#pragma once
#include <torch/torch.h>

namespace rdarts {

// Whether `conv2d` sends eligible depthwise convolutions here (setDepthwiseKernel).
bool DepthwiseNativeEnabled();
void SetDepthwiseNativeEnabled(bool on);
// How many times the weight-gradient kernel ran (tests check that the path is taken).
int64_t DepthwiseKernelCalls();

// True when conv2d(x, w, bias, stride, padding, dilation, groups) is a case this path handles:
// CPU float/double, no bias, groups == channels in == channels out, one input channel per group,
// kernels of at most 64 on a side, and a padding that keeps the input-gradient convolution's
// padding non-negative.
bool DepthwiseEligible(const at::Tensor& x, const at::Tensor& w, bool hasBias, at::IntArrayRef stride,
                       at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups);

// y = depthwise conv2d(x, w), differentiable to any order in x and w.
at::Tensor DepthwiseConv2d(const at::Tensor& x, const at::Tensor& w, at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation);

// Average pooling (floor mode) as a depthwise convolution with a constant kernel: CPU float/double,
// 4-d input, padding at most half the kernel (as avg_pool2d requires).
bool AvgPoolEligible(const at::Tensor& x, at::IntArrayRef kernel, at::IntArrayRef stride, at::IntArrayRef padding);
at::Tensor AvgPool2d(const at::Tensor& x, at::IntArrayRef kernel, at::IntArrayRef stride, at::IntArrayRef padding, bool countIncludePad);

}  // namespace rdarts
