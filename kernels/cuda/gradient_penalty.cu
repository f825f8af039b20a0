// WGAN-GP penalty (kernels/gradient_penalty.h). Forward: one block per sample sums g^2 with a
// fixed shuffle tree (deterministic, no atomics), then one block turns the n norms into the mean
// of (norm - 1)^2. Backward: elementwise, each element scaled by its sample's factor.
#include "common.cuh"
#include "kernels/gradient_penalty.h"

namespace kernels::cuda {
namespace {

constexpr int penalty_block = 256;

__global__ void gradient_penalty_norms_kernel(int64_t m, const float* g, float* norms) {
  __shared__ float scratch[32];
  const float* row = g + blockIdx.x * m;
  float partial = 0.f;
  for (int64_t j = threadIdx.x; j < m; j += blockDim.x) partial = fmaf(row[j], row[j], partial);
  const float squares = block_sum(partial, scratch);
  if (threadIdx.x == 0) norms[blockIdx.x] = sqrtf(squares);
}

__global__ void gradient_penalty_mean_kernel(int64_t n, const float* norms, float* loss) {
  __shared__ float scratch[32];
  float partial = 0.f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) partial += (norms[i] - 1.f) * (norms[i] - 1.f);
  const float total = block_sum(partial, scratch);
  if (threadIdx.x == 0) loss[0] = total / static_cast<float>(n);
}

__global__ void gradient_penalty_backward_kernel(int64_t n, int64_t m, const float* g, const float* norms,
                                                 const float* dloss, float* dg) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n * m; i += int64_t(gridDim.x) * blockDim.x) {
    const float norm = norms[i / m];
    const float scale = norm > 0.f ? dloss[0] * 2.f * (norm - 1.f) / (static_cast<float>(n) * norm) : 0.f;
    dg[i] = scale * g[i];
  }
}

}  // namespace

void gradient_penalty_forward(int64_t n, int64_t m, const float* g, float* norms, float* loss) {
  launch(gradient_penalty_norms_kernel, {dim3(static_cast<unsigned>(n)), dim3(penalty_block), 0, stream()}, m, g,
         norms);
  launch(gradient_penalty_mean_kernel, {dim3(1), dim3(penalty_block), 0, stream()}, n, norms, loss);
}

void gradient_penalty_backward(int64_t n, int64_t m, const float* g, const float* norms, const float* dloss,
                               float* dg) {
  if (n * m == 0) return;
  launch(gradient_penalty_backward_kernel, {dim3(grid_for(n * m)), dim3(elementwise_block), 0, stream()}, n, m, g,
         norms, dloss, dg);
}

}  // namespace kernels::cuda
