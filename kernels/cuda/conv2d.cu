// Convolution as implicit GEMM (kernels/conv2d.h; matches F.conv2d and its two gradients): no
// im2col buffer; the tile loaders gather the convolution's operands straight from NCHW memory.
//
//   forward          y[m = (n,oh,ow)][co]     = sum_{k = (ci,r,q)}   x-patch[m][k] * w[co][k]
//   backward_input   dx[m = (n,ih,iw)][ci]    = sum_{k = (co,r,q)}   dy-patch[m][k] * w[co][ci][r][q]
//   backward_weight  dw[co][k = (ci,r,q)]     = sum_{m = (n,oh,ow)}  dy[m][co] * x-patch[m][k]
//
// One kernel template serves all three: a 64x64 output tile per block of 256 threads, each thread
// accumulating a 4x4 register tile (fp32), or each warp a 32x16 piece with mma.sync m16n8k8 on
// TF32 operands (Precision::tf32, MmaTf32Tile), the K dimension walked in steps of 16 through two
// shared-memory tiles (8 KiB; 9 KiB padded for TF32). Loaders map consecutive threads to the operand's contiguous dimension, so global
// reads coalesce. When a problem has few output tiles and a long reduction (D's deep layers and
// heads: 1-16 tiles, K up to 32768; the weight gradient of the early layers) all three split the
// reduction across blockIdx.z (split-K, rule in split_slices) into a workspace laid out like the
// output and sum the slices in a fixed order in a second kernel: deterministic, no atomics.
// The data gradient runs by phase decomposition (Phase below): the stride^2 phases of the input
// pixels side by side along grid.x in one launch, each a dense convolution over its own taps.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "common.cuh"
#include "ptx.cuh"
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

// Most operands and stores are the same for every block; the data gradient's depend on the
// block's phase (for_phase overloads below).
template <class Op>
__device__ __forceinline__ const Op& for_phase(const Op& op, int) {
  return op;
}

// Phase p (< stride^2) of the data gradient: the input pixels (row0 + stride i, col0 + stride j),
// i < rows, j < cols, all take exactly the taps (r0 + stride r', q0 + stride q'), r' < taps_h,
// q' < taps_w, with r0 = (row0 + pad) mod stride; every other tap lands between output pixels.
// So a 4x4 stride-2 kernel is four dense 2x2 convolutions and no product with an inserted zero
// is formed. Tap (r', q') of pixel (i, j) reads dy at (oh0 + i - r', ow0 + j - q').
struct Phase {
  int row0, col0, rows, cols, r0, q0, taps_h, taps_w, oh0, ow0;
  __host__ __device__ int pixels(const Dims& s) const { return s.n * rows * cols; }
  __host__ __device__ int depth(const Dims& s) const { return s.c_out * taps_h * taps_w; }
};

__host__ __device__ __forceinline__ int strided_count(int first, int size, int stride) {
  return first < size ? (size - first + stride - 1) / stride : 0;
}

__host__ __device__ __forceinline__ Phase phase_of(const Dims& s, int p) {
  Phase ph;
  ph.row0 = p / s.stride, ph.col0 = p - ph.row0 * s.stride;
  ph.rows = strided_count(ph.row0, s.h_in, s.stride), ph.cols = strided_count(ph.col0, s.w_in, s.stride);
  ph.r0 = (ph.row0 + s.pad) % s.stride, ph.q0 = (ph.col0 + s.pad) % s.stride;
  ph.taps_h = strided_count(ph.r0, s.k_h, s.stride), ph.taps_w = strided_count(ph.q0, s.k_w, s.stride);
  ph.oh0 = (ph.row0 + s.pad - ph.r0) / s.stride, ph.ow0 = (ph.col0 + s.pad - ph.q0) / s.stride;  // exact
  return ph;
}

// dy-patch[m][k] of one phase: m = (n, i, j) over its pixels, k = (co, r', q') over its taps.
// The launch is sized for the largest phase: m or k beyond this phase's read as 0.
struct PhaseGradPatch {
  Dims s;
  Phase ph;
  int m_total, k_total;
  const float* dy;
  static constexpr bool m_contiguous = true;
  __device__ __forceinline__ float operator()(int m, int k) const {
    if (m >= m_total || k >= k_total) return 0.f;
    const int plane = ph.rows * ph.cols, taps = ph.taps_h * ph.taps_w;
    const int n = m / plane, p = m - n * plane, i = p / ph.cols, co = k / taps, t = k - co * taps;
    const int rr = t / ph.taps_w, oh = ph.oh0 + i - rr, ow = ph.ow0 + (p - i * ph.cols) - (t - rr * ph.taps_w);
    if (oh < 0 || ow < 0 || oh >= s.h_out || ow >= s.w_out) return 0.f;
    return dy[((n * s.c_out + co) * s.h_out + oh) * s.w_out + ow];
  }
};

// w[co][ci][r][q] as B[k = (co, r', q')][ci] of one phase.
struct PhaseWeights {
  Dims s;
  Phase ph;
  int k_total;
  const float* w;
  static constexpr bool m_contiguous = false;
  __device__ __forceinline__ float operator()(int k, int ci) const {
    if (k >= k_total) return 0.f;
    const int taps = ph.taps_h * ph.taps_w, co = k / taps, t = k - co * taps, rr = t / ph.taps_w;
    const int r = ph.r0 + s.stride * rr, q = ph.q0 + s.stride * (t - rr * ph.taps_w);
    return w[((co * s.c_in + ci) * s.k_h + r) * s.k_w + q];
  }
};

// C[(n, i, j)][ci] of one phase -> out[slice][n][ci][row0 + stride i][col0 + stride j].
struct PhaseStore {
  Dims s;
  Phase ph;
  int m_total;
  float* out;
  int slice_size;
  __device__ __forceinline__ void operator()(int m, int ci, float v) const {
    if (m >= m_total) return;
    const int plane = ph.rows * ph.cols, n = m / plane, p = m - n * plane, i = p / ph.cols;
    const int ih = ph.row0 + s.stride * i, iw = ph.col0 + s.stride * (p - i * ph.cols);
    out[int(blockIdx.z) * slice_size + ((n * s.c_in + ci) * s.h_in + ih) * s.w_in + iw] = v;
  }
};

// The data gradient's operands for every phase; for_phase binds them to the block's.
struct OutputGradPatch {
  Dims s;
  const float* dy;
};
struct WeightTransposed {
  Dims s;
  const float* w;
};
struct StoreDataGrad {
  Dims s;
  float* out;
  int slice_size;
};

__device__ __forceinline__ PhaseGradPatch for_phase(const OutputGradPatch& a, int p) {
  const Phase ph = phase_of(a.s, p);
  return {a.s, ph, ph.pixels(a.s), ph.depth(a.s), a.dy};
}
__device__ __forceinline__ PhaseWeights for_phase(const WeightTransposed& b, int p) {
  const Phase ph = phase_of(b.s, p);
  return {b.s, ph, ph.depth(b.s), b.w};
}
__device__ __forceinline__ PhaseStore for_phase(const StoreDataGrad& st, int p) {
  const Phase ph = phase_of(st.s, p);
  return {st.s, ph, ph.pixels(st.s), st.out, st.slice_size};
}

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

// The block's 64x64 output tile, accumulated from the shared tiles in one of the two
// arithmetics (kernels/precision.h). Each provides the shared tiles' row stride, the value a
// loader stores (to_shared), accumulate() for one tile_k step and store() for the epilogue.

// fp32: each of the 256 threads a 4x4 register tile of FMAs, its rows at ty * 4, its columns at
// tx * 4, k in order: the arithmetic, and so the bits, of the kernel before TF32 existed.
struct FmaTile {
  static constexpr int row_stride = tile_m;
  __device__ __forceinline__ static float to_shared(float v) { return v; }
  float acc[4][4] = {};
  __device__ __forceinline__ void accumulate(const float (*a_tile)[row_stride], const float (*b_tile)[row_stride]) {
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
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
  }
  template <class Store>
  __device__ __forceinline__ void store(int m0, int n0, int m_total, int n_total, const Store& st) const {
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int m = m0 + ty * 4 + i, n = n0 + tx * 4 + j;
        if (m < m_total && n < n_total) st(m, n, acc[i][j]);
      }
  }
};

// tf32: operands rounded to TF32 once, as the loaders store them; the 8 warps as 2 (m) x 4 (n),
// each a 32x16 piece of the tile: 2 x 2 mma.sync m16n8k8 per 8-deep k step (fragment layout in
// ptx.cuh), fp32 accumulators in the instruction's C/D layout. Rows padded by 8 floats: lane
// (g, t) reads row k + t, column g, so bank (8 t + g) mod 32 differs across the warp.
struct MmaTf32Tile {
  static constexpr int row_stride = tile_m + 8;
  __device__ __forceinline__ static float to_shared(float v) { return __uint_as_float(ptx::cvt_rna_tf32(v)); }
  float acc[2][2][4] = {};
  __device__ __forceinline__ void accumulate(const float (*a_tile)[row_stride], const float (*b_tile)[row_stride]) {
    const int lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int wm = (threadIdx.x / 32) % 2 * 32, wn = (threadIdx.x / 64) * 16;
#pragma unroll
    for (int k8 = 0; k8 < tile_k; k8 += 8) {
      std::uint32_t a[2][4], b[2][2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int m = wm + i * 16 + g;
        a[i][0] = __float_as_uint(a_tile[k8 + t][m]);
        a[i][1] = __float_as_uint(a_tile[k8 + t][m + 8]);
        a[i][2] = __float_as_uint(a_tile[k8 + t + 4][m]);
        a[i][3] = __float_as_uint(a_tile[k8 + t + 4][m + 8]);
      }
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const int n = wn + j * 8 + g;
        b[j][0] = __float_as_uint(b_tile[k8 + t][n]);
        b[j][1] = __float_as_uint(b_tile[k8 + t + 4][n]);
      }
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) ptx::mma_m16n8k8_tf32(acc[i][j], a[i], b[j], acc[i][j]);
    }
  }
  template <class Store>
  __device__ __forceinline__ void store(int m0, int n0, int m_total, int n_total, const Store& st) const {
    const int lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int wm = (threadIdx.x / 32) % 2 * 32, wn = (threadIdx.x / 64) * 16;
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int j = 0; j < 2; ++j)
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          const int m = m0 + wm + i * 16 + g + 8 * (r / 2), n = n0 + wn + j * 8 + 2 * t + r % 2;
          if (m < m_total && n < n_total) st(m, n, acc[i][j][r]);
        }
  }
};

// Loads tile_k x tile (A: k x m, B: k x n) of an operand into shared memory, transposed so the
// compute loop reads both tiles along their second index.
template <bool is_a, class Math, class Operand>
__device__ __forceinline__ void load_tile(const Operand& op, float (*tile)[Math::row_stride], int row0, int k0,
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
    tile[kk][row] = Math::to_shared(v);
  }
}

// C[m][n] = sum_k A(m, k) B(k, n) over k in this block's slice [z * k_chunk, (z+1) * k_chunk).
// grid.x holds the phases side by side, m_tiles tiles each (one phase unless the operands have
// phases); m_total and k_total are the largest phase's.
template <class Math, class A, class B, class Store>
__global__ void __launch_bounds__(gemm_threads, blocks_per_sm) implicit_gemm_kernel(int m_tiles, int m_total,
                                                                      int n_total, int k_total, int k_chunk,
                                                                      A a_all, B b_all, Store store_all) {
  __shared__ __align__(16) float a_tile[tile_k][Math::row_stride];
  __shared__ __align__(16) float b_tile[tile_k][Math::row_stride];
  const int phase = blockIdx.x / m_tiles;
  const auto a = for_phase(a_all, phase);
  const auto b = for_phase(b_all, phase);
  const int m0 = (blockIdx.x - phase * m_tiles) * tile_m, n0 = blockIdx.y * tile_n;
  const int k_begin = blockIdx.z * k_chunk;
  const int k_end = k_begin + k_chunk < k_total ? k_begin + k_chunk : k_total;
  Math math;
  for (int k0 = k_begin; k0 < k_end; k0 += tile_k) {
    load_tile<true, Math>(a, a_tile, m0, k0, m_total, k_end);
    load_tile<false, Math>(b, b_tile, n0, k0, n_total, k_end);
    __syncthreads();
    math.accumulate(a_tile, b_tile);
    __syncthreads();
  }
  math.store(m0, n0, m_total, n_total, for_phase(store_all, phase));  // bound here, not live through the k loop
}

// dw = sum over the split-K slices, in slice order.
__global__ void split_k_sum_kernel(int count, int slices, const float* partial, float* out) {
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < count; i += int(gridDim.x) * blockDim.x) {
    float total = 0.f;
    for (int z = 0; z < slices; ++z) total += partial[z * count + i];
    out[i] = total;
  }
}

// m and k are the largest phase's.
template <class A, class B, class Store>
void launch_gemm(Precision precision, int phases, int m, int n, int k, int slices, const A& a, const B& b,
                 const Store& store) {
  const int k_chunk = ((k + slices - 1) / slices + tile_k - 1) / tile_k * tile_k, m_tiles = (m + tile_m - 1) / tile_m;
  const dim3 grid(static_cast<unsigned>(phases * m_tiles), static_cast<unsigned>((n + tile_n - 1) / tile_n),
                  static_cast<unsigned>(slices));
  const auto kernel = precision == Precision::tf32 ? implicit_gemm_kernel<MmaTf32Tile, A, B, Store>
                                                   : implicit_gemm_kernel<FmaTile, A, B, Store>;
  launch(kernel, {grid, dim3(gemm_threads), 0, stream()}, m_tiles, m, n, k, k_chunk, a, b, store);
}

// How many slices to split a reduction of length k into, for an m x n output. The kernel holds
// at most 64 registers x 256 threads, so an H200 (132 SMs) keeps 4 blocks per SM resident: 528
// at once. Below that many output tiles, SMs idle (or run under-occupied) while each block walks
// all of K; split K so the blocks fill those 528 slots once (more would only add waves of shorter
// blocks), every slice at least 128 deep (8 k-steps, to amortise its tile loads and the
// partial's store), at most 64 slices (bounds the workspace and the summing pass), and the
// workspace indexable in 32 bits.
// (With phases, m and k are the largest phase's and the tiles are counted over all phases.)
int split_slices(int phases, int m, int n, int k) {
  constexpr int resident_blocks = blocks_per_sm * 132, min_slice = 128, max_slices = 64;
  const int tiles = phases * ((m + tile_m - 1) / tile_m) * ((n + tile_n - 1) / tile_n);
  const int fits = static_cast<int>(INT32_MAX / (int64_t(phases) * m * n));
  return std::max(1, std::min({resident_blocks / tiles, k / min_slice, max_slices, fits}));
}

// Split-K partial sums.
ScratchBuffer split_k_scratch;

// Runs the GEMM straight into `out` (count elements), or, when split_slices splits it, into the
// workspace (slice z at z * count, laid out as `out`) and then sums the slices into `out` in slice
// order. make_store(destination, slice_size) builds the Store. With phases, m and k are the
// largest phase's and the phases' stores together cover `out`: every slice writes every element
// (a slice past a phase's k writes 0).
template <class A, class B, class MakeStore>
void gemm_split_k(Precision precision, int phases, int m, int n, int k, int count, const A& a, const B& b, float* out,
                  const MakeStore& make_store) {
  const int slices = split_slices(phases, m, n, k);
  if (slices == 1) {
    launch_gemm(precision, phases, m, n, k, 1, a, b, make_store(out, 0));
    return;
  }
  float* partial = split_k_scratch.get(static_cast<size_t>(slices) * count);
  launch_gemm(precision, phases, m, n, k, slices, a, b, make_store(partial, count));
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

void conv2d_forward(const Conv2dShape& shape, const float* x, const float* w, float* y, Precision precision) {
  const Dims s = dims_of(shape);
  const int m = s.n * s.h_out * s.w_out, k = s.c_in * s.k_h * s.k_w, pixels = s.h_out * s.w_out;
  if (m == 0 || s.c_out == 0) return;
  gemm_split_k(precision, 1, m, s.c_out, k, m * s.c_out, InputPatch{s, x}, WeightRows{w, k}, y,
               [&](float* out, int slice_size) { return StoreNchw{out, s.c_out, pixels, slice_size}; });
}

void conv2d_backward_input(const Conv2dShape& shape, const float* dy, const float* w, float* dx, Precision precision) {
  const Dims s = dims_of(shape);
  if (s.n * s.h_in * s.w_in == 0 || s.c_in == 0) return;
  // Phase 0 has the most pixels; the taps differ between phases when k is not a multiple of the stride.
  const int phases = s.stride * s.stride, m = phase_of(s, 0).pixels(s);
  int k = 0;
  for (int p = 0; p < phases; ++p) k = std::max(k, phase_of(s, p).depth(s));
  gemm_split_k(precision, phases, m, s.c_in, k, s.n * s.c_in * s.h_in * s.w_in, OutputGradPatch{s, dy}, WeightTransposed{s, w}, dx,
               [&](float* out, int slice_size) { return StoreDataGrad{s, out, slice_size}; });
}

void conv2d_backward_weight(const Conv2dShape& shape, const float* x, const float* dy, float* dw, Precision precision) {
  const Dims s = dims_of(shape);
  const int rows = s.c_out, cols = s.c_in * s.k_h * s.k_w, reduction = s.n * s.h_out * s.w_out;
  if (rows == 0 || cols == 0) return;
  gemm_split_k(precision, 1, rows, cols, reduction, rows * cols, OutputGradRows{s, dy}, InputPatchAsB{InputPatch{s, x}}, dw,
               [&](float* out, int slice_size) { return StoreRowMajor{out, cols, slice_size}; });
}

}  // namespace kernels::cuda
