// The SARGAN generator and discriminator: construction with the authors' module names, forward.
#include "models/sargan/networks.h"

#include <algorithm>
#include <vector>

#include "engine/check.h"
#include "engine/ops.h"

namespace models::sargan {

using engine::Tensor;
namespace nn = engine::nn;

namespace {
std::shared_ptr<nn::InstanceNorm2d> instance_norm(int64_t channels) {
  return std::make_shared<nn::InstanceNorm2d>(channels, /*affine=*/true, /*track_running_stats=*/true);
}
}  // namespace

Generator::Generator(const GeneratorConfig& config, engine::Philox& rng) : config_(config) {
  ENGINE_CHECK(config.conv_dim > 0 && config.c_dim > 0 && config.hourglass_dim > 0,
               "Generator: sizes must be positive, got conv_dim ", config.conv_dim, ", c_dim ",
               config.c_dim, ", hourglass_dim ", config.hourglass_dim);
  const int64_t d = config.conv_dim;
  main_ = register_module("main", std::make_shared<engine::Sequential>());
  main_->add(std::make_shared<nn::Conv2d>(3 + config.c_dim, d, 7, 1, 3, false, rng));
  main_->add(instance_norm(d)).add(std::make_shared<nn::ReLU>());
  main_->add(std::make_shared<nn::Conv2d>(d, 2 * d, 4, 2, 1, false, rng));
  main_->add(instance_norm(2 * d)).add(std::make_shared<nn::ReLU>());
  main_->add(std::make_shared<nn::Conv2d>(2 * d, 4 * d, 4, 2, 1, false, rng));
  main_->add(instance_norm(4 * d)).add(std::make_shared<nn::ReLU>());
  main_->add(std::make_shared<SARB>(4 * d, config.hourglass_dim, rng));
  main_->add(std::make_shared<nn::ConvTranspose2d>(4 * d, 2 * d, 4, 2, 1, false, rng));
  main_->add(instance_norm(2 * d)).add(std::make_shared<nn::ReLU>());
  main_->add(std::make_shared<nn::ConvTranspose2d>(2 * d, d, 4, 2, 1, false, rng));
  main_->add(instance_norm(d)).add(std::make_shared<nn::ReLU>());
  main_->add(std::make_shared<nn::Conv2d>(d, 3, 7, 1, 3, false, rng));
  main_->add(std::make_shared<nn::Tanh>());
  att_func_ = register_module("att_func", std::make_shared<Hourglass>(2, 3, 1, config.hourglass_dim, rng));
}

void Generator::check_input(const Tensor& x) const {
  ENGINE_CHECK(x.dim() == 4 && x.size(1) == 3, "Generator: x must be [N,3,H,W], got ", engine::shape_str(x.shape()));
  // Two stride-2 convolutions and two stride-2 transposed ones: only multiples of 4 come back at
  // the input's size, which the residual `+ x` needs.
  ENGINE_CHECK(x.size(2) % 4 == 0 && x.size(3) % 4 == 0, "Generator: H and W must be multiples of 4, got ",
               x.size(2), "x", x.size(3));
  // The SARB's Hourglass halves H/4 twice more (rounding up) and pads by reflection, which needs 2.
  ENGINE_CHECK(x.size(2) >= min_generator_size && x.size(3) >= min_generator_size, "Generator: H and W must be at least ",
               min_generator_size, ", got ", x.size(2), "x", x.size(3));
}

// main from layer `first` on, as Sequential::forward would run it, except that each
// InstanceNorm2d followed by a ReLU goes through the fused kernel: one pass over the activations
// instead of two.
Tensor Generator::run_main(Tensor a, size_t first) {
  for (size_t i = first; i < main_->size(); ++i) {
    auto norm = std::dynamic_pointer_cast<nn::InstanceNorm2d>((*main_)[i]);
    if (norm && i + 1 < main_->size() && std::dynamic_pointer_cast<nn::ReLU>((*main_)[i + 1])) {
      a = engine::instance_norm2d_relu(a, norm->weight, norm->bias, norm->eps);
      ++i;
    } else {
      a = (*main_)[i]->forward(a);
    }
  }
  return a;
}

Tensor Generator::forward(const Tensor& x, const Tensor& c) {
  check_input(x);
  ENGINE_CHECK(c.dim() == 2 && c.size(0) == x.size(0) && c.size(1) == config_.c_dim, "Generator: c must be [",
               x.size(0), ",", config_.c_dim, "], got ", engine::shape_str(c.shape()));
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  Tensor c_map = engine::expand(c.reshape({n, config_.c_dim, 1, 1}), {n, config_.c_dim, h, w});
  return run_main(engine::cat({x, c_map}, 1), 0) + x;
}

Tensor Generator::target_responses(int64_t h, int64_t w) {
  const int64_t c_dim = config_.c_dim;
  auto& first = static_cast<nn::Conv2d&>(*(*main_)[0]);
  std::vector<float> one_hot_maps(size_t(c_dim * c_dim * h * w), 0.f);
  for (int64_t k = 0; k < c_dim; ++k)
    std::fill_n(&one_hot_maps[size_t((k * c_dim + k) * h * w)], h * w, 1.f);
  const Tensor maps = Tensor::from_vector(one_hot_maps, {c_dim, c_dim, h, w}, first.weight.device());
  return engine::conv2d(maps, engine::narrow(first.weight, 1, 3, c_dim), Tensor(), first.options);
}

Tensor Generator::forward_all_targets(const Tensor& x, const Tensor& responses) {
  check_input(x);
  const int64_t n = x.size(0), c_dim = config_.c_dim, d = config_.conv_dim, h = x.size(2), w = x.size(3);
  ENGINE_CHECK(responses.shape() == engine::Shape({c_dim, d, h, w}), "Generator: responses must be [", c_dim, ",", d,
               ",", h, ",", w, "] (target_responses(H, W)), got ", engine::shape_str(responses.shape()));
  auto& first = static_cast<nn::Conv2d&>(*(*main_)[0]);
  // main.0(cat(x, c_k)) = conv(x, w[:, :3]) + conv(c_k maps, w[:, 3:]), computed once per image and
  // once per target instead of once per (image, target) pair.
  const Tensor from_x = engine::conv2d(x, engine::narrow(first.weight, 1, 0, 3), Tensor(), first.options);
  const Tensor a = from_x.reshape({n, 1, d, h, w}) + responses.reshape({1, c_dim, d, h, w});
  const Tensor x_each = engine::expand(x.reshape({n, 1, 3, h, w}), {n, c_dim, 3, h, w}).reshape({n * c_dim, 3, h, w});
  return run_main(a.reshape({n * c_dim, d, h, w}), 1) + x_each;
}

Discriminator::Discriminator(const DiscriminatorConfig& config, engine::Philox& rng) : config_(config) {
  ENGINE_CHECK(config.repeat_num >= 1 && config.repeat_num < 20 && config.conv_dim > 0 && config.c_dim > 0,
               "Discriminator: bad sizes: conv_dim ", config.conv_dim, ", c_dim ", config.c_dim,
               ", repeat_num ", config.repeat_num);
  const int64_t reduction = int64_t(1) << config.repeat_num;
  ENGINE_CHECK(config.image_size >= reduction && config.image_size % reduction == 0,
               "Discriminator: --image_size ", config.image_size, " must be a multiple of 2^d_repeat_num = ",
               reduction);
  main_ = register_module("main", std::make_shared<engine::Sequential>());
  int64_t d = config.conv_dim;
  main_->add(std::make_shared<nn::Conv2d>(3, d, 4, 2, 1, true, rng)).add(std::make_shared<nn::LeakyReLU>(0.01f));
  for (int64_t i = 1; i < config.repeat_num; ++i, d *= 2)
    main_->add(std::make_shared<nn::Conv2d>(d, 2 * d, 4, 2, 1, true, rng)).add(std::make_shared<nn::LeakyReLU>(0.01f));
  conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(d, 1, 3, 1, 1, false, rng));
  conv2_ = register_module("conv2", std::make_shared<nn::Conv2d>(d, config.c_dim, config.image_size / reduction, 1, 0,
                                                                 false, rng));
}

std::pair<Tensor, Tensor> Discriminator::forward(const Tensor& x) {
  ENGINE_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) == config_.image_size && x.size(3) == config_.image_size,
               "Discriminator: x must be [N,3,", config_.image_size, ",", config_.image_size, "], got ",
               engine::shape_str(x.shape()));
  // main is (Conv2d, LeakyReLU) pairs: each runs as one op, the bias and the activation applied as
  // the convolution stores its output.
  Tensor h = x;
  for (size_t i = 0; i + 1 < main_->size(); i += 2) {
    const auto& conv = static_cast<const nn::Conv2d&>(*(*main_)[i]);
    const auto& activation = static_cast<const nn::LeakyReLU&>(*(*main_)[i + 1]);
    h = engine::conv2d_leaky_relu(h, conv.weight, conv.bias, activation.slope(), conv.options);
  }
  return {conv1_->forward(h), conv2_->forward(h).reshape({x.size(0), config_.c_dim})};
}

std::string expression_name(int64_t k) {
  static const char* const names[] = {"AFS", "ANS", "DIS", "HAS", "NES", "SAS", "SUS"};
  return k >= 0 && k < 7 ? names[k] : std::to_string(k);
}

}  // namespace models::sargan
