#pragma once
// DeviceBuffer: device memory holding a copy of a host vector, freed at scope exit; for the tests
// that call kernels::cuda:: directly (the emulator's self-tests and the kernel-level tests).
#include <cstddef>
#include <vector>

#include "kernels/cuda_device.h"

namespace kernel_test {

// Device memory holding a copy of `host` (or `count` zero-filled elements), freed at scope exit.
template <class T>
class DeviceBuffer {
public:
  explicit DeviceBuffer(const std::vector<T>& host) : n_(host.size()) {
    p_ = static_cast<T*>(kernels::cuda::malloc_bytes(n_ * sizeof(T)));
    kernels::cuda::copy_host_to_device(p_, host.data(), n_ * sizeof(T));
  }
  explicit DeviceBuffer(std::size_t count) : DeviceBuffer(std::vector<T>(count)) {}
  ~DeviceBuffer() { kernels::cuda::free_bytes(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return p_; }
  std::vector<T> to_host() const {
    std::vector<T> host(n_);
    kernels::cuda::copy_device_to_host(host.data(), p_, n_ * sizeof(T));
    return host;
  }

private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

}  // namespace kernel_test
