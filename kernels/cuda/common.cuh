#pragma once
// What the kernel files share: the current stream, grid sizing for grid-stride loops, and
// deterministic warp and block sums (a fixed shuffle tree, so a sum does not depend on the
// order in which threads run).
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "kernels/cuda_device.h"
#include "kernels/cuda_stream.h"
#include "launch.cuh"

namespace kernels::cuda {

inline cudaStream_t stream() { return static_cast<cudaStream_t>(current_stream()); }

constexpr int elementwise_block = 256;

// Blocks for a grid-stride loop over n items: enough to fill a large GPU, never more than needed.
inline unsigned grid_for(int64_t n, int block = elementwise_block) {
  const int64_t blocks = (n + block - 1) / block;
  return static_cast<unsigned>(blocks < 4096 ? (blocks > 0 ? blocks : 1) : 4096);
}

// Device scratch memory that only grows and is kept for the process: workspaces of launches issued
// from one host thread (the engine issues its ops from one). With zero_new, memory it allocates
// starts as zeros (counters that the kernels using them return to zero). A buffer it outgrows is
// kept too, never freed: a captured CUDA graph may hold its address.
template <class T = float>
class ScratchBuffer {
 public:
  explicit ScratchBuffer(bool zero_new = false) : zero_new_(zero_new) {}
  T* get(size_t count) {
    if (count > capacity_) {
      if (buffer_) outgrown_.push_back(buffer_);
      buffer_ = static_cast<T*>(malloc_bytes(count * sizeof(T)));
      if (zero_new_) memset_zero(buffer_, count * sizeof(T));
      capacity_ = count;
    }
    return buffer_;
  }

 private:
  bool zero_new_;
  T* buffer_ = nullptr;
  size_t capacity_ = 0;
  std::vector<T*> outgrown_;
};

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); the result is valid in
// thread 0. `scratch` is 32 floats of shared memory. Every thread of the block must call it.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const unsigned warps = blockDim.x / 32;
  v = threadIdx.x < warps ? scratch[threadIdx.x] : 0.f;
  if (warp == 0) v = warp_sum(v);
  __syncthreads();  // scratch may be reused by the caller's next block_sum
  return v;
}

}  // namespace kernels::cuda
