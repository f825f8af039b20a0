#pragma once
// Between the emulator's launch path (runtime.cpp, grid.cpp) and the profiler (profile.cpp).
#include <cstdint>

#include "cuda_emu.h"

namespace kernels::emu::detail {

struct Worker;
// Around one launch (runtime.cpp): snapshot of the device allocations, then the launch's record.
void profile_launch_begin(const KernelLaunch& k);
void profile_launch_end(const KernelLaunch& k, bool succeeded);
// Around one block on a worker (grid.cpp): records the block's accesses if it is sampled.
void profile_block_begin(Worker& w, std::uint64_t linear_block, std::uint64_t blocks);
void profile_block_end(Worker& w);
// The sampling rule: about 32 blocks spread evenly over the grid, the first and the last among
// them. The counters of a launch come from these blocks alone.
inline bool profile_samples_block(std::uint64_t linear_block, std::uint64_t blocks) {
  const std::uint64_t stride = blocks > 32 ? blocks / 32 : 1;
  return linear_block % stride == 0 || linear_block == blocks - 1;
}

}  // namespace kernels::emu::detail
