// Sum over dimensions. Each output element loops over its reduced coordinates; the sum is kept in
// double so that this op can serve as the reference the float CUDA reductions are checked against.
#include "kernels/sum.h"

namespace kernels::cpu {

void sum_forward(const SumShape& shape, const float* x, float* y) {
  int64_t strides[sum_max_rank];
  int64_t stride = 1, outputs = 1, reduced_count = 1;
  for (int d = shape.rank - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= shape.size[d];
    (shape.reduced[d] ? reduced_count : outputs) *= shape.size[d];
  }
  // The innermost dimension, when reduced, is summed as a contiguous run.
  const bool inner_reduced = shape.rank > 0 && shape.reduced[shape.rank - 1];
  const int64_t run = inner_reduced ? shape.size[shape.rank - 1] : 1;
  const int outer_rank = inner_reduced ? shape.rank - 1 : shape.rank;
  const int64_t runs_per_output = run == 0 ? 0 : reduced_count / run;
#pragma omp parallel for schedule(static) if (outputs > 1 && outputs * reduced_count > 32768)
  for (int64_t out = 0; out < outputs; ++out) {
    // Offset of this output's first element: decode `out` over the kept dimensions.
    int64_t base = 0, rest = out;
    for (int d = shape.rank - 1; d >= 0; --d) {
      if (shape.reduced[d]) continue;
      base += (rest % shape.size[d]) * strides[d];
      rest /= shape.size[d];
    }
    double total = 0.0;
    for (int64_t r = 0; r < runs_per_output; ++r) {
      int64_t offset = base, rest_r = r;
      for (int d = outer_rank - 1; d >= 0; --d) {
        if (!shape.reduced[d]) continue;
        offset += (rest_r % shape.size[d]) * strides[d];
        rest_r /= shape.size[d];
      }
      const float* row = x + offset;
      double partial = 0.0;
      for (int64_t i = 0; i < run; ++i) partial += row[i];
      total += partial;
    }
    y[out] = static_cast<float>(total);
  }
}

}  // namespace kernels::cpu
