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

}  // namespace kernels::emu::detail
