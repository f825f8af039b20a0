#pragma once
// The standard layers, with PyTorch's parameter names and default initialisation
// (kaiming_uniform_(a = sqrt(5)) for weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for biases).
#include <cstdint>

#include "engine/module.h"
#include "engine/ops.h"
#include "engine/random.h"

namespace engine::nn {

// torch.nn.Conv2d(c_in, c_out, kernel, stride, padding, bias): weight [Co,Ci,K,K], bias [Co].
class Conv2d : public Layer {
 public:
  Conv2d(int64_t c_in, int64_t c_out, int64_t kernel, int stride, int padding, bool bias,
         Philox& generator);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  Conv2dOptions options;
};

// torch.nn.ConvTranspose2d(c_in, c_out, kernel, stride, padding, bias): weight [Ci,Co,K,K].
class ConvTranspose2d : public Layer {
 public:
  ConvTranspose2d(int64_t c_in, int64_t c_out, int64_t kernel, int stride, int padding, bool bias,
                  Philox& generator);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  Conv2dOptions options;
};

// torch.nn.InstanceNorm2d(c, affine = true, track_running_stats): weight (ones) and bias (zeros);
// with track_running_stats the buffers running_mean, running_var and num_batches_tracked exist so
// that checkpoints holding them load, but normalisation always uses instance statistics.
class InstanceNorm2d : public Layer {
 public:
  InstanceNorm2d(int64_t channels, bool affine = true, bool track_running_stats = false, float eps = 1e-5f);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  float eps;
};

class ReLU : public Layer {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
};

class LeakyReLU : public Layer {
 public:
  explicit LeakyReLU(float slope = 0.01f) : slope_(slope) {}
  Tensor forward(const Tensor& x) override { return leaky_relu(x, slope_); }
  float slope() const { return slope_; }

 private:
  float slope_;
};

class Tanh : public Layer {
 public:
  Tensor forward(const Tensor& x) override { return engine::tanh(x); }
};

}  // namespace engine::nn
