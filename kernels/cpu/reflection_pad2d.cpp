// Reflection padding of N*C planes (torch.nn.ReflectionPad2d) and its backward. One OpenMP task
// per plane; within a padded row the middle run is a contiguous copy (or add) the compiler
// vectorises, and only the 2p edge elements take the reflected index.
#include "kernels/reflection_pad2d.h"

namespace kernels::cpu {
namespace {

// Input index read by padded index i (0 <= i < n + 2p, p < n).
inline int64_t reflect(int64_t i, int64_t n, int64_t pad) {
  i -= pad;
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

}  // namespace

void reflection_pad2d_forward(int64_t planes, int64_t h, int64_t w, int64_t pad, const float* x,
                              float* y) {
  const int64_t out_h = h + 2 * pad, out_w = w + 2 * pad;
#pragma omp parallel for schedule(static) if (planes * out_h * out_w > 32768)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* x_plane = x + plane * h * w;
    float* y_plane = y + plane * out_h * out_w;
    for (int64_t oy = 0; oy < out_h; ++oy) {
      const float* row_x = x_plane + reflect(oy, h, pad) * w;
      float* row_y = y_plane + oy * out_w;
      for (int64_t j = 0; j < pad; ++j) row_y[j] = row_x[pad - j];
#pragma omp simd
      for (int64_t j = 0; j < w; ++j) row_y[pad + j] = row_x[j];
      for (int64_t j = 0; j < pad; ++j) row_y[pad + w + j] = row_x[w - 2 - j];
    }
  }
}

// Scatter within a plane: planes are independent, so threads never write the same element.
void reflection_pad2d_backward(int64_t planes, int64_t h, int64_t w, int64_t pad, const float* dy,
                               float* dx) {
  const int64_t out_h = h + 2 * pad, out_w = w + 2 * pad;
#pragma omp parallel for schedule(static) if (planes * out_h * out_w > 32768)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* dy_plane = dy + plane * out_h * out_w;
    float* dx_plane = dx + plane * h * w;
    for (int64_t i = 0; i < h * w; ++i) dx_plane[i] = 0.f;
    for (int64_t oy = 0; oy < out_h; ++oy) {
      float* row_dx = dx_plane + reflect(oy, h, pad) * w;
      const float* row_dy = dy_plane + oy * out_w;
      for (int64_t j = 0; j < pad; ++j) row_dx[pad - j] += row_dy[j];
#pragma omp simd
      for (int64_t j = 0; j < w; ++j) row_dx[j] += row_dy[pad + j];
      for (int64_t j = 0; j < pad; ++j) row_dx[w - 2 - j] += row_dy[pad + w + j];
    }
  }
}

}  // namespace kernels::cpu
