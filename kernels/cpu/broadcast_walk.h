#pragma once
// Walks a BroadcastIndex as rows: every coordinate of the outer dimensions gives the offsets of a
// row of the innermost dimension, which the caller's loop processes with constant strides (0 or
// 1 in practice), the shape the compiler vectorises. Rows are split across OpenMP threads.
#include "kernels/broadcast.h"

namespace kernels::cpu {

template <class RowFn>
void for_each_broadcast_row(const BroadcastIndex& index, RowFn row_fn) {
  const int rank = index.rank;
  if (rank == 0) {
    row_fn(0, int64_t{0}, int64_t{0}, int64_t{1}, int64_t{0}, int64_t{0});
    return;
  }
  const int64_t inner = index.size[rank - 1];
  const int64_t rows = inner == 0 ? 0 : index.numel / inner;
#pragma omp parallel for schedule(static) if (index.numel > 32768)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rest = row, offset_a = 0, offset_b = 0;
    for (int d = rank - 2; d >= 0; --d) {
      const int64_t coord = rest % index.size[d];
      rest /= index.size[d];
      offset_a += coord * index.stride_a[d];
      offset_b += coord * index.stride_b[d];
    }
    row_fn(row * inner, offset_a, offset_b, inner, index.stride_a[rank - 1], index.stride_b[rank - 1]);
  }
}

}  // namespace kernels::cpu
