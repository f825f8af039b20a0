// x * sigmoid(a), a [N,1,H,W] broadcast over C channels (kernels/attention_gate.h).
// Forward: one thread per output element (coalesced along the plane). Backward: one thread per
// (n, pixel) walks the C channels, so the channel sum for da needs no atomics and no shared
// memory, and neighbouring threads touch neighbouring pixels (coalesced).
#include "common.cuh"
#include "kernels/attention_gate.h"

namespace kernels::cuda {
namespace {

__device__ __forceinline__ float sigmoid(float v) { return 1.f / (1.f + expf(-v)); }

__global__ void attention_gate_forward_kernel(int64_t n, int64_t c, int64_t hw, const float* x, const float* a,
                                              float* y) {
  const int64_t total = n * c * hw;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t pixel = i % hw, sample = i / (c * hw);
    y[i] = x[i] * sigmoid(a[sample * hw + pixel]);
  }
}

__global__ void attention_gate_backward_kernel(int64_t n, int64_t c, int64_t hw, const float* x, const float* a,
                                               const float* dy, float* dx, float* da) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n * hw; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t sample = i / hw, pixel = i % hw;
    const float s = sigmoid(a[i]);
    float dot = 0.f;
    for (int64_t channel = 0; channel < c; ++channel) {
      const int64_t at = (sample * c + channel) * hw + pixel;
      dx[at] = dy[at] * s;
      dot = fmaf(dy[at], x[at], dot);
    }
    da[i] = dot * s * (1.f - s);
  }
}

}  // namespace

void attention_gate_forward(int64_t n, int64_t c, int64_t hw, const float* x, const float* a, float* y) {
  if (n * c * hw == 0) return;
  launch(attention_gate_forward_kernel, {dim3(grid_for(n * c * hw)), dim3(elementwise_block), 0, stream()}, n, c, hw,
         x, a, y);
}

void attention_gate_backward(int64_t n, int64_t c, int64_t hw, const float* x, const float* a, const float* dy,
                             float* dx, float* da) {
  if (n * hw == 0) return;
  launch(attention_gate_backward_kernel, {dim3(grid_for(n * hw)), dim3(elementwise_block), 0, stream()}, n, c, hw, x,
         a, dy, dx, da);
}

}  // namespace kernels::cuda
