// Softmax cross-entropy per row (F.cross_entropy(reduction='none'), kernels/cross_entropy.h).
// Legend: N rows, K classes.
// Forward: one warp per row (rows are short: SARGAN has 7 classes). Lanes stride over the row,
// then a butterfly (__shfl_xor_sync) gives every lane the row's max, and a fixed shuffle tree
// the sum of exp(logit - max): no shared memory, no atomics, deterministic.
// Backward: one thread per logit, exp(logit - lse) from the forward's lse.
#include "common.cuh"
#include "kernels/cross_entropy.h"

#include <cmath>

namespace kernels::cuda {
namespace {

constexpr int cross_entropy_block = 256;  // 8 rows per block
constexpr int rows_per_block = cross_entropy_block / 32;

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

__global__ void cross_entropy_forward_kernel(int64_t n, int64_t k, const float* logits, const int64_t* labels,
                                             float* loss, float* lse) {
  const int64_t row = blockIdx.x * int64_t(rows_per_block) + threadIdx.x / 32;
  const unsigned lane = threadIdx.x % 32;
  if (row >= n) return;  // the whole warp leaves together; no block barrier in this kernel
  const float* z = logits + row * k;
  float max = -INFINITY;
  for (int64_t j = lane; j < k; j += 32) max = fmaxf(max, z[j]);
  max = warp_max(max);
  float total = 0.f;
  for (int64_t j = lane; j < k; j += 32) total += expf(z[j] - max);
  total = warp_sum(total);
  if (lane == 0) {
    const float log_sum_exp = max + logf(total);
    lse[row] = log_sum_exp;
    loss[row] = log_sum_exp - z[labels[row]];
  }
}

__global__ void cross_entropy_backward_kernel(int64_t n, int64_t k, const float* logits, const int64_t* labels,
                                              const float* lse, const float* dloss, float* dlogits) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n * k; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = i / k;
    float d = dloss[row] * expf(logits[i] - lse[row]);
    if (i - row * k == labels[row]) d -= dloss[row];  // as the CPU: subtract after scaling
    dlogits[i] = d;
  }
}

}  // namespace

void cross_entropy_forward(int64_t n, int64_t k, const float* logits, const int64_t* labels, float* loss,
                           float* lse) {
  if (n == 0) return;
  const int64_t blocks = (n + rows_per_block - 1) / rows_per_block;
  launch(cross_entropy_forward_kernel, {dim3(static_cast<unsigned>(blocks)), dim3(cross_entropy_block), 0, stream()},
         n, k, logits, labels, loss, lse);
}

void cross_entropy_backward(int64_t n, int64_t k, const float* logits, const int64_t* labels, const float* lse,
                            const float* dloss, float* dlogits) {
  if (n * k == 0) return;
  launch(cross_entropy_backward_kernel, {dim3(grid_for(n * k)), dim3(elementwise_block), 0, stream()}, n, k, logits,
         labels, lse, dloss, dlogits);
}

}  // namespace kernels::cuda
