#pragma once
// Launch shape of the per-plane resampling kernels (padding, upsampling): blockIdx.x and
// threadIdx.x cover the pixels of one plane with 32-bit index arithmetic (a plane holds fewer
// than 2^31 elements; 64-bit division costs tens of instructions), blockIdx.y walks the N*C
// planes in a grid-stride loop because gridDim.y stops at 65535.
#include <cstdint>

#include "common.cuh"

namespace kernels::cuda {

// Threads per block: 256, or fewer (whole warps) for planes smaller than that, so that the small
// maps deep in a network do not launch mostly idle warps.
inline int plane_block(int64_t pixels) {
  const int64_t warps = (pixels + 31) / 32;
  return warps >= 8 ? 256 : static_cast<int>(warps > 0 ? warps * 32 : 32);
}

inline dim3 plane_grid(int64_t pixels, int64_t planes) {
  const int64_t block = plane_block(pixels), x = (pixels + block - 1) / block;
  return dim3(static_cast<unsigned>(x > 0 ? x : 1), static_cast<unsigned>(planes < 65535 ? planes : 65535));
}

}  // namespace kernels::cuda
