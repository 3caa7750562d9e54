// A mixed node's weighted sum in one pass (docs/speed.md#weighted-sum).
#pragma once
#include <torch/torch.h>

#include <vector>

namespace rdarts {

// True when WeightedSum handles these terms: CPU float/double tensors of one shape, dtype and
// layout (contiguous), a 1-d weight vector of the same dtype, every index inside it.
bool WeightedSumEligible(const std::vector<at::Tensor>& terms, const at::Tensor& w, const std::vector<int64_t>& index);

// Σ_k w[index[k]] · terms[k], differentiable to any order in the terms and in w.
at::Tensor WeightedSum(const std::vector<at::Tensor>& terms, const at::Tensor& w, const std::vector<int64_t>& index);

// The same sum composed of libtorch's ops (mul and add), for the cases above that are not eligible.
at::Tensor WeightedSumComposed(const std::vector<at::Tensor>& terms, const at::Tensor& w, const std::vector<int64_t>& index);

int64_t WeightedSumKernelCalls();

}  // namespace rdarts
