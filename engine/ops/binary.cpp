// add, sub, mul, div with broadcasting. Backwards are written with these same ops (and sum_to,
// which undoes broadcasting), so they can be differentiated any number of times.
#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/binary.h"
#include "op_util.h"

namespace engine {
namespace {

Tensor binary_forward(const char* name, kernels::BinaryOp op, const Tensor& a, const Tensor& b) {
  ENGINE_CHECK(a.defined() && b.defined(), name, ": undefined operand");
  const Device device = ops::common_device(name, {a, b});
  const Shape out_shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor y = Tensor::empty(out_shape, device);
  const kernels::BroadcastIndex index = ops::broadcast_index(out_shape, a.shape(), b.shape());
  ENGINE_DISPATCH(device, binary_forward, op, index, a.data(), b.data(), y.data());
  return y;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward("add", kernels::BinaryOp::add, a, b);
  const Shape shape_a = a.shape(), shape_b = b.shape();
  return record("add", {a, b}, y, [shape_a, shape_b](const Tensor& g) -> std::vector<Tensor> {
    return {sum_to(g, shape_a), sum_to(g, shape_b)};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward("sub", kernels::BinaryOp::sub, a, b);
  const Shape shape_a = a.shape(), shape_b = b.shape();
  return record("sub", {a, b}, y, [shape_a, shape_b](const Tensor& g) -> std::vector<Tensor> {
    return {sum_to(g, shape_a), sum_to(-g, shape_b)};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward("mul", kernels::BinaryOp::mul, a, b);
  return record("mul", {a, b}, y, [a, b](const Tensor& g) -> std::vector<Tensor> {
    return {a.requires_grad() ? sum_to(g * b, a.shape()) : Tensor(),
            b.requires_grad() ? sum_to(g * a, b.shape()) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward("div", kernels::BinaryOp::div, a, b);
  return record("div", {a, b}, y, [a, b](const Tensor& g) -> std::vector<Tensor> {
    return {a.requires_grad() ? sum_to(g / b, a.shape()) : Tensor(),
            b.requires_grad() ? sum_to(-(g * a) / (b * b), b.shape()) : Tensor()};
  });
}

}  // namespace engine
