// x * sigmoid(a) with a [N,1,H,W] map broadcast over channels; the backward reduces over
// channels per pixel, in double for use as the reference of the CUDA kernel.
#include "kernels/attention_gate.h"

#include <cmath>

namespace kernels::cpu {
namespace {
inline float sigmoid(float v) { return 1.f / (1.f + std::exp(-v)); }
}  // namespace

void attention_gate_forward(int64_t n, int64_t c, int64_t hw, const float* x, const float* a, float* y) {
#pragma omp parallel for collapse(2) schedule(static) if (n * c * hw > 32768)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < c; ++j) {
      const float* gate = a + i * hw;
      const float* plane = x + (i * c + j) * hw;
      float* out = y + (i * c + j) * hw;
      for (int64_t p = 0; p < hw; ++p) out[p] = plane[p] * sigmoid(gate[p]);
    }
}

void attention_gate_backward(int64_t n, int64_t c, int64_t hw, const float* x, const float* a,
                             const float* dy, float* dx, float* da) {
#pragma omp parallel for schedule(static) if (n * c * hw > 32768)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < hw; ++p) {
      const float s = sigmoid(a[i * hw + p]);
      double dot = 0.0;
      for (int64_t j = 0; j < c; ++j) {
        const int64_t at = (i * c + j) * hw + p;
        dx[at] = dy[at] * s;
        dot += double(dy[at]) * x[at];
      }
      da[i * hw + p] = static_cast<float>(dot * s * (1.f - s));
    }
}

}  // namespace kernels::cpu
