#pragma once
// Adam as torch.optim.Adam (L2 weight decay off, amsgrad off): with bias correction,
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
// Parameters whose .grad is undefined are skipped, as PyTorch does. The learning rate may change
// between steps. State (step count, m, v per parameter) can be saved and loaded by name.
#include <string>
#include <vector>

#include "engine/module.h"
#include "kernels/adam.h"

namespace engine {

// Doubles, as PyTorch's Python floats: 1 - beta2 is formed in double before rounding to float
// (float(1 - 0.999) and 1.f - 0.999f differ by 1.3e-5 relative, which v would inherit).
struct AdamOptions {
  double lr = 1e-4;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

class Adam {
 public:
  Adam(NamedTensors parameters, AdamOptions options);
  void step();
  // step() in two halves, for a CUDA graph (engine/cuda_graph.h) that captures apply_step:
  // begin_step advances the count and writes this step's bias-corrected scalars (from the
  // current lr) to a device tensor, outside the graph; apply_step updates the parameters reading
  // them there. The same values, so the same bits, as step(). With `finite_guard` (a one-element
  // tensor on the cuda device, e.g. the loss), the update of the cuda parameters is skipped on
  // the device when its value is not finite: parameters and moments stay as they were.
  void begin_step();
  void apply_step(const Tensor& finite_guard = Tensor());
  void zero_grad();
  void set_lr(double lr) { options_.lr = lr; }
  double lr() const { return options_.lr; }
  int64_t step_count() const { return step_; }
  const AdamOptions& options() const { return options_; }

  // "<name>.exp_avg", "<name>.exp_avg_sq" for every parameter, and "step" as a one-element tensor.
  // The moment tensors are the live state (the next step changes them): save before stepping on.
  // Format and update rule: docs/ops/adam.md.
  NamedTensors state() const;
  void load_state(const NamedTensors& state);  // throws naming a missing key or a shape mismatch

 private:
  kernels::AdamStepParams step_params() const;  // of step_, from the options
  void update(bool scalars_on_device, const Tensor& finite_guard);
  NamedTensors parameters_;
  std::vector<Tensor> exp_avg_, exp_avg_sq_;
  AdamOptions options_;
  int64_t step_ = 0;
  Tensor step_scalars_;  // {step_size, bias_correction2_sqrt} on the cuda device, by begin_step
  bool staged_ = false;  // begin_step ran and no apply_step since
};

}  // namespace engine
