// ConvLayer, Hourglass and SARB: the SARGAN generator's blocks, as the authors' PyTorch modules.
#include "models/sargan/layers.h"

#include <string>

#include "engine/check.h"
#include "engine/ops.h"

namespace models::sargan {

using engine::Tensor;

namespace {

// The authors wrap their InstanceNorm2d in a module whose child is called `norm`, hence the
// `norm.norm.weight` keys; this wrapper exists only to reproduce those names.
class NormWrapper : public engine::Module {
 public:
  explicit NormWrapper(int64_t channels)
      : norm(register_module("norm", std::make_shared<engine::nn::InstanceNorm2d>(channels))) {}
  std::shared_ptr<engine::nn::InstanceNorm2d> norm;
};

}  // namespace

ConvLayer::ConvLayer(int64_t c_in, int64_t c_out, int64_t kernel, Scale scale, bool norm, bool relu,
                     engine::Philox& rng)
    : scale_(scale), relu_(relu) {
  ENGINE_CHECK(kernel % 2 == 1, "ConvLayer: kernel must be odd, got ", kernel);
  const int stride = scale == Scale::down ? 2 : 1;
  // The authors' ReflectionPad2d before a padding-free conv, as one reflect-padding conv.
  conv2d_ = register_module("conv2d", std::make_shared<engine::nn::Conv2d>(c_in, c_out, kernel, stride,
                                                                           static_cast<int>(kernel / 2), !norm, rng));
  conv2d_->options.padding_mode = engine::PaddingMode::reflect;
  if (norm) norm_ = register_module("norm", std::make_shared<NormWrapper>(c_out))->norm;
}

Tensor ConvLayer::forward(const Tensor& x) {
  Tensor h = scale_ == Scale::up ? engine::upsample_nearest2d_x2(x) : x;
  h = conv2d_->forward(h);
  if (norm_ && relu_) return engine::instance_norm2d_relu(h, norm_->weight, norm_->bias, norm_->eps);
  if (norm_) h = norm_->forward(h);
  return relu_ ? engine::relu(h) : h;
}

Hourglass::Hourglass(int depth, int64_t c_in, int64_t c_out, int64_t c_mid, engine::Philox& rng)
    : depth_(depth), b1_(depth + 1), b2_(depth + 1), b3_(depth + 1) {
  ENGINE_CHECK(depth >= 1, "Hourglass: depth must be at least 1, got ", depth);
  build(depth, c_in, c_mid, rng);
  out_block_ = register_module("out_block", std::make_shared<engine::Sequential>());
  out_block_->add(std::make_shared<ConvLayer>(c_mid, c_out, 3, Scale::none, false, false, rng));
}

// Registration order follows the authors' recursive construction, so that state_dict() lists the
// keys in their checkpoint's order: b1_D, b2_D, b1_D-1, b2_D-1, ..., b2_plus_1, b3_1, ..., b3_D.
void Hourglass::build(int level, int64_t c_in, int64_t c_mid, engine::Philox& rng) {
  const int64_t c1 = level == depth_ ? c_in : c_mid;
  const std::string l = std::to_string(level);
  b1_[level] = register_module("b1_" + l, std::make_shared<ConvLayer>(c1, c_mid, 3, Scale::none, true, true, rng));
  b2_[level] = register_module("b2_" + l, std::make_shared<ConvLayer>(c1, c_mid, 3, Scale::down, true, true, rng));
  if (level > 1) {
    build(level - 1, c_in, c_mid, rng);
  } else {
    b2_plus_1_ = register_module("b2_plus_1",
                                 std::make_shared<ConvLayer>(c_mid, c_mid, 3, Scale::none, true, true, rng));
  }
  b3_[level] = register_module("b3_" + l, std::make_shared<ConvLayer>(c_mid, c_mid, 3, Scale::up, true, true, rng));
}

Tensor Hourglass::level(int level, const Tensor& x) {
  Tensor up1 = b1_[level]->forward(x);
  Tensor low = b2_[level]->forward(x);
  low = level > 1 ? this->level(level - 1, low) : b2_plus_1_->forward(low);
  Tensor up2 = b3_[level]->forward(low);
  // Odd sizes: down then up gives 2 * ceil(H / 2) = H + 1; the authors resize back to up1.
  if (up2.size(2) != up1.size(2) || up2.size(3) != up1.size(3))
    up2 = engine::upsample_nearest2d(up2, up1.size(2), up1.size(3));
  return up1 + up2;
}

Tensor Hourglass::forward(const Tensor& x) {
  return engine::attention_gate(x, out_block_->forward(level(depth_, x)));
}

SARB::SARB(int64_t channels, int64_t hourglass_dim, engine::Philox& rng) {
  conv1_ = register_module("conv1", std::make_shared<ConvLayer>(channels, channels, 3, Scale::none, true, true, rng));
  conv2_ = register_module("conv2", std::make_shared<ConvLayer>(channels, channels, 3, Scale::none, true, false, rng));
  att_func_ = register_module("att_func", std::make_shared<Hourglass>(2, channels, 1, hourglass_dim, rng));
}

Tensor SARB::forward(const Tensor& x) { return x + att_func_->forward(conv2_->forward(conv1_->forward(x))); }

}  // namespace models::sargan
