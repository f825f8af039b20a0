#pragma once
// SARGAN's spatial attention gate: y[n,c,p] = x[n,c,p] * sigmoid(a[n,p]) over planes of hw
// pixels, a broadcast over the c channels. Backward (both =):
//   dx[n,c,p] = dy[n,c,p] * s[n,p],   da[n,p] = s (1 - s) * sum_c dy[n,c,p] x[n,c,p].
// Matches x * torch.sigmoid(a) in PyTorch.
#include <cstdint>

namespace kernels {
namespace cpu {
void attention_gate_forward(int64_t n, int64_t c, int64_t hw, const float* x, const float* a, float* y);
void attention_gate_backward(int64_t n, int64_t c, int64_t hw, const float* x, const float* a,
                             const float* dy, float* dx, float* da);
}  // namespace cpu
namespace cuda {
void attention_gate_forward(int64_t n, int64_t c, int64_t hw, const float* x, const float* a, float* y);
void attention_gate_backward(int64_t n, int64_t c, int64_t hw, const float* x, const float* a,
                             const float* dy, float* dx, float* da);
}  // namespace cuda
}  // namespace kernels
