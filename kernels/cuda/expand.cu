// Broadcast copy (the forward of expand/repeat): one thread per output element, reads through
// the merged broadcast strides. Writes are coalesced; reads hit the cache (broadcast operands
// are small).
#include "common.cuh"
#include "broadcast_offsets.cuh"
#include "kernels/expand.h"

namespace kernels::cuda {
namespace {

__global__ void expand_forward_kernel(BroadcastIndex index, const float* x, float* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < index.numel; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t offset_x, unused;
    broadcast_offsets(index, i, offset_x, unused);
    y[i] = x[offset_x];
  }
}

}  // namespace

void expand_forward(const BroadcastIndex& index, const float* x, float* y) {
  if (index.numel == 0) return;
  launch(expand_forward_kernel, {dim3(grid_for(index.numel)), dim3(elementwise_block), 0, stream()}, index, x, y);
}

}  // namespace kernels::cuda
