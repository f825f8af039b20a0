#pragma once
// The per-OS-thread state of the emulator's fiber scheduler, shared by its two halves:
// scheduler.cpp (inside a block: the fiber switch, the ready queue, barriers, warp collectives,
// thread exit) and grid.cpp (a launch's blocks on one worker: setting up and tearing down each
// block, the loop over blocks, the block hand-out order).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cuda_emu.h"
#include "fiber.h"
#include "kernels/emu.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define EMU_ASAN 1
#endif
#if defined(ENGINE_EMU_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace kernels::emu::detail {

constexpr int max_block_threads = 1024;

// The generator of the random schedules (thread release order, block order).
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

enum class State : std::uint8_t { ready, running, at_barrier, at_warp, exited };

#if defined(ENGINE_EMU_TSAN)
// Happens-before object of one warp collective: released by every arriving lane, acquired by
// every departing one, freed by the last (freeing resets TSan's clock, so a later collective
// with other lanes cannot inherit it).
struct TsanSync {
  int refs = 0;
};
#endif

struct Fiber {
  void* sp = nullptr;
  uint3 index{};
  State state = State::ready;
  const char* what = nullptr;  // the primitive it waits in, for reports
  const char* file = nullptr;
  int line = 0;
  std::unique_ptr<FiberStack> stack;
  void* asan_fake_stack = nullptr;
#if defined(ENGINE_EMU_TSAN)
  void* tsan_fiber = nullptr;
  TsanSync* tsan_sync = nullptr;
#endif
};

struct Warp {
  bool pending = false;  // a collective has arrivals and is not complete
  WarpOp op = WarpOp::sync;
  unsigned mask = 0;
  int width = 32;
  const char* file = nullptr;
  int line = 0;
  std::uint32_t live = 0;      // lanes that exist in the block and have not exited
  std::uint32_t expected = 0;  // mask & live when the collective is pending
  std::uint32_t arrived = 0;
  std::uint64_t in[32] = {};
  int arg[32] = {};
  std::uint64_t out[32] = {};
#if defined(ENGINE_EMU_TSAN)
  TsanSync* sync = nullptr;
#endif
};

struct Barrier {
  int arrived = 0;
  BlockOp op = BlockOp::sync;
  const char* file = nullptr;
  int line = 0;
  int predicate_sum = 0;
  int result = 0;
  unsigned generation = 0;
};

struct Worker {
  Worker();
  std::vector<Fiber> fibers{max_block_threads};
  Warp warps[max_block_threads / 32];
  Barrier barrier;
  int ready[max_block_threads] = {};  // ring
  int ready_head = 0;
  int ready_count = 0;
  int scratch[max_block_threads] = {};
  const KernelLaunch* kernel = nullptr;
  Settings settings;
  std::uint64_t rng = 0;
  int threads = 0;
  int current = -1;  // running fiber, -1 for the worker's own stack
  int exited = 0;
  int first_exited = -1;
  bool failed = false;
  std::string error;
  void* dynamic_shared = nullptr;
  std::uint64_t switches = 0;
  void* host_sp = nullptr;
  void* host_fake_stack = nullptr;
  const void* host_stack_bottom = nullptr;
  std::size_t host_stack_size = 0;
#if defined(ENGINE_EMU_TSAN)
  void* host_tsan_fiber = nullptr;
  char barrier_sync[2] = {};  // alternate per barrier, so late leavers of one cannot acquire the next
  char start_sync = 0;
  char exit_sync = 0;
#endif
};

// ---- scheduler.cpp, for grid.cpp ----

// This OS thread's worker, made on first use.
Worker& worker_of_this_thread();
// Entry of every CUDA thread's fiber: the kernel, then thread exit; never returns.
void fiber_entry(void* arg);
// Runs the block's w.threads fibers, whose contexts are fresh: releases them in the schedule's
// order and switches to the first. Returns on the worker's own stack when every thread has
// exited or the block failed (w.failed, w.error).
void run_fibers(Worker& w);

}  // namespace kernels::emu::detail
