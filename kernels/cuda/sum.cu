// Sum over dimensions (kernels/sum.h). Two shapes of work:
//  - many outputs, short reductions (e.g. the bias gradient of a conv over a small batch):
//    one thread per output, a sequential loop;
//  - long reductions: one block per output; each thread sums a strided slice, then a fixed
//    warp-shuffle tree combines them. Both orders are fixed, so results are deterministic.
#include "common.cuh"
#include "kernels/sum.h"

namespace kernels::cuda {
namespace {

constexpr int sum_block = 256;

struct SumPlan {
  SumShape shape;
  int64_t strides[sum_max_rank];
  int64_t outputs, reduced_count;
};

// Offset of output `out`'s first element, and of its r-th reduced element relative to it.
// The loops run over the fixed maximum rank and are unrolled, so the plan's arrays are indexed by
// constants and stay in registers instead of spilling to local memory.
__device__ __forceinline__ int64_t output_base(const SumPlan& plan, int64_t out) {
  int64_t base = 0;
#pragma unroll
  for (int d = sum_max_rank - 1; d >= 0; --d) {
    if (d >= plan.shape.rank || plan.shape.reduced[d]) continue;
    base += (out % plan.shape.size[d]) * plan.strides[d];
    out /= plan.shape.size[d];
  }
  return base;
}

__device__ __forceinline__ int64_t reduced_offset(const SumPlan& plan, int64_t r) {
  int64_t offset = 0;
#pragma unroll
  for (int d = sum_max_rank - 1; d >= 0; --d) {
    if (d >= plan.shape.rank || !plan.shape.reduced[d]) continue;
    offset += (r % plan.shape.size[d]) * plan.strides[d];
    r /= plan.shape.size[d];
  }
  return offset;
}

__global__ void sum_thread_per_output_kernel(SumPlan plan, const float* x, float* y) {
  for (int64_t out = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; out < plan.outputs;
       out += int64_t(gridDim.x) * blockDim.x) {
    const int64_t base = output_base(plan, out);
    float total = 0.f;
    for (int64_t r = 0; r < plan.reduced_count; ++r) total += x[base + reduced_offset(plan, r)];
    y[out] = total;
  }
}

__global__ void sum_block_per_output_kernel(SumPlan plan, const float* x, float* y) {
  __shared__ float scratch[32];
  const int64_t out = blockIdx.x;
  const int64_t base = output_base(plan, out);
  float partial = 0.f;
  for (int64_t r = threadIdx.x; r < plan.reduced_count; r += blockDim.x) partial += x[base + reduced_offset(plan, r)];
  const float total = block_sum(partial, scratch);
  if (threadIdx.x == 0) y[out] = total;
}

}  // namespace

void sum_forward(const SumShape& shape, const float* x, float* y) {
  SumPlan plan{};
  plan.shape = shape;
  int64_t stride = 1;
  plan.outputs = 1;
  plan.reduced_count = 1;
  for (int d = shape.rank - 1; d >= 0; --d) {
    plan.strides[d] = stride;
    stride *= shape.size[d];
    (shape.reduced[d] ? plan.reduced_count : plan.outputs) *= shape.size[d];
  }
  if (plan.outputs == 0) return;
  if (plan.reduced_count <= 64 || plan.outputs >= 65536) {
    launch(sum_thread_per_output_kernel, {dim3(grid_for(plan.outputs)), dim3(elementwise_block), 0, stream()}, plan,
           x, y);
  } else {
    launch(sum_block_per_output_kernel, {dim3(static_cast<unsigned>(plan.outputs)), dim3(sum_block), 0, stream()},
           plan, x, y);
  }
}

}  // namespace kernels::cuda
