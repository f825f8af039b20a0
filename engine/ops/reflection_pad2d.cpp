// reflection_pad2d (torch.nn.ReflectionPad2d) and its backward, a linear pair: the backward of
// each is the other, so both are differentiable to any order.
#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/reflection_pad2d.h"
#include "op_util.h"

namespace engine {
namespace {

// The gradient of reflection_pad2d: grad_y [N,C,H+2p,W+2p] -> [N,C,H,W], summing the elements
// that reflect onto each input element.
Tensor reflection_pad2d_backward(const Tensor& grad_y, int padding) {
  const Shape& s = grad_y.shape();
  const int64_t h = s[2] - 2 * padding, w = s[3] - 2 * padding;
  Tensor dx = Tensor::empty({s[0], s[1], h, w}, grad_y.device());
  if (dx.numel() > 0)
    ENGINE_DISPATCH(grad_y.device(), reflection_pad2d_backward, s[0] * s[1], h, w, padding,
                    grad_y.data(), dx.data());
  return record("reflection_pad2d_backward", {grad_y}, dx,
                [padding](const Tensor& g) -> std::vector<Tensor> {
                  return {reflection_pad2d(g, padding)};
                });
}

}  // namespace

Tensor reflection_pad2d(const Tensor& x, int padding) {
  ops::check_rank("reflection_pad2d", "input [N,C,H,W]", x, 4);
  const Shape& s = x.shape();
  ENGINE_CHECK(padding >= 0, "reflection_pad2d: expected padding >= 0, got ", padding);
  ENGINE_CHECK(padding < s[2] && padding < s[3], "reflection_pad2d: expected padding below H and W, got ",
               "padding ", padding, " for input ", shape_str(s));
  Tensor y = Tensor::empty({s[0], s[1], s[2] + 2 * padding, s[3] + 2 * padding}, x.device());
  if (y.numel() > 0)
    ENGINE_DISPATCH(x.device(), reflection_pad2d_forward, s[0] * s[1], s[2], s[3], padding,
                    x.data(), y.data());
  return record("reflection_pad2d", {x}, y, [padding](const Tensor& g) -> std::vector<Tensor> {
    return {reflection_pad2d_backward(g, padding)};
  });
}

}  // namespace engine
