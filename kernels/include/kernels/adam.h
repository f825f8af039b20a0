#pragma once
// One Adam step over many parameter tensors in one call (torch.optim.Adam, PyTorch 1.13
// _single_tensor_adam, no weight decay, no amsgrad), per element:
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2          (= in exp_avg, exp_avg_sq)
//   p -= step_size * m / (sqrt(v) / bias_correction2_sqrt + eps)          (= in param)
// with step_size = lr / (1 - beta1^t) and bias_correction2_sqrt = sqrt(1 - beta2^t), computed by the
// caller in double and passed rounded to float, as PyTorch's Python scalars reach its kernels.
// Tensor i has sizes[i] contiguous elements at params[i], grads[i], exp_avgs[i], exp_avg_sqs[i];
// the four pointers of a tensor address distinct memory. The pointer and size arrays themselves
// are host arrays (count entries) holding device pointers: the CUDA launcher packs them into its
// kernel arguments, so one launch can update every parameter of a model.
#include <cstdint>

namespace kernels {

struct AdamStepParams {
  float beta1;
  float beta2;
  float one_minus_beta1;        // 1 - beta1 rounded from double: float(1 - 0.999) != 1.f - 0.999f
  float one_minus_beta2;
  float eps;
  float step_size;              // lr / (1 - beta1^t)
  float bias_correction2_sqrt;  // sqrt(1 - beta2^t)
  // CUDA only, may be null: a device array {step_size, bias_correction2_sqrt} that the kernel
  // reads instead of the two fields above, so that a replayed CUDA graph takes each step's values
  // (its launch arguments are those of the capture). The CPU kernel requires null.
  const float* device_step_scalars;
  // CUDA only, may be null: a device scalar (a loss). When it is not finite, the launch leaves
  // every parameter and moment as it was: a graph's guard against applying a diverged step, whose
  // loss the host reads only after the replay. The CPU kernel requires null.
  const float* device_finite_guard;
};

namespace cpu {
void adam_step(int64_t count, float* const* params, const float* const* grads, float* const* exp_avgs,
               float* const* exp_avg_sqs, const int64_t* sizes, AdamStepParams p);
}
namespace cuda {
void adam_step(int64_t count, float* const* params, const float* const* grads, float* const* exp_avgs,
               float* const* exp_avg_sqs, const int64_t* sizes, AdamStepParams p);
}

}  // namespace kernels
