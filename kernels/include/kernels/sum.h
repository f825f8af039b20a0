#pragma once
// Sum over a set of dimensions: y (=) has one element per kept coordinate, in row-major order.
// The engine merges adjacent dimensions that are both kept or both reduced, so `rank` is small.
// Matches torch.sum(x, dims) in value; the CPU op accumulates in double, the reference for CUDA.
#include <cstdint>

namespace kernels {

constexpr int sum_max_rank = 6;

struct SumShape {
  int rank = 0;
  int64_t size[sum_max_rank] = {};
  bool reduced[sum_max_rank] = {};
};

namespace cpu {
void sum_forward(const SumShape& shape, const float* x, float* y);
}
namespace cuda {
void sum_forward(const SumShape& shape, const float* x, float* y);
}

}  // namespace kernels
