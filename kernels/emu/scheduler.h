#pragma once
// Between the runtime shim (runtime.cpp: launch validation, worker pool) and the fiber
// scheduler (grid.cpp: a launch's blocks, one at a time on one OS thread; scheduler.cpp: the
// threads inside a block).
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_emu.h"
#include "kernels/emu.h"

namespace kernels::emu::detail {

// One launch, shared by the workers: the i-th block handed out is block_at(run, i).
struct GridRun {
  const KernelLaunch* kernel = nullptr;
  Settings settings;
  std::uint64_t launch_index = 0;  // mixed into the random schedule's seed
  std::uint64_t blocks = 0;  // grid.x * grid.y * grid.z; linear block ids are x fastest
  // Hand-out order: i -> (multiplier * i + offset) mod blocks, a permutation because
  // gcd(multiplier, blocks) = 1; no table, since a grid may have up to 2^63 blocks.
  std::uint64_t multiplier = 1;
  std::uint64_t offset = 0;
  bool sampled_blocks_only = false;  // ENGINE_EMU_PROFILE=sampled: the profiler's sampled blocks alone run
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::string error;  // first failure, with its block
};

// The linear id of the i-th block handed out.
inline std::uint64_t block_at(const GridRun& run, std::uint64_t i) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(run.multiplier) * i + run.offset) % run.blocks);
}

// Runs blocks of `run` on the calling OS thread until none is left or one fails.
void run_blocks(GridRun& run);

// Fiber switches performed so far by all workers.
std::uint64_t switch_total();

// Sets run.multiplier and run.offset for run.settings: forward (identity), reverse, or a
// seeded random affine permutation.
void plan_block_order(GridRun& run);

}  // namespace kernels::emu::detail
