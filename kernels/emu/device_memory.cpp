// Device memory of the emulated CUDA runtime (the rest of the shim is runtime.cpp): every
// cudaMalloc is its own exact-size host heap block, so ASan and the sanitizer stages see a
// kernel's overrun, and the live allocations are tracked so that a copy or memset whose device
// range does not lie inside one allocation is refused as on the GPU. Copies are synchronous.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "capture.h"
#include "runtime.h"

namespace kernels::emu {
namespace {

using detail::fail;

std::mutex g_memory_mutex;
std::map<std::uintptr_t, std::size_t> g_allocations;
std::size_t g_allocated_bytes = 0;

// The allocation containing p, or {0, 0}.
std::pair<std::uintptr_t, std::size_t> allocation_of(const void* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  std::lock_guard<std::mutex> lock(g_memory_mutex);
  auto it = g_allocations.upper_bound(address);
  if (it == g_allocations.begin()) return {0, 0};
  --it;
  if (address >= it->first + std::max<std::size_t>(it->second, 1)) return {0, 0};
  return *it;
}

// A device range must lie inside one cudaMalloc allocation, as on the GPU.
cudaError_t check_device_range(const char* call, const char* role, const void* p, std::size_t bytes) {
  if (bytes == 0) return cudaSuccess;
  const auto [base, size] = allocation_of(p);
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  if (base == 0) {
    return fail(cudaErrorInvalidValue, std::string(call) + ": the " + role + " pointer is not inside any cudaMalloc allocation");
  }
  if (address + bytes > base + size) {
    return fail(cudaErrorInvalidValue, std::string(call) + ": " + std::to_string(bytes) + " bytes at offset " +
                                           std::to_string(address - base) + " of the " + role + " run past its allocation of " +
                                           std::to_string(size) + " bytes");
  }
  return cudaSuccess;
}

}  // namespace

namespace detail {

cudaError_t check_copy(const char* call, void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind == cudaMemcpyDefault) {  // unified addressing: the pointer says where it lives
    dst_device = allocation_of(dst).first != 0;
    src_device = allocation_of(src).first != 0;
  } else if (kind != cudaMemcpyHostToHost && !dst_device && !src_device) {
    return fail(cudaErrorInvalidMemcpyDirection, std::string(call) + ": invalid cudaMemcpyKind");
  }
  if (dst_device) {
    if (const cudaError_t e = check_device_range(call, "destination", dst, bytes); e != cudaSuccess) return e;
  }
  if (src_device) {
    if (const cudaError_t e = check_device_range(call, "source", src, bytes); e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

cudaError_t copy_memory(const char* call, void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  if (const cudaError_t e = check_copy(call, dst, src, bytes, kind); e != cudaSuccess) return e;
  if (bytes != 0) std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t check_fill(const char* call, void* p, std::size_t bytes) {
  return check_device_range(call, "destination", p, bytes);
}

cudaError_t fill_memory(const char* call, void* p, int value, std::size_t bytes) {
  if (const cudaError_t e = check_fill(call, p, bytes); e != cudaSuccess) return e;
  if (bytes != 0) std::memset(p, value, bytes);
  return cudaSuccess;
}

std::size_t physical_memory() {
  return static_cast<std::size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

std::vector<std::pair<std::uintptr_t, std::size_t>> allocation_snapshot() {
  std::lock_guard<std::mutex> lock(g_memory_mutex);
  return {g_allocations.begin(), g_allocations.end()};
}

}  // namespace detail
}  // namespace kernels::emu

using kernels::emu::detail::fail;
namespace emu = kernels::emu::detail;

// ---------------------------------------------------------------------------------------------
// The CUDA runtime API's memory calls (C linkage, from the toolkit's declarations).

cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (p == nullptr) return fail(cudaErrorInvalidValue, "cudaMalloc: null result pointer");
  if (const cudaError_t e = emu::check_unsafe_call("cudaMalloc"); e != cudaSuccess) {
    *p = nullptr;
    return e;
  }
  // Its own heap block per allocation, exactly sized, so ASan reports a kernel's overrun.
  void* memory = std::malloc(bytes);
  if (memory == nullptr && bytes != 0) {
    *p = nullptr;
    return fail(cudaErrorMemoryAllocation, "cudaMalloc: out of host memory for " + std::to_string(bytes) + " bytes");
  }
  *p = memory;
  if (memory != nullptr) {
    std::lock_guard<std::mutex> lock(kernels::emu::g_memory_mutex);
    kernels::emu::g_allocations[reinterpret_cast<std::uintptr_t>(memory)] = bytes;
    kernels::emu::g_allocated_bytes += bytes;
  }
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  if (p == nullptr) return cudaSuccess;
  if (const cudaError_t e = emu::check_unsafe_call("cudaFree"); e != cudaSuccess) return e;
  {
    std::lock_guard<std::mutex> lock(kernels::emu::g_memory_mutex);
    auto it = kernels::emu::g_allocations.find(reinterpret_cast<std::uintptr_t>(p));
    if (it == kernels::emu::g_allocations.end()) {
      return fail(cudaErrorInvalidValue, "cudaFree: pointer is not the start of a live cudaMalloc allocation");
    }
    kernels::emu::g_allocated_bytes -= it->second;
    kernels::emu::g_allocations.erase(it);
  }
  std::free(p);
  return cudaSuccess;
}

// Synchronous calls run on the legacy stream; asynchronous ones on a capturing stream are
// recorded (capture.h), on the legacy stream they are as unsafe during a capture as the others.
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (const cudaError_t e = emu::check_unsafe_call("cudaMemcpy"); e != cudaSuccess) return e;
  return emu::copy_memory("cudaMemcpy", dst, src, bytes, kind);
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  if (cudaError_t e = cudaSuccess; emu::capture_copy("cudaMemcpyAsync", stream, dst, src, bytes, kind, &e)) return e;
  if (const cudaError_t e = emu::check_legacy_stream_work("cudaMemcpyAsync on the legacy stream", stream); e != cudaSuccess)
    return e;
  return emu::copy_memory("cudaMemcpyAsync", dst, src, bytes, kind);
}
cudaError_t cudaMemset(void* p, int value, size_t bytes) {
  if (const cudaError_t e = emu::check_unsafe_call("cudaMemset"); e != cudaSuccess) return e;
  return emu::fill_memory("cudaMemset", p, value, bytes);
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t stream) {
  if (cudaError_t e = cudaSuccess; emu::capture_fill("cudaMemsetAsync", stream, p, value, bytes, &e)) return e;
  if (const cudaError_t e = emu::check_legacy_stream_work("cudaMemsetAsync on the legacy stream", stream); e != cudaSuccess)
    return e;
  return emu::fill_memory("cudaMemsetAsync", p, value, bytes);
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  if (free_bytes == nullptr || total_bytes == nullptr) return fail(cudaErrorInvalidValue, "cudaMemGetInfo: null pointer");
  const std::size_t total = kernels::emu::detail::physical_memory();
  std::lock_guard<std::mutex> lock(kernels::emu::g_memory_mutex);
  *total_bytes = total;
  *free_bytes = total > kernels::emu::g_allocated_bytes ? total - kernels::emu::g_allocated_bytes : 0;
  return cudaSuccess;
}
