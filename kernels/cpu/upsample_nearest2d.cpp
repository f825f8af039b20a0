// Nearest-neighbour resize of N*C planes (F.interpolate(size=..., mode='nearest')) and its
// backward. The column sources are computed once per call into a table; one OpenMP task per plane.
#include "kernels/upsample_nearest2d.h"

#include <vector>

namespace kernels::cpu {
namespace {

std::vector<int64_t> source_table(int64_t in_size, int64_t out_size) {
  std::vector<int64_t> table(out_size);
  for (int64_t i = 0; i < out_size; ++i) table[i] = upsample_nearest_source(i, in_size, out_size);
  return table;
}

}  // namespace

void upsample_nearest2d_forward(int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h,
                                int64_t out_w, const float* x, float* y) {
  const std::vector<int64_t> src_y = source_table(in_h, out_h), src_x = source_table(in_w, out_w);
  const int64_t* sx = src_x.data();
#pragma omp parallel for schedule(static) if (planes * out_h * out_w > 32768)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* x_plane = x + plane * in_h * in_w;
    float* y_plane = y + plane * out_h * out_w;
    for (int64_t oy = 0; oy < out_h; ++oy) {
      const float* row_x = x_plane + src_y[oy] * in_w;
      float* row_y = y_plane + oy * out_w;
#pragma omp simd
      for (int64_t ox = 0; ox < out_w; ++ox) row_y[ox] = row_x[sx[ox]];
    }
  }
}

// Scatter within a plane: planes are independent, so threads never write the same element.
void upsample_nearest2d_backward(int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h,
                                 int64_t out_w, const float* dy, float* dx) {
  const std::vector<int64_t> src_y = source_table(in_h, out_h), src_x = source_table(in_w, out_w);
#pragma omp parallel for schedule(static) if (planes * out_h * out_w > 32768)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* dy_plane = dy + plane * out_h * out_w;
    float* dx_plane = dx + plane * in_h * in_w;
    for (int64_t i = 0; i < in_h * in_w; ++i) dx_plane[i] = 0.f;
    for (int64_t oy = 0; oy < out_h; ++oy) {
      float* row_dx = dx_plane + src_y[oy] * in_w;
      const float* row_dy = dy_plane + oy * out_w;
      for (int64_t ox = 0; ox < out_w; ++ox) row_dx[src_x[ox]] += row_dy[ox];
    }
  }
}

}  // namespace kernels::cpu
