#pragma once
// ENGINE_DISPATCH(device, fn, args...) calls kernels::cpu::fn or kernels::cuda::fn (same name, same
// signature) by device: the one place where the engine chooses a backend. In a build without a
// CUDA device the cuda branch throws. With ENGINE_CUDA_SYNC=1 every CUDA op is followed by a
// device synchronise and error check, so an asynchronous fault is blamed on the right op.
#include "engine/device.h"

namespace engine::detail {
[[noreturn]] void no_cuda_in_build(const char* fn);
void after_cuda_op(const char* fn);
}  // namespace engine::detail

#if ENGINE_WITH_CUDA
#define ENGINE_DETAIL_CUDA_CALL(fn, ...) ::kernels::cuda::fn(__VA_ARGS__)
#else
#define ENGINE_DETAIL_CUDA_CALL(fn, ...) ::engine::detail::no_cuda_in_build(#fn)
#endif

#define ENGINE_DISPATCH(device, fn, ...)                      \
  do {                                                        \
    if ((device).is_cuda()) {                                 \
      ENGINE_DETAIL_CUDA_CALL(fn, __VA_ARGS__);               \
      ::engine::detail::after_cuda_op(#fn);                   \
    } else {                                                  \
      ::kernels::cpu::fn(__VA_ARGS__);                        \
    }                                                         \
  } while (0)
