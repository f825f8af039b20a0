// The cooperative fiber scheduler of the emulator, inside one block: each CUDA thread a fiber,
// __syncthreads and the warp collectives as counting barriers. A fiber that blocks hands control
// straight to the next ready fiber (one switch per event); the order in which released threads
// resume is the schedule (kernels/emu.h). Setting blocks up and running a launch's grid are in
// grid.cpp, the state both share in worker.h; this file keeps every per-event step in one
// translation unit so that the compiler can inline them into one another.
// Errors (deadlock, divergent barrier, bad collective) abandon the block: its fibers own
// nothing that needs destroying, and their stacks are rebuilt for the next block.
#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>

#include "worker.h"

namespace kernels::emu::detail {
namespace {

const char* block_op_name(BlockOp op) {
  switch (op) {
    case BlockOp::sync: return "__syncthreads";
    case BlockOp::count: return "__syncthreads_count";
    case BlockOp::all: return "__syncthreads_and";
    case BlockOp::any: return "__syncthreads_or";
  }
  return "?";
}

const char* warp_op_name(WarpOp op) {
  switch (op) {
    case WarpOp::sync: return "__syncwarp";
    case WarpOp::shfl_idx: return "__shfl_sync";
    case WarpOp::shfl_up: return "__shfl_up_sync";
    case WarpOp::shfl_down: return "__shfl_down_sync";
    case WarpOp::shfl_xor: return "__shfl_xor_sync";
    case WarpOp::ballot: return "__ballot_sync";
    case WarpOp::any: return "__any_sync";
    case WarpOp::all: return "__all_sync";
    case WarpOp::mma_tf32: return "mma.sync.aligned.m16n8k8 (tf32)";
  }
  return "?";
}

bool same_site(const char* file_a, int line_a, const char* file_b, int line_b) {
  return line_a == line_b && (file_a == file_b || std::strcmp(file_a, file_b) == 0);
}

thread_local std::unique_ptr<Worker> tls_worker;

// The running kernel's worker; a device primitive called outside a kernel is a usage error
// that cannot be reported through a launch, so it stops the program with the call site.
Worker& running_worker(const char* what, const char* file, int line) {
  Worker* w = tls_worker.get();
  if (w == nullptr || w->current < 0) {
    std::fprintf(stderr, "%s:%d: %s called outside a kernel launched by the CUDA emulator\n", file, line, what);
    std::abort();
  }
  return *w;
}

std::string thread_name(const Worker& w, int tid) {
  const uint3 i = w.fibers[tid].index;
  std::ostringstream s;
  s << "thread " << tid << " (" << i.x << "," << i.y << "," << i.z << ")";
  return s.str();
}

// Leaves the current context for fiber `to` (-1: the worker's own stack). `dying`: the
// current fiber is never resumed (exit or failure), which ASan must be told.
void transfer(Worker& w, int to, bool dying) {
  const int from = w.current;
  void** save = from < 0 ? &w.host_sp : &w.fibers[from].sp;
  void* next_sp;
  const void* bottom;
  std::size_t size;
  if (to < 0) {
    next_sp = w.host_sp;
    bottom = w.host_stack_bottom;
    size = w.host_stack_size;
  } else {
    Fiber& f = w.fibers[to];
    threadIdx = f.index;
    f.state = State::running;
    next_sp = f.sp;
    bottom = f.stack->bottom();
    size = f.stack->size();
  }
  w.current = to;
  ++w.switches;
#if defined(ENGINE_EMU_TSAN)
  // no_sync: a switch alone creates no happens-before; only CUDA's synchronisation does.
  __tsan_switch_to_fiber(to < 0 ? w.host_tsan_fiber : w.fibers[to].tsan_fiber, __tsan_switch_to_fiber_no_sync);
#endif
#if defined(EMU_ASAN)
  void** fake_save = dying ? nullptr : (from < 0 ? &w.host_fake_stack : &w.fibers[from].asan_fake_stack);
  __sanitizer_start_switch_fiber(fake_save, bottom, size);
#else
  (void)bottom;
  (void)size;
  (void)dying;
#endif
  emu_fiber_switch(save, next_sp);
#if defined(EMU_ASAN)
  __sanitizer_finish_switch_fiber(from < 0 ? w.host_fake_stack : w.fibers[from].asan_fake_stack, nullptr, nullptr);
#endif
}

// Abandons the block: w.error says why. Callers build the message before calling, so that no
// heap object is left alive in the frames of the abandoned fiber.
[[noreturn]] void abandon(Worker& w) {
  w.failed = true;
#if defined(ENGINE_EMU_TSAN)
  __tsan_release(&w.exit_sync);  // hands w.error to the launcher
#endif
  transfer(w, -1, true);
  __builtin_trap();
}

void push_ready(Worker& w, int tid) {
  w.fibers[tid].state = State::ready;
  w.ready[(w.ready_head + w.ready_count) % max_block_threads] = tid;
  ++w.ready_count;
}

// Queues the released threads ids[0..n) (ascending) in the order the schedule asks for.
void release_in_order(Worker& w, int* ids, int n) {
  switch (w.settings.schedule) {
    case Schedule::forward:
      for (int i = 0; i < n; ++i) push_ready(w, ids[i]);
      break;
    case Schedule::reverse:
      for (int i = n - 1; i >= 0; --i) push_ready(w, ids[i]);
      break;
    case Schedule::random:
      for (int i = n - 1; i > 0; --i) {
        // By hand, not std::swap: under TSan the linker may pick an instrumented copy of the
        // template, which would report the scheduler's own bookkeeping as races.
        const int j = static_cast<int>(splitmix64(w.rng) % static_cast<std::uint64_t>(i + 1));
        const int t = ids[i];
        ids[i] = ids[j];
        ids[j] = t;
      }
      for (int i = 0; i < n; ++i) push_ready(w, ids[i]);
      break;
  }
}

std::string deadlock_report(const Worker& w) {
  std::ostringstream s;
  s << "deadlock: no thread of the block can continue;";
  // Runs of consecutive thread ids in the same state at the same site.
  for (int begin = 0; begin < w.threads;) {
    const Fiber& f = w.fibers[begin];
    int end = begin + 1;
    while (end < w.threads && w.fibers[end].state == f.state && w.fibers[end].line == f.line &&
           w.fibers[end].what == f.what && w.fibers[end].file == f.file) {
      ++end;
    }
    s << (begin == 0 ? " " : "; ") << (end - begin == 1 ? "thread " : "threads ") << begin;
    if (end - begin > 1) s << "-" << end - 1;
    if (f.state == State::exited) {
      s << " exited";
    } else {
      s << " wait" << (end - begin == 1 ? "s" : "") << " in " << f.what << " at " << f.file << ":" << f.line;
    }
    begin = end;
  }
  return s.str();
}

// The current fiber has recorded why it waits (or is queued); run the next ready fiber.
void wait_turn(Worker& w) {
  if (w.ready_count == 0) {
    w.error = deadlock_report(w);
    abandon(w);
  }
  const int next = w.ready[w.ready_head];
  w.ready_head = (w.ready_head + 1) % max_block_threads;
  --w.ready_count;
  if (next == w.current) {
    w.fibers[next].state = State::running;
    return;
  }
  transfer(w, next, false);
}

std::uint64_t shuffle_result(const Warp& wp, std::uint32_t participants, int lane) {
  const int width = wp.width;
  const int base = lane & ~(width - 1);
  const int b = wp.arg[lane] & 31;  // PTX uses the low five bits of the lane operand
  int source = lane;
  bool in_range = true;
  switch (wp.op) {
    case WarpOp::shfl_idx: source = base | (b & (width - 1)); break;
    case WarpOp::shfl_up: source = lane - b; in_range = source >= base; break;
    case WarpOp::shfl_down: source = lane + b; in_range = source <= base + width - 1; break;
    case WarpOp::shfl_xor: source = lane ^ b; in_range = source <= base + width - 1; break;
    default: break;
  }
  if (!in_range) return wp.in[lane];  // CUDA: the lane keeps its own value
  // Reading a lane that did not take part is undefined in CUDA: all-ones bits (NaN, -1) make
  // any use of it visible instead of plausible.
  if (((participants >> source) & 1u) == 0) return ~std::uint64_t{0};
  return wp.in[source];
}

// A warp-wide (.aligned) instruction met a warp with lanes that exited or do not exist.
std::string warp_lanes_missing(const Worker& w, int warp, const char* file, int line) {
  char live[16];
  std::snprintf(live, sizeof live, "0x%08x", w.warps[warp].live);
  return std::string(warp_op_name(WarpOp::mma_tf32)) + " at " + file + ":" + std::to_string(line) + ": warp " +
         std::to_string(warp) + " has live lanes " + live +
         ", but the instruction is warp-wide: all 32 lanes must execute it together (a lane returned early, "
         "or the block size is not a multiple of 32)";
}

// Every expected lane has arrived: compute each participant's result, release them.
void complete_warp(Worker& w, int warp) {
  Warp& wp = w.warps[warp];
  const std::uint32_t participants = wp.arrived;
  std::uint32_t ballot = 0;
  for (int lane = 0; lane < 32; ++lane) {
    if ((participants >> lane) & 1u && wp.in[lane] != 0) ballot |= 1u << lane;
  }
  if (wp.op == WarpOp::mma_tf32) {  // every lane takes part (checked on arrival and at exit)
    MmaTf32Fragments* lanes[32];
    for (int lane = 0; lane < 32; ++lane) lanes[lane] = reinterpret_cast<MmaTf32Fragments*>(wp.in[lane]);
    mma_m16n8k8_tf32(lanes);
  }
  int n = 0;
  for (int lane = 0; lane < 32; ++lane) {
    if (((participants >> lane) & 1u) == 0) continue;
    switch (wp.op) {
      case WarpOp::mma_tf32:
      case WarpOp::sync: wp.out[lane] = 0; break;
      case WarpOp::ballot: wp.out[lane] = ballot; break;
      case WarpOp::any: wp.out[lane] = ballot != 0; break;
      case WarpOp::all: wp.out[lane] = ballot == participants; break;
      default: wp.out[lane] = shuffle_result(wp, participants, lane); break;
    }
    w.scratch[n++] = warp * 32 + lane;
  }
  wp.pending = false;
  release_in_order(w, w.scratch, n);
}

[[noreturn]] void thread_exit(Worker& w) {
  const int me = w.current;
  Fiber& f = w.fibers[me];
  f.state = State::exited;
  f.what = nullptr;
  f.file = nullptr;
  f.line = 0;
  if (w.exited++ == 0) w.first_exited = me;
#if defined(ENGINE_EMU_TSAN)
  __tsan_release(&w.exit_sync);  // to the launcher only: thread exit orders nothing in CUDA
#endif
  if (w.barrier.arrived > 0) {
    w.error = thread_name(w, me) + " exited while " + std::to_string(w.barrier.arrived) + " thread(s) wait in " +
              block_op_name(w.barrier.op) + " at " + w.barrier.file + ":" + std::to_string(w.barrier.line) +
              ": every thread of the block must reach every barrier (early return before a barrier?)";
    abandon(w);
  }
  Warp& wp = w.warps[me / 32];
  const std::uint32_t bit = 1u << (me % 32);
  wp.live &= ~bit;
  if (wp.pending && wp.op == WarpOp::mma_tf32) {
    w.error = warp_lanes_missing(w, me / 32, wp.file, wp.line) + ": " + thread_name(w, me) + " exited instead";
    abandon(w);
  }
  if (wp.pending && (wp.expected & bit) != 0) {
    wp.expected &= ~bit;  // CUDA waits only for lanes of the mask that have not exited
    if (wp.arrived == wp.expected) complete_warp(w, me / 32);
  }
  if (w.exited == w.threads) {
    transfer(w, -1, true);  // the whole block is done
    __builtin_trap();
  }
  if (w.ready_count == 0) {
    w.error = deadlock_report(w);
    abandon(w);
  }
  const int next = w.ready[w.ready_head];
  w.ready_head = (w.ready_head + 1) % max_block_threads;
  --w.ready_count;
  transfer(w, next, true);
  __builtin_trap();
}

}  // namespace

Worker::Worker() {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    pthread_attr_getstack(&attr, &addr, &host_stack_size);
    host_stack_bottom = addr;
    pthread_attr_destroy(&attr);
  }
#if defined(ENGINE_EMU_TSAN)
  host_tsan_fiber = __tsan_get_current_fiber();
#endif
}

Worker& worker_of_this_thread() {
  if (!tls_worker) tls_worker = std::make_unique<Worker>();
  return *tls_worker;
}

void fiber_entry(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
#if defined(EMU_ASAN)
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
#if defined(ENGINE_EMU_TSAN)
  __tsan_acquire(&w.start_sync);  // launch -> every thread
#endif
  w.kernel->thread_entry(w.kernel->closure);
  thread_exit(w);
}

void run_fibers(Worker& w) {
  for (int t = 0; t < w.threads; ++t) w.scratch[t] = t;
  release_in_order(w, w.scratch, w.threads);
#if defined(ENGINE_EMU_TSAN)
  __tsan_release(&w.start_sync);
#endif
  const int first = w.ready[w.ready_head];
  w.ready_head = (w.ready_head + 1) % max_block_threads;
  --w.ready_count;
  transfer(w, first, false);
}

int sync_block(BlockOp op, int predicate, const char* file, int line) {
  Worker& w = running_worker(block_op_name(op), file, line);
  const int me = w.current;
  if (w.exited > 0) {
    w.error = block_op_name(op) + std::string(" at ") + file + ":" + std::to_string(line) + " reached by " +
              thread_name(w, me) + " after " + thread_name(w, w.first_exited) +
              " exited: every thread of the block must reach every barrier (early return before a barrier?)";
    abandon(w);
  }
  Barrier& b = w.barrier;
  if (b.arrived == 0) {
    b.op = op;
    b.file = file;
    b.line = line;
    b.predicate_sum = 0;
  } else if (b.op != op || !same_site(b.file, b.line, file, line)) {
    w.error = std::string("divergent barriers: ") + thread_name(w, me) + " reached " + block_op_name(op) + " at " +
              file + ":" + std::to_string(line) + " while " + std::to_string(b.arrived) + " thread(s) wait in " +
              block_op_name(b.op) + " at " + b.file + ":" + std::to_string(b.line) +
              ": all threads of a block must reach the same barriers in the same order";
    abandon(w);
  }
  Fiber& f = w.fibers[me];
  f.state = State::at_barrier;
  f.what = block_op_name(op);
  f.file = file;
  f.line = line;
  b.predicate_sum += predicate != 0;
  [[maybe_unused]] const unsigned generation = b.generation;
#if defined(ENGINE_EMU_TSAN)
  __tsan_release(&w.barrier_sync[generation & 1]);
#endif
  if (++b.arrived == w.threads) {
    b.result = op == BlockOp::count ? b.predicate_sum
               : op == BlockOp::all ? (b.predicate_sum == w.threads)
               : op == BlockOp::any ? (b.predicate_sum > 0)
                                    : 0;
    b.arrived = 0;
    ++b.generation;
    for (int t = 0; t < w.threads; ++t) w.scratch[t] = t;
    release_in_order(w, w.scratch, w.threads);
  }
  wait_turn(w);
#if defined(ENGINE_EMU_TSAN)
  __tsan_acquire(&w.barrier_sync[generation & 1]);
#endif
  return w.barrier.result;
}

std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int arg, int width, const char* file,
                              int line) {
  Worker& w = running_worker(warp_op_name(op), file, line);
  const int me = w.current;
  const int warp = me / 32;
  const int lane = me % 32;
  const std::uint32_t bit = 1u << lane;
  Warp& wp = w.warps[warp];
  const auto site = [&] { return std::string(warp_op_name(op)) + " at " + file + ":" + std::to_string(line); };
  if ((mask & bit) == 0) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08x", mask);
    w.error = site() + ": " + thread_name(w, me) + " (lane " + std::to_string(lane) + ") calls it with mask " + hex +
              ", which does not name its own lane";
    abandon(w);
  }
  if (width < 1 || width > 32 || (width & (width - 1)) != 0) {
    w.error = site() + ": width " + std::to_string(width) + " is not a power of two from 1 to 32";
    abandon(w);
  }
  if (!wp.pending && op == WarpOp::mma_tf32 && wp.live != 0xffffffffu) {
    w.error = warp_lanes_missing(w, warp, file, line);
    abandon(w);
  }
  if (!wp.pending) {
    wp.pending = true;
    wp.op = op;
    wp.mask = mask;
    wp.width = width;
    wp.file = file;
    wp.line = line;
    wp.arrived = 0;
    wp.expected = mask & wp.live;
#if defined(ENGINE_EMU_TSAN)
    wp.sync = new TsanSync;
#endif
  } else if (wp.op != op || wp.mask != mask || wp.width != width || !same_site(wp.file, wp.line, file, line)) {
    char masks[64];
    std::snprintf(masks, sizeof masks, "mask 0x%08x width %d, others mask 0x%08x width %d", mask, width, wp.mask,
                  wp.width);
    w.error = site() + ": " + thread_name(w, me) + " (lane " + std::to_string(lane) + " of warp " +
              std::to_string(warp) + ") disagrees with the lanes waiting in " + warp_op_name(wp.op) + " at " +
              wp.file + ":" + std::to_string(wp.line) + " (" + masks +
              "): every lane named in the mask must call the same collective with the same mask";
    abandon(w);
  }
  wp.in[lane] = value;
  wp.arg[lane] = arg;
  wp.arrived |= bit;
  Fiber& f = w.fibers[me];
  f.state = State::at_warp;
  f.what = warp_op_name(op);
  f.file = file;
  f.line = line;
#if defined(ENGINE_EMU_TSAN)
  f.tsan_sync = wp.sync;
  ++wp.sync->refs;
  __tsan_release(wp.sync);
#endif
  if (wp.arrived == wp.expected) complete_warp(w, warp);
  wait_turn(w);
#if defined(ENGINE_EMU_TSAN)
  __tsan_acquire(f.tsan_sync);
  if (--f.tsan_sync->refs == 0) delete f.tsan_sync;
  f.tsan_sync = nullptr;
#endif
  return wp.out[lane];
}

void* dynamic_shared_base() {
  Worker& w = running_worker("dynamic_shared", __builtin_FILE(), __builtin_LINE());
  return w.dynamic_shared;
}

}  // namespace kernels::emu::detail
