#pragma once
// The SARGAN generator and discriminator (Akram & Khan, IEEE TCSVT 2023; StarGAN's discriminator),
// with the authors' state_dict keys. Legend: N batch, C channels, H height, W width, c_dim the
// number of expressions. The default sizes give 3,203,394 (G) and 44,778,432 (D) parameters.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "engine/module.h"
#include "engine/nn.h"
#include "engine/random.h"
#include "models/sargan/layers.h"

namespace models::sargan {

struct GeneratorConfig {
  int64_t conv_dim = 64;       // --g_conv_dim
  int64_t c_dim = 7;           // --c_dim
  int64_t hourglass_dim = 64;  // the Hourglass width; 64 in the authors' code (not a flag)
};

struct DiscriminatorConfig {
  int64_t image_size = 128;  // --image_size: must be a multiple of 2^repeat_num
  int64_t conv_dim = 64;     // --d_conv_dim
  int64_t c_dim = 7;         // --c_dim
  int64_t repeat_num = 6;    // --d_repeat_num
};

// The smallest H and W the generator takes: H/4 = 5 is halved to 3, then 2, the least that a
// reflection pad of 1 accepts.
constexpr int64_t min_generator_size = 20;

// main: 0 Conv2d(3+c,d,7,p3) 1 IN 2 ReLU 3 Conv2d(d,2d,4,s2,p1) 4 IN 5 ReLU 6 Conv2d(2d,4d,4,s2,p1)
// 7 IN 8 ReLU 9 SARB(4d) 10 ConvT(4d,2d,4,s2,p1) 11 IN 12 ReLU 13 ConvT(2d,d,4,s2,p1) 14 IN 15 ReLU
// 16 Conv2d(d,3,7,p3) 17 Tanh, no conv biases; the INs are affine with running-stat buffers that
// are loaded and saved but never used (the authors never switch to eval mode). att_func, an
// Hourglass(2, 3, 1) at the top level, is in the authors' checkpoints: held, never run.
class Generator : public engine::Module {
 public:
  Generator(const GeneratorConfig& config, engine::Philox& rng);
  // x [N,3,H,W] in [-1,1], H and W multiples of 4, at least min_generator_size; c [N,c_dim] (one-hot targets) ->
  // main(cat(x, c broadcast to [N,c_dim,H,W])) + x, [N,3,H,W], not clamped.
  engine::Tensor forward(const engine::Tensor& x, const engine::Tensor& c);

  // Every target at once, for inference: forward_all_targets(x, target_responses(H, W)) is
  // [N * c_dim, 3, H, W] with sample n * c_dim + k = forward(x_n, one-hot k), equal up to float
  // rounding (the first convolution's sum is split in two). main.0 is linear, so its response to
  // cat(x, c_k) is its response to x (once per image) plus its response to the constant one-hot
  // maps of target k ([c_dim, conv_dim, H, W], which depends only on the weights and the size:
  // compute it once per size while the weights stay the same). The first layer's work drops by
  // a factor 7 * 10 / 3 at the default sizes, about 11% of the whole generator.
  engine::Tensor target_responses(int64_t h, int64_t w);
  engine::Tensor forward_all_targets(const engine::Tensor& x, const engine::Tensor& responses);

  const GeneratorConfig& config() const { return config_; }

 private:
  void check_input(const engine::Tensor& x) const;
  engine::Tensor run_main(engine::Tensor a, size_t first);
  GeneratorConfig config_;
  std::shared_ptr<engine::Sequential> main_;
  std::shared_ptr<Hourglass> att_func_;
};

// main: Conv2d(3,d,4,s2,p1) LeakyReLU(0.01), then repeat_num - 1 times Conv2d(k,2k,4,s2,p1)
// LeakyReLU(0.01) (biases); conv1 = Conv2d(top,1,3,p1) the PatchGAN map, conv2 = Conv2d(top,c_dim,
// image_size / 2^repeat_num) the class logits (no biases), top = d * 2^(repeat_num-1).
class Discriminator : public engine::Module {
 public:
  Discriminator(const DiscriminatorConfig& config, engine::Philox& rng);
  // x [N,3,image_size,image_size] -> (src [N,1,s,s] with s = image_size / 2^repeat_num, cls [N,c_dim])
  std::pair<engine::Tensor, engine::Tensor> forward(const engine::Tensor& x);
  const DiscriminatorConfig& config() const { return config_; }

 private:
  DiscriminatorConfig config_;
  std::shared_ptr<engine::Sequential> main_;
  std::shared_ptr<engine::nn::Conv2d> conv1_, conv2_;
};

// The name of one-hot index k in output file names: AFS ANS DIS HAS NES SAS SUS for k = 0..6
// (the authors' sorted class folders), the number k beyond them (other --c_dim values).
std::string expression_name(int64_t k);

}  // namespace models::sargan
