// Conv2d, ConvTranspose2d and InstanceNorm2d with PyTorch's parameter names and default
// initialisation. kaiming_uniform_(a = sqrt(5)) has gain sqrt(2 / (1 + 5)) and bound
// gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in); the bias uses the same bound. fan_in is
// weight.size(1) * K * K as torch.nn.init._calculate_fan_in_and_fan_out computes it, which for the
// transposed convolution's [Ci,Co,K,K] weight is Co * K * K.
#include "engine/nn.h"

#include <cmath>

#include "engine/check.h"

namespace engine::nn {
namespace {

float default_bound(const Shape& weight_shape) {
  const int64_t fan_in = weight_shape[1] * weight_shape[2] * weight_shape[3];
  return 1.f / std::sqrt(float(fan_in));
}

void check_conv_arguments(const char* layer, int64_t c_in, int64_t c_out, int64_t kernel, int stride,
                          int padding) {
  ENGINE_CHECK(c_in > 0 && c_out > 0 && kernel > 0 && stride > 0 && padding >= 0, layer,
               ": expected positive channels, kernel and stride and padding >= 0, got c_in ", c_in,
               ", c_out ", c_out, ", kernel ", kernel, ", stride ", stride, ", padding ", padding);
}

}  // namespace

Conv2d::Conv2d(int64_t c_in, int64_t c_out, int64_t kernel, int stride, int padding, bool has_bias,
               Philox& generator)
    : options{stride, padding} {
  check_conv_arguments("Conv2d", c_in, c_out, kernel, stride, padding);
  const Shape shape{c_out, c_in, kernel, kernel};
  const float bound = default_bound(shape);
  weight = register_parameter("weight", generator.uniform(shape, -bound, bound));
  if (has_bias) bias = register_parameter("bias", generator.uniform({c_out}, -bound, bound));
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, options); }

ConvTranspose2d::ConvTranspose2d(int64_t c_in, int64_t c_out, int64_t kernel, int stride, int padding,
                                 bool has_bias, Philox& generator)
    : options{stride, padding} {
  check_conv_arguments("ConvTranspose2d", c_in, c_out, kernel, stride, padding);
  const Shape shape{c_in, c_out, kernel, kernel};
  const float bound = default_bound(shape);
  weight = register_parameter("weight", generator.uniform(shape, -bound, bound));
  if (has_bias) bias = register_parameter("bias", generator.uniform({c_out}, -bound, bound));
}

Tensor ConvTranspose2d::forward(const Tensor& x) { return conv_transpose2d(x, weight, bias, options); }

InstanceNorm2d::InstanceNorm2d(int64_t channels, bool affine, bool track_running_stats, float eps_)
    : eps(eps_) {
  ENGINE_CHECK(channels > 0, "InstanceNorm2d: expected positive channels, got ", channels);
  if (affine) {
    weight = register_parameter("weight", Tensor::ones({channels}));
    bias = register_parameter("bias", Tensor::zeros({channels}));
  }
  if (track_running_stats) {
    register_buffer("running_mean", Tensor::zeros({channels}));
    register_buffer("running_var", Tensor::ones({channels}));
    register_buffer("num_batches_tracked", Tensor::zeros({}));
  }
}

Tensor InstanceNorm2d::forward(const Tensor& x) { return instance_norm2d(x, weight, bias, eps); }

}  // namespace engine::nn
