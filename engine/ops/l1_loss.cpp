// l1_loss (F.l1_loss, mean reduction) composed of sub, abs and mean, so it is differentiable to any
// order. Its gradient at a == b is 0, as PyTorch's: abs differentiates through sign, sign(0) = 0.
#include "engine/ops.h"
#include "op_util.h"

namespace engine {

Tensor l1_loss(const Tensor& a, const Tensor& b) {
  ENGINE_CHECK(a.defined() && b.defined(), "l1_loss: undefined operand");
  ENGINE_CHECK(a.shape() == b.shape(), "l1_loss: expected operands of the same shape, got ",
               shape_str(a.shape()), " and ", shape_str(b.shape()));
  ENGINE_CHECK(a.numel() > 0, "l1_loss: expected non-empty operands, got ", shape_str(a.shape()));
  return mean(abs(a - b));
}

}  // namespace engine
