#include "kernels/fixed_order_gemm.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "winograd_gemm.h"

namespace kernels::cpu {

using winograd::lanes;
using winograd::rows;

namespace {

constexpr int64_t chunk = 256;  // steps of k per partial sum: 16 KB of a panel

// Per thread, grow-only (no fresh pages per call): the calling thread's panels of b, and a
// block of op(a) packed and its groups' output tiles for each thread that multiplies.
std::vector<float>& panel_buffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}
std::vector<float>& packed_buffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}
std::vector<float>& tile_buffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}

}  // namespace

void fixed_order_gemm(bool a_transposed, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                      const float* b, int64_t ldb, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  const int64_t groups = winograd::padded(m) / rows, panels = (n + lanes - 1) / lanes;
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  // b as [panel][l][lane], lanes past n zero.
  std::vector<float>& panel_storage = panel_buffer();
  if (panel_storage.size() < static_cast<size_t>(panels * k * lanes)) panel_storage.resize(panels * k * lanes);
  float* b_packed = panel_storage.data();
#pragma omp parallel for schedule(static) if (threads > 1 && panels * k * lanes > 65536)
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t j0 = p * lanes, width = std::min(lanes, n - j0);
    float* dst = b_packed + p * k * lanes;
    for (int64_t l = 0; l < k; ++l) {
      std::copy_n(b + l * ldb + j0, width, dst + l * lanes);
      std::fill(dst + l * lanes + width, dst + (l + 1) * lanes, 0.f);
    }
  }
  // op(a) is packed a block of groups of 6 rows at a time by the thread that multiplies it, as
  // [group][l][row] (rows past m zero): blocks of at most 256 KB stay in L2 while every panel of b
  // passes, so a (a 134 MB weight, or its transpose, read with 64 KB strides) is read from memory
  // once. Transposed, a block is at least 96 rows, so that each 64 KB-strided visit copies 384
  // bytes (D 6's input gradient: 42 ms with 96 rows, 47-50 with 30). The count of blocks is a
  // multiple of the thread count where there are enough groups, their sizes balanced.
  const int64_t budget_groups = std::max<int64_t>(a_transposed ? 16 : 1, (int64_t{1} << 16) / (k * rows + 1));
  int64_t blocks = (groups + budget_groups - 1) / budget_groups;
  blocks = std::min(groups, (blocks + threads - 1) / threads * threads);
#pragma omp parallel for schedule(static) if (threads > 1 && blocks > 1)
  for (int64_t block = 0; block < blocks; ++block) {
    const int64_t g0 = block * groups / blocks, g1 = (block + 1) * groups / blocks;
    std::vector<float>& packed = packed_buffer();
    packed.resize((g1 - g0) * k * rows);
    const auto group_of = [&](int64_t g) { return packed.data() + (g - g0) * k * rows; };
    if (m < g1 * rows) std::fill(packed.begin(), packed.end(), 0.f);  // the rows past m
    if (a_transposed) {  // row l of a holds step l of every row of op(a): copy its runs
      for (int64_t l = 0; l < k; ++l)
        for (int64_t g = g0; g < g1; ++g)
          std::copy_n(a + l * lda + g * rows, std::min(rows, m - g * rows), group_of(g) + l * rows);
    } else {
      for (int64_t g = g0; g < g1; ++g)
        for (int64_t r = 0; r < std::min(rows, m - g * rows); ++r) {
          const float* row = a + (g * rows + r) * lda;
          float* dst = group_of(g) + r;
          for (int64_t l = 0; l < k; ++l) dst[l * rows] = row[l];
        }
    }
    // Per panel, k in chunks: a chunk of the panel (16 KB) stays in L1 while the block's groups
    // pass it. Each chunk is summed from zero and added to the group's tile, which keeps the
    // rounding error of a 16384-long sum near that of the BLAS's blocked sums.
    std::vector<float>& tiles = tile_buffer();
    tiles.resize((g1 - g0) * rows * lanes);
    for (int64_t p = 0; p < panels; ++p) {
      const int64_t j0 = p * lanes, width = std::min(lanes, n - j0);
      const float* b_panel = b_packed + p * k * lanes;
      for (int64_t l0 = 0; l0 < std::max<int64_t>(k, 1); l0 += chunk) {
        const int64_t count = std::min(chunk, k - l0);
        for (int64_t g = g0; g < g1; ++g) {
          float* tile = tiles.data() + (g - g0) * rows * lanes;
          alignas(32) float part[rows * lanes];
          winograd::gemm_kernel(count, group_of(g) + l0 * rows, b_panel + l0 * lanes, l0 == 0 ? tile : part, lanes);
          if (l0 > 0)
            for (int64_t e = 0; e < rows * lanes; ++e) tile[e] += part[e];
        }
      }
      for (int64_t g = g0; g < g1; ++g) {
        const int64_t i0 = g * rows, height = std::min(rows, m - i0);
        for (int64_t r = 0; r < height; ++r)
          std::copy_n(tiles.data() + ((g - g0) * rows + r) * lanes, width, c + (i0 + r) * ldc + j0);
      }
    }
  }
}

}  // namespace kernels::cpu
