// A mixed node's weighted sum in one pass (docs/speed.md#weighted-sum).
#pragma once
#include <torch/torch.h>

#include <vector>

namespace rdarts {

// The arguments of the three functions below are checked by the caller (addon.cc's weightedSum):
// at least one term, one index per term, w 1-d, every index inside it.

// True when WeightedSum handles these terms: CPU float/double strided tensors of one shape and
// dtype (non-contiguous ones are copied), and a weight vector of the same dtype.
bool WeightedSumEligible(const std::vector<at::Tensor>& terms, const at::Tensor& w);

// Σ_k w[index[k]] · terms[k], differentiable to any order in the terms and in w.
at::Tensor WeightedSum(const std::vector<at::Tensor>& terms, const at::Tensor& w, const std::vector<int64_t>& index);

// The same sum composed of libtorch's ops (mul and add), for the cases above that are not eligible.
at::Tensor WeightedSumComposed(const std::vector<at::Tensor>& terms, const at::Tensor& w, const std::vector<int64_t>& index);

int64_t WeightedSumKernelCalls();

}  // namespace rdarts
