// Convolution as implicit GEMM (kernels/conv2d.h; matches F.conv2d and its two gradients): no
// im2col buffer; the tile loaders gather the convolution's operands straight from NCHW memory.
//
//   forward          y[m = (n,oh,ow)][co]     = sum_{k = (ci,r,q)}   x-patch[m][k] * w[co][k]
//   backward_input   dx[m = (n,ih,iw)][ci]    = sum_{k = (co,r,q)}   dy-patch[m][k] * w[co][ci][r][q]
//   backward_weight  dw[co][k = (ci,r,q)]     = sum_{m = (n,oh,ow)}  dy[m][co] * x-patch[m][k]
//
// One kernel template serves all three: a 64x64 output tile per block of 256 threads, each thread
// accumulating a 4x4 register tile, the K dimension walked in steps of 16 through two shared-memory
// tiles (8 KiB). Loaders map consecutive threads to the operand's contiguous dimension, so global
// reads coalesce. When a problem has few output tiles and a long reduction (D's deep layers and
// heads: 1-16 tiles, K up to 32768; the weight gradient of the early layers) all three split the
// reduction across blockIdx.z (split-K, rule in split_slices) into a workspace laid out like the
// output and sum the slices in a fixed order in a second kernel: deterministic, no atomics.
#include "common.cuh"
#include "kernels/conv2d.h"

namespace kernels::cuda {
namespace {

constexpr int tile_m = 64, tile_n = 64, tile_k = 16, gemm_threads = 256;

// x-patch[m][k]: m = (n, oh, ow) over the output pixels, k = (ci, r, q) over the kernel taps.
struct InputPatch {
  Conv2dShape s;
  const float* x;
  static constexpr bool m_contiguous = true;
  __device__ __forceinline__ float operator()(int64_t m, int64_t k) const {
    const int64_t hw_out = s.h_out * s.w_out, taps = s.k_h * s.k_w;
    const int64_t n = m / hw_out, p = m - n * hw_out, ci = k / taps, tap = k - ci * taps;
    const int64_t ih = (p / s.w_out) * s.stride - s.pad + tap / s.k_w;
    const int64_t iw = (p % s.w_out) * s.stride - s.pad + tap % s.k_w;
    if (ih < 0 || ih >= s.h_in || iw < 0 || iw >= s.w_in) return 0.f;
    return x[((n * s.c_in + ci) * s.h_in + ih) * s.w_in + iw];
  }
};

// w viewed as [Co][K] (forward's B operand, B[k][co]).
struct WeightRows {
  const float* w;
  int64_t k_total;
  static constexpr bool m_contiguous = false;  // contiguous along k
  __device__ __forceinline__ float operator()(int64_t k, int64_t co) const { return w[co * k_total + k]; }
};

// dy-patch[m][k]: m = (n, ih, iw) over the input pixels, k = (co, r, q): the output pixel whose
// tap (r, q) lands on (ih, iw), if the stride puts one there.
struct OutputGradPatch {
  Conv2dShape s;
  const float* dy;
  static constexpr bool m_contiguous = true;
  __device__ __forceinline__ float operator()(int64_t m, int64_t k) const {
    const int64_t hw_in = s.h_in * s.w_in, taps = s.k_h * s.k_w;
    const int64_t n = m / hw_in, p = m - n * hw_in, co = k / taps, tap = k - co * taps;
    const int64_t oh_scaled = p / s.w_in + s.pad - tap / s.k_w, ow_scaled = p % s.w_in + s.pad - tap % s.k_w;
    if (oh_scaled < 0 || ow_scaled < 0 || oh_scaled % s.stride != 0 || ow_scaled % s.stride != 0) return 0.f;
    const int64_t oh = oh_scaled / s.stride, ow = ow_scaled / s.stride;
    if (oh >= s.h_out || ow >= s.w_out) return 0.f;
    return dy[((n * s.c_out + co) * s.h_out + oh) * s.w_out + ow];
  }
};

// w[co][ci][r][q] as B[k = (co, r, q)][ci] of backward_input.
struct WeightTransposed {
  Conv2dShape s;
  const float* w;
  static constexpr bool m_contiguous = false;
  __device__ __forceinline__ float operator()(int64_t k, int64_t ci) const {
    const int64_t taps = s.k_h * s.k_w, co = k / taps, tap = k - co * taps;
    return w[(co * s.c_in + ci) * taps + tap];
  }
};

// dy as A[co][m = (n, oh, ow)] of backward_weight (contiguous along m, the reduction).
struct OutputGradRows {
  Conv2dShape s;
  const float* dy;
  static constexpr bool m_contiguous = false;
  __device__ __forceinline__ float operator()(int64_t co, int64_t m) const {
    const int64_t hw_out = s.h_out * s.w_out, n = m / hw_out;
    return dy[(n * s.c_out + co) * hw_out + (m - n * hw_out)];
  }
};

// The x-patch as B[m][k] of backward_weight: same values as InputPatch, other roles.
struct InputPatchAsB {
  InputPatch patch;
  static constexpr bool m_contiguous = false;  // neighbouring threads take neighbouring taps k
  __device__ __forceinline__ float operator()(int64_t m, int64_t k) const { return patch(m, k); }
};

// Stores of the GEMM result C[m][n].
struct StoreNchw {  // C[(n, pixel)][channel] -> out[slice][n][channel][pixel]
  float* out;
  int64_t channels, pixels, slice_size;
  __device__ __forceinline__ void operator()(int64_t m, int64_t c, float v) const {
    const int64_t n = m / pixels;
    out[blockIdx.z * slice_size + (n * channels + c) * pixels + (m - n * pixels)] = v;
  }
};

struct StoreRowMajor {  // C[m][n] -> out[slice][m][n]
  float* out;
  int64_t cols, slice_size;
  __device__ __forceinline__ void operator()(int64_t m, int64_t n, float v) const {
    out[blockIdx.z * slice_size + m * cols + n] = v;
  }
};

// Loads tile_k x tile (A: k x m, B: k x n) of an operand into shared memory, transposed so the
// compute loop reads both tiles along their second index.
template <class Operand, bool is_a>
__device__ __forceinline__ void load_tile(const Operand& op, float (*tile)[tile_m], int64_t row0, int64_t k0,
                                          int64_t rows, int64_t k_end) {
#pragma unroll
  for (int i = 0; i < tile_m * tile_k / gemm_threads; ++i) {
    const int e = threadIdx.x + i * gemm_threads;
    // Consecutive threads walk the operand's contiguous dimension (coalesced global reads).
    const int row = Operand::m_contiguous ? e % tile_m : e / tile_k;
    const int kk = Operand::m_contiguous ? e / tile_m : e % tile_k;
    const int64_t r = row0 + row, k = k0 + kk;
    float v = 0.f;
    if (r < rows && k < k_end) v = is_a ? op(r, k) : op(k, r);
    tile[kk][row] = v;
  }
}

// C[m][n] = sum_k A(m, k) B(k, n) over k in this block's slice [z * k_chunk, (z+1) * k_chunk).
template <class A, class B, class Store>
__global__ void __launch_bounds__(gemm_threads) implicit_gemm_kernel(int64_t m_total, int64_t n_total,
                                                                      int64_t k_total, int64_t k_chunk, A a, B b,
                                                                      Store store) {
  __shared__ __align__(16) float a_tile[tile_k][tile_m];
  __shared__ __align__(16) float b_tile[tile_k][tile_n];
  const int64_t m0 = blockIdx.x * int64_t(tile_m), n0 = blockIdx.y * int64_t(tile_n);
  const int64_t k_begin = blockIdx.z * k_chunk;
  const int64_t k_end = k_begin + k_chunk < k_total ? k_begin + k_chunk : k_total;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  float acc[4][4] = {};
  for (int64_t k0 = k_begin; k0 < k_end; k0 += tile_k) {
    load_tile<A, true>(a, a_tile, m0, k0, m_total, k_end);
    load_tile<B, false>(b, b_tile, n0, k0, n_total, k_end);
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < tile_k; ++kk) {
      const float4 av = *reinterpret_cast<const float4*>(&a_tile[kk][ty * 4]);
      const float4 bv = *reinterpret_cast<const float4*>(&b_tile[kk][tx * 4]);
      const float am[4] = {av.x, av.y, av.z, av.w}, bn[4] = {bv.x, bv.y, bv.z, bv.w};
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(am[i], bn[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t m = m0 + ty * 4 + i, n = n0 + tx * 4 + j;
      if (m < m_total && n < n_total) store(m, n, acc[i][j]);
    }
}

// dw = sum over the split-K slices, in slice order.
__global__ void split_k_sum_kernel(int64_t count, int64_t slices, const float* partial, float* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    float total = 0.f;
    for (int64_t z = 0; z < slices; ++z) total += partial[z * count + i];
    out[i] = total;
  }
}

template <class A, class B, class Store>
void launch_gemm(int64_t m, int64_t n, int64_t k, int64_t slices, const A& a, const B& b, const Store& store) {
  const int64_t k_chunk = ((k + slices - 1) / slices + tile_k - 1) / tile_k * tile_k;
  const dim3 grid(static_cast<unsigned>((m + tile_m - 1) / tile_m), static_cast<unsigned>((n + tile_n - 1) / tile_n),
                  static_cast<unsigned>(slices));
  launch(implicit_gemm_kernel<A, B, Store>, {grid, dim3(gemm_threads), 0, stream()}, m, n, k, k_chunk, a, b, store);
}

// How many slices to split a reduction of length k into, for an m x n output. The kernel holds
// ~80-96 registers x 256 threads, so an H200 (132 SMs) keeps 2 blocks per SM resident: 264 at
// once. Below that many output tiles, SMs idle while each block walks all of K; split K so the
// blocks fill those 264 slots once (more would only add waves of shorter blocks), every slice at
// least 128 deep (8 k-steps, to amortise its tile loads and the partial's store), at most 64
// slices (bounds the workspace and the summing pass).
int64_t split_slices(int64_t m, int64_t n, int64_t k) {
  constexpr int64_t resident_blocks = 2 * 132, min_slice = 128, max_slices = 64;
  const int64_t tiles = ((m + tile_m - 1) / tile_m) * ((n + tile_n - 1) / tile_n);
  int64_t slices = resident_blocks / tiles;
  slices = slices < k / min_slice ? slices : k / min_slice;
  return slices < 1 ? 1 : (slices > max_slices ? max_slices : slices);
}

// Split-K partial sums.
ScratchBuffer split_k_scratch;

// Runs the GEMM straight into `out` (size `count`), or, when split_slices splits it, into the
// workspace (slice z at z * count, laid out as `out`) and then sums the slices into `out` in slice
// order. make_store(destination, slice_size) builds the Store.
template <class A, class B, class MakeStore>
void gemm_split_k(int64_t m, int64_t n, int64_t k, const A& a, const B& b, float* out, int64_t count,
                  const MakeStore& make_store) {
  const int64_t slices = split_slices(m, n, k);
  if (slices == 1) {
    launch_gemm(m, n, k, 1, a, b, make_store(out, 0));
    return;
  }
  float* partial = split_k_scratch.get(static_cast<size_t>(slices * count));
  launch_gemm(m, n, k, slices, a, b, make_store(partial, count));
  launch(split_k_sum_kernel, {dim3(grid_for(count)), dim3(elementwise_block), 0, stream()}, count, slices, partial,
         out);
}

}  // namespace

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, float* y) {
  const int64_t m = s.n * s.h_out * s.w_out, k = s.c_in * s.k_h * s.k_w, pixels = s.h_out * s.w_out;
  if (m == 0 || s.c_out == 0) return;
  gemm_split_k(m, s.c_out, k, InputPatch{s, x}, WeightRows{w, k}, y, m * s.c_out,
               [&](float* out, int64_t slice_size) { return StoreNchw{out, s.c_out, pixels, slice_size}; });
}

void conv2d_backward_input(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  const int64_t m = s.n * s.h_in * s.w_in, k = s.c_out * s.k_h * s.k_w, pixels = s.h_in * s.w_in;
  if (m == 0 || s.c_in == 0) return;
  gemm_split_k(m, s.c_in, k, OutputGradPatch{s, dy}, WeightTransposed{s, w}, dx, m * s.c_in,
               [&](float* out, int64_t slice_size) { return StoreNchw{out, s.c_in, pixels, slice_size}; });
}

void conv2d_backward_weight(const Conv2dShape& s, const float* x, const float* dy, float* dw) {
  const int64_t rows = s.c_out, cols = s.c_in * s.k_h * s.k_w, reduction = s.n * s.h_out * s.w_out;
  if (rows == 0 || cols == 0) return;
  gemm_split_k(rows, cols, reduction, OutputGradRows{s, dy}, InputPatchAsB{InputPatch{s, x}}, dw, rows * cols,
               [&](float* out, int64_t slice_size) { return StoreRowMajor{out, cols, slice_size}; });
}

}  // namespace kernels::cuda
