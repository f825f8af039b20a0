#pragma once
// Force-included (g++ -include) before every kernels/cuda/*.cu file in ENGINE_CUDA=EMU builds:
// makes the unchanged CUDA source compile as C++ and run on the CPU emulator.
// Design and limits: docs/emulator.md.
//
// - CUDA keywords become macros; `__shared__` becomes `thread_local`: the fibers of a block all
//   run on one OS thread, so they share one copy, and blocks on other workers have their own.
// - threadIdx/blockIdx/blockDim/gridDim are thread_local PODs the scheduler rewrites before it
//   resumes a fiber; threadIdx.x is a real `unsigned`, as on the GPU.
// - __syncthreads and the warp collectives are counting barriers of the cooperative scheduler
//   (scheduler.cpp). Each takes the call site through __builtin_FILE/__builtin_LINE default
//   arguments, so every diagnostic names the kernel line.
// - The inline-PTX wrappers of kernels/cuda/ptx.cuh are defined by tensor_core.h.
// - Launches go through kernels::emu::launch, called only by kernels/cuda/launch.cuh.
#define ENGINE_CUDA_EMULATOR 1

// Before any toolkit header: crt/host_defines.h defines these only when they are undefined
// (or under __CUDACC__, which stays undefined so the toolkit emits no device code).
#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __shared__ thread_local
#define __launch_bounds__(...)
// __noinline__ stays undefined: libstdc++ spells `__attribute__((__noinline__))`, which any
// macro would break. Kernels do not use it.

#include <cuda_runtime.h>  // dim3, uint3, float4, driver_types, the runtime API the shim defines

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

inline thread_local uint3 threadIdx{};
inline thread_local uint3 blockIdx{};
inline thread_local dim3 blockDim{};
inline thread_local dim3 gridDim{};
inline constexpr int warpSize = 32;

namespace kernels::emu::detail {

// mma_tf32: the value is the address of the lane's MmaTf32Fragments (tensor_core.h).
enum class WarpOp : std::uint8_t { sync, shfl_idx, shfl_up, shfl_down, shfl_xor, ballot, any, all, mma_tf32 };
enum class BlockOp : std::uint8_t { sync, count, all, any };

// Scheduler entry points (scheduler.cpp). Out of line on purpose: the compiler must reload
// threadIdx and shared memory after them.
int sync_block(BlockOp op, int predicate, const char* file, int line);
std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int arg, int width,
                              const char* file, int line);
void* dynamic_shared_base();

struct KernelLaunch {
  const void* kernel;  // identity for cudaFuncSetAttribute
  dim3 grid;
  dim3 block;
  std::size_t dynamic_shared_bytes;
  cudaStream_t stream;
  void (*thread_entry)(const void* closure);  // runs one CUDA thread
  const void* closure;
  // A heap copy of the closure, and its deletion: stream capture keeps the arguments of a
  // recorded launch for every replay of the graph, as CUDA copies them into the kernel node.
  void* (*copy_closure)(const void* closure);
  void (*delete_closure)(void* closure);
};
// Validates like the driver; on a capturing stream records the launch into the stream's graph
// (graph.cpp), else runs every block and returns when all are done (runtime.cpp).
cudaError_t launch_kernel(const KernelLaunch& k);
// Counts a completed launch of `kernel` for kernels::emu::launched_kernels (launch_record.cpp).
void record_launch(const void* kernel);

template <class T>
std::uint64_t to_bits(const T& v) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8,
                "warp shuffles move scalars of at most 8 bytes, as in CUDA");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  return bits;
}
template <class T>
T from_bits(std::uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}

}  // namespace kernels::emu::detail

namespace kernels::emu {

// The emulator's kernel launch (CUDA's triple-chevron launch with grid, block, shared bytes and
// stream): arguments are
// converted to the kernel's parameter types once, as CUDA copies them, and every CUDA thread
// calls the kernel with its own copies. Synchronous (streams order nothing: every launch has
// completed when it returns), except on a capturing stream, which records it; errors through
// cudaGetLastError.
template <class... Params, class... Args>
cudaError_t launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes,
                   cudaStream_t stream, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "kernel launched with the wrong number of arguments");
  using Arguments = std::tuple<std::decay_t<Params>...>;
  struct Closure {
    void (*kernel)(Params...);
    Arguments arguments;
  };
  const Closure closure{kernel, Arguments(std::forward<Args>(args)...)};
  const detail::KernelLaunch k{reinterpret_cast<const void*>(kernel),
                               grid,
                               block,
                               shared_bytes,
                               stream,
                               [](const void* p) {
                                 const auto& c = *static_cast<const Closure*>(p);
                                 std::apply(c.kernel, c.arguments);
                               },
                               &closure,
                               [](const void* p) -> void* { return new Closure(*static_cast<const Closure*>(p)); },
                               [](void* p) { delete static_cast<Closure*>(p); }};
  return detail::launch_kernel(k);
}

}  // namespace kernels::emu

// ---- block barriers ----
inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  kernels::emu::detail::sync_block(kernels::emu::detail::BlockOp::sync, 0, file, line);
}
inline int __syncthreads_count(int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return kernels::emu::detail::sync_block(kernels::emu::detail::BlockOp::count, predicate, file, line);
}
inline int __syncthreads_and(int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return kernels::emu::detail::sync_block(kernels::emu::detail::BlockOp::all, predicate, file, line);
}
inline int __syncthreads_or(int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return kernels::emu::detail::sync_block(kernels::emu::detail::BlockOp::any, predicate, file, line);
}

// ---- warp collectives (warp = 32 consecutive linear thread ids, x fastest) ----
inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  kernels::emu::detail::warp_collective(kernels::emu::detail::WarpOp::sync, mask, 0, 0, warpSize, file, line);
}
template <class T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize,
              const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace kernels::emu::detail;
  return from_bits<T>(warp_collective(WarpOp::shfl_idx, mask, to_bits(var), src_lane, width, file, line));
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                 const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace kernels::emu::detail;
  return from_bits<T>(warp_collective(WarpOp::shfl_up, mask, to_bits(var), static_cast<int>(delta), width, file, line));
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                   const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace kernels::emu::detail;
  return from_bits<T>(warp_collective(WarpOp::shfl_down, mask, to_bits(var), static_cast<int>(delta), width, file, line));
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize,
                  const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace kernels::emu::detail;
  return from_bits<T>(warp_collective(WarpOp::shfl_xor, mask, to_bits(var), lane_mask, width, file, line));
}
inline unsigned __ballot_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace kernels::emu::detail;
  return static_cast<unsigned>(warp_collective(WarpOp::ballot, mask, predicate != 0, 0, warpSize, file, line));
}
inline int __any_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace kernels::emu::detail;
  return static_cast<int>(warp_collective(WarpOp::any, mask, predicate != 0, 0, warpSize, file, line));
}
inline int __all_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace kernels::emu::detail;
  return static_cast<int>(warp_collective(WarpOp::all, mask, predicate != 0, 0, warpSize, file, line));
}

// With ENGINE_EMU_COUNT_FFMA (the profiler's FMA count, docs/perf.md), every fmaf and __fmaf_rn
// of a kernel also counts one executed FFMA of its thread (profile.cpp, sampled blocks only):
// what Nsight Compute's smsp__sass_thread_inst_executed_op_ffma_pred_on counts, for kernels
// that write their FMAs as fmaf; and each lane's mma.sync m16n8k8 (tensor_core.h) its share of
// the instruction's 16 x 8 x 8 multiply-adds, 32. A call per FMA, so kernels are built so only
// when asked.
namespace kernels::emu::detail {
void count_ffma(unsigned fmas = 1) noexcept;
}
#if defined(ENGINE_EMU_COUNT_FFMA)
#include <cmath>
#include <math.h>
inline float kernels_emu_counted_fmaf(float x, float y, float z) {
  kernels::emu::detail::count_ffma();
  return __builtin_fmaf(x, y, z);
}
#define fmaf(x, y, z) kernels_emu_counted_fmaf(x, y, z)
#endif
#include "intrinsics.h"
#include "tensor_core.h"  // the emulator's kernels/cuda/ptx.cuh
