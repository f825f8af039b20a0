#pragma once
// The block tiles of conv2d.cu's implicit GEMM: tile shapes, the loaders that stage an operand's
// slab of 16 k through registers into shared memory, the slab product and the stores of the
// outputs. An operand or store is a functor of conv2d.cu (the interface is described there,
// above its operands); these templates know nothing of convolutions.
//
// A tile type T gives the kernel: m x n (the block's outputs), blocks_per_sm (resident blocks
// __launch_bounds__ is built for: it caps the registers at 65536 / (256 blocks_per_sm);
// split_slices counts on it), smem_pad (floats after each shared-memory row), to_shared (what a
// loader stores of a value), Acc (a thread's accumulators) and the multiply_slab and
// store_outputs overloads for its Acc. The fp32 tiles (TileShape) use FMAs; MmaTf32Tile the
// tensor cores.
#include <cstdint>
#include <type_traits>

#include "ptx.cuh"

namespace kernels::cuda {

constexpr int tile_k = 16, gemm_threads = 256;

// A block tile of m x n outputs, each of the 256 threads holding thread_m x thread_n of them in
// registers (as runs of 4, span apart, so a warp's float4 reads of shared memory do not conflict).
// Shared-memory rows are padded by 4 floats: a warp storing a k-contiguous operand writes 16 k
// values of 2 rows, which on unpadded 64- or 128-float rows all fall in 2 banks (16-way
// conflicts); with the pad, 2-way. Multiples of 4 keep the compute loop's float4 reads aligned.
template <int M, int N, int ThreadM, int ThreadN, int BlocksPerSm>
struct TileShape {
  static constexpr int m = M, n = N, thread_m = ThreadM, thread_n = ThreadN, blocks_per_sm = BlocksPerSm;
  static constexpr int threads_n = N / ThreadN, span_m = M * 4 / ThreadM, span_n = N * 4 / ThreadN;
  static constexpr int smem_pad = 4;
  using Acc = float[ThreadM][ThreadN];
  __device__ __forceinline__ static float to_shared(float v) { return v; }
  static_assert((M / ThreadM) * (N / ThreadN) == gemm_threads, "one output tile per block of 256 threads");
};
using LargeTile = TileShape<128, 128, 8, 8, 2>;
using MediumTile = TileShape<64, 64, 4, 4, 4>;
// The weight gradient's 64x64: ptxas keeps its x-patch columns' tap decomposition live across the
// k loop, which does not fit 64 registers (16-24 bytes spilled); 3 blocks per SM give it 85.
using MediumTile3 = TileShape<64, 64, 4, 4, 3>;
using TallTile = TileShape<256, 16, 4, 4, 2>;  // few output columns (n <= 16)
using WideTile = TileShape<16, 256, 4, 4, 2>;  // few output rows (m <= 16)
using TallTile32 = TileShape<128, 32, 4, 4, 2>;  // 17 to 32 output columns
using WideTile32 = TileShape<32, 128, 4, 4, 2>;  // 17 to 32 output rows (D 6's outputs at batch 8)

// At most 4 output columns (tall) or rows (wide): G's output conv (3 channels) and its weight
// gradient, D's source head (1). A 256x4 or 4x256 tile: 64 threads of 4x4 outputs cover it, so
// the block's 256 threads form 4 groups, group g multiplying the k = g, g + 4, ... of each slab,
// and the groups' tiles are added in group order as the outputs are stored. With 3 columns it
// forms 1.33 products per useful one (the 16-wide tiles: 5.3).
struct GroupAcc {  // a KGroupTile thread's 4x4 outputs (a type of its own selects its overloads)
  float v[4][4];
};
template <int M, int N>
struct KGroupTile {
  static constexpr int m = M, n = N, blocks_per_sm = 2, smem_pad = 4, groups = 4;
  static constexpr int group_threads = gemm_threads / groups;
  // A group's 64 threads as a TileShape's 256 (store_thread_outputs).
  static constexpr int thread_m = 4, thread_n = 4, threads_n = N / 4, span_m = M, span_n = N;
  using Acc = GroupAcc;
  __device__ __forceinline__ static float to_shared(float v) { return v; }
  static_assert((M / 4) * (N / 4) == group_threads, "one 4x4 piece per thread of a group");
};
using TallNarrowTile = KGroupTile<256, 4>;
using WideNarrowTile = KGroupTile<4, 256>;

// Precision::tf32: M x N outputs on the tensor cores. Operands are rounded to TF32 once, as the
// loaders store them; the 8 warps as 2 (m) x 4 (n), each an M/2 x N/4 piece of the tile: frags_m x
// frags_n mma.sync m16n8k8 per 8-deep k step (fragment layout in ptx.cuh), fp32 accumulators in
// the instruction's C/D layout. Rows padded by 8 floats: lane (g, t) of a fragment read takes row
// k + t, column g, so bank (8 t + g) mod 32 differs across the warp (with 4: 2-way conflicts).
// The 128x128 (4 x 4 MMAs a warp) reads each fragment for 4 MMAs instead of the 64x64's 2 and
// stages twice the slab per thread for 4 times the products (which runs where: conv2d.cu,
// gemm_split_k).
template <int M, int N, int BlocksPerSm>
struct MmaTf32Tile {
  static constexpr int m = M, n = N, blocks_per_sm = BlocksPerSm, smem_pad = 8;
  static constexpr int warp_m = M / 2, warp_n = N / 4, frags_m = warp_m / 16, frags_n = warp_n / 8;
  using Acc = float[frags_m][frags_n][4];
  __device__ __forceinline__ static float to_shared(float v) { return __uint_as_float(ptx::cvt_rna_tf32(v)); }
  static_assert(frags_m * 16 == warp_m && frags_n * 8 == warp_n, "whole m16n8 fragments per warp");
  static_assert((M + smem_pad) % 32 == 8 && (N + smem_pad) % 32 == 8, "conflict-free fragment reads");
};
using MmaTf32MediumTile = MmaTf32Tile<64, 64, 4>;
using MmaTf32LargeTile = MmaTf32Tile<128, 128, 2>;

// Stages one operand's tile_k x Rows slab per k step: fetch() reads it from global memory into
// registers (issued before the block multiplies the previous slab, so the loads are in flight
// during the FMAs), store() writes it transposed into shared memory as [k][row], along which the
// compute loop reads both tiles. Elements outside the matrix or past k_end are 0.
template <int Rows, class Op, bool = Op::m_contiguous>
struct TileLoader;

// Along the rows: consecutive threads take consecutive rows (coalesced); a thread keeps one row.
// A slab of fewer elements than threads (a 4-row side: 64) is loaded by the first threads alone.
template <int Rows>
__device__ __forceinline__ bool loads_slab() {
  return Rows * tile_k >= gemm_threads || int(threadIdx.x) < Rows * tile_k;
}

// Whether an operand read along its rows can walk consecutive k by carries (Op::KWalk, k_walk(k),
// advance(walk), op(row, walk)) instead of decomposing each k anew.
template <class Op, class = void>
constexpr bool walks_k = false;
template <class Op>
constexpr bool walks_k<Op, std::void_t<typename Op::KWalk>> = true;

template <int Rows, class Op>
struct TileLoader<Rows, Op, true> {
  static constexpr int count = Rows * tile_k < gemm_threads ? 1 : Rows * tile_k / gemm_threads;
  static constexpr int k_step = gemm_threads / Rows;
  typename Op::Row row;
  bool row_in;
  float v[count];
  // A thread that loads nothing: v is never stored, but g++ cannot tell.
  __device__ __forceinline__ void clear() {
#pragma unroll
    for (int i = 0; i < count; ++i) v[i] = 0.f;
  }
  __device__ __forceinline__ TileLoader(const Op& op, int row0, int rows) {
    const int r = row0 + int(threadIdx.x) % Rows;
    row = op.row(r), row_in = r < rows;
  }
  __device__ __forceinline__ void fetch(const Op& op, int k0, int k_end) {
    if (!loads_slab<Rows>()) return clear();
    if constexpr (k_step == 1 && walks_k<Op>) {
      // A thread's 16 k are consecutive (a 256-row tile): one decomposition, then carries. In
      // the 4-wide forward the gather is most of the k loop (docs/kernels.md, "Instruction mix").
      const int k_first = k0 + int(threadIdx.x) / Rows, k_count = row_in ? k_end - k_first : 0;
      typename Op::KWalk at = op.k_walk(k_first);
#pragma unroll
      for (int i = 0; i < count; ++i) {
        v[i] = i < k_count ? op(row, at) : 0.f;
        op.advance(at);
      }
    } else {
#pragma unroll
      for (int i = 0; i < count; ++i) {
        const int k = k0 + int(threadIdx.x) / Rows + i * k_step;
        v[i] = row_in && k < k_end ? op(row, k) : 0.f;
      }
    }
  }
  template <class T>
  __device__ __forceinline__ void store(const Op&, float (*tile)[Rows + T::smem_pad]) const {
    if (!loads_slab<Rows>()) return;
#pragma unroll
    for (int i = 0; i < count; ++i) tile[int(threadIdx.x) / Rows + i * k_step][threadIdx.x % Rows] = T::to_shared(v[i]);
  }
};

// Along k: consecutive threads take consecutive k (coalesced), one k a thread per step, 16 rows
// apart; with vec4, 4 threads per row each read 4 consecutive k as one float4 (a quarter of the
// load instructions), rows 64 apart.
template <int Rows, class Op>
struct TileLoader<Rows, Op, false> {
  static constexpr int count = Rows * tile_k < gemm_threads ? 1 : Rows * tile_k / gemm_threads;
  static constexpr int row_step = gemm_threads / tile_k;
  static constexpr int vec_row_step = gemm_threads / (tile_k / 4);
  static constexpr bool can_load4 = Op::has_load4 && Rows % vec_row_step == 0;
  int row0, rows;
  float v[count];
  // A thread that loads nothing: v is never stored, but g++ cannot tell.
  __device__ __forceinline__ void clear() {
#pragma unroll
    for (int i = 0; i < count; ++i) v[i] = 0.f;
  }
  __device__ __forceinline__ TileLoader(const Op&, int row0, int rows) : row0(row0), rows(rows) {}
  __device__ __forceinline__ void fetch(const Op& op, int k0, int k_end) {
    if constexpr (can_load4) {
      if (op.vec4) {
        const int k = k0 + int(threadIdx.x) % 4 * 4;  // k_end is a multiple of 4 here
        const typename Op::K at = op.k_at(k);
#pragma unroll
        for (int j = 0; j < count / 4; ++j) {
          const int r = row0 + int(threadIdx.x) / 4 + j * vec_row_step;
          const float4 q = r < rows && k < k_end ? op.load4(r, at) : make_float4(0.f, 0.f, 0.f, 0.f);
          v[4 * j] = q.x, v[4 * j + 1] = q.y, v[4 * j + 2] = q.z, v[4 * j + 3] = q.w;
        }
        return;
      }
    }
    if (!loads_slab<Rows>()) return clear();
    const int k = k0 + int(threadIdx.x) % tile_k;
    const typename Op::K at = op.k_at(k);
#pragma unroll
    for (int i = 0; i < count; ++i) {
      const int r = row0 + int(threadIdx.x) / tile_k + i * row_step;
      v[i] = r < rows && k < k_end ? op(r, at) : 0.f;
    }
  }
  template <class T>
  __device__ __forceinline__ void store(const Op& op, float (*tile)[Rows + T::smem_pad]) const {
    if constexpr (can_load4) {
      if (op.vec4) {
#pragma unroll
        for (int j = 0; j < count / 4; ++j)
#pragma unroll
          for (int t = 0; t < 4; ++t)
            tile[threadIdx.x % 4 * 4 + t][threadIdx.x / 4 + j * vec_row_step] = T::to_shared(v[4 * j + t]);
        return;
      }
    }
    if (!loads_slab<Rows>()) return;
#pragma unroll
    for (int i = 0; i < count; ++i)
      tile[threadIdx.x % tile_k][threadIdx.x / tile_k + i * row_step] = T::to_shared(v[i]);
  }
};

// acc += the product of rows [kk_begin, kk_end) of the slab: thread (ty, tx) holds rows
// ty*4 + {0..3} + span_m * i' and columns tx*4 + {0..3} + span_n * j'.
template <class T, int kk_begin, int kk_end>
__device__ __forceinline__ void multiply_slab(const float (*a)[T::m + T::smem_pad],
                                              const float (*b)[T::n + T::smem_pad],
                                              float (&acc)[T::thread_m][T::thread_n]) {
  const int tx = threadIdx.x % T::threads_n, ty = threadIdx.x / T::threads_n;
#pragma unroll
  for (int kk = kk_begin; kk < kk_end; ++kk) {
    float am[T::thread_m], bn[T::thread_n];
#pragma unroll
    for (int i = 0; i < T::thread_m / 4; ++i) {
      const float4 v = *reinterpret_cast<const float4*>(&a[kk][i * T::span_m + ty * 4]);
      am[4 * i] = v.x, am[4 * i + 1] = v.y, am[4 * i + 2] = v.z, am[4 * i + 3] = v.w;
    }
#pragma unroll
    for (int j = 0; j < T::thread_n / 4; ++j) {
      const float4 v = *reinterpret_cast<const float4*>(&b[kk][j * T::span_n + tx * 4]);
      bn[4 * j] = v.x, bn[4 * j + 1] = v.y, bn[4 * j + 2] = v.z, bn[4 * j + 3] = v.w;
    }
#pragma unroll
    for (int i = 0; i < T::thread_m; ++i)
#pragma unroll
      for (int j = 0; j < T::thread_n; ++j) acc[i][j] = fmaf(am[i], bn[j], acc[i][j]);
  }
}

// Writes the outputs of thread `thread` (of the tile's layout) that lie inside the m_total x
// n_total result.
template <class T, class Store>
__device__ __forceinline__ void store_thread_outputs(const Store& store, int m0, int n0, int m_total, int n_total,
                                                     const float (&acc)[T::thread_m][T::thread_n], int thread) {
  const int tx = thread % T::threads_n, ty = thread / T::threads_n;
  auto m_of = [&](int i) { return m0 + i / 4 * T::span_m + ty * 4 + i % 4; };
  auto n_of = [&](int j) { return n0 + j / 4 * T::span_n + tx * 4 + j % 4; };
  if constexpr (Store::has_store4) {
    if (store.vec4) {  // the launcher checked that m_total (along_m) or n_total is a multiple of 4
      if constexpr (Store::along_m) {
#pragma unroll
        for (int i = 0; i < T::thread_m; i += 4)
#pragma unroll
          for (int j = 0; j < T::thread_n; ++j)
            if (m_of(i) < m_total && n_of(j) < n_total)
              store.store4(m_of(i), n_of(j), make_float4(acc[i][j], acc[i + 1][j], acc[i + 2][j], acc[i + 3][j]));
      } else {
#pragma unroll
        for (int i = 0; i < T::thread_m; ++i)
#pragma unroll
          for (int j = 0; j < T::thread_n; j += 4)
            if (m_of(i) < m_total && n_of(j) < n_total)
              store.store4(m_of(i), n_of(j), make_float4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]));
      }
      return;
    }
  }
#pragma unroll
  for (int i = 0; i < T::thread_m; ++i)
#pragma unroll
    for (int j = 0; j < T::thread_n; ++j)
      if (m_of(i) < m_total && n_of(j) < n_total) store(m_of(i), n_of(j), acc[i][j]);
}

template <class T, class Store>
__device__ __forceinline__ void store_outputs(const Store& store, int m0, int n0, int m_total, int n_total,
                                              const float (&acc)[T::thread_m][T::thread_n]) {
  store_thread_outputs<T>(store, m0, n0, m_total, n_total, acc, threadIdx.x);
}

// KGroupTile's overloads. Thread t of group g = threadIdx.x / 64 holds rows 4t..4t+3 (tall) or
// columns 4t..4t+3 (wide) of the tile, over the k of its group.
template <class T, int kk_begin, int kk_end>
__device__ __forceinline__ void multiply_slab(const float (*a)[T::m + T::smem_pad],
                                              const float (*b)[T::n + T::smem_pad], GroupAcc& acc) {
  const int g = threadIdx.x / T::group_threads, t = threadIdx.x % T::group_threads;
  const int row = T::threads_n == 1 ? 4 * t : 0, col = T::threads_n == 1 ? 0 : 4 * t;
#pragma unroll
  for (int kk = kk_begin; kk < kk_end; kk += T::groups) {
    const float4 av = *reinterpret_cast<const float4*>(&a[kk + g][row]);
    const float4 bv = *reinterpret_cast<const float4*>(&b[kk + g][col]);
    const float am[4] = {av.x, av.y, av.z, av.w}, bn[4] = {bv.x, bv.y, bv.z, bv.w};
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) acc.v[i][j] = fmaf(am[i], bn[j], acc.v[i][j]);
  }
}

// Groups 1-3 leave their tiles in shared memory; group 0 adds them to its own, in group order,
// and stores the sums.
template <class T, class Store>
__device__ __forceinline__ void store_outputs(const Store& store, int m0, int n0, int m_total, int n_total,
                                              const GroupAcc& acc) {
  __shared__ float others[T::groups - 1][16][T::group_threads];  // [group - 1][element][thread]: no conflicts
  const int g = threadIdx.x / T::group_threads, t = threadIdx.x % T::group_threads;
  if (g > 0)
#pragma unroll
    for (int e = 0; e < 16; ++e) others[g - 1][e][t] = acc.v[e / 4][e % 4];
  __syncthreads();
  if (g == 0) {
    float total[4][4];
#pragma unroll
    for (int e = 0; e < 16; ++e) {
      float sum = acc.v[e / 4][e % 4];
#pragma unroll
      for (int h = 0; h < T::groups - 1; ++h) sum += others[h][e][t];
      total[e / 4][e % 4] = sum;
    }
    store_thread_outputs<T>(store, m0, n0, m_total, n_total, total, t);
  }
}

// MmaTf32Tile's overloads. Warp w holds rows wm + [0, warp_m) and columns wn + [0, warp_n) of
// the tile; lane (g, t) its fragments' entries (ptx.cuh).
template <class T>
struct MmaWarp {
  int g, t, wm, wn;
  __device__ __forceinline__ MmaWarp()
      : g(int(threadIdx.x) % 32 / 4), t(int(threadIdx.x) % 4), wm(int(threadIdx.x) / 32 % 2 * T::warp_m),
        wn(int(threadIdx.x) / 64 * T::warp_n) {}
};

// acc += the product of rows [kk_begin, kk_end) of the slab (a multiple of 8 deep).
template <class T, int kk_begin, int kk_end>
__device__ __forceinline__ void multiply_slab(const float (*a_tile)[T::m + T::smem_pad],
                                              const float (*b_tile)[T::n + T::smem_pad],
                                              float (&acc)[T::frags_m][T::frags_n][4]) {
  static_assert(kk_begin % 8 == 0 && kk_end % 8 == 0, "whole m16n8k8 steps");
  const MmaWarp<T> w;
#pragma unroll
  for (int k8 = kk_begin; k8 < kk_end; k8 += 8) {
    std::uint32_t a[T::frags_m][4], b[T::frags_n][2];
#pragma unroll
    for (int i = 0; i < T::frags_m; ++i) {
      const int m = w.wm + i * 16 + w.g;
      a[i][0] = __float_as_uint(a_tile[k8 + w.t][m]);
      a[i][1] = __float_as_uint(a_tile[k8 + w.t][m + 8]);
      a[i][2] = __float_as_uint(a_tile[k8 + w.t + 4][m]);
      a[i][3] = __float_as_uint(a_tile[k8 + w.t + 4][m + 8]);
    }
#pragma unroll
    for (int j = 0; j < T::frags_n; ++j) {
      const int n = w.wn + j * 8 + w.g;
      b[j][0] = __float_as_uint(b_tile[k8 + w.t][n]);
      b[j][1] = __float_as_uint(b_tile[k8 + w.t + 4][n]);
    }
#pragma unroll
    for (int i = 0; i < T::frags_m; ++i)
#pragma unroll
      for (int j = 0; j < T::frags_n; ++j) ptx::mma_m16n8k8_tf32(acc[i][j], a[i], b[j], acc[i][j]);
  }
}

// Writes the thread's outputs that lie inside the m_total x n_total result, one at a time (a
// lane's entries are not 4 consecutive outputs along either side).
template <class T, class Store>
__device__ __forceinline__ void store_outputs(const Store& store, int m0, int n0, int m_total, int n_total,
                                              const float (&acc)[T::frags_m][T::frags_n][4]) {
  const MmaWarp<T> w;
#pragma unroll
  for (int i = 0; i < T::frags_m; ++i)
#pragma unroll
    for (int j = 0; j < T::frags_n; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const int m = m0 + w.wm + i * 16 + w.g + 8 * (r / 2), n = n0 + w.wn + j * 8 + 2 * w.t + r % 2;
        if (m < m_total && n < n_total) store(m, n, acc[i][j][r]);
      }
}

}  // namespace kernels::cuda
