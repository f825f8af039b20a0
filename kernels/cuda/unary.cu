// Pointwise unary ops (kernels/unary.h), one template instance per op so the loop body is a
// single expression; grid-stride loops over contiguous data.
#include "common.cuh"
#include "kernels/unary.h"

#include <stdexcept>

namespace kernels::cuda {
namespace {

template <UnaryOp op>
__device__ __forceinline__ float forward_value(float v, UnaryParams p) {
  switch (op) {
    case UnaryOp::affine: return p.alpha * v + p.beta;
    case UnaryOp::relu: return v > 0.f ? v : 0.f;
    case UnaryOp::leaky_relu: return v > 0.f ? v : p.alpha * v;
    case UnaryOp::sigmoid: return 1.f / (1.f + expf(-v));
    case UnaryOp::tanh: return tanhf(v);
    case UnaryOp::sqrt: return sqrtf(v);
    case UnaryOp::pow: return powf(v, p.alpha);
    case UnaryOp::abs: return fabsf(v);
    case UnaryOp::clamp: return fminf(fmaxf(v, p.alpha), p.beta);
    case UnaryOp::step: return v > 0.f ? 1.f : p.alpha;
    case UnaryOp::sign: return float((v > 0.f) - (v < 0.f));
  }
  return v;
}

// f'(x) from x and y = f(x), for the ops with a fused backward.
template <UnaryOp op>
__device__ __forceinline__ float derivative(float x, float y, UnaryParams p) {
  if (op == UnaryOp::sigmoid) return y * (1.f - y);
  if (op == UnaryOp::tanh) return 1.f - y * y;
  return x >= p.alpha && x <= p.beta ? 1.f : 0.f;  // clamp
}

template <UnaryOp op>
__global__ void unary_forward_kernel(UnaryParams p, int64_t n, const float* x, float* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = forward_value<op>(x[i], p);
}

template <UnaryOp op>
__global__ void unary_backward_kernel(UnaryParams p, int64_t n, const float* x, const float* y, const float* dy,
                                      float* dx) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dx[i] = dy[i] * derivative<op>(x[i], y[i], p);
}

template <UnaryOp op>
void launch_forward(UnaryParams p, int64_t n, const float* x, float* y) {
  launch(unary_forward_kernel<op>, {dim3(grid_for(n)), dim3(elementwise_block), 0, stream()}, p, n, x, y);
}

template <UnaryOp op>
void launch_backward(UnaryParams p, int64_t n, const float* x, const float* y, const float* dy, float* dx) {
  launch(unary_backward_kernel<op>, {dim3(grid_for(n)), dim3(elementwise_block), 0, stream()}, p, n, x, y, dy, dx);
}

}  // namespace

void unary_forward(UnaryOp op, UnaryParams p, int64_t n, const float* x, float* y) {
  if (n == 0) return;
  switch (op) {
    case UnaryOp::affine: return launch_forward<UnaryOp::affine>(p, n, x, y);
    case UnaryOp::relu: return launch_forward<UnaryOp::relu>(p, n, x, y);
    case UnaryOp::leaky_relu: return launch_forward<UnaryOp::leaky_relu>(p, n, x, y);
    case UnaryOp::sigmoid: return launch_forward<UnaryOp::sigmoid>(p, n, x, y);
    case UnaryOp::tanh: return launch_forward<UnaryOp::tanh>(p, n, x, y);
    case UnaryOp::sqrt: return launch_forward<UnaryOp::sqrt>(p, n, x, y);
    case UnaryOp::pow: return launch_forward<UnaryOp::pow>(p, n, x, y);
    case UnaryOp::abs: return launch_forward<UnaryOp::abs>(p, n, x, y);
    case UnaryOp::clamp: return launch_forward<UnaryOp::clamp>(p, n, x, y);
    case UnaryOp::step: return launch_forward<UnaryOp::step>(p, n, x, y);
    case UnaryOp::sign: return launch_forward<UnaryOp::sign>(p, n, x, y);
  }
}

void unary_backward(UnaryOp op, UnaryParams p, int64_t n, const float* x, const float* y, const float* dy,
                    float* dx) {
  if (n == 0) return;
  switch (op) {
    case UnaryOp::sigmoid: return launch_backward<UnaryOp::sigmoid>(p, n, x, y, dy, dx);
    case UnaryOp::tanh: return launch_backward<UnaryOp::tanh>(p, n, x, y, dy, dx);
    case UnaryOp::clamp: return launch_backward<UnaryOp::clamp>(p, n, x, y, dy, dx);
    default: throw std::invalid_argument("unary_backward: this op differentiates through engine ops");
  }
}

}  // namespace kernels::cuda
