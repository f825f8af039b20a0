#include "engine/device.h"

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>

#include "engine/allocator.h"
#include "engine/check.h"
#include "engine/dispatch.h"
#if ENGINE_WITH_CUDA
#include "kernels/cuda_device.h"
#endif

namespace engine {
namespace {

// By default libgomp's idle workers spin after every parallel region. On a machine whose cores
// other processes also want (a build, a second job) the spinning takes their time slices and the
// woken worker then waits for one: with the pthreads OpenBLAS's own pool competing as well, whole
// runs were 10-20x slower, and with one pool the SARGAN benchmark still lost a third under load.
// Passive waiting puts them to sleep instead. libgomp reads the variable in its own constructor,
// before any of ours, so it is set from the executable's preinit array, which the dynamic
// loader runs first; a value the user set is kept.
void prefer_passive_openmp_workers(int, char**, char**) { setenv("OMP_WAIT_POLICY", "PASSIVE", 0); }
__attribute__((section(".preinit_array"), used)) void (*const passive_openmp_workers)(int, char**, char**) =
    prefer_passive_openmp_workers;
}  // namespace

Device Device::parse(const std::string& name) {
  if (name == "cpu") return cpu();
  if (name == "cuda") {
    if (!cuda_available())  // a user's choice, not an internal invariant: the message alone
      ENGINE_FAIL("device 'cuda' requested but ",
#if ENGINE_WITH_CUDA
                 "no CUDA device was found",
#else
                 "this build has no CUDA device (configure with -DENGINE_CUDA=ON or EMU)",
#endif
                 "; use --device cpu");
    return cuda();
  }
  if (name == "auto") return cuda_available() ? cuda() : cpu();
  ENGINE_FAIL("unknown device '", name, "': expected cpu, cuda or auto");
}

bool cuda_available() {
#if ENGINE_WITH_CUDA
  static const bool available = [] {
    const bool found = kernels::cuda::device_count() > 0;
    if (found) std::cerr << "engine: cuda device: " << kernels::cuda::device_description() << "\n";
    return found;
  }();
  return available;
#else
  return false;
#endif
}

bool cuda_emulated() {
#if ENGINE_CUDA_EMULATED
  return true;
#else
  return false;
#endif
}

void* device_alloc(Device device, size_t bytes) {
  return (device.is_cuda() ? cuda_caching_allocator() : cpu_caching_allocator()).allocate(bytes);
}

void device_free(Device device, void* ptr, size_t bytes) {
  (device.is_cuda() ? cuda_caching_allocator() : cpu_caching_allocator()).release(ptr, bytes);
}

void device_copy(Device dst_device, void* dst, Device src_device, const void* src, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
#if ENGINE_WITH_CUDA
  if (dst_device.is_cuda() && src_device.is_cuda())
    kernels::cuda::copy_device_to_device(dst, src, bytes);
  else if (dst_device.is_cuda())
    kernels::cuda::copy_host_to_device(dst, src, bytes);
  else
    kernels::cuda::copy_device_to_host(dst, src, bytes);
#else
  detail::no_cuda_in_build("device_copy");
#endif
}

void device_zero(Device device, void* ptr, size_t bytes) {
  if (device.is_cpu()) {
    std::memset(ptr, 0, bytes);
    return;
  }
#if ENGINE_WITH_CUDA
  kernels::cuda::memset_zero(ptr, bytes);
#else
  detail::no_cuda_in_build("device_zero");
#endif
}

namespace detail {

void no_cuda_in_build(const char* fn) {
  ENGINE_FAIL(fn, ": tensor is on 'cuda' but this build has no CUDA device (configure with "
              "-DENGINE_CUDA=ON or EMU)");
}

void after_cuda_op(const char* fn) {
#if ENGINE_WITH_CUDA
  static const bool sync_each_op = [] {
    const char* value = std::getenv("ENGINE_CUDA_SYNC");
    return value && std::string(value) == "1";
  }();
  if (!sync_each_op) return;
  try {
    kernels::cuda::synchronize();
  } catch (const std::exception& e) {
    ENGINE_FAIL("CUDA error after op '", fn, "' (ENGINE_CUDA_SYNC=1): ", e.what());
  }
#else
  (void)fn;
#endif
}

}  // namespace detail
}  // namespace engine
