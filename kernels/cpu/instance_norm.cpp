// Instance normalisation of N*C planes (torch.nn.InstanceNorm2d, training-mode statistics) and
// its fused backward. One OpenMP task per (n, c) plane.
//
// Statistics take two passes over the plane (mean, then the sum of squared deviations) rather
// than Welford: a plane is at most 128*128 floats (64 KiB) and stays in L2 for the second pass,
// both passes are plain reductions the compiler vectorises (Welford's per-element division and
// loop-carried update do not), and subtracting the mean first avoids the cancellation of
// E[x^2] - E[x]^2. The sums are kept in double, so this op is also the reference the CUDA kernel
// is checked against.
#include "kernels/instance_norm.h"

#include <cmath>
#include <vector>

namespace kernels::cpu {

void instance_norm_forward(int64_t n, int64_t c, int64_t hw, float eps, const float* x,
                           const float* weight, const float* bias, bool fuse_relu, float* y,
                           float* mean, float* rstd) {
  const int64_t planes = n * c;
#pragma omp parallel for schedule(static) if (planes > 1 && planes * hw > 16384)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* xp = x + plane * hw;
    float* yp = y + plane * hw;
    double total = 0.0;
#pragma omp simd reduction(+ : total)
    for (int64_t i = 0; i < hw; ++i) total += xp[i];
    const double mu = total / static_cast<double>(hw);
    double squares = 0.0;
#pragma omp simd reduction(+ : squares)
    for (int64_t i = 0; i < hw; ++i) {
      const double d = xp[i] - mu;
      squares += d * d;
    }
    const double r = 1.0 / std::sqrt(squares / static_cast<double>(hw) + eps);
    mean[plane] = static_cast<float>(mu);
    rstd[plane] = static_cast<float>(r);
    // y = (x - mean) * (rstd * weight) + bias. Subtracting the mean before scaling, rather than
    // folding it into the shift, keeps near-constant planes (rstd up to 1/sqrt(eps)) exact.
    const int64_t channel = plane % c;
    const float m = static_cast<float>(mu);
    const float scale = static_cast<float>(r) * (weight ? weight[channel] : 1.f);
    const float shift = bias ? bias[channel] : 0.f;
    if (fuse_relu) {
#pragma omp simd
      for (int64_t i = 0; i < hw; ++i) {
        const float v = (xp[i] - m) * scale + shift;
        yp[i] = v > 0.f ? v : 0.f;
      }
    } else {
#pragma omp simd
      for (int64_t i = 0; i < hw; ++i) yp[i] = (xp[i] - m) * scale + shift;
    }
  }
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * weight[c] (docs/ops/
// instance_norm.md). Each plane writes its two sums to its own slot; dweight and dbias are then
// summed over n in a fixed order, so the result does not depend on the thread count.
void instance_norm_backward(int64_t n, int64_t c, int64_t hw, const float* x, const float* weight,
                            const float* mean, const float* rstd, const float* relu_y,
                            const float* dy, float* dx, float* dweight, float* dbias) {
  const int64_t planes = n * c;
  std::vector<double> plane_dy(planes), plane_dy_xhat(planes);
#pragma omp parallel for schedule(static) if (planes > 1 && planes * hw > 16384)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* xp = x + plane * hw;
    const float* dyp = dy + plane * hw;
    const float* yp = relu_y ? relu_y + plane * hw : nullptr;
    float* dxp = dx + plane * hw;
    const float mu = mean[plane], r = rstd[plane];
    // With a fused ReLU, dy is first masked where the ReLU clipped; dx holds the masked dy.
    const float* g_in = dyp;
    if (yp) {
#pragma omp simd
      for (int64_t i = 0; i < hw; ++i) dxp[i] = yp[i] > 0.f ? dyp[i] : 0.f;
      g_in = dxp;
    }
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
#pragma omp simd reduction(+ : sum_dy, sum_dy_xhat)
    for (int64_t i = 0; i < hw; ++i) {
      sum_dy += g_in[i];
      sum_dy_xhat += static_cast<double>(g_in[i]) * ((xp[i] - mu) * r);
    }
    plane_dy[plane] = sum_dy;
    plane_dy_xhat[plane] = sum_dy_xhat;
    const float gamma = weight ? weight[plane % c] : 1.f;
    const float inv_hw = 1.f / static_cast<float>(hw);
    const float mean_g = static_cast<float>(sum_dy) * gamma * inv_hw;
    const float mean_g_xhat = static_cast<float>(sum_dy_xhat) * gamma * inv_hw;
#pragma omp simd
    for (int64_t i = 0; i < hw; ++i) {
      const float xhat = (xp[i] - mu) * r;
      dxp[i] = r * (g_in[i] * gamma - mean_g - xhat * mean_g_xhat);
    }
  }
  for (int64_t channel = 0; channel < c; ++channel) {
    double total_dy = 0.0, total_dy_xhat = 0.0;
    for (int64_t batch = 0; batch < n; ++batch) {
      total_dy += plane_dy[batch * c + channel];
      total_dy_xhat += plane_dy_xhat[batch * c + channel];
    }
    if (dbias) dbias[channel] = static_cast<float>(total_dy);
    if (dweight) dweight[channel] = static_cast<float>(total_dy_xhat);
  }
}

}  // namespace kernels::cpu
