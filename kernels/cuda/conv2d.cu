// Convolution as implicit GEMM (kernels/conv2d.h; matches F.conv2d and its two gradients): no
// im2col buffer; the tile loaders gather the convolution's operands straight from NCHW memory.
//
//   forward          y[m = (n,oh,ow)][co]     = sum_{k = (ci,r,q)}   x-patch[m][k] * w[co][k]
//   backward_input   dx[m = (n,ih,iw)][ci]    = sum_{k = (co,r,q)}   dy-patch[m][k] * w[co][ci][r][q]
//   backward_weight  dw[co][k = (ci,r,q)]     = sum_{m = (n,oh,ow)}  dy[m][co] * x-patch[m][k]
//
// One kernel template serves all three, with a block tile chosen per problem (TileShape in conv2d_tiles.cuh,
// rule in tile_shape_for; docs/kernels.md "Tile shapes"): 128x128 (8x8 outputs a thread), 64x64
// (4x4), or 256x16 / 16x256 (4x4) for few output columns or rows, 256x4 / 4x256 (KGroupTile: 4
// groups of 64 threads over the k of a slab) for at most 4; 256 threads in every case. With
// Precision::tf32 the tiles are on the tensor cores (MmaTf32Tile: operands rounded to TF32 as they
// are stored to shared memory, each warp's outputs by mma.sync m16n8k8): 128x128 where the rule
// gives 128x128 (forward and data gradient), 64x64 where it gives 64x64, and the fp32 narrow
// tiles for narrow problems; loaders, double buffering, split-K and phases are the fp32 tiles'. The K
// dimension is walked in steps of 16 through two pairs of shared-memory tiles (double buffering:
// the next step's operands are read from global memory into registers while the block multiplies
// the current ones, one barrier per step). Loaders map consecutive threads to the operand's
// contiguous dimension, so global reads coalesce, bind the address arithmetic that depends only on
// a thread's row once per tile, and read float4s where the problem allows (checked per launch).
// When a problem has few output tiles and a long reduction (D's deep layers and heads; the weight
// gradient of the early layers) all three split the reduction across blockIdx.z (split-K, rule in
// split_slices) into a workspace laid out like the output; the last block of each output tile to
// finish sums the tile's slices in a fixed order (SplitK): deterministic, one launch.
// The data gradient runs by phase decomposition (Phase below): the stride^2 phases of the input
// pixels side by side along grid.x in one launch, each a dense convolution over its own taps.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "common.cuh"
#include "conv2d_direct.cuh"
#include "conv2d_tiles.cuh"
#include "conv2d_winograd.cuh"
#include "fast_divide.cuh"
#include "wave_slices.h"
#include "kernels/conv2d.h"
#include "kernels/profile_flops.h"
#include "kernels/reflection_pad2d.h"

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
  // k = (ci, r, q) as the offset of channel ci's plane and the tap (r, q).
  struct KWalk {
    int plane, r, q;
  };
  __device__ __forceinline__ KWalk k_walk(int k) const {
    const int ci = s.taps.quotient(k), tap = k - ci * s.taps.divisor, r = s.kernel_w.quotient(tap);
    return {ci * s.h_in * s.w_in, r, tap - r * s.k_w};
  }
  __device__ __forceinline__ void advance(KWalk& at) const {  // to k + 1
    if (++at.q == s.k_w) {
      at.q = 0;
      if (++at.r == s.k_h) at.r = 0, at.plane += s.h_in * s.w_in;
    }
  }
  __device__ __forceinline__ float operator()(const Row& row, const KWalk& at) const {
    const int ih = row.ih0 + at.r, iw = row.iw0 + at.q;  // negative ones wrap past h_in, w_in
    const bool in = unsigned(ih) < unsigned(s.h_in) && unsigned(iw) < unsigned(s.w_in);
    return in ? x[row.image + at.plane + ih * s.w_in + iw] : 0.f;
  }
  __device__ __forceinline__ float operator()(const Row& row, int k) const { return (*this)(row, k_walk(k)); }
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

// Where a GEMM's results go. Unsplit: into the result, through the epilogue. Split-K: slice z's
// partial sums into out + z * slice_size, a workspace laid out as the result; then the block of
// each output tile that arrives last (its ticket, one per tile of grid.x x grid.y, counts the
// slices done) sums the tile's slices in slice order into the result and applies the epilogue
// (sum_slices_if_last): no second launch, no atomics on the values, and the same bits whichever
// block arrives last. The tickets are zero between launches: the last block resets its tile's.
// (One tile leaves the sum to a second launch, split_k_sum_kernel, in the same order: sums_in_gemm.)
struct SplitK {
  float* out;              // the result, or the workspace's slice 0
  int slice_size;          // 0 unsplit, else the result's element count
  ConvEpilogue epilogue;   // of channel n, the GEMM's column, as stored (none when split)
  int slices;
  float* result;           // split: where the sums go,
  ConvEpilogue finish;     //   with this epilogue
  unsigned* tickets;
};

// A store: Layout gives offset(m, n), the offset of C[m][n] in the result (negative where the
// element is not one: a phase's padding), and for store4 the 4 consecutive elements along m
// (along_m) or n at offset(m, n) onwards. The store puts a value where SplitK says: out plus an
// int offset, whether split or not (a 64-bit pointer chosen per block was hoisted above the k loop
// and spilled).
template <class Layout>
struct SplitKStore {
  SplitK split;
  __device__ __forceinline__ float* slice() const { return split.out + int(blockIdx.z) * split.slice_size; }
  // Only the forward's layout has an epilogue: the others leave out its tests (their 64 registers spilled).
  __device__ __forceinline__ static float finish(const ConvEpilogue& e, int n, float v) {
    if constexpr (Layout::has_epilogue) return apply_epilogue(e, n, v);
    return v;
  }
  __device__ __forceinline__ void operator()(int m, int n, float v) const {
    const int i = static_cast<const Layout&>(*this).offset(m, n);
    if (i >= 0) slice()[i] = finish(split.epilogue, n, v);
  }
  __device__ __forceinline__ void store4(int m, int n, float4 v) const {
    constexpr int step = Layout::along_m ? 0 : 1;  // lane t is channel n + step t
    v.x = finish(split.epilogue, n, v.x), v.y = finish(split.epilogue, n + step, v.y);
    v.z = finish(split.epilogue, n + 2 * step, v.z), v.w = finish(split.epilogue, n + 3 * step, v.w);
    *reinterpret_cast<float4*>(slice() + static_cast<const Layout&>(*this).offset(m, n)) = v;
  }
};

// C[(n, i, j)][ci] of one phase -> dx[n][ci][row0 + stride i][col0 + stride j].
struct PhaseStore : SplitKStore<PhaseStore> {
  Dims s;
  Phase ph;
  int m_total;
  static constexpr bool has_store4 = false, along_m = true, has_epilogue = false;  // a phase's pixels are stride apart
  __device__ __forceinline__ int offset(int m, int ci) const {
    if (m >= m_total) return -1;
    const int n = ph.plane.quotient(m), p = m - n * ph.plane.divisor, i = ph.plane_cols.quotient(p);
    const int ih = ph.row0 + s.stride * i, iw = ph.col0 + s.stride * (p - i * ph.cols);
    return ((n * s.c_in + ci) * s.h_in + ih) * s.w_in + iw;
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
struct StoreDataGrad : SplitKStore<StoreDataGrad> {
  Dims s;
};

// Winograd's products (conv2d_winograd.cuh), one GEMM a phase. The forward's: phase xi
// multiplies V[xi] as A[t][k] (contiguous along the tiles t) by U[xi] as B[k][row] (contiguous
// along k) into M[xi][row][t]. The weight gradient's: dM[xi] as A[row][t] by V[xi] as B[t][col]
// (both contiguous along the tiles, the reduction) into dU[xi][row][col]. The phase's offset into
// each operand is folded into the row and k offsets the loaders form anyway (a 64-bit pointer
// per phase, hoisted above the k loop, spilled the 128x128 tile).
struct WinogradTransformedInput {
  const float* v;
  int tiles, c_in;
};
struct WinogradInputPhase {  // V[xi] = v + base
  const float* v;
  int base, tiles;
  static constexpr bool m_contiguous = true;
  using Row = int;  // offset of V[xi][0][t]
  __device__ __forceinline__ Row row(int t) const { return base + t; }
  __device__ __forceinline__ float operator()(Row row, int ci) const { return v[row + ci * tiles]; }
};
// Phases of rows x k matrices, contiguous along k: U, and the weight gradient's dM and V.
struct PhaseMatrices {
  const float* p;
  int rows, k_total;
  bool vec4;  // k_total a multiple of 4, p 16-byte aligned
};
struct PhaseMatrix {  // phase xi's, at p + base
  const float* p;
  int base, k_total;
  bool vec4;
  static constexpr bool m_contiguous = false, has_load4 = true;
  using K = int;  // offset of [xi][0][k]
  __device__ __forceinline__ K k_at(int k) const { return base + k; }
  __device__ __forceinline__ float operator()(int row, K k) const { return p[row * k_total + k]; }
  __device__ __forceinline__ float4 load4(int row, K k) const {
    return *reinterpret_cast<const float4*>(p + row * k_total + k);
  }
};
struct StoreWinograd : SplitKStore<StoreWinograd> {  // C[t][row] -> M[xi][row][t]
  int tiles, c_out, base;  // base: M[xi]'s offset, bound by for_phase
  bool vec4;               // tiles a multiple of 4, M and partial 16-byte aligned
  static constexpr bool has_store4 = true, along_m = true, has_epilogue = false;
  __device__ __forceinline__ int offset(int t, int co) const { return base + co * tiles + t; }
};
struct StoreWinogradWeights : SplitKStore<StoreWinogradWeights> {  // C[row][col] -> dU[xi][row][col]
  int rows, cols, base;  // base: dU[xi]'s offset, bound by for_phase
  bool vec4;             // cols a multiple of 4, dU and partial 16-byte aligned
  static constexpr bool has_store4 = true, along_m = false, has_epilogue = false;
  __device__ __forceinline__ int offset(int row, int col) const { return base + row * cols + col; }
};

// Whether a GEMM has phases: only the data gradient's and Winograd's operands and stores have
// (the others' tiles are all phase 0, and their kernels do not divide blockIdx.x to find it).
template <class Op>
constexpr bool phased = std::is_same_v<Op, OutputGradPatch> || std::is_same_v<Op, StoreDataGrad> ||
                        std::is_same_v<Op, WinogradTransformedInput> || std::is_same_v<Op, PhaseMatrices> ||
                        std::is_same_v<Op, StoreWinograd> || std::is_same_v<Op, StoreWinogradWeights>;

__device__ __forceinline__ WinogradInputPhase for_phase(const WinogradTransformedInput& a, int xi) {
  return {a.v, xi * a.c_in * a.tiles, a.tiles};
}
__device__ __forceinline__ PhaseMatrix for_phase(const PhaseMatrices& b, int xi) {
  return {b.p, xi * b.rows * b.k_total, b.k_total, b.vec4};
}
__device__ __forceinline__ StoreWinograd for_phase(const StoreWinograd& st, int xi) {
  StoreWinograd bound = st;
  bound.base = xi * st.c_out * st.tiles;
  return bound;
}
__device__ __forceinline__ StoreWinogradWeights for_phase(const StoreWinogradWeights& st, int xi) {
  StoreWinogradWeights bound = st;
  bound.base = xi * st.rows * st.cols;
  return bound;
}

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
  return {{st.split}, st.s, ph, ph.pixels(st.s)};
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

// The layouts of the other two results. vec4: the launcher checked that store4 may be used.
struct StoreNchw : SplitKStore<StoreNchw> {  // C[(n, pixel)][channel] -> y[n][channel][pixel]
  int channels;
  FastDivisor pixels;
  bool vec4;  // pixels a multiple of 4, out and partial 16-byte aligned
  static constexpr bool has_store4 = true, along_m = true, has_epilogue = true;
  __device__ __forceinline__ int offset(int m, int c) const {
    const int n = pixels.quotient(m);
    return (n * channels + c) * pixels.divisor + (m - n * pixels.divisor);
  }
};

struct StoreRowMajor : SplitKStore<StoreRowMajor> {  // C[m][n] -> out[m][n]
  int cols;
  bool vec4;  // cols a multiple of 4, out and partial 16-byte aligned
  static constexpr bool has_store4 = true, along_m = false, has_epilogue = false;
  __device__ __forceinline__ int offset(int m, int n) const { return m * cols + n; }
};

// Whether tile T's GEMM sums its split-K slices itself. Not the weight gradient's 64x64 tile: its
// k loop fills the 80 registers of 3 blocks per SM, and with the summing code beside it ptxas
// spilled 4 to 8 bytes (whichever way the code was written); it launches split_k_sum_kernel.
template <class T>
constexpr bool sums_in_gemm = !std::is_same_v<T, MediumTile3>;

// After the block stored its slice of the tile: the tile's last slice to arrive sums them all.
// store_all and m_tiles as the GEMM kernel has them.
template <class T, class Store>
__device__ __forceinline__ void sum_slices_if_last(const Store& store_all, int m_tiles, int m_total, int n_total) {
  const SplitK& k = store_all.split;
  constexpr int tile_size = T::m * T::n;
  // Where the block's summing starts: 0 in the last block, past the tile in the others. Read
  // from shared memory, and every index below is formed from it, so that nvcc cannot merge them
  // with the same values formed before the k loop (merged, they stayed live across it and spilled).
  __shared__ int first;
  const unsigned tile = blockIdx.y * gridDim.x + blockIdx.x;
  __syncthreads();  // every thread's partial sums are stored before thread 0 releases them
  if (threadIdx.x == 0)
    first = ptx::atom_add_acq_rel_gpu(k.tickets + tile, 1) == unsigned(k.slices - 1) ? 0 : tile_size;
  __syncthreads();  // and thread 0's acquire orders the other slices' sums before the reads below
  const int x = int(blockIdx.x) + first, phase = phased<Store> ? x / m_tiles : 0;  // blockIdx.x where it is used
  const auto store = for_phase(store_all, phase);
  const int m0 = (x - phase * m_tiles) * T::m, n0 = (int(blockIdx.y) + first) * T::n;
  using Bound = std::decay_t<decltype(store)>;
  constexpr bool along_m = Bound::along_m;  // consecutive threads along the layout
#pragma unroll 1
  for (int e = first + int(threadIdx.x); e < tile_size; e += gemm_threads) {
    const int m = m0 + (along_m ? e % T::m : e / T::n), n = n0 + (along_m ? e / T::m : e % T::n);
    const int i = m < m_total && n < n_total ? store.offset(m, n) : -1;
    if (i < 0) continue;
    float total = 0.f;
    for (int z = 0; z < k.slices; ++z) total += k.out[z * k.slice_size + i];
    k.result[i] = Bound::finish(k.finish, n, total);
  }
  if (threadIdx.x == 0 && first == 0) k.tickets[tile] = 0;  // all slices arrived; the next launch is stream-ordered
}

// C[m][n] = sum_k A(m, k) B(k, n) over k in this block's slice [z * k_chunk, (z+1) * k_chunk).
// grid.x holds the phases side by side, m_tiles tiles each (one phase unless the operands have
// phases); m_total and k_total are the largest phase's.
template <class T, class A, class B, class Store>
__global__ void __launch_bounds__(gemm_threads, T::blocks_per_sm) implicit_gemm_kernel(
    int m_tiles, int m_total, int n_total, int k_total, int k_chunk, A a_all, B b_all, Store store_all) {
  __shared__ __align__(16) float a_tile[2][tile_k][T::m + T::smem_pad];
  __shared__ __align__(16) float b_tile[2][tile_k][T::n + T::smem_pad];
  const int phase = phased<A> ? blockIdx.x / m_tiles : 0;
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
  if constexpr (sums_in_gemm<T>)
    if (store_all.split.slices > 1) sum_slices_if_last<T>(store_all, m_tiles, m_total, n_total);
}

// Split-K's summing pass for tiles that do not sum in the GEMM: out = the slices' sum, in slice order.
__global__ void split_k_sum_kernel(int count, int slices, const float* partial, float* out) {
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < count; i += int(gridDim.x) * blockDim.x) {
    float total = 0.f;
    for (int z = 0; z < slices; ++z) total += partial[z * count + i];
    out[i] = total;
  }
}

// The forward's epilogue alone, in place, on an NCHW output: element i is in channel
// (i / pixels) mod channels. For the baselines' vendor convolutions.
__global__ void conv_epilogue_kernel(int count, float* y, ConvEpilogue epilogue, FastDivisor pixels, int channels) {
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < count; i += int(gridDim.x) * blockDim.x)
    y[i] = apply_epilogue(epilogue, pixels.quotient(i) % channels, y[i]);
}

template <class T>
int tiles_of(int phases, int m, int n) {
  return phases * ((m + T::m - 1) / T::m) * ((n + T::n - 1) / T::n);
}

// How many slices to split a reduction of length k into, for an m x n output in tiles of T. An
// H200 (132 SMs) keeps T::blocks_per_sm blocks per SM resident (528 at once for 64x64 tiles) and
// runs a launch in waves of that many: 300 tiles leave 43% of the slots idle while each block
// walks all of K, and 580 take two block times, the second wave on a tenth of the slots. So the
// split rounds the launch to whole waves (wave_slices), every slice at least 128 deep (8 k-steps,
// to amortise its tile loads and the partial's store), at most 64 slices (bounds the workspace
// and the summing), and the workspace indexable in 32 bits. (With phases, m and k are the
// largest phase's and the tiles are counted over all phases.)
template <class T>
int split_slices(int phases, int m, int n, int k) {
  constexpr int min_slice = 128, max_slices = 64;
  const int fits = static_cast<int>(INT32_MAX / (int64_t(phases) * m * n));
  const int most = std::max(1, std::min({k / min_slice, max_slices, fits}));
  return wave_slices(tiles_of<T>(phases, m, n), int64_t(T::blocks_per_sm) * sm_count, most);
}

ConvTile forced_tile = ConvTile::automatic;

// The tile shape for an m x n output (docs/kernels.md, "Tile shapes"). 4 outputs or fewer along
// one side (G's last conv: 3 channels; D's source head: 1): the 4-wide tiles, at most 4 times
// the needed products. 16 or fewer (D's class head: 7; G's input conv's data gradient: 10): a
// 64-wide tile would compute 4 to 64 times the needed products; the 16-wide tiles at most 16
// times. 32 or fewer (D 6 at batch 8: 32 output pixels forward, 32 a phase in its data
// gradient): the 32-wide tiles, where a 64-wide one computes up to twice the products. 128x128
// when it pads each side by at most 1/8 and gives at least 128 tiles (about one per SM: fewer
// would leave SMs idle that 64x64 tiles, four times as many, fill): it reads half the operand
// bytes per product of 64x64 and holds 4 times the outputs per thread. Else 64x64.
ConvTile tile_shape_for(int phases, int m, int n) {
  if (forced_tile != ConvTile::automatic) return forced_tile;
  if (n <= 4 || m <= 4) return n <= m ? ConvTile::tall4 : ConvTile::wide4;
  if (n <= 16 || m <= 16) return n <= m ? ConvTile::tall : ConvTile::wide;
  if (n <= 32 || m <= 32) return n <= m ? ConvTile::tall32 : ConvTile::wide32;
  auto padded = [](int size) { return (size + 127) / 128 * 128 * 8 <= size * 9; };
  if (padded(m) && padded(n) && tiles_of<LargeTile>(phases, m, n) >= 128) return ConvTile::large;
  return ConvTile::medium;
}

// Split-K's partial sums and tickets.
ScratchBuffer<float> split_k_scratch;
ScratchBuffer<unsigned> split_k_tickets(/*zero_new=*/true);

// Runs the GEMM in tiles of T into `out` (count elements), split as split_slices says. `store`
// is the result's layout (its SplitK is filled in here); `epilogue` the forward's. With phases,
// m and k are the largest phase's and the phases' stores together cover `out`: every slice
// writes every element (a slice past a phase's k writes 0).
template <class T, class A, class B, class Store>
void gemm_split_k_in(int phases, int m, int n, int k, int count, const A& a, const B& b, float* out, Store store,
                     const ConvEpilogue& epilogue) {
  const int slices = split_slices<T>(phases, m, n, k);
  const int k_chunk = ((k + slices - 1) / slices + tile_k - 1) / tile_k * tile_k, m_tiles = (m + T::m - 1) / T::m;
  const dim3 grid(static_cast<unsigned>(phases * m_tiles), static_cast<unsigned>((n + T::n - 1) / T::n),
                  static_cast<unsigned>(slices));
  store.split = SplitK{out, 0, epilogue, slices, out, epilogue, nullptr};
  if (slices > 1) {
    store.split.out = split_k_scratch.get(static_cast<size_t>(slices) * count);
    store.split.slice_size = count, store.split.epilogue = {};
  }
  const size_t tiles = size_t(grid.x) * grid.y;
  if (slices > 1 && sums_in_gemm<T>) store.split.tickets = split_k_tickets.get(tiles);
  launch(implicit_gemm_kernel<T, A, B, Store>, {grid, dim3(gemm_threads), 0, stream()}, m_tiles, m, n, k, k_chunk, a, b,
         store);
  // Where blocks were skipped, tiles kept the tickets of the slices that ran: back to zero.
  if (store.split.tickets != nullptr && blocks_may_be_skipped())
    CUDA_CHECK(cudaMemsetAsync(store.split.tickets, 0, tiles * sizeof(unsigned), stream()));
  if constexpr (!sums_in_gemm<T>) {
    static_assert(!Store::has_epilogue, "split_k_sum_kernel applies no epilogue");
    if (slices > 1)
      launch(split_k_sum_kernel, {dim3(grid_for(count)), dim3(elementwise_block), 0, stream()}, count, slices,
             store.split.out, out);
  }
}

// The tiles an operation runs where the rule says 128x128 or 64x64, per precision. An
// operation's 128x128 instance must fit in its 128 registers: the fp32 forward's does, the two
// fp32 gradients' spilled 16 to 72 bytes (their operands' per-row address arithmetic, which
// ptxas keeps live across the k loop, does not fit beside 64 accumulators and the staged slab),
// and TF32's weight gradient spilled 20 to 52 bytes; those take their 64x64 tile instead. The
// 64x64 is MediumTile, or MediumTile3 where 64 registers spill.
struct ForwardTiles {
  using Large = LargeTile;
  using Medium = MediumTile;
  using MmaLarge = MmaTf32LargeTile;
  static constexpr bool has_tf32 = true;
};
struct DataGradTiles {
  using Large = MediumTile;
  using Medium = MediumTile;
  using MmaLarge = MmaTf32LargeTile;
  static constexpr bool has_tf32 = true;
};
struct WeightGradTiles {
  using Large = MediumTile3;
  using Medium = MediumTile3;
  using MmaLarge = MmaTf32MediumTile;
  static constexpr bool has_tf32 = true;
};
// Winograd's products: fp32 only (conv2d_winograd.cuh), so no TF32 instances, on one tile where
// the rule says 128x128 or 64x64. The forward's (and the data gradient's): 64x64, as the data
// gradient, since its 128x128 spilled 36 bytes (the phase offsets and the A loader's 8 row
// strides beside 64 accumulators). The weight gradient's: its 64x64 at 4 blocks per SM spilled 4
// bytes at sm_80 (two operands formed along k); 3 blocks per SM give it 85 registers, as the
// implicit GEMM's weight gradient.
template <class Tile>
struct Fp32Tiles {
  using Large = Tile;
  using Medium = Tile;
  using MmaLarge = void;
  static constexpr bool has_tf32 = false;
};
using WinogradProductTiles = Fp32Tiles<MediumTile>;
using WinogradWeightProductTiles = Fp32Tiles<MediumTile3>;

template <class Tiles, class A, class B, class Store>
void gemm_split_k(Precision precision, int phases, int m, int n, int k, int count, const A& a, const B& b,
                  float* out, const Store& store, const ConvEpilogue& epilogue = {}) {
  const ConvTile tile = tile_shape_for(phases, m, n);
  // TF32 has no narrow tiles: a problem of at most 16 outputs along a side keeps the fp32 narrow
  // tile, which forms far fewer products than a 64-wide one (G's output conv: 1.33 per useful one
  // against 21 on the TF32 64x64). One of 17 to 32 runs the TF32 64x64, as before the 32-wide
  // tiles: at most twice the products, on the tensor cores.
  if constexpr (Tiles::has_tf32) {
    if (precision == Precision::tf32 && tile == ConvTile::large)
      return gemm_split_k_in<typename Tiles::MmaLarge>(phases, m, n, k, count, a, b, out, store, epilogue);
    if (precision == Precision::tf32 &&
        (tile == ConvTile::medium || tile == ConvTile::tall32 || tile == ConvTile::wide32))
      return gemm_split_k_in<MmaTf32MediumTile>(phases, m, n, k, count, a, b, out, store, epilogue);
  }
  switch (tile) {
    case ConvTile::large:
      return gemm_split_k_in<typename Tiles::Large>(phases, m, n, k, count, a, b, out, store, epilogue);
    case ConvTile::tall4: return gemm_split_k_in<TallNarrowTile>(phases, m, n, k, count, a, b, out, store, epilogue);
    case ConvTile::wide4: return gemm_split_k_in<WideNarrowTile>(phases, m, n, k, count, a, b, out, store, epilogue);
    case ConvTile::tall: return gemm_split_k_in<TallTile>(phases, m, n, k, count, a, b, out, store, epilogue);
    case ConvTile::wide: return gemm_split_k_in<WideTile>(phases, m, n, k, count, a, b, out, store, epilogue);
    case ConvTile::tall32: return gemm_split_k_in<TallTile32>(phases, m, n, k, count, a, b, out, store, epilogue);
    case ConvTile::wide32: return gemm_split_k_in<WideTile32>(phases, m, n, k, count, a, b, out, store, epilogue);
    default: return gemm_split_k_in<typename Tiles::Medium>(phases, m, n, k, count, a, b, out, store, epilogue);
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

// A setting's environment variable: Setting::automatic where it is unset, empty or "auto", else
// the choice it names; another value throws naming the variable and what it accepts.
template <class Setting>
Setting setting_from_environment(const char* variable,
                                 std::initializer_list<std::pair<const char*, Setting>> choices) {
  const char* value = std::getenv(variable);
  const std::string name = value != nullptr ? value : "";
  if (name.empty() || name == "auto") return Setting::automatic;
  std::string expected = "auto";
  size_t listed = 0;
  for (const auto& [choice, setting] : choices) {
    if (name == choice) return setting;
    expected += ++listed == choices.size() ? " or " : ", ";
    expected += choice;
  }
  throw std::invalid_argument(std::string(variable) + "=" + name + ": expected " + expected);
}

// The setting a set_* function gave (`set`), else its environment variable's, read on first use.
template <class Setting>
Setting setting_in_force(std::optional<Setting>& set, Setting (*from_environment)()) {
  if (!set) set = from_environment();
  return *set;
}

// set_conv_winograd's mode, else ENGINE_CONV_WINOGRAD's.
std::optional<ConvWinograd> winograd_mode_set;

ConvWinograd winograd_mode() { return setting_in_force(winograd_mode_set, conv_winograd_from_environment); }

// A Winograd product's size in the checks below: phases GEMMs of rows x inner by inner x tiles.
bool winograd_indexable(int64_t phases, int64_t rows, int64_t inner, int64_t tiles) {
  return phases * std::max({inner * tiles, rows * tiles, rows * inner}) <= INT32_MAX;
}

// Where a Winograd product pays (docs/kernels.md, "conv2d_winograd.cu"): it saves 3/4 (F(4x4,
// 3x3)) or 61% (F(4x4, 2x2)) of the products of whole tiles and adds three launches (the
// transforms) and their traffic, ~3 x 8 us in the calibrated model. From 2^28 direct products
// (5.4e8 FLOPs, 63 us at the model's 8.5 TFLOP/s) the saving, 38 us or more, exceeds that (at
// 2^27 the batch-1 training iteration was 0.4 ms slower in the model than with fewer Winograd
// launches); under 32 GEMM rows or reduction channels, or 16 tiles, the GEMM's tiles are mostly
// padding; and at least 60% of the tiles' outputs must be real (an 8x8 output: 100%; 10x10:
// 69%; 6x6: 56%; 2x2: 25%).
bool winograd_pays(int64_t rows, int64_t inner, int64_t tiles, int64_t outputs, int64_t tile_outputs,
                   int64_t products) {
  return rows >= 32 && inner >= 32 && tiles >= 16 && products >= (int64_t(1) << 28) && 10 * outputs >= 6 * tile_outputs;
}

bool winograd_runs(bool supported, bool pays) {
  switch (winograd_mode()) {
    case ConvWinograd::never: return false;
    case ConvWinograd::always: return supported;
    default: return forced_tile == ConvTile::automatic && supported && pays;
  }
}

int64_t tiles_of4(int64_t size) { return (size + 3) / 4; }

// set_winograd3x3_tile's setting, else ENGINE_CONV_WINOGRAD_TILE's.
std::optional<Winograd3x3Tile> winograd3x3_tile_set;

// Winograd 3x3 (F(4x4, 3x3) or F(6x6, 3x3)) of the conv s: 3x3, stride 1, padding 0-2 (a data
// gradient's conv has 2 - pad), sizes consistent, where it pays on F(4x4, 3x3)'s tiles; fp32
// only: TF32 keeps the tensor cores' tiles, since the transforms' constants would amplify TF32's
// rounding of V and U (2^-11) as they amplify float's (docs/ops/conv2d.md: 10-30x), to ~1e-2 of
// the output. The same holds for F(4x4, 2x2).
bool winograd3x3_runs(const Conv2dShape& s, Precision precision) {
  const int64_t tiles = s.n * tiles_of4(s.h_out) * tiles_of4(s.w_out), outputs = s.n * s.h_out * s.w_out;
  const bool supported = precision == Precision::fp32 && s.n >= 1 && s.k_h == 3 && s.k_w == 3 && s.stride == 1 &&
                         s.pad >= 0 && s.pad <= 2 && s.h_out >= 1 && s.w_out >= 1 &&
                         s.h_out == s.h_in + 2 * s.pad - 2 && s.w_out == s.w_in + 2 * s.pad - 2 &&
                         winograd_indexable(64, s.c_out, s.c_in, tiles);  // F(6x6)'s tiles are fewer
  const int64_t products = 9 * outputs * s.c_in * s.c_out;
  return winograd_runs(supported, winograd_pays(s.c_out, s.c_in, tiles, outputs, 16 * tiles, products));
}

// The data gradient of a 3x3 stride-1 conv by Winograd: the conv of dy with the flipped kernel.
bool backward_input_by_winograd3x3(const Conv2dShape& s, Precision precision) {
  return s.k_h == 3 && s.k_w == 3 && s.stride == 1 && winograd3x3_runs(transposed_stride1(s), precision);
}

// The output tile of a 3x3 conv s that winograd3x3_runs (include/kernels/conv2d.h): 6 where F(6x6,
// 3x3)'s tiles, 64 positions each, form at most 90% of the products of F(4x4, 3x3)'s 36 (the
// transforms' traffic, V and M, shrinks with them).
int winograd3x3_tile(const Conv2dShape& s) {
  switch (setting_in_force(winograd3x3_tile_set, winograd3x3_tile_from_environment)) {
    case Winograd3x3Tile::four: return 4;
    case Winograd3x3Tile::six: return 6;
    default: break;
  }
  auto tiles_of6 = [](int64_t size) { return (size + 5) / 6; };
  const int64_t four = 36 * tiles_of4(s.h_out) * tiles_of4(s.w_out), six = 64 * tiles_of6(s.h_out) * tiles_of6(s.w_out);
  return 10 * six <= 9 * four ? 6 : 4;
}

// F(4x4, 2x2) of a 4x4 stride-2 conv s, pad >= 0 (conv2d_winograd_stride2.cu), forward (GEMM rows
// Co, reduction 4 Ci, the output's tiles; also of a 3x3 kernel, zero-extended to 4x4) or data
// gradient (rows Ci, reduction Co, dx's phase (0, 0)'s tiles, four groups). The weight gradient
// follows the forward for 4x4 kernels only (winograd4x4s2_weight_grad_runs).
bool winograd4x4s2_runs(const Conv2dShape& s, bool backward, Precision precision) {
  const int64_t tiles = backward ? s.n * tiles_of4((s.h_in + 1) / 2) * tiles_of4((s.w_in + 1) / 2)
                                 : s.n * tiles_of4(s.h_out) * tiles_of4(s.w_out);
  const int64_t rows = backward ? s.c_in : s.c_out, inner = backward ? s.c_out : 4 * s.c_in;
  const int64_t outputs = backward ? s.n * s.h_in * s.w_in : s.n * s.h_out * s.w_out;
  const int64_t tile_outputs = (backward ? 4 : 1) * 16 * tiles;
  const int64_t k = s.k_h;
  const bool supported = precision == Precision::fp32 && s.n >= 1 && (k == 4 || (k == 3 && !backward)) &&
                         s.k_w == k && s.stride == 2 && s.pad >= 0 && s.h_out >= 1 && s.w_out >= 1 &&
                         s.h_out == (s.h_in + 2 * s.pad - k) / 2 + 1 && s.w_out == (s.w_in + 2 * s.pad - k) / 2 + 1 &&
                         s.h_in + 2 * s.pad >= k && s.w_in + 2 * s.pad >= k &&
                         winograd_indexable((backward ? 4 : 1) * 25, rows, inner, tiles);
  // A 3x3 kernel saves 31% of the products where a 4x4 saves 61%: it must be twice the size to
  // save as much time beside the transforms' launches.
  const int64_t products = k * k * s.n * s.h_out * s.w_out * s.c_in * s.c_out / (k == 4 ? 1 : 2);
  return winograd_runs(supported, winograd_pays(rows, inner, tiles, outputs, tile_outputs, products));
}

bool winograd4x4s2_weight_grad_runs(const Conv2dShape& s, Precision precision) {
  return s.k_h == 4 && winograd4x4s2_runs(s, false, precision);
}

// A reflect conv's padded input where it is padded first (conv2d_forward).
ScratchBuffer<float> reflection_padded_input;

}  // namespace

void winograd_product(const WinogradProduct& p, const float* v, const float* u, float* m) {
  StoreWinograd store{};
  store.tiles = p.tiles, store.c_out = p.rows, store.vec4 = p.tiles % 4 == 0;
  const FlopScope flops(2.0 * p.phases * p.inner * p.rows * p.tiles);  // not the direct conv's count
  gemm_split_k<WinogradProductTiles>(Precision::fp32, p.phases, p.tiles, p.rows, p.inner, p.phases * p.rows * p.tiles,
                              WinogradTransformedInput{v, p.tiles, p.inner},
                              PhaseMatrices{u, p.rows, p.inner, p.inner % 4 == 0}, m, store);
}

void winograd_weight_product(const WinogradProduct& p, const float* m, const float* v, float* u) {
  StoreWinogradWeights store{};
  store.rows = p.rows, store.cols = p.inner, store.vec4 = p.inner % 4 == 0;
  const FlopScope flops(2.0 * p.phases * p.inner * p.rows * p.tiles);  // not the direct conv's count
  const bool vec4 = p.tiles % 4 == 0;
  gemm_split_k<WinogradWeightProductTiles>(Precision::fp32, p.phases, p.rows, p.inner, p.tiles,
                                           p.phases * p.rows * p.inner,
                                           PhaseMatrices{m, p.rows, p.tiles, vec4},
                                           PhaseMatrices{v, p.inner, p.tiles, vec4}, u, store);
}

void set_conv_tile(ConvTile tile) { forced_tile = tile; }

void set_conv_winograd(ConvWinograd mode) { winograd_mode_set = mode; }

void set_winograd3x3_tile(Winograd3x3Tile tile) { winograd3x3_tile_set = tile; }

Winograd3x3Tile winograd3x3_tile_from_environment() {
  return setting_from_environment<Winograd3x3Tile>("ENGINE_CONV_WINOGRAD_TILE",
                                                   {{"4", Winograd3x3Tile::four}, {"6", Winograd3x3Tile::six}});
}

int conv2d_winograd3x3_tile(const Conv2dShape& shape, bool backward_input, Precision precision) {
  if (backward_input)
    return backward_input_by_winograd3x3(shape, precision) ? winograd3x3_tile(transposed_stride1(shape)) : 0;
  return winograd3x3_runs(shape, precision) ? winograd3x3_tile(shape) : 0;
}

ConvWinograd conv_winograd_from_environment() {
  return setting_from_environment<ConvWinograd>("ENGINE_CONV_WINOGRAD",
                                                {{"always", ConvWinograd::always}, {"never", ConvWinograd::never}});
}

bool conv2d_uses_winograd(const Conv2dShape& shape, bool backward_input, Precision precision) {
  return backward_input ? backward_input_by_winograd3x3(shape, precision) || winograd4x4s2_runs(shape, true, precision)
                        : winograd3x3_runs(shape, precision) || winograd4x4s2_runs(shape, false, precision);
}

int conv2d_forward_direct_slices(const Conv2dShape& shape) {
  return forced_tile == ConvTile::automatic && direct_conv_fits(shape) ? direct_conv_slices(shape) : 0;
}

int conv2d_backward_input_direct_slices(const Conv2dShape& shape) {
  return forced_tile == ConvTile::automatic && direct_data_grad_fits(shape) ? direct_conv_slices(transposed_stride1(shape))
                                                                            : 0;
}

void conv2d_forward(const Conv2dShape& shape, const float* x, const float* w, float* y, const ConvEpilogue& epilogue,
                    Precision precision) {
  const Dims s = dims_of(shape);
  const int m = s.n * s.h_out * s.w_out, k = s.c_in * s.k_h * s.k_w, pixels = s.h_out * s.w_out;
  if (m == 0 || s.c_out == 0) return;
  if (winograd3x3_runs(shape, precision))
    return winograd3x3_conv(winograd3x3_tile(shape), shape, x, w, false, y, epilogue);
  if (winograd4x4s2_runs(shape, false, precision)) return winograd4x4s2_forward(shape, x, w, y, epilogue);
  if (shape.reflect) {  // only the Winograd transforms above read the reflection in place
    const Conv2dShape padded = reflection_padded(shape);
    float* x_padded = reflection_padded_input.get(size_t(padded.n) * padded.c_in * padded.h_in * padded.w_in);
    reflection_pad2d_forward(shape.n * shape.c_in, shape.h_in, shape.w_in, shape.pad, x, x_padded);
    return conv2d_forward(padded, x_padded, w, y, epilogue, precision);
  }
  if (const int slices = conv2d_forward_direct_slices(shape); slices > 0)
    return conv2d_direct_forward(shape, slices, x, w, y, epilogue);
  StoreNchw store{};
  store.channels = s.c_out, store.pixels = FastDivisor(pixels), store.vec4 = pixels % 4 == 0 && aligned16(y);
  gemm_split_k<ForwardTiles>(precision, 1, m, s.c_out, k, m * s.c_out, InputPatch{s, x},
                             WeightRows{w, k, k % 4 == 0 && aligned16(w)}, y, store, epilogue);
}

void conv2d_apply_epilogue(const Conv2dShape& shape, float* y, const ConvEpilogue& epilogue) {
  const Dims s = dims_of(shape);
  const int count = s.n * s.c_out * s.h_out * s.w_out;
  if (count == 0 || epilogue.empty()) return;
  launch(conv_epilogue_kernel, {dim3(grid_for(count)), dim3(elementwise_block), 0, stream()}, count, y, epilogue,
         FastDivisor(s.h_out * s.w_out), s.c_out);
}

void conv2d_backward_input(const Conv2dShape& shape, const float* dy, const float* w, float* dx, Precision precision) {
  require_zero_padding("conv2d_backward_input (cuda)", shape);
  const Dims s = dims_of(shape);
  if (s.n * s.h_in * s.w_in == 0 || s.c_in == 0) return;
  if (backward_input_by_winograd3x3(shape, precision)) {
    const Conv2dShape transposed = transposed_stride1(shape);
    return winograd3x3_conv(winograd3x3_tile(transposed), transposed, dy, w, true, dx, {});
  }
  if (winograd4x4s2_runs(shape, true, precision)) return winograd4x4s2_backward_input(shape, dy, w, dx);
  if (const int slices = conv2d_backward_input_direct_slices(shape); slices > 0)
    return conv2d_direct_backward_input(shape, slices, dy, w, dx);
  // Phase 0 has the most pixels; the taps differ between phases when k is not a multiple of the stride.
  const int phases = s.stride * s.stride, m = phase_of(s, 0).pixels(s);
  int k = 0;
  for (int p = 0; p < phases; ++p) k = std::max(k, phase_of(s, p).depth(s));
  StoreDataGrad store{};
  store.s = s;
  gemm_split_k<DataGradTiles>(precision, phases, m, s.c_in, k, s.n * s.c_in * s.h_in * s.w_in,
                              OutputGradPatch{s, dy}, WeightTransposed{s, w}, dx, store);
}

void conv2d_backward_weight(const Conv2dShape& shape, const float* x, const float* dy, float* dw,
                            Precision precision) {
  require_zero_padding("conv2d_backward_weight (cuda)", shape);
  const Dims s = dims_of(shape);
  const int rows = s.c_out, cols = s.c_in * s.k_h * s.k_w, reduction = s.n * s.h_out * s.w_out;
  if (rows == 0 || cols == 0) return;
  if (winograd3x3_runs(shape, precision)) return winograd3x3_backward_weight(winograd3x3_tile(shape), shape, x, dy, dw);
  if (winograd4x4s2_weight_grad_runs(shape, precision)) return winograd4x4s2_backward_weight(shape, x, dy, dw);
  StoreRowMajor store{};
  store.cols = cols, store.vec4 = cols % 4 == 0 && aligned16(dw);
  gemm_split_k<WeightGradTiles>(precision, 1, rows, cols, reduction, rows * cols, OutputGradRows{s, dy},
                                InputPatchAsB{InputPatch{s, x}}, dw, store);
}

}  // namespace kernels::cuda
