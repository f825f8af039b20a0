#pragma once
// Decodes a flat output index into the two operands' element offsets (kernels/broadcast.h).
#include "kernels/broadcast.h"

namespace kernels::cuda {

__device__ __forceinline__ void broadcast_offsets(const BroadcastIndex& index, int64_t i, int64_t& a,
                                                  int64_t& b) {
  a = 0;
  b = 0;
  // Unrolled over the fixed maximum rank: constant indices keep the index arrays in registers.
#pragma unroll
  for (int d = broadcast_max_rank - 1; d >= 0; --d) {
    if (d >= index.rank) continue;
    const int64_t coord = i % index.size[d];
    i /= index.size[d];
    a += coord * index.stride_a[d];
    b += coord * index.stride_b[d];
  }
}

}  // namespace kernels::cuda
