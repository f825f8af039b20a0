#pragma once
// Where a tensor's storage lives. Adding a device means adding its kernels and an allocator, not
// touching the ops: every op dispatches through ENGINE_DISPATCH (dispatch.h).
#include <cstddef>
#include <string>

namespace engine {

enum class DeviceType { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;

  static Device cpu() { return {DeviceType::cpu}; }
  static Device cuda() { return {DeviceType::cuda}; }
  // "cpu", "cuda", or "auto" (cuda when a device is usable, else cpu).
  static Device parse(const std::string& name);

  bool is_cpu() const { return type == DeviceType::cpu; }
  bool is_cuda() const { return type == DeviceType::cuda; }
  std::string str() const { return is_cpu() ? "cpu" : "cuda"; }
  bool operator==(const Device& other) const { return type == other.type; }
  bool operator!=(const Device& other) const { return type != other.type; }
};

// True when this build has a CUDA device (real or emulated) and it can be used here.
bool cuda_available();
// True when this build's cuda device is the CPU emulator (ENGINE_CUDA=EMU, docs/emulator.md).
bool cuda_emulated();

// Raw allocation on a device; CUDA memory comes from the caching allocator (allocator.h).
void* device_alloc(Device device, size_t bytes);
void device_free(Device device, void* ptr, size_t bytes);
// dst and src may live on different devices; copies are synchronous with respect to the host.
void device_copy(Device dst_device, void* dst, Device src_device, const void* src, size_t bytes);
void device_zero(Device device, void* ptr, size_t bytes);

}  // namespace engine
