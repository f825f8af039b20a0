// x * sigmoid(a), a [N,1,H,W] broadcast over x [N,C,H,W]: one pass forward, one fused backward
// (not differentiable twice: the attention gate is in the generator, never under the penalty).
#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/attention_gate.h"
#include "op_util.h"

namespace engine {

Tensor attention_gate(const Tensor& x, const Tensor& a) {
  const Device device = ops::common_device("attention_gate", {x, a});
  ops::check_rank("attention_gate", "x", x, 4);
  ops::check_rank("attention_gate", "a", a, 4);
  const Shape& s = x.shape();
  ENGINE_CHECK(a.shape() == Shape({s[0], 1, s[2], s[3]}), "attention_gate: expected a map of shape ",
               shape_str({s[0], 1, s[2], s[3]}), " for x of shape ", shape_str(s), ", got ",
               shape_str(a.shape()));
  const int64_t n = s[0], c = s[1], hw = s[2] * s[3];
  Tensor y = Tensor::empty(s, device);
  ENGINE_DISPATCH(device, attention_gate_forward, n, c, hw, x.data(), a.data(), y.data());
  return record("attention_gate", {x, a}, y, [x, a, n, c, hw](const Tensor& dy) -> std::vector<Tensor> {
    Tensor dx = Tensor::empty(x.shape(), x.device()), da = Tensor::empty(a.shape(), a.device());
    ENGINE_DISPATCH(x.device(), attention_gate_backward, n, c, hw, x.data(), a.data(), dy.data(),
                    dx.data(), da.data());
    return {once_differentiable("attention_gate_backward", {x, a, dy}, dx),
            once_differentiable("attention_gate_backward", {x, a, dy}, da)};
  });
}

}  // namespace engine
