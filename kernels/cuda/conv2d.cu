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
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "common.cuh"
#include "kernels/conv2d.h"

namespace kernels::cuda {
namespace {

constexpr int tile_m = 64, tile_n = 64, tile_k = 16, gemm_threads = 256;
// Resident blocks per SM that the GEMM kernel is built for (caps it at 64 registers a thread);
// split_slices counts on it.
constexpr int blocks_per_sm = 4;

// The shape in 32-bit integers for the device's index arithmetic (every operand fetch divides
// several times). With 64-bit indices nvcc emitted each division twice (a 32-bit fast path behind
// a run-time test, and the 64-bit software routine) plus 64-bit products: 3622 PTX instructions
// and 93-96 registers per thread; in 32 bits 2424 and 57-64, so 4 blocks fit on an SM instead of
// 2 (blocks_per_sm). dims_of checks that every index fits.
struct Dims {
  int n, c_in, h_in, w_in, c_out, k_h, k_w, stride, pad, h_out, w_out;
};

// x-patch[m][k]: m = (n, oh, ow) over the output pixels, k = (ci, r, q) over the kernel taps.
struct InputPatch {
  Dims s;
  const float* x;
  static constexpr bool m_contiguous = true;
  __device__ __forceinline__ float operator()(int m, int k) const {
    const int hw_out = s.h_out * s.w_out, taps = s.k_h * s.k_w;
    const int n = m / hw_out, p = m - n * hw_out, ci = k / taps, tap = k - ci * taps;
    const int ih = (p / s.w_out) * s.stride - s.pad + tap / s.k_w;
    const int iw = (p % s.w_out) * s.stride - s.pad + tap % s.k_w;
    if (ih < 0 || ih >= s.h_in || iw < 0 || iw >= s.w_in) return 0.f;
    return x[((n * s.c_in + ci) * s.h_in + ih) * s.w_in + iw];
  }
};

// w viewed as [Co][K] (forward's B operand, B[k][co]).
struct WeightRows {
  const float* w;
  int k_total;
  static constexpr bool m_contiguous = false;  // contiguous along k
  __device__ __forceinline__ float operator()(int k, int co) const { return w[co * k_total + k]; }
};

// dy-patch[m][k]: m = (n, ih, iw) over the input pixels, k = (co, r, q): the output pixel whose
// tap (r, q) lands on (ih, iw), if the stride puts one there.
struct OutputGradPatch {
  Dims s;
  const float* dy;
  static constexpr bool m_contiguous = true;
  __device__ __forceinline__ float operator()(int m, int k) const {
    const int hw_in = s.h_in * s.w_in, taps = s.k_h * s.k_w;
    const int n = m / hw_in, p = m - n * hw_in, co = k / taps, tap = k - co * taps;
    const int oh_scaled = p / s.w_in + s.pad - tap / s.k_w, ow_scaled = p % s.w_in + s.pad - tap % s.k_w;
    if (oh_scaled < 0 || ow_scaled < 0 || oh_scaled % s.stride != 0 || ow_scaled % s.stride != 0) return 0.f;
    const int oh = oh_scaled / s.stride, ow = ow_scaled / s.stride;
    if (oh >= s.h_out || ow >= s.w_out) return 0.f;
    return dy[((n * s.c_out + co) * s.h_out + oh) * s.w_out + ow];
  }
};

// w[co][ci][r][q] as B[k = (co, r, q)][ci] of backward_input.
struct WeightTransposed {
  Dims s;
  const float* w;
  static constexpr bool m_contiguous = false;
  __device__ __forceinline__ float operator()(int k, int ci) const {
    const int taps = s.k_h * s.k_w, co = k / taps, tap = k - co * taps;
    return w[(co * s.c_in + ci) * taps + tap];
  }
};

// dy as A[co][m = (n, oh, ow)] of backward_weight (contiguous along m, the reduction).
struct OutputGradRows {
  Dims s;
  const float* dy;
  static constexpr bool m_contiguous = false;
  __device__ __forceinline__ float operator()(int co, int m) const {
    const int hw_out = s.h_out * s.w_out, n = m / hw_out;
    return dy[(n * s.c_out + co) * hw_out + (m - n * hw_out)];
  }
};

// The x-patch as B[m][k] of backward_weight: same values as InputPatch, other roles.
struct InputPatchAsB {
  InputPatch patch;
  static constexpr bool m_contiguous = false;  // neighbouring threads take neighbouring taps k
  __device__ __forceinline__ float operator()(int m, int k) const { return patch(m, k); }
};

// Stores of the GEMM result C[m][n].
struct StoreNchw {  // C[(n, pixel)][channel] -> out[slice][n][channel][pixel]
  float* out;
  int channels, pixels, slice_size;
  __device__ __forceinline__ void operator()(int m, int c, float v) const {
    const int n = m / pixels;
    out[int(blockIdx.z) * slice_size + (n * channels + c) * pixels + (m - n * pixels)] = v;
  }
};

struct StoreRowMajor {  // C[m][n] -> out[slice][m][n]
  float* out;
  int cols, slice_size;
  __device__ __forceinline__ void operator()(int m, int n, float v) const {
    out[int(blockIdx.z) * slice_size + m * cols + n] = v;
  }
};

// Loads tile_k x tile (A: k x m, B: k x n) of an operand into shared memory, transposed so the
// compute loop reads both tiles along their second index.
template <class Operand, bool is_a>
__device__ __forceinline__ void load_tile(const Operand& op, float (*tile)[tile_m], int row0, int k0,
                                          int rows, int k_end) {
#pragma unroll
  for (int i = 0; i < tile_m * tile_k / gemm_threads; ++i) {
    const int e = threadIdx.x + i * gemm_threads;
    // Consecutive threads walk the operand's contiguous dimension (coalesced global reads).
    const int row = Operand::m_contiguous ? e % tile_m : e / tile_k;
    const int kk = Operand::m_contiguous ? e / tile_m : e % tile_k;
    const int r = row0 + row, k = k0 + kk;
    float v = 0.f;
    if (r < rows && k < k_end) v = is_a ? op(r, k) : op(k, r);
    tile[kk][row] = v;
  }
}

// C[m][n] = sum_k A(m, k) B(k, n) over k in this block's slice [z * k_chunk, (z+1) * k_chunk).
template <class A, class B, class Store>
__global__ void __launch_bounds__(gemm_threads, blocks_per_sm) implicit_gemm_kernel(int m_total, int n_total,
                                                                      int k_total, int k_chunk, A a, B b,
                                                                      Store store) {
  __shared__ __align__(16) float a_tile[tile_k][tile_m];
  __shared__ __align__(16) float b_tile[tile_k][tile_n];
  const int m0 = blockIdx.x * tile_m, n0 = blockIdx.y * tile_n;
  const int k_begin = blockIdx.z * k_chunk;
  const int k_end = k_begin + k_chunk < k_total ? k_begin + k_chunk : k_total;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  float acc[4][4] = {};
  for (int k0 = k_begin; k0 < k_end; k0 += tile_k) {
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
      const int m = m0 + ty * 4 + i, n = n0 + tx * 4 + j;
      if (m < m_total && n < n_total) store(m, n, acc[i][j]);
    }
}

// dw = sum over the split-K slices, in slice order.
__global__ void split_k_sum_kernel(int count, int slices, const float* partial, float* out) {
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < count; i += int(gridDim.x) * blockDim.x) {
    float total = 0.f;
    for (int z = 0; z < slices; ++z) total += partial[z * count + i];
    out[i] = total;
  }
}

template <class A, class B, class Store>
void launch_gemm(int m, int n, int k, int slices, const A& a, const B& b, const Store& store) {
  const int k_chunk = ((k + slices - 1) / slices + tile_k - 1) / tile_k * tile_k;
  const dim3 grid(static_cast<unsigned>((m + tile_m - 1) / tile_m), static_cast<unsigned>((n + tile_n - 1) / tile_n),
                  static_cast<unsigned>(slices));
  launch(implicit_gemm_kernel<A, B, Store>, {grid, dim3(gemm_threads), 0, stream()}, m, n, k, k_chunk, a, b, store);
}

// How many slices to split a reduction of length k into, for an m x n output. The kernel holds
// at most 64 registers x 256 threads, so an H200 (132 SMs) keeps 4 blocks per SM resident: 528
// at once. Below that many output tiles, SMs idle (or run under-occupied) while each block walks
// all of K; split K so the blocks fill those 528 slots once (more would only add waves of shorter
// blocks), every slice at least 128 deep (8 k-steps, to amortise its tile loads and the
// partial's store), at most 64 slices (bounds the workspace and the summing pass), and the
// workspace indexable in 32 bits.
int split_slices(int m, int n, int k) {
  constexpr int resident_blocks = blocks_per_sm * 132, min_slice = 128, max_slices = 64;
  const int tiles = ((m + tile_m - 1) / tile_m) * ((n + tile_n - 1) / tile_n);
  const int fits = static_cast<int>(INT32_MAX / (int64_t(m) * n));
  return std::max(1, std::min({resident_blocks / tiles, k / min_slice, max_slices, fits}));
}

// Split-K partial sums.
ScratchBuffer split_k_scratch;

// Runs the GEMM straight into `out` (m x n elements), or, when split_slices splits it, into the
// workspace (slice z at z * m * n, laid out as `out`) and then sums the slices into `out` in slice
// order. make_store(destination, slice_size) builds the Store.
template <class A, class B, class MakeStore>
void gemm_split_k(int m, int n, int k, const A& a, const B& b, float* out, const MakeStore& make_store) {
  const int slices = split_slices(m, n, k), count = m * n;
  if (slices == 1) {
    launch_gemm(m, n, k, 1, a, b, make_store(out, 0));
    return;
  }
  float* partial = split_k_scratch.get(static_cast<size_t>(slices) * count);
  launch_gemm(m, n, k, slices, a, b, make_store(partial, count));
  launch(split_k_sum_kernel, {dim3(grid_for(count)), dim3(elementwise_block), 0, stream()}, count, slices, partial,
         out);
}

// s in 32 bits, after checking that every tensor's element count (the largest index the kernels
// form, the GEMM's m * n and k included) fits.
Dims dims_of(const Conv2dShape& s) {
  const int64_t largest = std::max({s.n * s.c_in * s.h_in * s.w_in, s.c_out * s.c_in * s.k_h * s.k_w,
                                    s.n * s.c_out * s.h_out * s.w_out});
  if (largest > INT32_MAX)
    throw std::invalid_argument("conv2d (cuda): a tensor of " + std::to_string(largest) +
                                " elements exceeds the kernels' 32-bit indexing");
  auto i = [](int64_t v) { return static_cast<int>(v); };
  return {i(s.n),   i(s.c_in), i(s.h_in),   i(s.w_in), i(s.c_out), i(s.k_h),
          i(s.k_w), i(s.stride), i(s.pad), i(s.h_out), i(s.w_out)};
}

}  // namespace

void conv2d_forward(const Conv2dShape& shape, const float* x, const float* w, float* y) {
  const Dims s = dims_of(shape);
  const int m = s.n * s.h_out * s.w_out, k = s.c_in * s.k_h * s.k_w, pixels = s.h_out * s.w_out;
  if (m == 0 || s.c_out == 0) return;
  gemm_split_k(m, s.c_out, k, InputPatch{s, x}, WeightRows{w, k}, y,
               [&](float* out, int slice_size) { return StoreNchw{out, s.c_out, pixels, slice_size}; });
}

void conv2d_backward_input(const Conv2dShape& shape, const float* dy, const float* w, float* dx) {
  const Dims s = dims_of(shape);
  const int m = s.n * s.h_in * s.w_in, k = s.c_out * s.k_h * s.k_w, pixels = s.h_in * s.w_in;
  if (m == 0 || s.c_in == 0) return;
  gemm_split_k(m, s.c_in, k, OutputGradPatch{s, dy}, WeightTransposed{s, w}, dx,
               [&](float* out, int slice_size) { return StoreNchw{out, s.c_in, pixels, slice_size}; });
}

void conv2d_backward_weight(const Conv2dShape& shape, const float* x, const float* dy, float* dw) {
  const Dims s = dims_of(shape);
  const int rows = s.c_out, cols = s.c_in * s.k_h * s.k_w, reduction = s.n * s.h_out * s.w_out;
  if (rows == 0 || cols == 0) return;
  gemm_split_k(rows, cols, reduction, OutputGradRows{s, dy}, InputPatchAsB{InputPatch{s, x}}, dw,
               [&](float* out, int slice_size) { return StoreRowMajor{out, cols, slice_size}; });
}

}  // namespace kernels::cuda
