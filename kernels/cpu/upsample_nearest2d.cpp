// Nearest-neighbour resize of N*C planes (F.interpolate(size=..., mode='nearest')) and its
// backward. One OpenMP task per plane. The source map is monotone, so the destinations of one
// source index form a contiguous run: the forward copies a repeated output row instead of
// gathering it again, and the backward gathers each input element's run (no scatter, no zeroing
// pass, a fixed summation order).
#include "kernels/upsample_nearest2d.h"

#include <cstring>
#include <vector>

namespace kernels::cpu {
namespace {

// Source of each destination index; int32 so that the column gather vectorises (AVX2 gathers).
std::vector<int32_t> source_table(int64_t in_size, int64_t out_size) {
  std::vector<int32_t> table(out_size);
  for (int64_t i = 0; i < out_size; ++i)
    table[i] = static_cast<int32_t>(upsample_nearest_source(i, in_size, out_size));
  return table;
}

// For each source index, the run [begin, end) of destinations that read it (empty when none do).
struct Runs {
  std::vector<int64_t> begin, end;
};

Runs destination_runs(int64_t in_size, int64_t out_size) {
  Runs runs{std::vector<int64_t>(in_size, 0), std::vector<int64_t>(in_size, 0)};
  for (int64_t dst = out_size; dst-- > 0;) {  // backwards, so `begin` ends at the first dst
    const int64_t src = upsample_nearest_source(dst, in_size, out_size);
    if (runs.end[src] == 0) runs.end[src] = dst + 1;
    runs.begin[src] = dst;
  }
  return runs;
}

}  // namespace

void upsample_nearest2d_forward(int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h,
                                int64_t out_w, const float* x, float* y) {
  const std::vector<int32_t> src_y = source_table(in_h, out_h), src_x = source_table(in_w, out_w);
  const int32_t* sx = src_x.data();
#pragma omp parallel for schedule(static) if (planes * out_h * out_w > 32768)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* x_plane = x + plane * in_h * in_w;
    float* y_plane = y + plane * out_h * out_w;
    for (int64_t oy = 0; oy < out_h; ++oy) {
      float* row_y = y_plane + oy * out_w;
      if (oy > 0 && src_y[oy] == src_y[oy - 1]) {
        std::memcpy(row_y, row_y - out_w, sizeof(float) * out_w);
        continue;
      }
      const float* row_x = x_plane + static_cast<int64_t>(src_y[oy]) * in_w;
#pragma omp simd
      for (int64_t ox = 0; ox < out_w; ++ox) row_y[ox] = row_x[sx[ox]];
    }
  }
}

void upsample_nearest2d_backward(int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h,
                                 int64_t out_w, const float* dy, float* dx) {
  const Runs rows = destination_runs(in_h, out_h), cols = destination_runs(in_w, out_w);
#pragma omp parallel for schedule(static) if (planes * out_h * out_w > 32768)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* dy_plane = dy + plane * out_h * out_w;
    float* dx_plane = dx + plane * in_h * in_w;
    std::vector<float> row_sum(out_w);  // the dy rows of one input row, summed
    for (int64_t iy = 0; iy < in_h; ++iy) {
      float* row_dx = dx_plane + iy * in_w;
      const int64_t first = rows.begin[iy], last = rows.end[iy];
      if (first == last) {
        for (int64_t ix = 0; ix < in_w; ++ix) row_dx[ix] = 0.f;
        continue;
      }
      std::memcpy(row_sum.data(), dy_plane + first * out_w, sizeof(float) * out_w);
      for (int64_t oy = first + 1; oy < last; ++oy) {
        const float* row_dy = dy_plane + oy * out_w;
        float* sum = row_sum.data();
#pragma omp simd
        for (int64_t ox = 0; ox < out_w; ++ox) sum[ox] += row_dy[ox];
      }
      for (int64_t ix = 0; ix < in_w; ++ix) {
        float total = 0.f;
        for (int64_t ox = cols.begin[ix]; ox < cols.end[ix]; ++ox) total += row_sum[ox];
        row_dx[ix] = total;
      }
    }
  }
}

}  // namespace kernels::cpu
