// C = A^T B with k-major operands (kernels/gemm_tn.h; torch.mm(a.T, b)), the correlation GEMM of
// LSRF/OMP training: C is [P input pixels, a block of output pixels], k = 3 channels x samples.
// A 128 x 64 output tile per block of 256 threads, each thread accumulating 8 x 4 outputs in
// registers; k walked in steps of 16 through two shared-memory tiles (12 KiB). Both operands are
// contiguous along their output dimension, so a tile row is one coalesced read and the tiles need
// no transpose. The thread's 8 rows are two runs of 4, 64 apart, so that the float4 reads of a
// warp from the A tile hit two addresses (a broadcast) and those from the B tile 16 consecutive
// float4s. Each output is one running fmaf over l = 0, 1, ..., k - 1: no atomics, the same bits
// under every schedule.
#include "common.cuh"
#include "kernels/gemm_tn.h"

namespace kernels::cuda {
namespace {

constexpr int tile_m = 128, tile_n = 64, tile_k = 16, threads = 256;
constexpr int thread_m = 8, thread_n = 4;  // (threads / (tile_n / thread_n)) x thread_m == tile_m

// Rows [l0, l0 + tile_k) x columns [col0, col0 + width) of a k-major operand into tile[l][col],
// zero outside the matrix so that partial tiles need no special case in the product loop.
template <int width>
__device__ __forceinline__ void load_tile(float (*tile)[width], const float* src, int64_t ld, int64_t l0,
                                          int64_t col0, int64_t rows, int64_t cols) {
#pragma unroll
  for (int i = 0; i < tile_k * width / threads; ++i) {
    const int e = threadIdx.x + i * threads, l = e / width, col = e % width;
    const int64_t r = l0 + l, cc = col0 + col;
    tile[l][col] = r < rows && cc < cols ? src[r * ld + cc] : 0.f;
  }
}

__global__ void __launch_bounds__(threads) gemm_tn_smem_tiled_kernel(int64_t m, int64_t n, int64_t k,
                                                                      const float* a, int64_t lda, const float* b,
                                                                      int64_t ldb, float* c, int64_t ldc) {
  __shared__ __align__(16) float a_tile[tile_k][tile_m];
  __shared__ __align__(16) float b_tile[tile_k][tile_n];
  const int64_t m0 = blockIdx.x * int64_t(tile_m), n0 = blockIdx.y * int64_t(tile_n);
  const int tx = threadIdx.x % (tile_n / thread_n), ty = threadIdx.x / (tile_n / thread_n);
  float acc[thread_m][thread_n] = {};
  for (int64_t l0 = 0; l0 < k; l0 += tile_k) {
    load_tile<tile_m>(a_tile, a, lda, l0, m0, k, m);
    load_tile<tile_n>(b_tile, b, ldb, l0, n0, k, n);
    __syncthreads();
#pragma unroll
    for (int l = 0; l < tile_k; ++l) {
      const float4 a_low = *reinterpret_cast<const float4*>(&a_tile[l][ty * 4]);
      const float4 a_high = *reinterpret_cast<const float4*>(&a_tile[l][tile_m / 2 + ty * 4]);
      const float4 bv = *reinterpret_cast<const float4*>(&b_tile[l][tx * 4]);
      const float av[thread_m] = {a_low.x, a_low.y, a_low.z, a_low.w, a_high.x, a_high.y, a_high.z, a_high.w};
      const float bn[thread_n] = {bv.x, bv.y, bv.z, bv.w};
#pragma unroll
      for (int i = 0; i < thread_m; ++i)
#pragma unroll
        for (int j = 0; j < thread_n; ++j) acc[i][j] = fmaf(av[i], bn[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < thread_m; ++i) {
    const int64_t row = m0 + (i < 4 ? ty * 4 + i : tile_m / 2 + ty * 4 + i - 4);
#pragma unroll
    for (int j = 0; j < thread_n; ++j) {
      const int64_t col = n0 + tx * 4 + j;
      if (row < m && col < n) c[row * ldc + col] = acc[i][j];
    }
  }
}

}  // namespace

void gemm_tn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc) {
  if (m == 0 || n == 0) return;
  const dim3 grid(static_cast<unsigned>((m + tile_m - 1) / tile_m), static_cast<unsigned>((n + tile_n - 1) / tile_n));
  launch(gemm_tn_smem_tiled_kernel, {grid, dim3(threads), 0, stream()}, m, n, k, a, lda, b, ldb, c, ldc);
}

}  // namespace kernels::cuda
