#pragma once
// How the elements of a broadcast op map to its operands: the output is walked in row-major
// order over `size`, and operand k reads element sum_d coord[d] * stride[k][d] (stride 0 where
// the operand is broadcast). Adjacent dimensions are merged by the engine before launch, so rank
// is small; the innermost dimension is where kernels vectorise.
#include <cstdint>

namespace kernels {

constexpr int broadcast_max_rank = 6;

struct BroadcastIndex {
  int rank = 0;
  int64_t numel = 0;
  int64_t size[broadcast_max_rank] = {};
  int64_t stride_a[broadcast_max_rank] = {};
  int64_t stride_b[broadcast_max_rank] = {};
};

}  // namespace kernels
