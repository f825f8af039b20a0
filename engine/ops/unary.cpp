// Pointwise unary ops. Where the derivative is itself made of differentiable ops (affine,
// relu/leaky_relu via a constant mask, sqrt, pow, abs) the backward uses them, so these ops work
// under second-order gradients; sigmoid, tanh and clamp use a fused backward kernel instead.
#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/unary.h"
#include "op_util.h"

namespace engine {
namespace {

using kernels::UnaryOp;
using kernels::UnaryParams;

// y = f(x), not recorded.
Tensor apply(const char* name, UnaryOp op, UnaryParams params, const Tensor& x) {
  ENGINE_CHECK(x.defined(), name, ": undefined input");
  Tensor y = Tensor::empty(x.shape(), x.device());
  ENGINE_DISPATCH(x.device(), unary_forward, op, params, x.numel(), x.data(), y.data());
  return y;
}

// dx = dy * f'(x) by the fused kernel, from the values of x and y; the result cannot be
// differentiated again (w.r.t. dy or the op's input), which once_differentiable enforces.
Tensor fused_backward(const char* name, UnaryOp op, UnaryParams params, const Tensor& input,
                      const Tensor& x, const Tensor& y, const Tensor& dy) {
  Tensor dx = Tensor::empty(x.shape(), x.device());
  ENGINE_DISPATCH(x.device(), unary_backward, op, params, x.numel(), x.data(), y.data(), dy.data(),
                  dx.data());
  return once_differentiable(name, {input, dy}, dx);
}

}  // namespace

Tensor affine_scalar(const Tensor& x, float alpha, float beta) {
  Tensor y = apply("affine_scalar", UnaryOp::affine, {alpha, beta}, x);
  return record("affine_scalar", {x}, y, [alpha](const Tensor& g) -> std::vector<Tensor> {
    return {affine_scalar(g, alpha, 0.f)};
  });
}

Tensor relu(const Tensor& x) { return leaky_relu(x, 0.f); }

Tensor leaky_relu(const Tensor& x, float negative_slope) {
  Tensor y = apply("leaky_relu", UnaryOp::leaky_relu, {negative_slope, 0.f}, x);
  return record("leaky_relu", {x}, y, [x, negative_slope](const Tensor& g) -> std::vector<Tensor> {
    return {g * ops::leaky_relu_mask(x, negative_slope)};
  });
}

Tensor ops::leaky_relu_mask(const Tensor& x, float negative_slope) {
  return apply("leaky_relu_mask", UnaryOp::step, {negative_slope, 0.f}, x.detach());
}

Tensor sigmoid(const Tensor& x) {
  Tensor y = apply("sigmoid", UnaryOp::sigmoid, {}, x);
  const Tensor saved_y = y.detach();
  return record("sigmoid", {x}, y, [x, saved_y](const Tensor& g) -> std::vector<Tensor> {
    return {fused_backward("sigmoid_backward", UnaryOp::sigmoid, {}, x, saved_y, saved_y, g)};
  });
}

Tensor tanh(const Tensor& x) {
  Tensor y = apply("tanh", UnaryOp::tanh, {}, x);
  const Tensor saved_y = y.detach();
  return record("tanh", {x}, y, [x, saved_y](const Tensor& g) -> std::vector<Tensor> {
    return {fused_backward("tanh_backward", UnaryOp::tanh, {}, x, saved_y, saved_y, g)};
  });
}

Tensor sqrt(const Tensor& x) {
  Tensor y = apply("sqrt", UnaryOp::sqrt, {}, x);
  return record("sqrt", {x}, y, [x](const Tensor& g) -> std::vector<Tensor> {
    return {g / (2.f * sqrt(x))};
  });
}

Tensor pow(const Tensor& x, float exponent) {
  Tensor y = apply("pow", UnaryOp::pow, {exponent, 0.f}, x);
  return record("pow", {x}, y, [x, exponent](const Tensor& g) -> std::vector<Tensor> {
    if (exponent == 0.f) return {g * 0.f};
    return {g * (exponent * pow(x, exponent - 1.f))};
  });
}

Tensor abs(const Tensor& x) {
  Tensor y = apply("abs", UnaryOp::abs, {}, x);
  return record("abs", {x}, y, [x](const Tensor& g) -> std::vector<Tensor> {
    return {g * apply("abs_sign", UnaryOp::sign, {}, x.detach())};
  });
}

Tensor clamp(const Tensor& x, float lo, float hi) {
  ENGINE_CHECK(lo <= hi, "clamp: lower bound ", lo, " above upper bound ", hi);
  Tensor y = apply("clamp", UnaryOp::clamp, {lo, hi}, x);
  return record("clamp", {x}, y, [x, lo, hi](const Tensor& g) -> std::vector<Tensor> {
    return {fused_backward("clamp_backward", UnaryOp::clamp, {lo, hi}, x, x, x, g)};
  });
}

}  // namespace engine
