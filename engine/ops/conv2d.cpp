// conv2d, conv_transpose2d and conv2d_weight_grad: three ops whose backwards are made of one
// another (docs/ops/conv2d.md), so every gradient of a convolution is itself differentiable, to
// any order; the WGAN-GP penalty differentiates the critic's input gradient through them. conv2d's
// bias (and conv2d_leaky_relu's activation) are applied by the convolution as it stores its output
// (kernels::ConvEpilogue); their gradients are those of a broadcast add (a sum over N, H, W) and of
// leaky_relu (a constant mask), differentiable as well. conv_transpose2d's bias is a broadcast add.
// Legend: N batch, Ci/Co input/output channels, H/W height/width, Kh/Kw kernel size.
#include <algorithm>
#include <optional>

#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "engine/precision.h"
#include "kernels/conv2d.h"
#include "kernels/profile_flops.h"
#include "op_util.h"
#if ENGINE_WITH_CUDA_BASELINES
#include "kernels/conv2d_baseline.h"
#endif

// CONV_DISPATCH is ENGINE_DISPATCH with the engine's precision (engine/precision.h) appended,
// except that on a real GPU ENGINE_CONV_IMPL=cudnn|cublas (or kernels::set_conv_impl) routes the
// cuda convolutions to the vendor baselines, to cross-check and time ours against them
// (kernels/conv2d_baseline.h); those keep their own FMA math.
#if ENGINE_WITH_CUDA_BASELINES
#define CONV_DISPATCH(device, fn, ...)                                                              \
  do {                                                                                              \
    const kernels::ConvImpl impl = (device).is_cuda() ? kernels::conv_impl() : kernels::ConvImpl::ours; \
    if (impl == kernels::ConvImpl::ours) {                                                          \
      ENGINE_DISPATCH(device, fn, __VA_ARGS__, ::engine::precision());                              \
    } else {                                                                                        \
      kernels::baseline::fn(impl, __VA_ARGS__);                                                     \
      ::engine::detail::after_cuda_op(#fn);                                                         \
    }                                                                                               \
  } while (0)
#else
#define CONV_DISPATCH(device, fn, ...) ENGINE_DISPATCH(device, fn, __VA_ARGS__, ::engine::precision())
#endif

namespace engine {
namespace {

void check_options(const char* op, const Conv2dOptions& options) {
  ENGINE_CHECK(options.stride >= 1, op, ": expected stride >= 1, got ", options.stride);
  ENGINE_CHECK(options.padding >= 0, op, ": expected padding >= 0, got ", options.padding);
}

// conv_transpose2d and conv2d_weight_grad pad with zeros only (the gradients of a reflect conv2d
// go through reflection_pad2d's).
void check_zero_padding(const char* op, const Conv2dOptions& options) {
  ENGINE_CHECK(options.padding_mode == PaddingMode::zeros, op, ": expected padding_mode zeros, got reflect");
}

// Where a reflect conv2d runs as the pad op and the zero-padding conv: when it records a gradient
// (the backward is the two ops'), and where the kernels cannot take the reflection (the vendor
// baselines).
bool pads_first(const Device& device, const std::vector<Tensor>& inputs) {
  if (grad_mode_enabled())
    for (const Tensor& t : inputs)
      if (t.defined() && t.requires_grad()) return true;
#if ENGINE_WITH_CUDA_BASELINES
  if (device.is_cuda() && kernels::conv_impl() != kernels::ConvImpl::ours) return true;
#else
  (void)device;
#endif
  return false;
}

// A convolution's multiply-adds x 2, for the emulator profiler's H200 model (docs/perf.md).
double conv_flops(const kernels::Conv2dShape& s) {
  return 2.0 * s.n * s.c_out * s.h_out * s.w_out * s.c_in * s.k_h * s.k_w;
}

// The kernel shape of x [N,Ci,H,W] convolved with a weight of shape [Co,Ci,Kh,Kw].
kernels::Conv2dShape conv_shape(const char* op, const Shape& x, const Shape& weight,
                                const Conv2dOptions& options) {
  ENGINE_CHECK(weight.size() == 4 && weight[0] > 0 && weight[1] > 0 && weight[2] > 0 && weight[3] > 0,
               op, ": expected a weight shape [Co, Ci, Kh, Kw] of positive sizes, got ", shape_str(weight));
  ENGINE_CHECK(x[1] == weight[1], op, ": expected input with ", weight[1], " channels for weight ",
               shape_str(weight), ", got input ", shape_str(x));
  ENGINE_CHECK(x[2] > 0 && x[3] > 0, op, ": expected an input of positive height and width, got ",
               shape_str(x));
  const int64_t padded_h = x[2] + 2 * options.padding, padded_w = x[3] + 2 * options.padding;
  ENGINE_CHECK(weight[2] <= padded_h && weight[3] <= padded_w, op, ": expected a kernel no larger than ",
               "the padded input ", padded_h, "x", padded_w, " (input ", shape_str(x), ", padding ",
               options.padding, "), got kernel ", weight[2], "x", weight[3]);
  kernels::Conv2dShape s;
  s.n = x[0];
  s.c_in = x[1];
  s.h_in = x[2];
  s.w_in = x[3];
  s.c_out = weight[0];
  s.k_h = weight[2];
  s.k_w = weight[3];
  s.stride = options.stride;
  s.pad = options.padding;
  s.reflect = options.padding_mode == PaddingMode::reflect;
  ENGINE_CHECK(!s.reflect || (s.pad < s.h_in && s.pad < s.w_in), op, ": expected reflect padding ",
               "smaller than the input's height and width, got padding ", s.pad, " for input ", shape_str(x));
  s.h_out = (padded_h - s.k_h) / s.stride + 1;
  s.w_out = (padded_w - s.k_w) / s.stride + 1;
  return s;
}

void check_bias(const char* op, const Tensor& bias, int64_t channels) {
  ENGINE_CHECK(bias.dim() == 1 && bias.size(0) == channels, op, ": expected bias of shape [", channels, "], got ",
               shape_str(bias.shape()));
}

Tensor add_bias(const char* op, const Tensor& y, const Tensor& bias) {
  check_bias(op, bias, y.size(1));
  return y + bias.reshape({1, y.size(1), 1, 1});
}

// conv2d, then the epilogue: + bias (where defined), then leaky_relu with `slope` (where set).
// The activation's mask is taken from the output, which is positive exactly where its input is
// (slope >= 0).
Tensor conv2d_with_epilogue(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias,
                            std::optional<float> slope, Conv2dOptions options) {
  ops::check_rank(op, "input", x, 4);
  ops::check_rank(op, "weight", weight, 4);
  const Device device = ops::common_device(op, {x, weight, bias});
  check_options(op, options);
  ENGINE_CHECK(!slope || *slope >= 0.f, op, ": expected a negative slope >= 0, got ", *slope);
  const kernels::Conv2dShape s = conv_shape(op, x.shape(), weight.shape(), options);
  if (bias.defined()) check_bias(op, bias, s.c_out);
  if (s.reflect && pads_first(device, {x, weight, bias}))
    return conv2d_with_epilogue(op, reflection_pad2d(x, options.padding), weight, bias, slope,
                                {options.stride, 0, PaddingMode::zeros});
  Tensor y = Tensor::empty({s.n, s.c_out, s.h_out, s.w_out}, device);
  const kernels::ConvEpilogue epilogue{bias.defined() ? bias.data() : nullptr, slope.has_value(), slope.value_or(0.f)};
  const kernels::FlopScope flops(conv_flops(s));
  CONV_DISPATCH(device, conv2d_forward, s, x.data(), weight.data(), y.data(), epilogue);
  const Tensor y_values = slope ? y.detach() : Tensor();  // the mask's input, kept only where there is one
  return record(op, {x, weight, bias}, y, [x, weight, bias, slope, options, y_values](const Tensor& g) -> std::vector<Tensor> {
    const Tensor g_conv = slope ? g * ops::leaky_relu_mask(y_values, *slope) : g;
    const int64_t c_out = weight.size(0);
    return {x.requires_grad() ? conv_transpose2d(g_conv, weight, Tensor(), options, {x.size(2), x.size(3)})
                              : Tensor(),
            weight.requires_grad() ? conv2d_weight_grad(x, g_conv, weight.shape(), options) : Tensor(),
            bias.defined() && bias.requires_grad() ? sum_to(g_conv, {1, c_out, 1, 1}).reshape({c_out}) : Tensor()};
  });
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Conv2dOptions options) {
  return conv2d_with_epilogue("conv2d", x, weight, bias, std::nullopt, options);
}

Tensor conv2d_leaky_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, float negative_slope,
                         Conv2dOptions options) {
  return conv2d_with_epilogue("conv2d_leaky_relu", x, weight, bias, negative_slope, options);
}

// The adjoint of conv2d in its input: conv2d_backward_input with the conv's roles swapped (this
// op's input is the conv's output, its weight [Ci,Co,K,K] is the conv's [Co,Ci,K,K]).
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        Conv2dOptions options, std::vector<int64_t> output_size) {
  const char* op = "conv_transpose2d";
  ops::check_rank(op, "input", x, 4);
  ops::check_rank(op, "weight", weight, 4);
  const Device device = ops::common_device(op, {x, weight, bias});
  check_options(op, options);
  check_zero_padding(op, options);
  ENGINE_CHECK(x.size(1) == weight.size(0), op, ": expected input with ", weight.size(0),
               " channels for weight [Ci, Co, Kh, Kw] = ", shape_str(weight.shape()), ", got input ",
               shape_str(x.shape()));
  ENGINE_CHECK(x.size(2) > 0 && x.size(3) > 0, op, ": expected an input of positive height and width, got ",
               shape_str(x.shape()));
  ENGINE_CHECK(output_size.empty() || output_size.size() == 2, op,
               ": expected output_size {H, W} or none, got ", output_size.size(), " values");
  // Every output size that conv2d maps back to the input's size: the smallest plus stride - 1.
  const int64_t min_h = (x.size(2) - 1) * options.stride - 2 * options.padding + weight.size(2);
  const int64_t min_w = (x.size(3) - 1) * options.stride - 2 * options.padding + weight.size(3);
  const int64_t out_h = output_size.empty() ? min_h : output_size[0];
  const int64_t out_w = output_size.empty() ? min_w : output_size[1];
  ENGINE_CHECK(out_h >= std::max<int64_t>(min_h, 1) && out_h < min_h + options.stride &&
                   out_w >= std::max<int64_t>(min_w, 1) && out_w < min_w + options.stride,
               op, ": expected an output size from ", min_h, "x", min_w, " to ",
               min_h + options.stride - 1, "x", min_w + options.stride - 1, " and positive, for input ",
               shape_str(x.shape()), ", weight ", shape_str(weight.shape()), ", stride ",
               options.stride, ", padding ", options.padding, "; got ", out_h, "x", out_w);
  const Shape conv_weight{weight.size(0), weight.size(1), weight.size(2), weight.size(3)};
  const Shape y_shape{x.size(0), weight.size(1), out_h, out_w};
  const kernels::Conv2dShape s = conv_shape(op, y_shape, conv_weight, options);
  Tensor y = Tensor::empty(y_shape, device);
  const kernels::FlopScope flops(conv_flops(s));
  CONV_DISPATCH(device, conv2d_backward_input, s, x.data(), weight.data(), y.data());
  y = record(op, {x, weight}, y, [x, weight, options](const Tensor& g) -> std::vector<Tensor> {
    return {x.requires_grad() ? conv2d(g, weight, Tensor(), options) : Tensor(),
            weight.requires_grad() ? conv2d_weight_grad(g, x, weight.shape(), options) : Tensor()};
  });
  return bias.defined() ? add_bias(op, y, bias) : y;
}

// <conv2d_weight_grad(x, dy), V> = <conv2d(x, V), dy>, which gives both partial derivatives.
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& grad_y, const Shape& weight_shape,
                          Conv2dOptions options) {
  const char* op = "conv2d_weight_grad";
  ops::check_rank(op, "input", x, 4);
  ops::check_rank(op, "grad_y", grad_y, 4);
  const Device device = ops::common_device(op, {x, grad_y});
  check_options(op, options);
  check_zero_padding(op, options);
  const kernels::Conv2dShape s = conv_shape(op, x.shape(), weight_shape, options);
  const Shape expected{s.n, s.c_out, s.h_out, s.w_out};
  ENGINE_CHECK(grad_y.shape() == expected, op, ": expected grad_y of shape ", shape_str(expected),
               " for input ", shape_str(x.shape()), " and weight ", shape_str(weight_shape), ", got ",
               shape_str(grad_y.shape()));
  Tensor dw = Tensor::empty(weight_shape, device);
  const kernels::FlopScope flops(conv_flops(s));
  CONV_DISPATCH(device, conv2d_backward_weight, s, x.data(), grad_y.data(), dw.data());
  return record(op, {x, grad_y}, dw, [x, grad_y, options](const Tensor& v) -> std::vector<Tensor> {
    return {x.requires_grad() ? conv_transpose2d(grad_y, v, Tensor(), options, {x.size(2), x.size(3)})
                              : Tensor(),
            grad_y.requires_grad() ? conv2d(x, v, Tensor(), options) : Tensor()};
  });
}

}  // namespace engine
