// The device seam (kernels/cuda_device.h) on the CUDA runtime API: the same source for nvcc and
// for the emulator, whose runtime shim (kernels/emu/runtime.cpp) defines these calls.
#include "kernels/cuda_device.h"

#include <cstdio>

#include "common.cuh"

namespace kernels::cuda {

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // no driver or no device is an answer here, not an error to keep
    return 0;
  }
  return count;
}

std::string device_description() {
  cudaDeviceProp prop;
  CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  char text[512];
  std::snprintf(text, sizeof text, "%s, compute capability %d.%d, %.1f GiB", prop.name, prop.major, prop.minor,
                static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
  std::string description = text;
#if defined(ENGINE_CUDA_EMULATOR)
  description += " (emulated on the CPU)";
#endif
  return description;
}

void* malloc_bytes(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
  const cudaError_t result = cudaMalloc(&p, bytes);
  CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
  CUDA_CHECK(result);
  return p;
}

void free_bytes(void* p) {
  if (p != nullptr) CUDA_CHECK(cudaFree(p));
}

// From pageable memory, cudaMemcpyAsync returns once the source has been staged.
void copy_host_to_device(void* device_dst, const void* host_src, std::size_t bytes) {
  if (bytes != 0) CUDA_CHECK(cudaMemcpyAsync(device_dst, host_src, bytes, cudaMemcpyHostToDevice, stream()));
}

void copy_device_to_host(void* host_dst, const void* device_src, std::size_t bytes) {
  if (bytes == 0) return;
  CUDA_CHECK(cudaMemcpyAsync(host_dst, device_src, bytes, cudaMemcpyDeviceToHost, stream()));
  CUDA_CHECK(cudaStreamSynchronize(stream()));
}

void copy_device_to_device(void* device_dst, const void* device_src, std::size_t bytes) {
  if (bytes != 0) CUDA_CHECK(cudaMemcpyAsync(device_dst, device_src, bytes, cudaMemcpyDeviceToDevice, stream()));
}

void memset_zero(void* device_p, std::size_t bytes) {
  if (bytes != 0) CUDA_CHECK(cudaMemsetAsync(device_p, 0, bytes, stream()));
}

void synchronize() { CUDA_CHECK(cudaDeviceSynchronize()); }

std::size_t memory_free() {
  std::size_t available = 0;
  std::size_t total = 0;
  CUDA_CHECK(cudaMemGetInfo(&available, &total));
  return available;
}

}  // namespace kernels::cuda
