#pragma once
// The building blocks of the SARGAN generator (Akram & Khan, IEEE TCSVT 2023), with the authors'
// module names so that `state_dict()` keys equal those of their PyTorch checkpoints:
//   ConvLayer   conv2d.weight, conv2d.bias (only without a norm), norm.norm.weight, norm.norm.bias
//   Hourglass   b1_L, b2_L (L = depth..1), b2_plus_1, b3_L, out_block.0 (the authors' SEDN)
//   SARB        conv1, conv2, att_func
// Legend: N batch, C channels, H height, W width. See docs/sargan.md for the diagram.
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/module.h"
#include "engine/nn.h"
#include "engine/random.h"

namespace models::sargan {

enum class Scale { none, down, up };

// [nearest x2 if up] -> reflection pad k/2 -> conv k x k (stride 2 if down; bias only without a
// norm) -> [InstanceNorm2d(affine), instance statistics] -> [ReLU]. The pad and the conv are one
// conv2d with padding_mode reflect (engine/ops.h).
// [N,Ci,H,W] -> [N,Co,H',W'] with H' = ceil(H/2) if down, 2H if up, else H (odd k).
class ConvLayer : public engine::Layer {
 public:
  ConvLayer(int64_t c_in, int64_t c_out, int64_t kernel, Scale scale, bool norm, bool relu,
            engine::Philox& rng);
  engine::Tensor forward(const engine::Tensor& x) override;

 private:
  Scale scale_;
  bool relu_;
  std::shared_ptr<engine::nn::Conv2d> conv2d_;
  std::shared_ptr<engine::nn::InstanceNorm2d> norm_;  // held as `norm.norm`; null without a norm
};

// The stacked encoder-decoder attention of depth D: at level L, up1 = b1_L(x) and
// up2 = b3_L(level(L-1, b2_L(x))) (b2_plus_1 at the bottom), resized to up1 by nearest
// interpolation when odd sizes made them differ; level returns up1 + up2. forward returns
// x * sigmoid(out_block.0(level(D, x))), the one-channel map broadcast over x's channels.
// [N,c_in,H,W] -> [N,c_in,H,W] when c_out = 1 (the only use).
class Hourglass : public engine::Layer {
 public:
  Hourglass(int depth, int64_t c_in, int64_t c_out, int64_t c_mid, engine::Philox& rng);
  engine::Tensor forward(const engine::Tensor& x) override;

 private:
  void build(int level, int64_t c_in, int64_t c_mid, engine::Philox& rng);
  engine::Tensor level(int level, const engine::Tensor& x);
  int depth_;
  // Indexed by level (entry 0 unused).
  std::vector<std::shared_ptr<ConvLayer>> b1_, b2_, b3_;
  std::shared_ptr<ConvLayer> b2_plus_1_;
  std::shared_ptr<engine::Sequential> out_block_;
};

// The self-attention residual block: x + att_func(conv2(conv1(x))), shapes unchanged.
class SARB : public engine::Layer {
 public:
  SARB(int64_t channels, int64_t hourglass_dim, engine::Philox& rng);
  engine::Tensor forward(const engine::Tensor& x) override;

 private:
  std::shared_ptr<ConvLayer> conv1_, conv2_;
  std::shared_ptr<Hourglass> att_func_;
};

}  // namespace models::sargan
