// Fused Adam step, matching torch.optim.Adam's single-tensor path operation by operation: each
// line below is one of PyTorch's in-place tensor ops (mul_, add_, addcmul_, sqrt, div, add_,
// addcdiv_) in float, so the results agree to the rounding of fused multiply-adds.
#include "kernels/adam.h"

#include <cmath>

namespace kernels::cpu {

void adam_step(int64_t count, float* const* params, const float* const* grads, float* const* exp_avgs,
               float* const* exp_avg_sqs, const int64_t* sizes, AdamStepParams p) {
  for (int64_t t = 0; t < count; ++t) {
    float* param = params[t];
    const float* grad = grads[t];
    float* m = exp_avgs[t];
    float* v = exp_avg_sqs[t];
    const int64_t n = sizes[t];
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) {
      const float g = grad[i];
      m[i] = m[i] * p.beta1 + p.one_minus_beta1 * g;
      v[i] = v[i] * p.beta2 + p.one_minus_beta2 * g * g;  // addcmul_: value * t1 * t2
      const float denom = std::sqrt(v[i]) / p.bias_correction2_sqrt + p.eps;
      param[i] = param[i] + -p.step_size * m[i] / denom;  // addcdiv_: value * t1 / t2
    }
  }
}

}  // namespace kernels::cpu
