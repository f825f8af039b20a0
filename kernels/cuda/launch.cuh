#pragma once
// The one place where CUDA launch syntax and `extern __shared__` appear (tools/check/lint_kernels.sh
// enforces it): under nvcc `launch` is `kernel<<<...>>>` plus an error check; under g++ in
// ENGINE_CUDA=EMU builds it runs the kernel on the CPU emulator (kernels/emu, docs/emulator.md).
//
// Usage in a kernels/cuda/<op>.cu file:
//
//   __global__ void scale_forward_kernel(float* out, const float* in, float s, int n) {
//     float* tile = kernels::cuda::dynamic_shared<float>();   // not `extern __shared__`
//     ...
//   }
//   void scale_forward(float* out, const float* in, float s, int n, cudaStream_t stream) {
//     const int block = 256;
//     kernels::cuda::launch(scale_forward_kernel,
//                           {dim3((n + block - 1) / block), dim3(block), block * sizeof(float), stream},
//                           out, in, s, n);
//   }
//
// A refused or failed launch throws kernels::CudaError naming the launch site. With
// ENGINE_CUDA_SYNC=1 in the environment every launch also synchronises its stream and checks,
// so an asynchronous fault is blamed on the kernel that caused it.
// Wrap every other CUDA runtime call in CUDA_CHECK(...).
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "kernels/cuda_error.h"
#if !defined(__CUDACC__)
#include "kernels/emu.h"
#include "kernels/emu_profile.h"
#endif

namespace kernels::cuda {

[[noreturn]] inline void throw_cuda_error(cudaError_t e, const char* what, const char* file, int line) {
  // Consume the error this call also left as the last error, so the next launch check does not
  // blame it on that kernel. (Sticky errors after a device fault stay: the context is lost.)
  (void)cudaGetLastError();
  std::string message = std::string("CUDA error ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ") in " +
                        what + " at " + file + ":" + std::to_string(line);
#if !defined(__CUDACC__)
  const std::string detail = ::kernels::emu::last_error_message();  // what the emulator saw
  if (!detail.empty()) message += ": " + detail;
#endif
  throw ::kernels::CudaError(message);
}

inline void check_cuda(cudaError_t e, const char* what, const char* file, int line) {
  if (e != cudaSuccess) throw_cuda_error(e, what, file, line);
}

// ENGINE_CUDA_SYNC=1: synchronise and check after every launch.
inline bool sync_after_launch() {
  static const bool on = [] {
    const char* v = std::getenv("ENGINE_CUDA_SYNC");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return on;
}

struct LaunchConfig {
  // The call site is captured here (the default arguments are evaluated where the braces are)
  // so that a failed launch names the line of the launch.
  LaunchConfig(dim3 grid_, dim3 block_, std::size_t dynamic_shared_bytes_ = 0, cudaStream_t stream_ = nullptr,
               const char* file_ = __builtin_FILE(), int line_ = __builtin_LINE())
      : grid(grid_), block(block_), dynamic_shared_bytes(dynamic_shared_bytes_), stream(stream_), file(file_),
        line(line_) {}
  dim3 grid;
  dim3 block;
  std::size_t dynamic_shared_bytes;
  cudaStream_t stream;
  const char* file;
  int line;
};

template <class... Params, class... Args>
void launch(void (*kernel)(Params...), const LaunchConfig& cfg, Args&&... args) {
#if defined(__CUDACC__)
  kernel<<<cfg.grid, cfg.block, cfg.dynamic_shared_bytes, cfg.stream>>>(std::forward<Args>(args)...);
#else
  ::kernels::emu::launch(kernel, cfg.grid, cfg.block, cfg.dynamic_shared_bytes, cfg.stream, std::forward<Args>(args)...);
#endif
  check_cuda(cudaGetLastError(), "kernel launch", cfg.file, cfg.line);
  if (sync_after_launch()) check_cuda(cudaStreamSynchronize(cfg.stream), "kernel (ENGINE_CUDA_SYNC)", cfg.file, cfg.line);
}

// Whether a launch may run only some of its blocks: under the emulator's sampled profiling
// (ENGINE_EMU_PROFILE=sampled, docs/perf.md), never on a GPU. Blocks that hand work to each other
// through counters in device memory (split-K's tickets) cannot count on every block arriving then.
inline bool blocks_may_be_skipped() {
#if defined(__CUDACC__)
  return false;
#else
  return ::kernels::emu::sampled_blocks_only();
#endif
}

// Opts `kernel` in to more than 48 KiB of dynamic shared memory (at most 227 KiB on sm_90,
// 163 KiB on sm_80). Use this rather than calling cudaFuncSetAttribute(kernel, ...) directly:
// g++ resolves that call to the C overload taking `const void*` and rejects the conversion.
template <class... Params>
void allow_dynamic_shared(void (*kernel)(Params...), std::size_t bytes, const char* file = __builtin_FILE(),
                          int line = __builtin_LINE()) {
  check_cuda(cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  static_cast<int>(bytes)),
             "cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes)", file, line);
}

// The block's dynamic shared memory (the launch's dynamic_shared_bytes), 16-byte aligned; the
// replacement for `extern __shared__ T buf[]`.
template <class T>
__device__ __forceinline__ T* dynamic_shared() {
#if defined(__CUDACC__)
  extern __shared__ __align__(16) unsigned char dynamic_shared_memory[];
  return reinterpret_cast<T*>(dynamic_shared_memory);
#else
  return static_cast<T*>(::kernels::emu::detail::dynamic_shared_base());
#endif
}

}  // namespace kernels::cuda

#define CUDA_CHECK(expr) ::kernels::cuda::check_cuda((expr), #expr, __FILE__, __LINE__)
