// Convolution as implicit GEMM (kernels/conv2d.h; matches F.conv2d and its two gradients): no
// im2col buffer; the tile loaders gather the convolution's operands straight from NCHW memory.
//
//   forward          y[m = (n,oh,ow)][co]     = sum_{k = (ci,r,q)}   x-patch[m][k] * w[co][k]
//   backward_input   dx[m = (n,ih,iw)][ci]    = sum_{k = (co,r,q)}   dy-patch[m][k] * w[co][ci][r][q]
//   backward_weight  dw[co][k = (ci,r,q)]     = sum_{m = (n,oh,ow)}  dy[m][co] * x-patch[m][k]
//
// One kernel template serves all three, with a block tile chosen per problem (TileShape in conv2d_tiles.cuh,
// rule in tile_shape_for; docs/kernels.md "Tile shapes"): 128x128 (8x8 outputs a thread), 64x64
// (4x4), or 256x16 / 16x256 (4x4) for few output columns or rows; 256 threads in every case. With
// Precision::tf32 one tile serves every problem: 64x64 on the tensor cores (MmaTf32Tile: operands
// rounded to TF32 as they are stored to shared memory, each warp 32x16 outputs by mma.sync
// m16n8k8); loaders, double buffering, split-K and phases are the fp32 tiles'. The K
// dimension is walked in steps of 16 through two pairs of shared-memory tiles (double buffering:
// the next step's operands are read from global memory into registers while the block multiplies
// the current ones, one barrier per step). Loaders map consecutive threads to the operand's
// contiguous dimension, so global reads coalesce, bind the address arithmetic that depends only on
// a thread's row once per tile, and read float4s where the problem allows (checked per launch).
// When a problem has few output tiles and a long reduction (D's deep layers and heads; the weight
// gradient of the early layers) all three split the reduction across blockIdx.z (split-K, rule in
// split_slices) into a workspace laid out like the output and sum the slices in a fixed order in
// a second kernel: deterministic, no atomics.
// The data gradient runs by phase decomposition (Phase below): the stride^2 phases of the input
// pixels side by side along grid.x in one launch, each a dense convolution over its own taps.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "common.cuh"
#include "conv2d_tiles.cuh"
#include "fast_divide.cuh"
#include "kernels/conv2d.h"

namespace kernels::cuda {
namespace {

// The shape in 32-bit integers for the device's index arithmetic (every operand fetch divides
// several times). With 64-bit indices nvcc emitted each division twice (a 32-bit fast path behind
// a run-time test, and the 64-bit software routine) plus 64-bit products: 3622 PTX instructions
// and 93-96 registers per thread; in 32 bits 2424 and 57-64. dims_of checks that every index fits.
// The divisors the fetches use are FastDivisors (fast_divide.cuh), formed once per launch.
struct Dims {
  int n, c_in, h_in, w_in, c_out, k_h, k_w, stride, pad, h_out, w_out;
  FastDivisor taps, kernel_w, pixels_out, width_out;  // k_h k_w, k_w, h_out w_out, w_out
};

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Operands. A GEMM operand is read either along its rows (m_contiguous: A of the forward and of
// the data gradient; a thread keeps one row for the whole tile, whose part of the address,
// `Row`, is formed once per tile by row(m)) or along k (a thread keeps one k per step, whose part
// of the address, `K`, is formed once per step by k_at(k) and serves all the thread's rows).
// Operands contiguous along k in memory may offer load4 (k..k+3 as one float4), used when the
// launcher sets vec4 (k a multiple of 4, the pointer 16-byte aligned).

// x-patch[m][k]: m = (n, oh, ow) over the output pixels, k = (ci, r, q) over the kernel taps.
struct InputPatch {
  Dims s;
  const float* x;
  static constexpr bool m_contiguous = true;
  struct Row {
    int image, ih0, iw0;  // offset of image n, top-left corner of the patch
  };
  __device__ __forceinline__ Row row(int m) const {
    const int n = s.pixels_out.quotient(m), p = m - n * s.pixels_out.divisor, oh = s.width_out.quotient(p);
    return {n * s.c_in * s.h_in * s.w_in, oh * s.stride - s.pad, (p - oh * s.w_out) * s.stride - s.pad};
  }
  __device__ __forceinline__ float operator()(const Row& row, int k) const {
    const int ci = s.taps.quotient(k), tap = k - ci * s.taps.divisor, r = s.kernel_w.quotient(tap);
    const int ih = row.ih0 + r, iw = row.iw0 + tap - r * s.k_w;
    if (ih < 0 || ih >= s.h_in || iw < 0 || iw >= s.w_in) return 0.f;
    return x[row.image + (ci * s.h_in + ih) * s.w_in + iw];
  }
};

// w viewed as [Co][K] (forward's B operand, B[k][co]).
struct WeightRows {
  const float* w;
  int k_total;
  bool vec4;
  static constexpr bool m_contiguous = false, has_load4 = true;
  using K = int;
  __device__ __forceinline__ K k_at(int k) const { return k; }
  __device__ __forceinline__ float operator()(int co, K k) const { return w[co * k_total + k]; }
  __device__ __forceinline__ float4 load4(int co, K k) const {
    return *reinterpret_cast<const float4*>(w + co * k_total + k);
  }
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
  // Of taps_h taps_w, taps_w, rows cols and cols; 1 where that is 0 (no taps or no pixels: the
  // phase's k or m are all out, and the quotients unused).
  FastDivisor taps, tap_cols, plane, plane_cols;
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
  ph.taps = FastDivisor(max(ph.taps_h * ph.taps_w, 1)), ph.tap_cols = FastDivisor(max(ph.taps_w, 1));
  ph.plane = FastDivisor(max(ph.rows * ph.cols, 1)), ph.plane_cols = FastDivisor(max(ph.cols, 1));
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
  struct Row {
    int image, oh0, ow0;  // offset of image n; the dy pixel that tap (0, 0) reads
    bool in;
  };
  __device__ __forceinline__ Row row(int m) const {
    const int n = ph.plane.quotient(m), p = m - n * ph.plane.divisor, i = ph.plane_cols.quotient(p);
    return {n * s.c_out * s.h_out * s.w_out, ph.oh0 + i, ph.ow0 + p - i * ph.plane_cols.divisor, m < m_total};
  }
  __device__ __forceinline__ float operator()(const Row& row, int k) const {
    if (!row.in || k >= k_total) return 0.f;
    const int co = ph.taps.quotient(k), t = k - co * ph.taps.divisor, rr = ph.tap_cols.quotient(t);
    const int oh = row.oh0 - rr, ow = row.ow0 - (t - rr * ph.taps_w);
    if (oh < 0 || ow < 0 || oh >= s.h_out || ow >= s.w_out) return 0.f;
    return dy[row.image + (co * s.h_out + oh) * s.w_out + ow];
  }
};

// w[co][ci][r][q] as B[k = (co, r', q')][ci] of one phase.
struct PhaseWeights {
  Dims s;
  Phase ph;
  int k_total;
  const float* w;
  static constexpr bool m_contiguous = false, has_load4 = false;
  struct K {
    int offset;  // of w[co][0][r][q]
    bool in;
  };
  __device__ __forceinline__ K k_at(int k) const {
    const int co = ph.taps.quotient(k), t = k - co * ph.taps.divisor, rr = ph.tap_cols.quotient(t);
    const int r = ph.r0 + s.stride * rr, q = ph.q0 + s.stride * (t - rr * ph.tap_cols.divisor);
    return {(co * s.c_in * s.k_h + r) * s.k_w + q, k < k_total};
  }
  __device__ __forceinline__ float operator()(int ci, const K& k) const {
    return k.in ? w[k.offset + ci * s.k_h * s.k_w] : 0.f;
  }
};

// C[(n, i, j)][ci] of one phase -> out[slice][n][ci][row0 + stride i][col0 + stride j].
struct PhaseStore {
  Dims s;
  Phase ph;
  int m_total;
  float* out;
  int slice_size;
  static constexpr bool has_store4 = false;  // a phase's pixels are stride apart
  __device__ __forceinline__ void operator()(int m, int ci, float v) const {
    if (m >= m_total) return;
    const int n = ph.plane.quotient(m), p = m - n * ph.plane.divisor, i = ph.plane_cols.quotient(p);
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

// dy as A[co][m = (n, oh, ow)] of backward_weight (contiguous along m, the reduction). No load4:
// with the float4 path beside the scalar one the 64x64 instance spilled 8 bytes at sm_80.
struct OutputGradRows {
  Dims s;
  const float* dy;
  static constexpr bool m_contiguous = false, has_load4 = false;
  using K = int;  // offset of dy[n][0][oh][ow]
  __device__ __forceinline__ K k_at(int m) const {
    const int n = s.pixels_out.quotient(m);
    return n * s.c_out * s.pixels_out.divisor + (m - n * s.pixels_out.divisor);
  }
  __device__ __forceinline__ float operator()(int co, K k) const { return dy[k + co * s.h_out * s.w_out]; }
};

// The x-patch as B[m][k] of backward_weight: same values as InputPatch, other roles (the pixel m
// is the reduction index, so its part of the address is bound once per step).
struct InputPatchAsB {
  InputPatch patch;
  static constexpr bool m_contiguous = false, has_load4 = false;
  using K = InputPatch::Row;
  __device__ __forceinline__ K k_at(int m) const { return patch.row(m); }
  __device__ __forceinline__ float operator()(int k, const K& m) const { return patch(m, k); }
};

// Stores of the GEMM result C[m][n]. store4 writes 4 consecutive m (along_m) or n as one float4,
// used when the launcher sets vec4.
// The forward's: applies the epilogue (empty when split-K leaves it to the summing pass).
struct StoreNchw {  // C[(n, pixel)][channel] -> out[slice][n][channel][pixel]
  float* out;
  int channels;
  FastDivisor pixels;
  int slice_size;
  bool vec4;  // pixels a multiple of 4, out 16-byte aligned
  ConvEpilogue epilogue;
  static constexpr bool has_store4 = true, along_m = true;
  __device__ __forceinline__ int offset(int m, int c) const {
    const int n = pixels.quotient(m);
    return int(blockIdx.z) * slice_size + (n * channels + c) * pixels.divisor + (m - n * pixels.divisor);
  }
  __device__ __forceinline__ void operator()(int m, int c, float v) const {
    out[offset(m, c)] = apply_epilogue(epilogue, c, v);
  }
  __device__ __forceinline__ void store4(int m, int c, float4 v) const {  // 4 pixels of channel c
    v.x = apply_epilogue(epilogue, c, v.x), v.y = apply_epilogue(epilogue, c, v.y);
    v.z = apply_epilogue(epilogue, c, v.z), v.w = apply_epilogue(epilogue, c, v.w);
    *reinterpret_cast<float4*>(out + offset(m, c)) = v;
  }
};

struct StoreRowMajor {  // C[m][n] -> out[slice][m][n]
  float* out;
  int cols, slice_size;
  bool vec4;  // cols a multiple of 4, out 16-byte aligned
  static constexpr bool has_store4 = true, along_m = false;
  __device__ __forceinline__ void operator()(int m, int n, float v) const {
    out[int(blockIdx.z) * slice_size + m * cols + n] = v;
  }
  __device__ __forceinline__ void store4(int m, int n, float4 v) const {
    *reinterpret_cast<float4*>(out + int(blockIdx.z) * slice_size + m * cols + n) = v;
  }
};

// C[m][n] = sum_k A(m, k) B(k, n) over k in this block's slice [z * k_chunk, (z+1) * k_chunk).
// grid.x holds the phases side by side, m_tiles tiles each (one phase unless the operands have
// phases); m_total and k_total are the largest phase's.
template <class T, class A, class B, class Store>
__global__ void __launch_bounds__(gemm_threads, T::blocks_per_sm) implicit_gemm_kernel(
    int m_tiles, int m_total, int n_total, int k_total, int k_chunk, A a_all, B b_all, Store store_all) {
  __shared__ __align__(16) float a_tile[2][tile_k][T::m + T::smem_pad];
  __shared__ __align__(16) float b_tile[2][tile_k][T::n + T::smem_pad];
  const int phase = blockIdx.x / m_tiles;
  const auto a = for_phase(a_all, phase);
  const auto b = for_phase(b_all, phase);
  const int m0 = (blockIdx.x - phase * m_tiles) * T::m, n0 = blockIdx.y * T::n;
  const int k_begin = blockIdx.z * k_chunk;
  const int k_end = k_begin + k_chunk < k_total ? k_begin + k_chunk : k_total;
  TileLoader<T::m, std::decay_t<decltype(a)>> a_load(a, m0, m_total);
  TileLoader<T::n, std::decay_t<decltype(b)>> b_load(b, n0, n_total);
  a_load.fetch(a, k_begin, k_end);
  b_load.fetch(b, k_begin, k_end);
  a_load.template store<T>(a, a_tile[0]);
  b_load.template store<T>(b, b_tile[0]);
  __syncthreads();
  typename T::Acc acc = {};
  int buffer = 0;
  // One barrier per step: step s reads buffer s % 2 and fills the other, which every thread
  // finished reading before the barrier that ended step s - 1. The next A slab is in flight
  // during the first half of the products, the next B slab during the second: only one operand's
  // registers are staged at a time (the 128x128 tile spilled with both).
  for (int k0 = k_begin; k0 < k_end; k0 += tile_k) {
    const bool next = k0 + tile_k < k_end;
    if (next) a_load.fetch(a, k0 + tile_k, k_end);
    multiply_slab<T, 0, tile_k / 2>(a_tile[buffer], b_tile[buffer], acc);
    if (next) {
      a_load.template store<T>(a, a_tile[buffer ^ 1]);
      b_load.fetch(b, k0 + tile_k, k_end);
    }
    multiply_slab<T, tile_k / 2, tile_k>(a_tile[buffer], b_tile[buffer], acc);
    if (next) b_load.template store<T>(b, b_tile[buffer ^ 1]);
    __syncthreads();
    buffer ^= 1;
  }
  // Bound here, not live through the k loop.
  store_outputs<T>(for_phase(store_all, phase), m0, n0, m_total, n_total, acc);
}

// The forward's epilogue on an NCHW output, where split-K leaves it to the summing pass: element i
// is in channel (i / pixels) mod channels.
struct SumEpilogue {
  ConvEpilogue epilogue;
  FastDivisor pixels;
  int channels = 1;
};

// out = sum over the split-K slices, in slice order, then the epilogue (none but the forward's).
// With one slice and partial == out: the epilogue alone, in place.
__global__ void split_k_sum_kernel(int count, int slices, const float* partial, float* out, SumEpilogue finish) {
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < count; i += int(gridDim.x) * blockDim.x) {
    float total = 0.f;
    for (int z = 0; z < slices; ++z) total += partial[z * count + i];
    out[i] = finish.epilogue.empty() ? total
                                     : apply_epilogue(finish.epilogue, finish.pixels.quotient(i) % finish.channels, total);
  }
}

constexpr int sm_count = 132;  // an H200's; the rules below are tuned for it

template <class T>
int tiles_of(int phases, int m, int n) {
  return phases * ((m + T::m - 1) / T::m) * ((n + T::n - 1) / T::n);
}

// How many slices to split a reduction of length k into, for an m x n output in tiles of T. An
// H200 (132 SMs) keeps T::blocks_per_sm blocks per SM resident (528 at once for 64x64 tiles).
// Below that many output tiles, SMs idle (or run under-occupied) while each block walks all of K;
// split K so the blocks fill those slots once (more would only add waves of shorter blocks),
// every slice at least 128 deep (8 k-steps, to amortise its tile loads and the partial's store),
// at most 64 slices (bounds the workspace and the summing pass), and the workspace indexable in
// 32 bits. (With phases, m and k are the largest phase's and the tiles are counted over all phases.)
template <class T>
int split_slices(int phases, int m, int n, int k) {
  constexpr int resident_blocks = T::blocks_per_sm * sm_count, min_slice = 128, max_slices = 64;
  const int fits = static_cast<int>(INT32_MAX / (int64_t(phases) * m * n));
  return std::max(1, std::min({resident_blocks / tiles_of<T>(phases, m, n), k / min_slice, max_slices, fits}));
}

ConvTile forced_tile = ConvTile::automatic;

// The tile shape for an m x n output (docs/kernels.md, "Tile shapes"). 16 outputs or fewer along
// one side (G's last conv: 3 channels; D's heads: 1 or 7; G's input conv's data gradient: 10):
// a 64-wide tile would compute 4 to 64 times the needed products; the 16-wide tiles at most 16
// times. 128x128 when it pads each side by at most 1/8 and gives at least 128 tiles (about one
// per SM: fewer would leave SMs idle that 64x64 tiles, four times as many, fill): it reads half
// the operand bytes per product of 64x64 and holds 4 times the outputs per thread. Else 64x64.
ConvTile tile_shape_for(int phases, int m, int n) {
  if (forced_tile != ConvTile::automatic) return forced_tile;
  if (n <= 16 || m <= 16) return n <= m ? ConvTile::tall : ConvTile::wide;
  auto padded = [](int size) { return (size + 127) / 128 * 128 * 8 <= size * 9; };
  if (padded(m) && padded(n) && tiles_of<LargeTile>(phases, m, n) >= 128) return ConvTile::large;
  return ConvTile::medium;
}

// Split-K partial sums.
ScratchBuffer split_k_scratch;

void launch_split_k_sum(int count, int slices, const float* partial, float* out, const SumEpilogue& finish) {
  launch(split_k_sum_kernel, {dim3(grid_for(count)), dim3(elementwise_block), 0, stream()}, count, slices, partial,
         out, finish);
}

// Runs the GEMM in tiles of T straight into `out` (count elements), or, when split_slices splits
// it, into the workspace (slice z at z * count, laid out as `out`) and then sums the slices into
// `out` in slice order. make_store(destination, slice_size) builds the Store; `finish` is the
// forward's epilogue, which the Store applies when the GEMM writes `out` itself (slice_size 0)
// and the summing pass otherwise. With phases, m and k are the largest phase's and the phases'
// stores together cover `out`: every slice writes every element (a slice past a phase's k writes 0).
template <class T, class A, class B, class MakeStore>
void gemm_split_k_in(int phases, int m, int n, int k, int count, const A& a, const B& b, float* out,
                     const MakeStore& make_store, const SumEpilogue& finish) {
  const int slices = split_slices<T>(phases, m, n, k);
  float* partial = slices == 1 ? out : split_k_scratch.get(static_cast<size_t>(slices) * count);
  const int k_chunk = ((k + slices - 1) / slices + tile_k - 1) / tile_k * tile_k, m_tiles = (m + T::m - 1) / T::m;
  const dim3 grid(static_cast<unsigned>(phases * m_tiles), static_cast<unsigned>((n + T::n - 1) / T::n),
                  static_cast<unsigned>(slices));
  const auto store = make_store(partial, slices == 1 ? 0 : count);
  launch(implicit_gemm_kernel<T, A, B, std::decay_t<decltype(store)>>, {grid, dim3(gemm_threads), 0, stream()},
         m_tiles, m, n, k, k_chunk, a, b, store);
  if (slices > 1) launch_split_k_sum(count, slices, partial, out, finish);
}

// large_fits: whether the operation's 128x128 instance fits in its 128 registers. The forward's
// does; the two gradients' spilled 16 to 72 bytes (their operands' per-row address arithmetic,
// which ptxas keeps live across the k loop, does not fit beside 64 accumulators and the staged
// slab), so they take 64x64 tiles where the rule says 128x128. Medium: the operation's 64x64
// tile (MediumTile, or MediumTile3 where 64 registers spill). TF32 has its one tile.
template <bool large_fits, class Medium, class A, class B, class MakeStore>
void gemm_split_k(Precision precision, int phases, int m, int n, int k, int count, const A& a, const B& b,
                  float* out, const MakeStore& make_store, const SumEpilogue& finish = {}) {
  if (precision == Precision::tf32)
    return gemm_split_k_in<MmaTf32Tile>(phases, m, n, k, count, a, b, out, make_store, finish);
  const ConvTile tile = tile_shape_for(phases, m, n);
  if constexpr (large_fits)
    if (tile == ConvTile::large)
      return gemm_split_k_in<LargeTile>(phases, m, n, k, count, a, b, out, make_store, finish);
  switch (tile) {
    case ConvTile::tall: return gemm_split_k_in<TallTile>(phases, m, n, k, count, a, b, out, make_store, finish);
    case ConvTile::wide: return gemm_split_k_in<WideTile>(phases, m, n, k, count, a, b, out, make_store, finish);
    default: return gemm_split_k_in<Medium>(phases, m, n, k, count, a, b, out, make_store, finish);
  }
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
  const int k_h = i(s.k_h), k_w = i(s.k_w), h_out = i(s.h_out), w_out = i(s.w_out);
  return {i(s.n), i(s.c_in), i(s.h_in), i(s.w_in), i(s.c_out), k_h, k_w, i(s.stride), i(s.pad), h_out, w_out,
          FastDivisor(std::max(k_h * k_w, 1)), FastDivisor(std::max(k_w, 1)), FastDivisor(std::max(h_out * w_out, 1)),
          FastDivisor(std::max(w_out, 1))};
}

}  // namespace

void set_conv_tile(ConvTile tile) { forced_tile = tile; }

void conv2d_forward(const Conv2dShape& shape, const float* x, const float* w, float* y, const ConvEpilogue& epilogue,
                    Precision precision) {
  const Dims s = dims_of(shape);
  const int m = s.n * s.h_out * s.w_out, k = s.c_in * s.k_h * s.k_w, pixels = s.h_out * s.w_out;
  if (m == 0 || s.c_out == 0) return;
  gemm_split_k<true, MediumTile>(precision, 1, m, s.c_out, k, m * s.c_out, InputPatch{s, x}, WeightRows{w, k, k % 4 == 0 && aligned16(w)}, y,
               [&](float* out, int slice_size) {
                 return StoreNchw{out, s.c_out, FastDivisor(pixels), slice_size, pixels % 4 == 0 && aligned16(out),
                                  slice_size == 0 ? epilogue : ConvEpilogue{}};
               },
               SumEpilogue{epilogue, FastDivisor(pixels), s.c_out});
}

void conv2d_apply_epilogue(const Conv2dShape& shape, float* y, const ConvEpilogue& epilogue) {
  const Dims s = dims_of(shape);
  const int count = s.n * s.c_out * s.h_out * s.w_out;
  if (count == 0 || epilogue.empty()) return;
  launch_split_k_sum(count, 1, y, y, SumEpilogue{epilogue, FastDivisor(s.h_out * s.w_out), s.c_out});
}

void conv2d_backward_input(const Conv2dShape& shape, const float* dy, const float* w, float* dx, Precision precision) {
  const Dims s = dims_of(shape);
  if (s.n * s.h_in * s.w_in == 0 || s.c_in == 0) return;
  // Phase 0 has the most pixels; the taps differ between phases when k is not a multiple of the stride.
  const int phases = s.stride * s.stride, m = phase_of(s, 0).pixels(s);
  int k = 0;
  for (int p = 0; p < phases; ++p) k = std::max(k, phase_of(s, p).depth(s));
  gemm_split_k<false, MediumTile>(precision, phases, m, s.c_in, k, s.n * s.c_in * s.h_in * s.w_in, OutputGradPatch{s, dy}, WeightTransposed{s, w}, dx,
               [&](float* out, int slice_size) { return StoreDataGrad{s, out, slice_size}; });
}

void conv2d_backward_weight(const Conv2dShape& shape, const float* x, const float* dy, float* dw,
                            Precision precision) {
  const Dims s = dims_of(shape);
  const int rows = s.c_out, cols = s.c_in * s.k_h * s.k_w, reduction = s.n * s.h_out * s.w_out;
  if (rows == 0 || cols == 0) return;
  gemm_split_k<false, MediumTile3>(precision, 1, rows, cols, reduction, rows * cols, OutputGradRows{s, dy}, InputPatchAsB{InputPatch{s, x}}, dw,
               [&](float* out, int slice_size) {
                 return StoreRowMajor{out, cols, slice_size, cols % 4 == 0 && aligned16(out)};
               });
}

}  // namespace kernels::cuda
