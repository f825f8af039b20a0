#pragma once
// WGAN-GP's penalty on a gradient g viewed as [n, m] (a sample per row):
//   forward:  norms[i] = ||g_i||_2 (=),  loss[0] = mean_i (norms[i] - 1)^2 (=)
//   backward: dg[i,:] = dloss[0] * 2 (norms[i] - 1) / (n norms[i]) * g[i,:] (=), and 0 for a
//             row whose norm is 0 (PyTorch's subgradient of the norm at 0).
// dloss and loss are one-element device buffers. Matches
// ((g.view(n, -1).norm(2, dim=1) - 1) ** 2).mean() in PyTorch.
#include <cstdint>

namespace kernels {
namespace cpu {
void gradient_penalty_forward(int64_t n, int64_t m, const float* g, float* norms, float* loss);
void gradient_penalty_backward(int64_t n, int64_t m, const float* g, const float* norms,
                               const float* dloss, float* dg);
}  // namespace cpu
namespace cuda {
void gradient_penalty_forward(int64_t n, int64_t m, const float* g, float* norms, float* loss);
void gradient_penalty_backward(int64_t n, int64_t m, const float* g, const float* norms,
                               const float* dloss, float* dg);
}  // namespace cuda
}  // namespace kernels
