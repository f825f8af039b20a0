#pragma once
// What the CPU Winograd convolutions (kernels/cpu/conv2d_winograd.cpp, F(4x4, 3x3);
// kernels/cpu/conv2d_winograd_stride2.cpp, F(4x4, 2x2) on the phases of a 4x4 stride-2 conv) share
// around their GEMMs: panels of 16 tiles, the gather of the tiles' input patches, 1-D transforms
// by a constant matrix, the packing of transformed weights, and the register-blocked GEMM kernel
// on that packing (also behind kernels/fixed_order_gemm.h). Internal to kernels/cpu; docs/ops/conv2d.md explains the design.
// Legend: xi one of the transformed positions of a tile, K the GEMM's inner (input-channel)
// dimension, lane a tile within a panel.
//
//   u [xi][co / rows][k][co % rows]    (Co padded to a multiple of `rows` with zeros)
//   v [xi][k][lane]     m [co][xi][lane]     m[co][xi][.] = sum_k u[xi][co][k] v[xi][k][.]
#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace kernels::cpu::winograd {

constexpr int64_t lanes = 16;        // tiles per panel: the GEMM kernel's columns
constexpr int64_t rows = 6;          // output channels per GEMM kernel call
constexpr int64_t weight_lanes = 8;  // rows rounded up to a vector

inline int64_t padded(int64_t c_out) { return (c_out + rows - 1) / rows * rows; }

// Transforms run on GCC's portable vectors of 8 floats, which the auto-vectoriser would not use
// for unknown strides. 8 floats anywhere in memory, as immintrin.h's __m256_u (references, not
// vector return values, which would change the ABI in a build without AVX).
using vec8 = float __attribute__((vector_size(32)));
using vec8_unaligned = float __attribute__((vector_size(32), aligned(4), may_alias));
inline const vec8_unaligned& at(const float* p) { return *reinterpret_cast<const vec8_unaligned*>(p); }
inline vec8_unaligned& at(float* p) { return *reinterpret_cast<vec8_unaligned*>(p); }

// out[i] = sum_j matrix[i][j] in[j] on n columns (n a multiple of 8): in[j] is the row of n floats
// at in + j * in_stride, likewise out. The matrix is a compile-time constant: once the loops are
// unrolled its zeros drop out and its ones cost no multiplication.
template <int64_t n, int64_t out_n, int64_t in_n>
inline void apply(const float (&matrix)[out_n][in_n], const float* in, int64_t in_stride, float* out,
                  int64_t out_stride) {
  for (int64_t l = 0; l < n; l += 8) {
    vec8 d[in_n];
#pragma GCC unroll 16
    for (int64_t j = 0; j < in_n; ++j) d[j] = at(in + j * in_stride + l);
#pragma GCC unroll 16
    for (int64_t i = 0; i < out_n; ++i) {
      vec8 sum = {};
      bool started = false;
#pragma GCC unroll 16
      for (int64_t j = 0; j < in_n; ++j) {
        const float c = matrix[i][j];
        if (c == 0.f) continue;
        const vec8 term = c == 1.f ? d[j] : c == -1.f ? -d[j] : c * d[j];
        sum = started ? sum + term : term;
        started = true;
      }
      at(out + i * out_stride + l) = sum;
    }
  }
}

// One panel: up to `lanes` consecutive tiles (row-major over a grid `tiles_w` tiles wide) and each
// one's top-left output; lanes from `count` on are empty.
struct Panel {
  int64_t count;
  int64_t oh[lanes], ow[lanes];
};

inline Panel make_panel(int64_t first, int64_t tiles, int64_t tiles_w, int64_t tile) {
  Panel p{std::min(lanes, tiles - first), {}, {}};
  for (int64_t l = 0; l < p.count; ++l) {
    p.oh[l] = (first + l) / tiles_w * tile;
    p.ow[l] = (first + l) % tiles_w * tile;
  }
  return p;
}

// d[(i * size + j) * lanes + l] = plane[ih0 + i, iw0 + j] for lane l's tile, where ih0 = step * oh
// + shift_h and iw0 = step * ow + shift_w; zero outside the h x w plane and for empty lanes.
inline void gather_patches(const Panel& panel, const float* plane, int64_t h, int64_t w, int64_t step, int64_t shift_h,
                           int64_t shift_w, int64_t size, float* d) {
  for (int64_t l = 0; l < lanes; ++l) {
    const int64_t ih0 = step * panel.oh[l] + shift_h, iw0 = step * panel.ow[l] + shift_w;
    if (l < panel.count && ih0 >= 0 && iw0 >= 0 && ih0 + size <= h && iw0 + size <= w) {
      const float* src = plane + ih0 * w + iw0;
      for (int64_t i = 0; i < size; ++i)
        for (int64_t j = 0; j < size; ++j) d[(i * size + j) * lanes + l] = src[i * w + j];
      continue;
    }
    for (int64_t i = 0; i < size; ++i)
      for (int64_t j = 0; j < size; ++j) {
        const int64_t ih = ih0 + i, iw = iw0 + j;
        const bool inside = l < panel.count && ih >= 0 && ih < h && iw >= 0 && iw < w;
        d[(i * size + j) * lanes + l] = inside ? plane[ih * w + iw] : 0.f;
      }
  }
}

// Packs transformed weights into u for `positions` positions, Co = c_out, K = k.
// transform(group, kc, out) writes, for each position xi, out + xi * stride (stride given as its
// fourth argument) one vector whose lane r is the transformed weight of output channel
// group * rows + r and inner index kc (zero for padded channels; lanes rows..7 are spare). The
// spare lanes spill into the next kc's slot, which is written after, or the padding. A chunk of K
// is staged in L1 in u's order and copied in runs of whole cache lines: 20% faster than
// `positions` interleaved streams of 24-byte steps into the 9.4 MB u (3x3, 256 channels), whose
// stores were the bottleneck.
template <int64_t positions, typename Transform>
void pack_weights(int64_t c_out, int64_t k, float* u, Transform transform) {
  constexpr int64_t chunk = 32;                                         // kc per stage
  constexpr int64_t stage_stride = chunk * rows + weight_lanes - rows;  // one position's run
  alignas(32) float stage[positions * stage_stride];                    // 28 KB at 36 positions
  const int64_t slab = padded(c_out) * k;
  for (int64_t group = 0; group < padded(c_out) / rows; ++group) {
    for (int64_t k0 = 0; k0 < k; k0 += chunk) {
      const int64_t count = std::min(chunk, k - k0);
      for (int64_t c = 0; c < count; ++c) transform(group, k0 + c, stage + c * rows, stage_stride);
      for (int64_t xi = 0; xi < positions; ++xi)
        std::memcpy(u + xi * slab + (group * k + k0) * rows, stage + xi * stage_stride, count * rows * sizeof(float));
    }
  }
}

// c[r * ldc + lane] = sum_i a[i * rows + r] * b[i * lanes + lane], r < rows, lane < lanes.
#if defined(__AVX2__) && defined(__FMA__)
constexpr bool fast_gemm_kernel = true;
inline void gemm_kernel(int64_t k, const float* a, const float* b, float* c, int64_t ldc) {
  __m256 acc[rows][2];
  for (auto& r : acc) r[0] = r[1] = _mm256_setzero_ps();
  for (int64_t i = 0; i < k; ++i, a += rows, b += lanes) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    for (int64_t r = 0; r < rows; ++r) {
      const __m256 ar = _mm256_broadcast_ss(a + r);
      acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    _mm256_storeu_ps(c + r * ldc, acc[r][0]);
    _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
  }
}
#else
// Without AVX2 + FMA (a build for another target): the same product, left to the compiler,
// correct but slower than the BLAS, so the Winograd kernels' `applies` say no.
constexpr bool fast_gemm_kernel = false;
inline void gemm_kernel(int64_t k, const float* a, const float* b, float* c, int64_t ldc) {
  float acc[rows][lanes] = {};
  for (int64_t i = 0; i < k; ++i, a += rows, b += lanes)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t l = 0; l < lanes; ++l) acc[r][l] += a[r] * b[l];
  for (int64_t r = 0; r < rows; ++r) std::copy(acc[r], acc[r] + lanes, c + r * ldc);
}
#endif

// m[co][xi][lane] = sum_kc u[xi][co][kc] v[xi][kc][lane]: one GEMM of Co x K x lanes per position.
inline void multiply(int64_t positions, int64_t c_out, int64_t k, const float* u, const float* v, float* m) {
  const int64_t slab = padded(c_out) * k;
  for (int64_t xi = 0; xi < positions; ++xi)
    for (int64_t group = 0; group < padded(c_out) / rows; ++group)
      gemm_kernel(k, u + xi * slab + group * k * rows, v + xi * k * lanes, m + (group * rows * positions + xi) * lanes,
                  positions * lanes);
}

}  // namespace kernels::cpu::winograd
