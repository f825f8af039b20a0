// A launch's grid on one worker (one OS thread): the block hand-out order (plan_block_order),
// the loop that takes blocks until none is left or one fails (run_blocks), and the set-up and
// tear-down of one block: fresh fiber contexts on reused stacks, warps, dynamic shared memory,
// the built-in variables and the sanitizers' view of the stacks. The fibers then run under
// scheduler.cpp until every thread exits or the block is abandoned.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>

#include "profile.h"
#include "scheduler.h"
#include "worker.h"

namespace kernels::emu::detail {
namespace {

#if defined(EMU_ASAN)
constexpr std::size_t fiber_stack_bytes = 256 * 1024;  // ASan's redzones inflate frames
#else
constexpr std::size_t fiber_stack_bytes = 64 * 1024;
#endif

std::atomic<std::uint64_t> g_switches{0};

std::string block_name(uint3 b) {
  return "block (" + std::to_string(b.x) + "," + std::to_string(b.y) + "," + std::to_string(b.z) + ")";
}

bool run_block(Worker& w, const GridRun& run, std::uint64_t linear_block) {
  const KernelLaunch& k = *run.kernel;
  const int n = static_cast<int>(k.block.x * k.block.y * k.block.z);
  w.kernel = &k;
  w.settings = run.settings;
  w.rng = run.settings.seed ^ (run.launch_index * 0x9e3779b97f4a7c15ull) ^ (linear_block * 0xd1b54a32d192ed03ull);
  w.threads = n;
  w.exited = 0;
  w.first_exited = -1;
  w.failed = false;
  w.barrier = Barrier{};
  w.ready_head = 0;
  w.ready_count = 0;
  for (int t = 0; t < n; ++t) {
    Fiber& f = w.fibers[t];
    if (!f.stack) {
      f.stack = std::make_unique<FiberStack>(fiber_stack_bytes);
#if defined(ENGINE_EMU_TSAN)
      f.tsan_fiber = __tsan_create_fiber(0);
#endif
    }
#if defined(EMU_ASAN)
    // A fiber never returns from its entry: the frames live when it exited or was abandoned
    // keep their redzones in ASan's shadow. They all lie above its last saved stack pointer.
    if (f.sp != nullptr) {
      char* const top = static_cast<char*>(f.stack->bottom()) + f.stack->size();
      char* const bottom = static_cast<char*>(f.stack->bottom());
      char* const low = static_cast<char*>(f.sp) - 128 > bottom ? static_cast<char*>(f.sp) - 128 : bottom;
      __asan_unpoison_memory_region(low, static_cast<std::size_t>(top - low));
    }
#endif
    f.index = uint3{t % k.block.x, (t / k.block.x) % k.block.y, t / (k.block.x * k.block.y)};
    f.state = State::ready;
    f.what = nullptr;
    f.file = nullptr;
    f.line = 0;
    f.sp = f.stack->make_context(&fiber_entry, &w, static_cast<std::size_t>(t % 64) * 64);
  }
  for (int warp = 0; warp * 32 < n; ++warp) {
    const int lanes = n - warp * 32 < 32 ? n - warp * 32 : 32;
    w.warps[warp] = Warp{};
    w.warps[warp].live = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1;
  }
  const std::uint64_t gx = k.grid.x, gy = k.grid.y;
  blockIdx = uint3{static_cast<unsigned>(linear_block % gx), static_cast<unsigned>(linear_block / gx % gy),
                   static_cast<unsigned>(linear_block / (gx * gy))};
  blockDim = k.block;
  gridDim = k.grid;
  // Exactly sized, so ASan sees overruns; all-ones so reads before writes show (NaN, -1).
  w.dynamic_shared = std::malloc(k.dynamic_shared_bytes);
  if (k.dynamic_shared_bytes != 0) std::memset(w.dynamic_shared, 0xff, k.dynamic_shared_bytes);
  profile_block_begin(w, linear_block, run.blocks);
  run_fibers(w);
  profile_block_end(w);
  // Back on the worker's stack: every thread exited, or the block failed.
#if defined(ENGINE_EMU_TSAN)
  if (w.failed) {
    // The abandoned fibers never reach their exit: release on their behalf (only TSan's
    // notion of the current fiber changes), or their reads of the arguments would race with
    // the host's next use of that memory.
    for (int t = 0; t < n; ++t) {
      if (w.fibers[t].state == State::exited) continue;
      __tsan_switch_to_fiber(w.fibers[t].tsan_fiber, __tsan_switch_to_fiber_no_sync);
      __tsan_release(&w.exit_sync);
    }
    __tsan_switch_to_fiber(w.host_tsan_fiber, __tsan_switch_to_fiber_no_sync);
  }
  __tsan_acquire(&w.exit_sync);
#endif
  std::free(w.dynamic_shared);
  w.dynamic_shared = nullptr;
  w.kernel = nullptr;
  if (w.failed) {
    w.error = block_name(blockIdx) + ": " + w.error;
  }
  return !w.failed;
}

}  // namespace

void run_blocks(GridRun& run) {
  Worker& w = worker_of_this_thread();
  const std::uint64_t switches_before = w.switches;
  while (!run.failed.load(std::memory_order_relaxed)) {
    const std::size_t i = run.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= run.blocks) break;
    const std::uint64_t block = block_at(run, i);
    if (run.sampled_blocks_only && !profile_samples_block(block, run.blocks)) continue;
    if (!run_block(w, run, block)) {
      std::lock_guard<std::mutex> lock(run.error_mutex);
      if (!run.failed.exchange(true)) run.error = w.error;
      break;
    }
  }
  g_switches.fetch_add(w.switches - switches_before, std::memory_order_relaxed);
}

std::uint64_t switch_total() { return g_switches.load(std::memory_order_relaxed); }

void plan_block_order(GridRun& run) {
  const std::uint64_t n = run.blocks;
  run.multiplier = 1;
  run.offset = 0;
  if (n <= 1) return;
  if (run.settings.schedule == Schedule::reverse) {
    run.multiplier = n - 1;  // i -> (n-1)(i+1) = n-1-i mod n
    run.offset = n - 1;
  } else if (run.settings.schedule == Schedule::random) {
    std::uint64_t rng = run.settings.seed ^ (run.launch_index * 0x2545f4914f6cdd1dull);
    do {
      run.multiplier = 1 + splitmix64(rng) % (n - 1);
    } while (std::gcd(run.multiplier, n) != 1);
    run.offset = splitmix64(rng) % n;
  }
}

}  // namespace kernels::emu::detail
