// instance_norm2d (torch.nn.InstanceNorm2d: per-(n, c) plane statistics, biased variance,
// optional affine) and the same followed by ReLU in one kernel pass. The backward is one fused
// kernel for dx, dweight and dbias; its results are once-differentiable (instance norm is not on
// the gradient-penalty path: the critic has none).
#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/instance_norm.h"
#include "op_util.h"

namespace engine {
namespace {

float* data_or_null(const Tensor& t) { return t.defined() ? t.data() : nullptr; }

Tensor instance_norm_impl(const char* name, const Tensor& x, const Tensor& weight,
                          const Tensor& bias, float eps, bool fuse_relu) {
  ops::check_rank(name, "input [N,C,H,W]", x, 4);
  const Device device = ops::common_device(name, {x, weight, bias});
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  for (const Tensor* p : {&weight, &bias})
    ENGINE_CHECK(!p->defined() || p->shape() == Shape{c}, name, ": expected ",
                 p == &weight ? "weight" : "bias", " of shape [", c, "] for input ",
                 shape_str(x.shape()), ", got ", shape_str(p->shape()));
  ENGINE_CHECK(hw > 0, name, ": expected a non-empty plane, got input ", shape_str(x.shape()));
  ENGINE_CHECK(eps > 0.f, name, ": expected eps > 0, got ", eps);
  Tensor y = Tensor::empty(x.shape(), device);
  Tensor mean = Tensor::empty({n, c}, device), rstd = Tensor::empty({n, c}, device);
  if (y.numel() > 0)
    ENGINE_DISPATCH(device, instance_norm_forward, n, c, hw, eps, x.data(), data_or_null(weight),
                    data_or_null(bias), fuse_relu, y.data(), mean.data(), rstd.data());
  const Tensor saved_x = x.detach(), saved_weight = weight.defined() ? weight.detach() : Tensor();
  const Tensor saved_y = fuse_relu ? y.detach() : Tensor();
  const bool has_bias = bias.defined();
  return record(name, {x, weight, bias}, y,
                [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor dx = Tensor::empty(saved_x.shape(), device);
    Tensor dweight = saved_weight.defined() ? Tensor::empty({c}, device) : Tensor();
    Tensor dbias = has_bias ? Tensor::empty({c}, device) : Tensor();
    if (dx.numel() > 0) {
      ENGINE_DISPATCH(device, instance_norm_backward, n, c, hw, saved_x.data(),
                      data_or_null(saved_weight), mean.data(), rstd.data(), data_or_null(saved_y),
                      g.data(), dx.data(), data_or_null(dweight), data_or_null(dbias));
    } else {
      for (Tensor* t : {&dweight, &dbias})
        if (t->defined() && t->numel() > 0) device_zero(device, t->data(), sizeof(float) * c);
    }
    // The results depend on g, x and weight: with create_graph any of them may carry a graph,
    // and a second differentiation must fail loudly rather than give a silent zero.
    const std::vector<Tensor> sources{g, x, weight};
    return {once_differentiable("instance_norm2d_backward", sources, dx),
            dweight.defined() ? once_differentiable("instance_norm2d_backward", sources, dweight)
                              : Tensor(),
            dbias.defined() ? once_differentiable("instance_norm2d_backward", sources, dbias)
                            : Tensor()};
  });
}

}  // namespace

Tensor instance_norm2d(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  return instance_norm_impl("instance_norm2d", x, weight, bias, eps, false);
}

Tensor instance_norm2d_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  return instance_norm_impl("instance_norm2d_relu", x, weight, bias, eps, true);
}

}  // namespace engine
