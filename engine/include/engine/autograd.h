#pragma once
// Reverse-mode autograd on a define-by-run graph, with PyTorch's semantics.
//
// Every differentiable op calls `record` with its inputs, its output and a backward function. The
// backward function is written with Tensor ops, so when a gradient is computed with
// create_graph = true the backward pass is itself recorded and can be differentiated again (the
// WGAN-GP penalty trains the critic through d critic / d input). A backward that calls a fused,
// non-differentiable kernel marks its result with `once_differentiable`, which fails loudly if a
// second-order pass reaches it instead of giving a silent zero.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace engine {

using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

// A recorded op: the backward function and one edge per input (null where the input needs no
// gradient). Saved tensors live in the backward function's captures and are freed by release().
struct Node {
  std::string name;
  Shape output_shape;
  Device output_device;
  std::vector<std::shared_ptr<Node>> next;
  BackwardFn backward;
  bool accumulates_leaf = false;   // a leaf's gradient accumulator: sums into leaf->grad
  std::weak_ptr<TensorImpl> leaf;
  bool released = false;

  void release() {
    backward = nullptr;
    released = true;
  }
};

// Records `output = op(inputs)` when grad mode is on and an input requires grad; returns output.
// Capture only inputs (or `output.detach()`) in `backward`: capturing `output` itself would make a
// reference cycle.
Tensor record(const char* name, const std::vector<Tensor>& inputs, Tensor output, BackwardFn backward);

// Wraps the results of a fused backward kernel: differentiating them again throws, naming `name`.
Tensor once_differentiable(const char* name, const std::vector<Tensor>& inputs, Tensor output);

// torch.autograd.grad: d(sum_i <outputs_i, grad_outputs_i>)/d(inputs), without touching `.grad`.
// grad_outputs may be empty (then every output must have one element and 1 is used).
// An input that the outputs do not depend on gets an undefined Tensor if allow_unused, else throws.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool create_graph = false, bool allow_unused = false);

// Grad mode: ops record only while it is enabled (per thread, on by default).
bool grad_mode_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Anomaly mode: every recorded op checks its output, and every backward its gradients, for NaN
// and Inf, and throws naming the first op that produced one. Slow; for debugging.
void set_anomaly_mode(bool enabled);
bool anomaly_mode_enabled();

namespace detail {
void run_backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                  bool retain_graph, bool create_graph);
}

}  // namespace engine
