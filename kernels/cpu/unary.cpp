// Pointwise unary ops. One switch outside the loop, so each loop body is a single expression the
// compiler vectorises.
#include "kernels/unary.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kernels::cpu {
namespace {

template <class F>
void map(int64_t n, const float* x, float* y, F f) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

template <class F>
void map_backward(int64_t n, const float* x, const float* y, const float* dy, float* dx, F f) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * f(x ? x[i] : 0.f, y ? y[i] : 0.f);
}

}  // namespace

void unary_forward(UnaryOp op, UnaryParams p, int64_t n, const float* x, float* y) {
  switch (op) {
    case UnaryOp::affine: return map(n, x, y, [p](float v) { return p.alpha * v + p.beta; });
    case UnaryOp::relu: return map(n, x, y, [](float v) { return v > 0.f ? v : 0.f; });
    case UnaryOp::leaky_relu: return map(n, x, y, [p](float v) { return v > 0.f ? v : p.alpha * v; });
    case UnaryOp::sigmoid: return map(n, x, y, [](float v) { return 1.f / (1.f + std::exp(-v)); });
    case UnaryOp::tanh: return map(n, x, y, [](float v) { return std::tanh(v); });
    case UnaryOp::sqrt: return map(n, x, y, [](float v) { return std::sqrt(v); });
    case UnaryOp::pow: return map(n, x, y, [p](float v) { return std::pow(v, p.alpha); });
    case UnaryOp::abs: return map(n, x, y, [](float v) { return std::fabs(v); });
    case UnaryOp::clamp: return map(n, x, y, [p](float v) { return std::min(std::max(v, p.alpha), p.beta); });
    case UnaryOp::step: return map(n, x, y, [p](float v) { return v > 0.f ? 1.f : p.alpha; });
    case UnaryOp::sign: return map(n, x, y, [](float v) { return float((v > 0.f) - (v < 0.f)); });
  }
}

// Only the ops whose backward is a fused kernel appear here; the others differentiate through
// differentiable ops in the engine (so that their gradients can be differentiated again).
void unary_backward(UnaryOp op, UnaryParams p, int64_t n, const float* x, const float* y,
                    const float* dy, float* dx) {
  switch (op) {
    case UnaryOp::sigmoid:
      return map_backward(n, x, y, dy, dx, [](float, float s) { return s * (1.f - s); });
    case UnaryOp::tanh:
      return map_backward(n, x, y, dy, dx, [](float, float t) { return 1.f - t * t; });
    case UnaryOp::clamp:
      return map_backward(n, x, y, dy, dx, [p](float v, float) {
        return v >= p.alpha && v <= p.beta ? 1.f : 0.f;
      });
    default:
      throw std::invalid_argument("unary_backward: this op differentiates through engine ops");
  }
}

}  // namespace kernels::cpu
