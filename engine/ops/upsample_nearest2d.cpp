// upsample_nearest2d (F.interpolate(x, size, mode='nearest')) and its backward, a linear pair:
// the backward of each is the other, so both are differentiable to any order.
#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/upsample_nearest2d.h"
#include "op_util.h"

namespace engine {
namespace {

// The gradient of upsample_nearest2d: grad_y [N,C,out_h,out_w] -> [N,C,in_h,in_w], summing the
// outputs that copied each input element.
Tensor upsample_nearest2d_backward(const Tensor& grad_y, int64_t in_h, int64_t in_w) {
  const Shape& s = grad_y.shape();
  const int64_t out_h = s[2], out_w = s[3];
  Tensor dx = Tensor::empty({s[0], s[1], in_h, in_w}, grad_y.device());
  if (dx.numel() > 0)
    ENGINE_DISPATCH(grad_y.device(), upsample_nearest2d_backward, s[0] * s[1], in_h, in_w, out_h,
                    out_w, grad_y.data(), dx.data());
  return record("upsample_nearest2d_backward", {grad_y}, dx,
                [out_h, out_w](const Tensor& g) -> std::vector<Tensor> {
                  return {upsample_nearest2d(g, out_h, out_w)};
                });
}

}  // namespace

Tensor upsample_nearest2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  ops::check_rank("upsample_nearest2d", "input [N,C,H,W]", x, 4);
  const Shape& s = x.shape();
  ENGINE_CHECK(out_h > 0 && out_w > 0, "upsample_nearest2d: expected an output size of at least ",
               "1x1, got ", out_h, "x", out_w);
  ENGINE_CHECK(s[2] > 0 && s[3] > 0, "upsample_nearest2d: expected a non-empty plane, got input ",
               shape_str(s));
  Tensor y = Tensor::empty({s[0], s[1], out_h, out_w}, x.device());
  if (y.numel() > 0)
    ENGINE_DISPATCH(x.device(), upsample_nearest2d_forward, s[0] * s[1], s[2], s[3], out_h, out_w,
                    x.data(), y.data());
  const int64_t in_h = s[2], in_w = s[3];
  return record("upsample_nearest2d", {x}, y, [in_h, in_w](const Tensor& g) -> std::vector<Tensor> {
    return {upsample_nearest2d_backward(g, in_h, in_w)};
  });
}

}  // namespace engine
