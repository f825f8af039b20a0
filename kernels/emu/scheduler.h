#pragma once
// Between the runtime shim (runtime.cpp: launch validation, worker pool) and the fiber
// scheduler (scheduler.cpp: one block at a time on one OS thread).
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_emu.h"
#include "kernels/emu.h"

namespace kernels::emu::detail {

// One launch, shared by the workers: they take blocks from `next` in `block_order`.
struct GridRun {
  const KernelLaunch* kernel = nullptr;
  Settings settings;
  std::uint64_t launch_index = 0;  // mixed into the random schedule's seed
  std::vector<std::uint32_t> block_order;  // linear block ids, x fastest
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::string error;  // first failure, with its block
};

// Runs blocks of `run` on the calling OS thread until none is left or one fails.
void run_blocks(GridRun& run);

// Fiber switches performed so far by all workers.
std::uint64_t switch_total();

// Order `n` ids 0..n-1 as the schedule wants (used for the block order).
void schedule_order(const Settings& s, std::uint64_t stream_seed, std::vector<std::uint32_t>& ids);

}  // namespace kernels::emu::detail
