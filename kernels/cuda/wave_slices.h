#pragma once
// How many slices to split a launch's reduction into so that its blocks fill the GPU in whole
// waves (conv2d.cu's split-K, conv2d_direct.cu's channel slices; docs/kernels.md, "Split-K rule").
#include <algorithm>
#include <cstdint>

namespace kernels::cuda {

constexpr int sm_count = 132;  // an H200's; the rules are tuned for it

// `tiles` output tiles, each split into s slices, run as tiles x s blocks in waves of
// `resident_blocks` (the blocks the GPU keeps resident at once); a block does 1/s of its tile's
// work, so the launch takes about ceil(tiles s / resident) / s block times. The smallest s in
// [1, most] within 5% of the least of those: each slice costs a store and a read of its partial
// sums.
inline int wave_slices(int64_t tiles, int64_t resident_blocks, int most) {
  auto block_times = [&](int slices) {
    return static_cast<double>((tiles * slices + resident_blocks - 1) / resident_blocks) / slices;
  };
  double least = block_times(1);
  for (int slices = 2; slices <= most; ++slices) least = std::min(least, block_times(slices));
  int slices = 1;
  while (block_times(slices) > 1.05 * least) ++slices;
  return slices;
}

}  // namespace kernels::cuda
