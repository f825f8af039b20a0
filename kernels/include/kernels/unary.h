#pragma once
// Pointwise unary ops over n contiguous elements. forward: y = f(x) (=). backward: dx = dy * f'(x)
// (=), from x and y as the op needs (either may be read). Matches the torch function of the name.
#include <cstdint>

namespace kernels {

enum class UnaryOp {
  affine,      // alpha * x + beta
  relu,
  leaky_relu,  // slope alpha for x < 0
  sigmoid,
  tanh,
  sqrt,
  pow,         // x ^ alpha
  abs,
  clamp,       // to [alpha, beta]
  step,        // 1 where x > 0 else alpha: the derivative of relu (alpha 0) and leaky_relu
  sign,        // -1, 0, 1: the derivative of abs
};

struct UnaryParams {
  float alpha = 0.f;
  float beta = 0.f;
};

namespace cpu {
void unary_forward(UnaryOp op, UnaryParams params, int64_t n, const float* x, float* y);
void unary_backward(UnaryOp op, UnaryParams params, int64_t n, const float* x, const float* y,
                    const float* dy, float* dx);
}
namespace cuda {
void unary_forward(UnaryOp op, UnaryParams params, int64_t n, const float* x, float* y);
void unary_backward(UnaryOp op, UnaryParams params, int64_t n, const float* x, const float* y,
                    const float* dy, float* dx);
}

}  // namespace kernels
