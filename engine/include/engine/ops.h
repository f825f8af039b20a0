#pragma once
// The differentiable ops, as free functions on Tensors. Each checks its arguments (one line naming
// the op, what it expected and what it got), dispatches to kernels::cpu or kernels::cuda by the
// inputs' device, and records its backward. Each section names its file in engine/ops/: one op, or
// one family sharing a kernel (binary, unary, sum and mean), per file, forward and backward side by
// side. Legend: N batch, C channels, H height, W width, K kernel size.
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace engine {

// ---- elementwise arithmetic, NumPy/PyTorch broadcasting (engine/ops/binary.cpp) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
// y = alpha * x + beta (engine/ops/unary.cpp): every scalar +, -, * and / below.
Tensor affine_scalar(const Tensor& x, float alpha, float beta);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& x, float s) { return affine_scalar(x, 1.f, s); }
inline Tensor operator+(float s, const Tensor& x) { return affine_scalar(x, 1.f, s); }
inline Tensor operator-(const Tensor& x, float s) { return affine_scalar(x, 1.f, -s); }
inline Tensor operator-(float s, const Tensor& x) { return affine_scalar(x, -1.f, s); }
inline Tensor operator*(const Tensor& x, float s) { return affine_scalar(x, s, 0.f); }
inline Tensor operator*(float s, const Tensor& x) { return affine_scalar(x, s, 0.f); }
inline Tensor operator/(const Tensor& x, float s) { return affine_scalar(x, 1.f / s, 0.f); }
inline Tensor operator-(const Tensor& x) { return affine_scalar(x, -1.f, 0.f); }

// ---- unary (engine/ops/unary.cpp) ----
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, float negative_slope = 0.01f);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor pow(const Tensor& x, float exponent);
Tensor abs(const Tensor& x);
Tensor clamp(const Tensor& x, float lo, float hi);

// ---- reductions (engine/ops/sum.cpp) ----
Tensor sum(const Tensor& x);                                           // all elements -> []
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
// Sums broadcast dimensions away so that the result has `shape` (the backward of broadcasting).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- shape ops ----
// expand broadcasts to shape (a copy, not a view); repeat is torch's (engine/ops/expand.cpp).
Tensor expand(const Tensor& x, const Shape& shape);
Tensor repeat(const Tensor& x, const Shape& repeats);
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);  // engine/ops/cat.cpp
// torch.narrow as a copy: `length` indices of `dim` from `start` (engine/ops/narrow.cpp).
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
// Views through Tensor::reshape (engine/ops/reshape.cpp).
Tensor flatten(const Tensor& x, int64_t start_dim = 1);
Tensor unsqueeze(const Tensor& x, int64_t dim);

// ---- convolution (engine/ops/conv2d.cpp) ----
// torch's padding_mode: zeros, or reflect (reflection_pad2d's pad, padding < H and < W; conv2d
// only).
enum class PaddingMode { zeros, reflect };
struct Conv2dOptions {
  int stride = 1;
  int padding = 0;  // on every side
  PaddingMode padding_mode = PaddingMode::zeros;
};
// x [N,Ci,H,W], weight [Co,Ci,K,K] (square or not), bias [Co] or undefined -> [N,Co,Ho,Wo].
// With padding_mode reflect: the values and gradients of conv2d(reflection_pad2d(x, padding), ...)
// with no padding, bit for bit; where nothing records a gradient the CUDA kernels read the
// reflection in place where they can (kernels/conv2d.h), saving the padded tensor's pass.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              Conv2dOptions options = {});
// leaky_relu(conv2d(x, weight, bias), negative_slope >= 0) with the bias and the activation
// applied as the convolution stores its output (one pass instead of three; the critic's layers):
// the values and gradients, to any order, of the three ops.
Tensor conv2d_leaky_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, float negative_slope,
                         Conv2dOptions options = {});
// PyTorch ConvTranspose2d: x [N,Ci,H,W], weight [Ci,Co,K,K] -> [N,Co,(H-1)s-2p+K, ...].
// output_size (H, W) picks among the sizes that stride rounding allows (the input_grad of conv2d).
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                        Conv2dOptions options = {}, std::vector<int64_t> output_size = {});
// d conv2d(x, w) / dw contracted with grad_y: [Co,Ci,K,K]. Differentiable (second order).
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& grad_y, const Shape& weight_shape,
                          Conv2dOptions options);

// ---- linear algebra (engine/ops/gemm_tn.cpp) ----
// a [K,M], b [K,N] -> a^T b [M,N]: the correlation GEMM of LSRF/OMP training (kernels/gemm_tn.h).
Tensor gemm_tn(const Tensor& a, const Tensor& b);
// A CSR matrix times dense vectors: engine/sparse.h (not differentiable, so not among these ops).

// ---- image ops ----
Tensor reflection_pad2d(const Tensor& x, int padding);             // engine/ops/reflection_pad2d.cpp
// F.interpolate(size), mode nearest (engine/ops/upsample_nearest2d.cpp).
Tensor upsample_nearest2d(const Tensor& x, int64_t out_h, int64_t out_w);
inline Tensor upsample_nearest2d_x2(const Tensor& x) {
  return upsample_nearest2d(x, x.size(2) * 2, x.size(3) * 2);
}
// Per-(n, c) plane normalisation with biased variance; weight/bias [C] or undefined
// (engine/ops/instance_norm2d.cpp).
Tensor instance_norm2d(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);
// relu(instance_norm2d(...)) in one kernel pass (engine/ops/instance_norm2d.cpp).
Tensor instance_norm2d_relu(const Tensor& x, const Tensor& weight, const Tensor& bias,
                            float eps = 1e-5f);

// SARGAN's spatial attention: x * sigmoid(a), a [N,1,H,W] broadcast over x [N,C,H,W], in one
// pass forward and backward (engine/ops/attention_gate.cpp).
Tensor attention_gate(const Tensor& x, const Tensor& a);

// ---- losses ----
// F.cross_entropy(logits [N,K], labels) with mean reduction (engine/ops/cross_entropy.cpp).
Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels);
// Class indices kept on a device: checked on the host (each in [0, classes)), copied once, and
// refilled in place by set(), so that a CUDA graph which reads them (engine/cuda_graph.h) sees
// the new labels at its next replay.
class Labels {
 public:
  Labels() = default;
  Labels(const std::vector<int64_t>& values, int64_t classes, Device device);
  void set(const std::vector<int64_t>& values);  // as many values as before
  int64_t size() const { return count_; }
  int64_t classes() const { return classes_; }
  const std::shared_ptr<Storage>& storage() const { return storage_; }

 private:
  std::shared_ptr<Storage> storage_;
  int64_t count_ = 0, classes_ = 0;
};
// The same on labels already on the logits' device (labels.classes() == K).
Tensor cross_entropy(const Tensor& logits, const Labels& labels);
Tensor l1_loss(const Tensor& a, const Tensor& b);  // mean |a - b| (engine/ops/l1_loss.cpp)
// WGAN-GP's penalty term on a gradient g [N,...]: mean_n (||g_n||_2 - 1)^2, fused; differentiable
// once w.r.t. g, which is all training needs: g itself carries the graph to the critic's weights
// (engine/ops/gradient_penalty.cpp).
Tensor gradient_penalty(const Tensor& g);

}  // namespace engine
